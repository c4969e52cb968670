package caseload

import (
	"context"
	"fmt"

	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Replay rebuilds the view of every gemeente on file from the whole store:
// the auditor's path, which must give the same figures as the live
// projection. Events are routed with event.Audience, the rule the relay
// publishes by.
//
// A malformed event in the store is an error naming its position: the store
// is the source of truth, and a replay that skipped a fact would prove
// nothing.
func Replay(ctx context.Context, s store.Store, gemeenten *gemeente.Registry) (*Replayed, error) {
	out := NewReplayed(gemeenten)
	for rec, err := range s.ReadAll(ctx, store.Start) {
		if err != nil {
			return nil, fmt.Errorf("replay caseload: read store: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("replay caseload: at position %s: %w", rec.Position, err)
		}
		if err := out.Apply(rec); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// NewReplayed returns empty views of every gemeente on file, to Apply the
// stored events to in store order: Replay, or an auditor's CLI reading
// them through the API.
func NewReplayed(gemeenten *gemeente.Registry) *Replayed {
	all := gemeenten.All()
	out := &Replayed{Views: make(map[string]*View, len(all))}
	for _, g := range all {
		out.Views[g.Code] = NewView(g.Code, g.Naam)
	}
	return out
}

// Apply takes in the next stored event.
func (r *Replayed) Apply(rec store.RecordedEvent) error {
	ev, err := event.Decode(rec.Data)
	if err != nil {
		return fmt.Errorf("replay caseload: event %s at position %s (stream %s, revision %d): %w",
			rec.ID, rec.Position, rec.Stream, rec.Revision, err)
	}
	route(r.Views, ev, rec.Position)
	r.digest = audit.Chain(r.digest, rec.Data)
	r.tot, r.read = rec.Position, r.read+1
	return nil
}

// View is gemeente g's replayed view composed as of today, as the live one
// is served; false when g is not on file.
func (r *Replayed) View(g string, reg *gemeente.Registry, today *ledgerv1.Date) (*ledgerv1.CaseloadView, bool) {
	if _, ok := r.Views[g]; !ok {
		return nil, false
	}
	return Compose(g, func(code string) *View { return r.Views[code] }, reg, today).Proto(BronReplay), true
}

// Replayed is the outcome of a Replay: every gemeente's view and what they
// were made of.
type Replayed struct {
	Views map[string]*View
	tot   store.Position
	read  uint64
	// The running digest over every stored event read, as
	// audit.Verifier and the regional model's certificate compute it.
	digest audit.Hash
}

// Certificate says what the views reflect: the store position read up to,
// the number of events read and their digest. Peildatum is the caller's.
func (r *Replayed) Certificate() *ledgerv1.Certificaat {
	return &ledgerv1.Certificaat{Positie: r.tot.String(), Gebeurtenissen: r.read, Digest: audit.DigestOf(r.digest)}
}

// route applies ev to the view of every gemeente that receives it.
func route(views map[string]*View, ev *ledgerv1.Event, at store.Position) {
	if !event.IsCaseEvent(ev) {
		return // policy and regional agreements are not caseload
	}
	for _, g := range event.Audience(ev, nil) {
		if v, ok := views[g]; ok {
			v.ApplyAt(ev, at)
		}
	}
}
