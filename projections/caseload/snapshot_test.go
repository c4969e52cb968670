package caseload

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"testing"
)

// snapshotOf encodes a view of a small generated history with held events
// (events of a case whose start the view never received).
func snapshotOf(t testing.TB) (*snapshot, []byte) {
	t.Helper()
	h := generate(t, 3, 30, []string{hilversum, huizen})
	v := build(h.events, hilversum)[hilversum]
	orphan := newHistory(t)
	orphan.n = 1 << 30 // ids apart from h's
	c := orphan.aanmelden(hilversum, d(2025, 1, 6), bijstand)
	orphan.record(c, d(2025, 1, 20), intake(trede3, 40))
	v.Apply(orphan.events[1]) // without its aanmelding
	if len(v.held) == 0 {
		t.Fatal("the view holds no events of a case it has no start of")
	}
	s := &snapshot{Format: snapshotFormat, Gemeente: hilversum, Stream: "s", Seq: 42, View: v}
	data, err := encodeSnapshot(s)
	if err != nil {
		t.Fatal(err)
	}
	return s, data
}

// TestSnapshotRoundTrip: a decoded snapshot is the view that was encoded,
// held events and counters included, and encodes to the same bytes.
func TestSnapshotRoundTrip(t *testing.T) {
	s, data := snapshotOf(t)
	back, err := decodeSnapshot(data, hilversum)
	if err != nil {
		t.Fatal(err)
	}
	if back.Seq != s.Seq || back.Stream != s.Stream || back.View.verwerkt != s.View.verwerkt || back.View.anomalies != s.View.anomalies {
		t.Errorf("decoded seq %d stream %q verwerkt %d anomalies %+v, want %d %q %d %+v", back.Seq, back.Stream, back.View.verwerkt, back.View.anomalies,
			s.Seq, s.Stream, s.View.verwerkt, s.View.anomalies)
	}
	if len(back.View.held) != len(s.View.held) {
		t.Errorf("held events of %d cases, want %d", len(back.View.held), len(s.View.held))
	}
	want, _ := json.Marshal(s.View)
	if got, _ := json.Marshal(back.View); !bytes.Equal(got, want) {
		t.Error("the decoded view differs from the encoded one")
	}
	if again, _ := encodeSnapshot(back); !bytes.Equal(again, data) {
		t.Error("a decoded snapshot encodes to other bytes")
	}
	if _, err := decodeSnapshot(data, huizen); err == nil {
		t.Error("hilversum's snapshot was accepted as huizen's")
	}
}

// TestSnapshotDamage: a snapshot cut anywhere, with a byte changed, or with
// a record dropped is refused, never half loaded.
func TestSnapshotDamage(t *testing.T) {
	_, data := snapshotOf(t)
	for n := 0; n < len(data); n += 1 + n/7 {
		if _, err := decodeSnapshot(data[:n], hilversum); err == nil {
			t.Fatalf("a snapshot cut to %d of %d bytes was accepted", n, len(data))
		}
	}
	for i := 0; i < len(data); i += 1 + i/5 {
		bad := bytes.Clone(data)
		bad[i] ^= 0x5a
		if _, err := decodeSnapshot(bad, hilversum); err == nil {
			t.Fatalf("a snapshot with byte %d changed was accepted", i)
		}
	}
	// Drop the second record after the header: every checksum holds, the
	// sequences do not.
	off := len(snapshotMagic)
	skip := func() int { return 8 + int(binary.BigEndian.Uint32(data[off:])) }
	off += skip()
	first := off
	off += skip()
	dropped := append(bytes.Clone(data[:first]), data[off:]...)
	if _, err := decodeSnapshot(dropped, hilversum); err == nil {
		t.Error("a snapshot with a record dropped was accepted")
	}
	old, _ := json.Marshal(map[string]any{"format": 2, "gemeente": hilversum})
	if _, err := decodeSnapshot(old, hilversum); err == nil {
		t.Error("a JSON snapshot of format 2 was accepted")
	}
}

// FuzzDecodeSnapshot: whatever the bytes, decoding returns a snapshot or an
// error, and a snapshot it returns encodes again to what was decoded.
func FuzzDecodeSnapshot(f *testing.F) {
	_, data := snapshotOf(f)
	f.Add(data)
	f.Add([]byte(snapshotMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSnapshot(b, hilversum)
		if err != nil {
			return
		}
		again, err := encodeSnapshot(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeSnapshot(again, hilversum); err != nil {
			t.Fatalf("a re-encoded snapshot does not decode: %v", err)
		}
	})
}
