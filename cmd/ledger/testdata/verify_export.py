#!/usr/bin/env python3
"""An auditor's own check of `ledger audit export`, written from the README's
"Hash construction" alone: no ledger code, no protobuf library.

  verify_export.py FILE           every stream's hash chain and the digest
  verify_export.py --merkle FILE  the Merkle root of the events in FILE
"""
import base64
import hashlib
import json
import sys


def varint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return n, i


def field(b, want):
    """The length-delimited field number `want` of protobuf bytes b (b'' if absent)."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(b, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = varint(b, i)
            if num == want:
                return b[i:i + n]
            i += n
        else:
            raise ValueError("wire type %d" % wire)
    return b""


def mth(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def main(args):
    merkle = args[0] == "--merkle"
    path = args[-1]
    running, last, leaves, breaks = bytes(32), {}, [], 0
    for line in open(path):
        e = json.loads(line)
        data = base64.b64decode(e["data"])
        h = hashlib.sha256(data).digest()
        running = hashlib.sha256(running + h).digest()
        leaves.append(hashlib.sha256(b"\x00" + data).digest())
        envelope = field(data, 1)  # Event.envelope
        prev_hash = field(envelope, 8)  # Envelope.prev_hash
        event_id = field(envelope, 1).decode()  # Envelope.event_id
        rev, link = last.get(e["stroom"], (-1, b""))
        if not merkle and (prev_hash != link or e["revisie"] != rev + 1 or event_id != e["event_id"]):
            breaks += 1
            print("breuk positie %s stroom %s revisie %d" % (e["positie"], e["stroom"], e["revisie"]))
        last[e["stroom"]] = (e["revisie"], h)
    if merkle:
        print("merkle sha256:" + mth(leaves).hex())
    else:
        print("digest sha256:" + running.hex())
    return 1 if breaks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
