package caseload

import (
	"context"
	"fmt"

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
func Replay(ctx context.Context, s store.Store, gemeenten *gemeente.Registry) (map[string]*View, error) {
	all := gemeenten.All()
	views := make(map[string]*View, len(all))
	for _, g := range all {
		views[g.Code] = NewView(g.Code, g.Naam)
	}
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
		route(views, ev)
	}
	return views, nil
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
