package caseload

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gooi-vechtstreek/ledger/services/durable"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// snapshotFormat is the version of the snapshot file. A file of another
// version is not migrated: the view is rebuilt from the bus.
//
// 2: the view keeps the store position of its last event (View.Tot, the
// live certificate). A view of format 1 does not know it, and a quiet
// gemeente would never learn it; rebuilt, it does.
//
// 3: binary records instead of JSON. A base of a million-event history
// held every event as base64 in JSON; writing it was a twentieth of an
// import's CPU and reading it most of a start's.
const snapshotFormat = 3

// A base snapshot on disk is the magic "LDGB" and then records in the
// journal's layout (appendRecord: length, crc32c, kind, sequence, data):
//
//	header  JSON snapshotHeader: the bus position and the view's counters
//	case    one per case, in order of case id: the case id, then per
//	        segment its events (the minimised ledger.v1.Event, protobuf)
//	held    one per case with held events (View.held), the same shape
//	        with one segment
//	end     the number of case and held records before it
//
// Sequences number the records from 0. The end record tells a whole file
// from a cut one; the figures are derived again from the events on load,
// so a snapshot can not disagree with the events it holds.
const snapshotMagic = "LDGB"

// Record kinds of a base snapshot.
const (
	recCase byte = 4
	recHeld byte = 5
	recEnd  byte = 6
)

// snapshot is one gemeente's view on disk, with the bus position it holds.
type snapshot struct {
	Format   int
	Gemeente string
	// Stream and StreamCreated identify the bus stream Seq belongs to.
	Stream        string
	StreamCreated time.Time
	// Seq is the bus stream sequence of the last message the view holds.
	Seq  uint64
	View *View
}

// snapshotHeader is the first record of a base snapshot.
type snapshotHeader struct {
	Format        int       `json:"format"`
	Gemeente      string    `json:"gemeente"`
	Stream        string    `json:"stream"`
	StreamCreated time.Time `json:"stream_created"`
	Seq           uint64    `json:"seq"`
	Naam          string    `json:"naam"`
	Verwerkt      uint64    `json:"verwerkt"`
	Tot           string    `json:"tot,omitempty"`
	Anomalies     Anomalies `json:"anomalies"`
}

func snapshotPath(dir, code string) string {
	return filepath.Join(dir, "caseload-"+code+".base")
}

// oldSnapshotPath is where format 2 kept the snapshot, as JSON.
func oldSnapshotPath(dir, code string) string {
	return filepath.Join(dir, "caseload-"+code+".json")
}

// encodeSnapshot writes s deterministically: two views that took in the
// same events at the same position give the same bytes.
func encodeSnapshot(s *snapshot) ([]byte, error) { return appendSnapshot(nil, s) }

// appendSnapshot is encodeSnapshot appending to buf: a caller that knows
// about how large the snapshot is gives a buf of that capacity, because a
// base of a gemeente's view at a million events is a hundred megabytes,
// which grown by doubling is copied over and over into fresh memory.
func appendSnapshot(buf []byte, s *snapshot) ([]byte, error) {
	v := s.View
	h := snapshotHeader{Format: s.Format, Gemeente: s.Gemeente, Stream: s.Stream, StreamCreated: s.StreamCreated, Seq: s.Seq,
		Naam: v.naam, Verwerkt: v.verwerkt, Anomalies: v.anomalies}
	if v.tot != store.Start {
		h.Tot = v.tot.String()
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("caseload snapshot %s: %w", s.Gemeente, err)
	}
	buf = appendRecord(append(buf, snapshotMagic...), journalRecord{kind: recHeader, data: hdr})
	var data []byte
	seq := uint64(0)
	appendEvents := func(ks []kept) {
		data = protowire.AppendVarint(data, uint64(len(ks)))
		for _, k := range ks {
			data = protowire.AppendBytes(data, k.data)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(v.cases)) {
		data = protowire.AppendString(data[:0], id)
		segs := v.cases[id].segments
		data = protowire.AppendVarint(data, uint64(len(segs)))
		for _, sg := range segs {
			appendEvents(sg.events)
		}
		seq++
		buf = appendRecord(buf, journalRecord{kind: recCase, seq: seq, data: data})
	}
	for _, id := range slices.Sorted(maps.Keys(v.held)) {
		data = protowire.AppendString(data[:0], id)
		appendEvents(v.held[id])
		seq++
		buf = appendRecord(buf, journalRecord{kind: recHeld, seq: seq, data: data})
	}
	return appendRecord(buf, journalRecord{kind: recEnd, seq: seq + 1, data: protowire.AppendVarint(nil, seq)}), nil
}

// readSnapshot reads the snapshot of code; (nil, nil) when there is none.
func readSnapshot(path, code string) (*snapshot, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	s, err := decodeSnapshot(data, code)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	return s, nil
}

// decodeSnapshot restores a snapshot of code written by encodeSnapshot and
// derives the view's figures again from its events, the cases side by side.
func decodeSnapshot(data []byte, code string) (*snapshot, error) {
	if len(data) < len(snapshotMagic) || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return nil, errors.New("not a caseload base snapshot (an older format, or damaged)")
	}
	off := len(snapshotMagic)
	var recs []journalRecord
	ended := false
	for off < len(data) && !ended {
		rec, n, why := decodeRecord(data[off:])
		if why != "" {
			return nil, fmt.Errorf("at byte %d: %s", off, why)
		}
		if rec.seq != uint64(len(recs)) {
			return nil, fmt.Errorf("at byte %d: record %d where %d belongs", off, rec.seq, len(recs))
		}
		off += n
		recs = append(recs, rec)
		ended = rec.kind == recEnd
	}
	switch {
	case len(recs) == 0 || recs[0].kind != recHeader:
		return nil, errors.New("no header")
	case !ended:
		return nil, errors.New("cut off: no end record")
	case off != len(data):
		return nil, fmt.Errorf("%d bytes after the end record", len(data)-off)
	}
	if n, k := protowire.ConsumeVarint(recs[len(recs)-1].data); k <= 0 || n != uint64(len(recs)-2) {
		return nil, fmt.Errorf("the end record counts %d records, the file holds %d", n, len(recs)-2)
	}
	var h snapshotHeader
	if err := json.Unmarshal(recs[0].data, &h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	switch {
	case h.Format != snapshotFormat:
		return nil, fmt.Errorf("format %d, want %d", h.Format, snapshotFormat)
	case h.Gemeente != code:
		return nil, fmt.Errorf("not a snapshot of %s", code)
	}
	w := NewView(h.Gemeente, h.Naam)
	w.verwerkt, w.anomalies = h.Verwerkt, h.Anomalies
	if h.Tot != "" {
		p, err := store.ParsePosition(h.Tot)
		if err != nil {
			return nil, fmt.Errorf("tot: %w", err)
		}
		w.tot = p
	}
	body := recs[1 : len(recs)-1]
	type restored struct {
		id   string
		c    *caseEntry
		held []kept
		err  error
	}
	out := make([]restored, len(body))
	// Decoding and folding every case is the work of a start: the cases
	// are independent, so they are spread over the cores.
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), max(1, len(body)/256))
	for k := range workers {
		wg.Go(func() {
			for i := k; i < len(body); i += workers {
				r := &out[i]
				r.id, r.c, r.held, r.err = w.restoreRecord(body[i])
			}
		})
	}
	wg.Wait()
	for i, r := range out {
		switch {
		case r.err != nil:
			return nil, fmt.Errorf("record %d: %w", i+1, r.err)
		case r.c != nil:
			if _, dup := w.cases[r.id]; dup {
				return nil, fmt.Errorf("record %d: case %s twice", i+1, r.id)
			}
			w.cases[r.id] = r.c
			for _, sg := range r.c.segments {
				w.totals.flows(sg.flows, +1)
			}
			w.totals.active(w.activeOf(r.c), +1)
		default:
			w.held[r.id] = r.held
		}
	}
	return &snapshot{Format: h.Format, Gemeente: h.Gemeente, Stream: h.Stream, StreamCreated: h.StreamCreated, Seq: h.Seq, View: w}, nil
}

// restoreRecord decodes a case or held record; it only reads w. The view
// keeps the events' bytes, which are the record's: data must stay as it is.
func (w *View) restoreRecord(rec journalRecord) (string, *caseEntry, []kept, error) {
	b := rec.data
	id, n := protowire.ConsumeString(b)
	if n < 0 {
		return "", nil, nil, errors.New("case id unreadable")
	}
	b = b[n:]
	events := func() ([]*ledgerv1.Event, []kept, error) {
		count, n := protowire.ConsumeVarint(b)
		if n < 0 || count > uint64(len(b)) {
			return nil, nil, errors.New("event count unreadable")
		}
		b = b[n:]
		evs, ks := make([]*ledgerv1.Event, count), make([]kept, count)
		for j := range evs {
			raw, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, nil, fmt.Errorf("event %d unreadable", j)
			}
			b = b[n:]
			ev, data, err := decodeKept(raw)
			if err != nil {
				return nil, nil, fmt.Errorf("event %d: %w", j, err)
			}
			if ks[j], err = keep(ev, idOf(ev.GetEnvelope().GetEventId()), data); err != nil {
				return nil, nil, fmt.Errorf("event %d: %w", j, err)
			}
			evs[j] = ev
		}
		return evs, ks, nil
	}
	switch rec.kind {
	case recHeld:
		_, ks, err := events()
		switch {
		case err != nil:
			return "", nil, nil, fmt.Errorf("held events of case %s: %w", id, err)
		case len(b) != 0:
			return "", nil, nil, fmt.Errorf("held events of case %s: %d bytes after them", id, len(b))
		}
		return id, nil, ks, nil
	case recCase:
	default:
		return "", nil, nil, fmt.Errorf("unknown kind %d", rec.kind)
	}
	nseg, n := protowire.ConsumeVarint(b)
	if n < 0 || nseg == 0 || nseg > uint64(len(b)) {
		return "", nil, nil, fmt.Errorf("case %s: segment count unreadable", id)
	}
	b = b[n:]
	c := &caseEntry{segments: make([]*segment, nseg)}
	for i := range c.segments {
		evs, ks, err := events()
		if err != nil {
			return "", nil, nil, fmt.Errorf("case %s: segment %d: %w", id, i, err)
		}
		if len(evs) == 0 {
			return "", nil, nil, fmt.Errorf("case %s: segment %d is empty", id, i)
		}
		sg := &segment{events: ks}
		if sg.state, sg.flows, err = w.fold(evs); err != nil {
			return "", nil, nil, fmt.Errorf("case %s: segment %d: %w", id, i, err)
		}
		c.segments[i] = sg
	}
	if len(b) != 0 {
		return "", nil, nil, fmt.Errorf("case %s: %d bytes after its segments", id, len(b))
	}
	return id, c, nil, nil
}

// writeFileAtomic replaces path with data so that after a crash the file is
// either the old one or the new one, whole: write a temporary file in the
// same directory, fsync it, rename it over path, fsync the directory.
func writeFileAtomic(path string, data []byte) error { return durable.WriteFile(path, data) }

// removeTemps deletes temporary files a crash left behind next to path.
func removeTemps(path string) error {
	matches, err := filepath.Glob(path + ".tmp-*")
	if err != nil {
		return err
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", m, err)
		}
	}
	return nil
}
