package caseflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// Batch decides many commands in order, as Handle would one by one, and
// writes their events together: the import's path. Each case is read from
// the store once; later commands on it are decided against the events the
// batch already holds for it. Commit writes everything in one atomic step
// where the store can (store.MultiAppender), so that a bulk load makes one
// durable commit instead of one per event.
//
// A Batch is used by one goroutine at a time. Nothing is written before
// Commit; a command it refuses leaves the batch as it was. A batch may be
// kept after Commit to go on with the same cases: should another writer
// change one of them meanwhile, its next write is refused by the store's
// expected revision, never written over, and the case is read again.
type Batch struct {
	h        *Handler
	cases    map[uuid.UUID]*Case // nil value: known not to exist
	pending  []*pendingWrite
	byCase   map[uuid.UUID]*pendingWrite
	events   int
	policies map[string]beleid.History
}

type pendingWrite struct {
	caseID uuid.UUID
	write  store.Write
}

// NewBatch starts an empty batch.
func (h *Handler) NewBatch() *Batch {
	return &Batch{h: h, cases: map[uuid.UUID]*Case{}, byCase: map[uuid.UUID]*pendingWrite{}, policies: map[string]beleid.History{}}
}

// Cases is the number of cases the batch holds in memory.
func (b *Batch) Cases() int { return len(b.cases) }

// Forget drops every case the batch holds (after Commit): they are read
// from the store again when needed.
func (b *Batch) Forget() { clear(b.cases) }

// Pending is the number of events waiting for Commit.
func (b *Batch) Pending() int { return b.events }

// ForgetPolicies drops the policy histories the batch read: after a new
// policy version is recorded, later commands must see it.
func (b *Batch) ForgetPolicies() { clear(b.policies) }

// Handle decides cmd against the case as the store holds it plus what the
// batch added, and queues its event. A command whose event id the case
// already holds is answered with Present set and queues nothing.
func (b *Batch) Handle(ctx context.Context, cmd Command) (Result, error) {
	caseID, aanmelding, err := target(cmd)
	if err != nil {
		return Result{}, err
	}
	if err := checkUnsealed(cmd); err != nil {
		return Result{}, err
	}
	c, err := b.load(ctx, caseID)
	if err != nil {
		return Result{}, err
	}
	if c != nil && cmd.EventID != uuid.Nil {
		if res, done, err := c.recorded(cmd, b.h.digest(cmd)); done || err != nil {
			return res, err
		}
	}
	switch {
	case aanmelding && c != nil:
		return Result{}, &Refusal{Rule: RuleAanmeldingNieuweZaak, CaseID: caseID.String(), Reden: "de zaak van deze aanmelding bestaat al, met andere feiten; een aanmelding opent een nieuwe zaak"}
	case !aanmelding && c == nil:
		return Result{}, &Refusal{Rule: RuleZaakOnbekend, CaseID: caseID.String(), Reden: "deze zaak bestaat niet", Err: ErrCaseNotFound}
	}
	policy, err := b.h.policies(ctx, c, cmd.Transition, b.policies)
	if err != nil {
		return Result{}, err
	}
	p, err := b.h.prepare(ctx, cmd, caseID, c, policy)
	if err != nil {
		return Result{}, err
	}
	if c == nil {
		c = &Case{}
		b.cases[caseID] = c
	}
	c.Records = append(c.Records, store.RecordedEvent{ID: p.data.ID, Stream: event.Stream(caseID), Type: p.data.Type, Revision: p.result.Revision, Data: p.data.Data})
	c.Events = append(c.Events, p.ev)
	c.Revision = p.result.Revision
	c.State = p.result.State
	w, ok := b.byCase[caseID]
	if !ok {
		w = &pendingWrite{caseID: caseID, write: store.Write{Stream: event.Stream(caseID), Expected: p.expected}}
		b.byCase[caseID] = w
		b.pending = append(b.pending, w)
	}
	w.write.Events = append(w.write.Events, p.data)
	b.events++
	return p.result, nil
}

// load returns the case as the batch knows it, reading it from the store
// the first time; nil when it does not exist.
func (b *Batch) load(ctx context.Context, id uuid.UUID) (*Case, error) {
	if c, ok := b.cases[id]; ok {
		return c, nil
	}
	c, err := b.h.Load(ctx, id)
	if errors.Is(err, ErrCaseNotFound) {
		b.cases[id] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b.cases[id] = c
	return c, nil
}

// maxStep bounds the events of one atomic step (natsstore.MaxAppend).
const maxStep = 1000

// Commit writes the queued events. It returns, per case whose events could
// not be stored, the error; the other cases' events are stored. The batch
// forgets a failed case, so that it is read from the store again.
func (b *Batch) Commit(ctx context.Context) map[uuid.UUID]error {
	failed := b.Take().Store(ctx)
	b.Drop(failed)
	return failed
}

// Writes are queued events taken out of a batch to be stored.
type Writes struct {
	store   store.Store
	pending []*pendingWrite
	events  int
	last    store.Position
}

// Last is the store position of the last event Store wrote.
func (w *Writes) Last() store.Position { return w.last }

func (w *Writes) note(p store.Position) {
	if w.last.Less(p) {
		w.last = p
	}
}

// Events is the number of events in w.
func (w *Writes) Events() int { return w.events }

// Take removes the queued events from the batch, which goes on deciding
// while they are stored (w.Store on another goroutine, if need be). Should
// a case's events fail to store, its later events in the batch fail too:
// they expect the revision the failed ones would have made.
func (b *Batch) Take() *Writes {
	w := &Writes{store: b.h.Store, pending: b.pending, events: b.events}
	b.pending = nil
	clear(b.byCase)
	b.events = 0
	return w
}

// Drop forgets the cases whose events failed to store, on the batch's own
// goroutine.
func (b *Batch) Drop(failed map[uuid.UUID]error) {
	for id := range failed {
		delete(b.cases, id)
	}
}

// Store writes w in atomic multi-case steps where the store can, case by
// case otherwise, and returns the error per case that was not stored.
func (w *Writes) Store(ctx context.Context) map[uuid.UUID]error {
	failed := map[uuid.UUID]error{}
	multi, _ := w.store.(store.MultiAppender)
	pending := w.pending
	for len(pending) > 0 {
		n, events := 0, 0
		for n < len(pending) && (n == 0 || events+len(pending[n].write.Events) <= maxStep) {
			events += len(pending[n].write.Events)
			n++
		}
		step := pending[:n]
		pending = pending[n:]
		if multi != nil && events <= maxStep {
			writes := make([]store.Write, len(step))
			for i, p := range step {
				writes[i] = p.write
			}
			if res, err := multi.AppendMulti(ctx, writes); err == nil {
				for _, r := range res {
					w.note(r.Position)
				}
				continue
			}
			// The step as a whole was refused or failed; case by case
			// tells which (Append recognises what did land as a retry).
		}
		for _, p := range step {
			res, err := w.store.Append(ctx, p.write.Stream, p.write.Expected, p.write.Events...)
			if err != nil {
				failed[p.caseID] = fmt.Errorf("record %d events on case %s: %w", len(p.write.Events), p.caseID, err)
				continue
			}
			w.note(res.Position)
		}
	}
	return failed
}
