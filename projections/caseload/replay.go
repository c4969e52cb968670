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
	all := gemeenten.All()
	out := &Replayed{Views: make(map[string]*View, len(all))}
	for _, g := range all {
		out.Views[g.Code] = NewView(g.Code, g.Naam)
	}
	var digest audit.Hash
	for rec, err := range s.ReadAll(ctx, store.Start) {
		if err != nil {
			return nil, fmt.Errorf("replay caseload: read store: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("replay caseload: at position %s: %w", rec.Position, err)
		}
		ev, err := event.Decode(rec.Data)
		if err != nil {
			return nil, fmt.Errorf("replay caseload: event %s at position %s (stream %s, revision %d): %w",
				rec.ID, rec.Position, rec.Stream, rec.Revision, err)
		}
		route(out.Views, ev)
		digest = audit.Chain(digest, rec.Data)
		out.tot, out.read = rec.Position, out.read+1
	}
	out.digest = digest
	return out, nil
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
func route(views map[string]*View, ev *ledgerv1.Event) {
	if !event.IsCaseEvent(ev) {
		return // policy and regional agreements are not caseload
	}
	for _, g := range event.Audience(ev, nil) {
		if v, ok := views[g]; ok {
			v.Apply(ev)
		}
	}
}
