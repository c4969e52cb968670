package region

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/durable"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// A snapshot of the regional model lets a start read only the store's tail
// instead of the whole history. It holds what the model holds: the
// regional events (policies, verdeelsleutels, bookings) in store order, each
// case's minimised events in case order, and the position and id of the
// last event applied. Its layout:
//
//	magic "LGRSNAP2"
//	records: kind (uvarint: 1 regional, 2 case event, 3 end)
//	         regional: revision (uvarint), length (uvarint), event bytes
//	         case event: length (uvarint), event bytes
//	         end: commit, prepare, events (uvarints), last event id (16 bytes),
//	              the history's digest up to there (32 bytes)
//	sha256 of everything before it (32 bytes)
//
// A snapshot is only a shortcut: one that is of another format, corrupt,
// ahead of the store, or whose last event is not the store's event at that
// position is discarded, and the model is built from the store.
const snapshotMagic = "LGRSNAP2"

const (
	recRegional = 1
	recCase     = 2
	recEnd      = 3
)

// ErrSnapshot: the snapshot can not be used; the caller builds from the
// store.
var ErrSnapshot = errors.New("regional snapshot unusable")

// eventAt is a store that reads the event at a position (natsstore.Store
// does): what a snapshot is checked against.
type eventAt interface {
	EventAt(ctx context.Context, p store.Position) (store.RecordedEvent, error)
}

// snapshotView is what a snapshot writes, captured under the model's lock:
// slices of immutable events, so that the writing itself needs no lock.
type snapshotView struct {
	regional []regionalEvent
	cases    [][]*ledgerv1.Event
	position store.Position
	events   uint64
	last     uuid.UUID
	digest   audit.Hash
}

type regionalEvent struct {
	rev uint64
	ev  *ledgerv1.Event
}

func (m *Model) capture() *snapshotView {
	v := &snapshotView{regional: m.regional[:len(m.regional):len(m.regional)], position: m.position, events: m.events, last: m.lastID, digest: m.digest}
	v.cases = make([][]*ledgerv1.Event, 0, len(m.cases))
	for _, c := range m.Cases() {
		v.cases = append(v.cases, c.events[:len(c.events):len(c.events)])
	}
	return v
}

func (v *snapshotView) encode() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(snapshotMagic)
	var tmp [binary.MaxVarintLen64]byte
	uv := func(x uint64) { buf.Write(tmp[:binary.PutUvarint(tmp[:], x)]) }
	var data []byte
	put := func(ev *ledgerv1.Event) error {
		var err error
		data, err = proto.MarshalOptions{Deterministic: true}.MarshalAppend(data[:0], ev)
		if err != nil {
			return err
		}
		uv(uint64(len(data)))
		buf.Write(data)
		return nil
	}
	for _, r := range v.regional {
		uv(recRegional)
		uv(r.rev)
		if err := put(r.ev); err != nil {
			return nil, err
		}
	}
	for _, evs := range v.cases {
		for _, ev := range evs {
			uv(recCase)
			if err := put(ev); err != nil {
				return nil, err
			}
		}
	}
	uv(recEnd)
	uv(v.position.Commit)
	uv(v.position.Prepare)
	uv(v.events)
	buf.Write(v.last[:])
	buf.Write(v.digest[:])
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	return buf.Bytes(), nil
}

// WriteSnapshot writes the model's snapshot to path, atomically: a crash
// leaves the previous snapshot or the new one, never half of one.
func (l *Live) WriteSnapshot(path string) (store.Position, error) {
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		return store.Position{}, fmt.Errorf("regional snapshot: the model stopped: %w", l.err)
	}
	v := l.m.capture()
	l.mu.Unlock()
	if v.events == 0 {
		return v.position, nil
	}
	data, err := v.encode()
	if err != nil {
		return store.Position{}, fmt.Errorf("regional snapshot: %w", err)
	}
	if err := writeAtomic(path, data); err != nil {
		return store.Position{}, fmt.Errorf("regional snapshot: %w", err)
	}
	return v.position, nil
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	return durable.WriteFile(path, data)
}

// LoadSnapshot fills the live model from the snapshot at path, before Run:
// Run then reads only what the store holds after it. A missing snapshot
// is not an error (ok false); one that can not be used is reported with
// ErrSnapshot and leaves the model empty, to be built from the store.
func (l *Live) LoadSnapshot(ctx context.Context, path string) (ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	m, err := decodeSnapshot(data, l.m.carry)
	if err != nil {
		return false, fmt.Errorf("%w: %s: %v", ErrSnapshot, path, err)
	}
	if err := check(ctx, l.st, m); err != nil {
		return false, fmt.Errorf("%w: %s: %v", ErrSnapshot, path, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m.events > 0 {
		return false, errors.New("regional snapshot: the model already holds events")
	}
	l.m = m
	return true, nil
}

// check verifies that the store holds the snapshot's last event at its
// position: not a snapshot of another store, nor one ahead of this one.
func check(ctx context.Context, st store.Store, m *Model) error {
	at, ok := st.(eventAt)
	if !ok {
		return errors.New("the store can not show the event at a position")
	}
	rec, err := at.EventAt(ctx, m.position)
	if err != nil {
		return fmt.Errorf("the store has no event at the snapshot's position %s: %v", m.position, err)
	}
	if rec.ID != m.lastID {
		return fmt.Errorf("the store's event at %s is %s, the snapshot's %s: another history", m.position, rec.ID, m.lastID)
	}
	return nil
}

type rawRecord struct {
	kind uint64
	rev  uint64
	data []byte
}

func decodeSnapshot(data []byte, carry *carrier) (*Model, error) {
	if len(data) < len(snapshotMagic)+sha256.Size || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return nil, errors.New("not a regional snapshot of this format")
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, errors.New("checksum does not match: the file is corrupt")
	}
	r := bytes.NewReader(body[len(snapshotMagic):])
	uv := func() (uint64, error) { return binary.ReadUvarint(r) }
	bytesOf := func() ([]byte, error) {
		n, err := uv()
		if err != nil {
			return nil, err
		}
		if n > uint64(r.Len()) {
			return nil, errors.New("record longer than the file")
		}
		off := len(body) - r.Len()
		r.Seek(int64(n), io.SeekCurrent)
		return body[off : off+int(n)], nil
	}
	var recs []rawRecord
	var pos store.Position
	var events uint64
	var last uuid.UUID
	var digest audit.Hash
	for ended := false; !ended; {
		kind, err := uv()
		if err != nil {
			return nil, fmt.Errorf("truncated: %v", err)
		}
		switch kind {
		case recRegional:
			rev, err := uv()
			if err != nil {
				return nil, err
			}
			b, err := bytesOf()
			if err != nil {
				return nil, err
			}
			recs = append(recs, rawRecord{kind, rev, b})
		case recCase:
			b, err := bytesOf()
			if err != nil {
				return nil, err
			}
			recs = append(recs, rawRecord{kind: kind, data: b})
		case recEnd:
			for _, p := range []*uint64{&pos.Commit, &pos.Prepare, &events} {
				if *p, err = uv(); err != nil {
					return nil, err
				}
			}
			if _, err := io.ReadFull(r, last[:]); err != nil {
				return nil, err
			}
			if _, err := io.ReadFull(r, digest[:]); err != nil {
				return nil, err
			}
			ended = true
		default:
			return nil, fmt.Errorf("unknown record kind %d", kind)
		}
	}
	if r.Len() != 0 {
		return nil, errors.New("bytes after the end record")
	}
	// Decoding is most of a load and each record stands alone: decode in
	// parallel, apply in order.
	evs := make([]*ledgerv1.Event, len(recs))
	errs := make([]error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(recs); i += len(errs) {
				ev := new(ledgerv1.Event)
				if err := proto.Unmarshal(recs[i].data, ev); err != nil {
					errs[w] = fmt.Errorf("record %d: %v", i, err)
					return
				}
				evs[i] = ev
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m := &Model{cases: map[string]*Case{}, policies: map[string]beleid.History{}, keys: map[int32][]*KeyVersion{}, carry: carry}
	for i, ev := range evs {
		m.put(store.RecordedEvent{Revision: recs[i].rev}, ev)
	}
	// Events that change no figure (Vergeten, Rapportage) are counted, not
	// kept: the end record's count includes them.
	if m.events > events {
		return nil, fmt.Errorf("holds %d events, its end record says %d", m.events, events)
	}
	m.events = events
	m.position, m.lastID, m.digest = pos, last, digest
	return m, nil
}
