package caseflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
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
	// fetching are the cases Prefetch is reading, by the readers in
	// fetchers.
	fetching map[uuid.UUID]*fetch
	fetchers sync.WaitGroup
	// used is when each case was last loaded, in ticks, for Trim.
	used map[uuid.UUID]uint64
	tick uint64
	// gone are the cases the batch let go of (Trim, Drop) that the store
	// may hold: a model that has not applied their writes yet must not
	// make them absent (NotStored).
	gone map[uuid.UUID]bool
}

type pendingWrite struct {
	caseID uuid.UUID
	write  store.Write
}

// NewBatch starts an empty batch.
func (h *Handler) NewBatch() *Batch {
	return &Batch{h: h, cases: map[uuid.UUID]*Case{}, byCase: map[uuid.UUID]*pendingWrite{}, policies: map[string]beleid.History{}, fetching: map[uuid.UUID]*fetch{}, used: map[uuid.UUID]uint64{}, gone: map[uuid.UUID]bool{}}
}

// Cases is the number of cases the batch holds in memory.
func (b *Batch) Cases() int { return len(b.cases) }

// Forget drops every case the batch holds (after Commit): they are read
// from the store again when needed.
func (b *Batch) Forget() {
	b.Settle()
	clear(b.cases)
	clear(b.used)
	clear(b.gone)
}

// Blank reports whether the batch knows nothing of any case: new, or
// everything forgotten. Whoever tells it which cases are not stored must
// then know it of every write so far, its own included.
func (b *Batch) Blank() bool { return len(b.cases) == 0 && len(b.gone) == 0 }

// Unknown returns those of ids the batch knows nothing of: it holds neither
// the case nor its absence, is not reading it, and never let it go.
func (b *Batch) Unknown(ids []uuid.UUID) []uuid.UUID {
	var out []uuid.UUID
	for _, id := range ids {
		if b.unknown(id) {
			out = append(out, id)
		}
	}
	return out
}

func (b *Batch) unknown(id uuid.UUID) bool {
	_, held := b.cases[id]
	return !held && b.fetching[id] == nil && !b.gone[id]
}

// Trim bounds the cases the batch holds: above max, it keeps the max/2
// used last and forgets the others (they are read again when needed). A
// history comes in order of time, so the cases used last are the ones its
// next lines name; forgetting them all would read every open case again.
func (b *Batch) Trim(max int) {
	if len(b.cases) <= max {
		return
	}
	b.Settle()
	ticks := make([]uint64, 0, len(b.cases))
	for id := range b.cases {
		ticks = append(ticks, b.used[id])
	}
	slices.Sort(ticks)
	cut := ticks[len(ticks)-max/2]
	for id := range b.cases {
		if _, queued := b.byCase[id]; !queued && b.used[id] < cut {
			if b.cases[id] != nil {
				b.gone[id] = true
			}
			delete(b.cases, id)
			delete(b.used, id)
		}
	}
}

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
	digest := b.h.digest(cmd)
	if c != nil && cmd.EventID != uuid.Nil {
		if res, done, err := c.recorded(cmd, digest); done || err != nil {
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
	p, err := b.h.prepare(ctx, cmd, caseID, c, policy, digest)
	if err != nil {
		return Result{}, err
	}
	if c == nil {
		c = &Case{}
		b.cases[caseID] = c
	}
	// The new event's bytes carry the hash link from now on; the case's
	// earlier events were slimmed when it was loaded.
	if n := len(c.Records); n > 0 {
		c.Records[n-1].Data = nil
	}
	c.Records = append(c.Records, store.RecordedEvent{ID: p.data.ID, Stream: event.Stream(caseID), Type: p.data.Type, Revision: p.result.Revision, Data: p.data.Data})
	c.Events = append(c.Events, Lean(p.ev))
	c.Revision = p.result.Revision
	c.State = p.result.State
	c.checked = nil
	if p.checked {
		c.checked = &p.result.State
	}
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

// slim, for a case the batch just loaded, drops the stored bytes of every
// event but the last, whose hash the next event links to, and keeps of
// each decoded event only what deciding reads (Lean): a batch holds many
// cases, and at a million imported events their histories were the
// largest part of the heap. Handle keeps the events it adds slim itself.
func slim(c *Case) {
	for i := range len(c.Records) - 1 {
		c.Records[i].Data = nil
	}
	for i, ev := range c.Events {
		c.Events[i] = Lean(ev)
	}
}

// Lean is ev with what no decision reads left out: the encrypted personal
// data of an aanmelding, the timestamp, actor, schema version, hash link,
// policy version and source of the envelope. What stays: the identities,
// the gemeente and date, the command digest (a retry is recognised by it)
// and the payload, shared with ev. An event held in memory beside many
// others (a batch's cases, the regional model) is kept lean; a lean event
// is only decided on or counted, never stored or shown. An event that is
// lean already is returned as it is; any other gets an envelope of its own.
func Lean(ev *ledgerv1.Event) *ledgerv1.Event {
	env := ev.GetEnvelope()
	if env.GetRecordedAt() == nil && env.GetActor() == "" && env.GetPrevHash() == nil && env.GetBron() == nil &&
		env.GetPolicyVersion() == "" && env.GetSchemaVersion() == 0 && ev.GetAanmelding().GetPersoonsgegevens() == nil {
		return ev // lean already
	}
	out := &ledgerv1.Event{Envelope: &ledgerv1.Envelope{
		EventId:       env.GetEventId(),
		CaseId:        env.GetCaseId(),
		Gemeente:      env.GetGemeente(),
		OccurredOn:    env.GetOccurredOn(),
		CommandDigest: env.GetCommandDigest(),
	}, Payload: ev.GetPayload()}
	if a := ev.GetAanmelding(); a.GetPersoonsgegevens() != nil {
		a = proto.Clone(a).(*ledgerv1.Aanmelding)
		a.Persoonsgegevens = nil
		out.Payload = &ledgerv1.Event_Aanmelding{Aanmelding: a}
	}
	return out
}

// load returns the case as the batch knows it, reading it from the store
// the first time; nil when it does not exist.
func (b *Batch) load(ctx context.Context, id uuid.UUID) (*Case, error) {
	b.tick++
	b.used[id] = b.tick
	if c, ok := b.cases[id]; ok {
		return c, nil
	}
	if c, ok := b.fetched(id); ok {
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
	slim(c)
	b.cases[id] = c
	return c, nil
}

// prefetchers bounds the reads Prefetch has in flight at once.
const prefetchers = 16

// fetch is a case being read ahead; done is closed when c and err are set.
type fetch struct {
	done chan struct{}
	c    *Case
	err  error
}

// Prefetch starts reading the cases of ids that the batch does not hold,
// side by side and in the order given, so that the commands on them need
// not wait for a read each: a read is a round trip, and an import of a new
// region is mostly first lines of cases. Handle takes a case from here as
// soon as its read is done; one whose read failed is read again by the
// command, which reports why. Settle ends the reads still running.
func (b *Batch) Prefetch(ctx context.Context, ids []uuid.UUID) {
	b.Settle()
	var want []uuid.UUID
	for _, id := range ids {
		if _, held := b.cases[id]; held || b.fetching[id] != nil || id == uuid.Nil {
			continue
		}
		b.fetching[id] = &fetch{done: make(chan struct{})}
		want = append(want, id)
	}
	todo := make(chan uuid.UUID)
	// The slots are made here, before any reader starts, so that the map
	// is only read while they run; each reader writes its slot, then
	// closes done.
	slots := make(map[uuid.UUID]*fetch, len(want))
	for _, id := range want {
		slots[id] = b.fetching[id]
	}
	for range min(prefetchers, len(want)) {
		b.fetchers.Go(func() {
			for id := range todo {
				f := slots[id]
				f.c, f.err = b.h.Load(ctx, id)
				close(f.done)
			}
		})
	}
	b.fetchers.Go(func() {
		defer close(todo)
		for i, id := range want {
			select {
			case todo <- id:
			case <-ctx.Done():
				for _, rest := range want[i:] {
					slots[rest].err = ctx.Err()
					close(slots[rest].done)
				}
				return
			}
		}
	})
}

// NotStored tells the batch that the cases of ids do not exist in the
// store (the regional model knows every case), so that it does not read
// them. Should one exist after all, its first write expects no stream and
// is refused by the store. A case the batch let go of is read again
// whatever NotStored says: the model may not have applied its writes yet.
func (b *Batch) NotStored(ids []uuid.UUID) {
	for _, id := range ids {
		if b.unknown(id) {
			b.cases[id] = nil
			b.tick++
			b.used[id] = b.tick
		}
	}
}

// Settle waits for the reads Prefetch started and drops what no command
// took: read before the commands of the call that prefetched it, it may be
// out of date by the next.
func (b *Batch) Settle() {
	b.fetchers.Wait()
	clear(b.fetching)
}

// fetched returns a prefetched case once its read is done.
func (b *Batch) fetched(id uuid.UUID) (*Case, bool) {
	f := b.fetching[id]
	if f == nil {
		return nil, false
	}
	<-f.done
	delete(b.fetching, id)
	switch {
	case errors.Is(f.err, ErrCaseNotFound):
		b.cases[id] = nil
		return nil, true
	case f.err != nil:
		return nil, false
	}
	slim(f.c)
	b.cases[id] = f.c
	return f.c, true
}

// defaultStep bounds the events of one atomic step on a store that does
// not say its own bound (natsstore.DefaultMaxAppend).
const defaultStep = 1000

// stepSize is the most events one atomic step of st takes: what the store
// says (natsstore.Store.MaxAppend), else defaultStep.
func stepSize(st store.Store) int {
	if l, ok := st.(interface{ MaxAppend() int }); ok {
		return l.MaxAppend()
	}
	return defaultStep
}

// StepSize is the most events one atomic step of the batch's store takes:
// a bulk load that hands over this many at a time fills its steps.
func (b *Batch) StepSize() int { return stepSize(b.h.Store) }

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
		// Its earlier events may be stored.
		b.gone[id] = true
		delete(b.cases, id)
		delete(b.used, id)
	}
}

// Store writes w in atomic multi-case steps where the store can, case by
// case otherwise, and returns the error per case that was not stored.
func (w *Writes) Store(ctx context.Context) map[uuid.UUID]error {
	failed := map[uuid.UUID]error{}
	multi, _ := w.store.(store.MultiAppender)
	maxStep := stepSize(w.store)
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
