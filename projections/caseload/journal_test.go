package caseload

import (
	"os"
	"testing"
)

// TestJournalCarriesTheView: a view's later messages are on disk in the
// journal, not in a rewritten snapshot, and a restart reads them from
// there: it serves them before it has read anything from the bus.
func TestJournalCarriesTheView(t *testing.T) {
	tb := newTestbed(t)
	h := tb.generated(300)
	tb.publish(h, h.events)
	// Stopped as a crash leaves it: a clean stop folds the journal in.
	r := tb.start(Config{BatchSize: 16, journalOnStop: true})
	tb.waitAcked(r)
	r.stop()
	for _, g := range twoGemeenten {
		snap := tb.base(g)
		if snap.Seq >= uint64(len(tb.onBus[g])) {
			t.Errorf("%s: the base holds everything (sequence %d): the journal was not used", g, snap.Seq)
		}
		if f := r.p.followers[g]; f.bases != 1 {
			t.Errorf("%s: %d base snapshots written for a small view, want 1", g, f.bases)
		}
		tb.checkOnDisk(g, len(tb.onBus[g]))
	}
	r = tb.start(Config{})
	tb.checkResumedAtBus(r, "the journal's")
	tb.checkViews(r)
}

// TestStopWritesBase: a clean stop leaves a base that holds the whole
// view and a journal without records, so that the next start replays
// nothing; a view with nothing new since its base is not written again.
func TestStopWritesBase(t *testing.T) {
	tb := newTestbed(t)
	h := tb.generated(300)
	tb.publish(h, h.events)
	r := tb.start(Config{BatchSize: 16})
	tb.waitAcked(r)
	r.stop()
	for _, g := range twoGemeenten {
		snap := tb.base(g)
		if snap.Seq != uint64(len(tb.onBus[g])) {
			t.Errorf("%s: base at sequence %d after a clean stop, want the view's %d", g, snap.Seq, len(tb.onBus[g]))
		}
		jr, err := readJournal(journalPath(tb.dir, g))
		if err != nil || jr == nil || !jr.header.extends(snap) || len(jr.records) != 0 {
			t.Errorf("%s: journal after a clean stop: %+v, %v; want the base's, without records", g, jr, err)
		}
		tb.checkOnDisk(g, len(tb.onBus[g]))
	}
	r = tb.start(Config{})
	tb.checkResumedAtBus(r, "the base's")
	tb.checkViews(r)
	r.stop()
	for _, g := range twoGemeenten {
		if f := r.p.followers[g]; f.bases != 0 {
			t.Errorf("%s: %d bases written by a run that took nothing new", g, f.bases)
		}
	}
}

// TestJournalCompacts: a journal that outgrows half its base is folded into
// a new base. The bases grow by half at least, so an import of n messages
// writes O(log n) bases, not one per flush and not just one.
func TestJournalCompacts(t *testing.T) {
	tb := newTestbed(t)
	h := tb.generated(600)
	tb.publish(h, h.events)
	r := tb.start(Config{BatchSize: 8, compactMin: 1})
	tb.waitAcked(r)
	r.stop()
	for _, g := range twoGemeenten {
		f := r.p.followers[g]
		flushes := len(tb.onBus[g]) / 8
		if f.bases < 3 || f.bases > 20 || f.bases >= flushes/2 {
			t.Errorf("%s: %d base snapshots for %d flushes; want a few (log of the history)", g, f.bases, flushes)
		}
		tb.checkOnDisk(g, len(tb.onBus[g]))
	}
}

// TestJournalDamage: whatever happens to the journal (a crash mid-append,
// a flipped bit, a journal of another base, one deleted or overwritten),
// the view restarts from what is intact and the bus hands the rest over
// again: the figures equal the direct ones, nothing twice.
func TestJournalDamage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"torn tail", func(t *testing.T, path string) { cut(t, path, 5) }},
		{"torn header", func(t *testing.T, path string) { cutTo(t, path, len(journalMagic)+6) }},
		{"flipped bit", func(t *testing.T, path string) {
			data := read(t, path)
			data[len(data)*2/3] ^= 0x10
			write(t, path, data)
		}},
		{"other base", func(t *testing.T, path string) {
			data := read(t, path)
			rec, n, why := decodeRecord(data[len(journalMagic):])
			if why != "" || rec.kind != recHeader {
				t.Fatal(why)
			}
			other := appendRecord([]byte(journalMagic), journalRecord{kind: recHeader, data: []byte(`{"format":1,"gemeente":"GM0402","base_seq":1}`)})
			write(t, path, append(other, data[len(journalMagic)+n:]...))
		}},
		{"deleted", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{"not a journal", func(t *testing.T, path string) { write(t, path, []byte(`{"seq": 12}`)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTestbed(t)
			h := tb.generated(300)
			tb.publish(h, h.events)
			r := tb.start(Config{BatchSize: 16, journalOnStop: true})
			tb.waitAcked(r)
			r.stop()

			tc.damage(t, journalPath(tb.dir, hilversum))
			old := len(h.events)
			c := h.aanmelden(hilversum, d(2030, 1, 2), bijstand)
			h.record(c, d(2030, 1, 3), intake(trede3, 20))
			tb.publish(h, h.events[old:])

			r = tb.start(Config{BatchSize: 16})
			tb.waitAcked(r)
			tb.checkViews(r)
			for _, g := range twoGemeenten {
				a, _ := r.p.Anomalies(g)
				if a.Duplicates != 0 {
					t.Errorf("%s: %d duplicates", g, a.Duplicates)
				}
			}
			if pr, _ := r.p.Progress(huizen); pr.Redelivered != 0 {
				t.Errorf("huizen progress %+v, want a plain resume", pr)
			}
			r.stop()
			for _, g := range twoGemeenten {
				tb.checkOnDisk(g, len(tb.onBus[g]))
			}
		})
	}
}

// TestReadJournalStopsAtDamage: readJournal hands over the records before
// the first torn, corrupt or out-of-order one, and where they end.
func TestReadJournalStopsAtDamage(t *testing.T) {
	hdr := appendRecord([]byte(journalMagic), journalRecord{kind: recHeader, data: []byte(`{"format":1,"gemeente":"GM0402"}`)})
	one := appendRecord(nil, journalRecord{kind: recEvent, seq: 1, data: []byte("a")})
	two := appendRecord(nil, journalRecord{kind: recEvent, seq: 2, data: []byte("bb")})
	again := appendRecord(nil, journalRecord{kind: recEvent, seq: 2, data: []byte("c")})
	join := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	corrupt := join(hdr, one, two)
	corrupt[len(corrupt)-1] ^= 1
	for _, tc := range []struct {
		name    string
		data    []byte
		records int
		damaged bool
	}{
		{"whole", join(hdr, one, two), 2, false},
		{"header only", hdr, 0, false},
		{"torn", join(hdr, one, two[:len(two)-1]), 1, true},
		{"torn length", join(hdr, one, two[:3]), 1, true},
		{"corrupt", corrupt, 1, true},
		{"out of order", join(hdr, one, two, again), 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir() + "/j"
			write(t, path, tc.data)
			jr, err := readJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(jr.records) != tc.records || (jr.damage != "") != tc.damaged {
				t.Fatalf("%d records, damage %q; want %d, damaged %v", len(jr.records), jr.damage, tc.records, tc.damaged)
			}
			end := int64(len(hdr))
			if tc.records > 0 {
				end = jr.records[tc.records-1].end
			}
			if want := int64(len(hdr) + len(one)*min(tc.records, 1) + len(two)*max(tc.records-1, 0)); end != want {
				t.Errorf("intact part ends at %d, want %d", end, want)
			}
		})
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func cut(t *testing.T, path string, n int) {
	t.Helper()
	data := read(t, path)
	write(t, path, data[:len(data)-n])
}

func cutTo(t *testing.T, path string, n int) {
	t.Helper()
	write(t, path, read(t, path)[:n])
}

// base reads gemeente g's base snapshot, which must be there.
func (tb *testbed) base(g string) *snapshot {
	tb.t.Helper()
	snap, err := readSnapshot(snapshotPath(tb.dir, g), g)
	if err != nil || snap == nil {
		tb.t.Fatalf("%s: base snapshot %v, %v", g, snap, err)
	}
	return snap
}

// checkResumedAtBus checks that a just started projector serves every
// gemeente's view at the end of its bus before it read anything from it:
// from what is on disk (from names what, for the message).
func (tb *testbed) checkResumedAtBus(r *running, from string) {
	tb.t.Helper()
	for _, g := range twoGemeenten {
		if pr, _ := r.p.Progress(g); pr.Applied != uint64(len(tb.onBus[g])) {
			tb.t.Errorf("%s: restarted at %d, want %s %d", g, pr.Applied, from, len(tb.onBus[g]))
		}
	}
}
