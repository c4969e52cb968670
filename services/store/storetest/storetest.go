// Package storetest is the conformance suite of store.Store: the executable
// form of the contract in package store. Every implementation runs it from
// its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, storetest.Harness{New: newStore})
//	}
//
// A backend that can not inject a fault leaves its hook nil; the cases that
// need it are skipped with the reason, never passed.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/store"
)

// Harness tells the suite how to get stores and what faults a backend can
// inject.
type Harness struct {
	// New returns a fresh, empty store. It registers any cleanup with
	// t.Cleanup.
	New func(t *testing.T) store.Store
	// Features declares what the backend can do beyond the interface.
	Features Features
}

// Features declares optional abilities. A zero field makes the suite skip
// the cases that need it.
type Features struct {
	// MaxAppend is the most events one Append takes; more must fail with
	// store.ErrTooManyEvents. Zero: no limit is known.
	MaxAppend int
	// Reopen returns a second handle on the data behind s, as another
	// process would open it: its own connection and its own caches.
	Reopen func(t *testing.T, s store.Store) store.Store
	// InterruptAppend starts appending events to stream under expected as s
	// would, sends only the first after parts (0 < after < len(events)) and
	// then dies the way a killed writer does, without completing the append.
	// It returns once those parts have reached the server.
	InterruptAppend func(t *testing.T, s store.Store, stream string, expected store.Expected, events []store.EventData, after int)
}

// Run runs every case of the suite as a subtest of t.
func Run(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("storetest: Harness.New is nil")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, h) })
	}
}

// timeout bounds every case, so that a store that hangs fails instead.
const timeout = 30 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// events returns n new events of one type with distinct payloads.
func events(n int, typ string) []store.EventData {
	evs := make([]store.EventData, n)
	for i := range evs {
		id := uuid.New()
		evs[i] = store.EventData{ID: id, Type: typ, Data: fmt.Appendf(nil, "%s payload %d of %s", typ, i, id)}
	}
	return evs
}

func ids(evs []store.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

func recIDs(recs []store.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func mustAppend(t *testing.T, ctx context.Context, s store.Store, stream string, exp store.Expected, evs ...store.EventData) store.AppendResult {
	t.Helper()
	res, err := s.Append(ctx, stream, exp, evs...)
	if err != nil {
		t.Fatalf("Append(%s, %s, %d events): %v", stream, exp, len(evs), err)
	}
	return res
}

func readStream(t *testing.T, ctx context.Context, s store.Store, stream string) []store.RecordedEvent {
	t.Helper()
	recs, err := s.ReadStream(ctx, stream)
	if err != nil {
		t.Fatalf("ReadStream(%s): %v", stream, err)
	}
	return recs
}

func readAll(t *testing.T, ctx context.Context, s store.Store, after store.Position) []store.RecordedEvent {
	t.Helper()
	var recs []store.RecordedEvent
	for r, err := range s.ReadAll(ctx, after) {
		if err != nil {
			t.Fatalf("ReadAll(%s) after %d events: %v", after, len(recs), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// wantStream checks that recs are exactly evs stored in stream, revisions
// from 0, positions ascending.
func wantStream(t *testing.T, recs []store.RecordedEvent, stream string, evs []store.EventData) {
	t.Helper()
	if len(recs) != len(evs) {
		t.Fatalf("stream %s has %d events %v, want %d %v", stream, len(recs), recIDs(recs), len(evs), ids(evs))
	}
	for i, r := range recs {
		ev := evs[i]
		if r.ID != ev.ID || r.Type != ev.Type || !bytes.Equal(r.Data, ev.Data) {
			t.Fatalf("stream %s revision %d is %s %q %q, want %s %q %q", stream, i, r.ID, r.Type, r.Data, ev.ID, ev.Type, ev.Data)
		}
		if r.Stream != stream || r.Revision != uint64(i) {
			t.Fatalf("event %s is at %s revision %d, want %s revision %d", r.ID, r.Stream, r.Revision, stream, i)
		}
		if r.Recorded.IsZero() {
			t.Fatalf("event %s has no recorded time", r.ID)
		}
		if !store.Start.Less(r.Position) || i > 0 && !recs[i-1].Position.Less(r.Position) {
			t.Fatalf("event %s at revision %d has position %s, not after the one before", r.ID, i, r.Position)
		}
	}
}

// wantNotFound checks that stream has no events.
func wantNotFound(t *testing.T, ctx context.Context, s store.Store, stream string) {
	t.Helper()
	recs, err := s.ReadStream(ctx, stream)
	if !errors.Is(err, store.ErrStreamNotFound) {
		t.Fatalf("ReadStream(%s) = %d events, %v; want %v", stream, len(recs), err, store.ErrStreamNotFound)
	}
}

// wantCount checks the number of events in the whole store.
func wantCount(t *testing.T, ctx context.Context, s store.Store, n int) []store.RecordedEvent {
	t.Helper()
	all := readAll(t, ctx, s, store.Start)
	if len(all) != n {
		t.Fatalf("store holds %d events %v, want %d", len(all), recIDs(all), n)
	}
	return all
}

// wantConflict checks that err is a conflict on stream whose last revision
// is actual (-1: no events).
func wantConflict(t *testing.T, err error, stream string, actual int64) {
	t.Helper()
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("append to %s: got %v, want %v", stream, err, store.ErrConflict)
	}
	var ce *store.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("append to %s: %v is not a *store.ConflictError", stream, err)
	}
	if ce.Stream != stream || ce.Actual != actual {
		t.Fatalf("conflict on %s at %d, want on %s at %d: %v", ce.Stream, ce.Actual, stream, actual, err)
	}
}

// subscription runs Subscribe in the background and hands its events over
// one by one.
type subscription struct {
	t      *testing.T
	ctx    context.Context
	cancel context.CancelFunc
	events chan store.RecordedEvent
	done   chan error
}

func subscribe(t *testing.T, ctx context.Context, s store.Store, after store.Position) *subscription {
	sub := &subscription{t: t, events: make(chan store.RecordedEvent), done: make(chan error, 1)}
	sub.ctx, sub.cancel = context.WithCancel(ctx)
	go func() {
		sub.done <- s.Subscribe(sub.ctx, after, func(r store.RecordedEvent) error {
			select {
			case sub.events <- r:
				return nil
			case <-sub.ctx.Done():
				return sub.ctx.Err()
			}
		})
	}()
	t.Cleanup(func() {
		sub.cancel()
		<-sub.done
	})
	return sub
}

// next waits for the next event.
func (sub *subscription) next() store.RecordedEvent {
	sub.t.Helper()
	select {
	case r := <-sub.events:
		return r
	case err := <-sub.done:
		sub.done <- err
		sub.t.Fatalf("subscription ended: %v", err)
	case <-sub.ctx.Done():
		sub.t.Fatalf("waiting for an event: %v", sub.ctx.Err())
	}
	return store.RecordedEvent{}
}

// take waits for the next n events.
func (sub *subscription) take(n int) []store.RecordedEvent {
	sub.t.Helper()
	recs := make([]store.RecordedEvent, n)
	for i := range recs {
		recs[i] = sub.next()
	}
	return recs
}

// stop cancels the subscription and checks that Subscribe returned the
// context's error.
func (sub *subscription) stop() {
	sub.t.Helper()
	sub.cancel()
	select {
	case err := <-sub.done:
		sub.done <- err
		if !errors.Is(err, context.Canceled) {
			sub.t.Fatalf("Subscribe returned %v after cancel, want %v", err, context.Canceled)
		}
	case <-time.After(timeout):
		sub.t.Fatal("Subscribe did not return after cancel")
	}
}

// samePositions checks that got and want are the same events at the same
// positions, in the same order.
func samePositions(t *testing.T, what string, got, want []store.RecordedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Position != want[i].Position || got[i].Revision != want[i].Revision || got[i].Stream != want[i].Stream {
			t.Fatalf("%s: event %d is %s %s/%d at %s, want %s %s/%d at %s", what, i,
				got[i].ID, got[i].Stream, got[i].Revision, got[i].Position,
				want[i].ID, want[i].Stream, want[i].Revision, want[i].Position)
		}
	}
}
