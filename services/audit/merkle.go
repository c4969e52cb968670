package audit

import (
	"crypto/sha256"
	"errors"
	"math/bits"
)

// The per-gemeente digest is a Merkle tree as in RFC 6962 / RFC 9162
// (Certificate Transparency): a gemeente's auditor recomputes it from its
// own events alone, and one event's inclusion is proven by log2(n) hashes
// without showing any other event.
//
//	leaf(d)       = SHA-256(0x00 ‖ d)          d: the event's stored bytes
//	node(l, r)    = SHA-256(0x01 ‖ l ‖ r)
//	MTH([])       = SHA-256("")
//	MTH([d])      = leaf(d)
//	MTH(D[0:n])   = node(MTH(D[0:k]), MTH(D[k:n]))   k: largest power of 2 < n

// Hash is a SHA-256 digest.
type Hash = [sha256.Size]byte

// LeafHash is the leaf of an event's stored bytes.
func LeafHash(data []byte) Hash {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	var out Hash
	h.Sum(out[:0])
	return out
}

func node(l, r Hash) Hash {
	var buf [1 + 2*sha256.Size]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[1+sha256.Size:], r[:])
	return sha256.Sum256(buf[:])
}

// split is the largest power of two below n (n > 1).
func split(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

// Root is MTH of the leaves.
func Root(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := split(len(leaves))
	return node(Root(leaves[:k]), Root(leaves[k:]))
}

// Path is the inclusion proof of leaf m: the audit path of RFC 6962 §2.1.1,
// nearest the leaf first.
func Path(leaves []Hash, m int) []Hash {
	if len(leaves) <= 1 {
		return nil
	}
	k := split(len(leaves))
	if m < k {
		return append(Path(leaves[:k], m), Root(leaves[k:]))
	}
	return append(Path(leaves[k:], m-k), Root(leaves[:k]))
}

// ErrProof: an inclusion proof that does not lead to the root.
var ErrProof = errors.New("inclusion proof does not hold")

// VerifyPath checks that leaf is the index-th of size leaves under root
// (RFC 9162 §2.1.3.2).
func VerifyPath(leaf Hash, index, size uint64, path []Hash, root Hash) error {
	if index >= size {
		return ErrProof
	}
	fn, sn, r := index, size-1, leaf
	for _, p := range path {
		if sn == 0 {
			return ErrProof
		}
		if fn&1 == 1 || fn == sn {
			r = node(p, r)
			for fn&1 == 0 && fn != 0 {
				fn, sn = fn>>1, sn>>1
			}
		} else {
			r = node(r, p)
		}
		fn, sn = fn>>1, sn>>1
	}
	if sn != 0 || r != root {
		return ErrProof
	}
	return nil
}
