// Package lag says how far the live figures are behind the store, and
// waits for them to include a position: read-your-writes for a query that
// follows a command.
//
// Two kinds of figures are kept apart from the store. The regional model
// (beleidsview, cost lines, SRG counts) reads the store itself. A
// gemeente's caseload view reads its bus stream, which the relay fills
// from the store; it includes a store position p once the relay has
// published everything up to p and the view has taken in every message
// its bus stream held at that moment.
package lag

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/projections/caseload"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/bus"
	"github.com/gooi-vechtstreek/ledger/services/relay"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// ErrBehind: the figures did not include the position asked for in time.
var ErrBehind = errors.New("figures behind the store")

// Store is what the tracker reads of the store: its last position, the
// number of events after one position up to another, and the first event
// after a position (for its age). The JetStream store provides them.
type Store interface {
	Head(ctx context.Context) (store.Position, error)
	EventsBetween(ctx context.Context, from, to store.Position) (uint64, error)
	EventAfter(ctx context.Context, p store.Position) (store.RecordedEvent, error)
}

// Tracker follows the projections of one server.
type Tracker struct {
	Store  Store
	Region *region.Live
	Relay  *relay.Relay
	Views  *caseload.Projector
	JS     jetstream.JetStream
	// MaxWait bounds a wait for a position; five seconds when zero.
	MaxWait time.Duration
}

func (t *Tracker) maxWait() time.Duration {
	if t.MaxWait > 0 {
		return t.MaxWait
	}
	return 5 * time.Second
}

// RegionBehind says how far the regional model is behind the store.
func (t *Tracker) RegionBehind(ctx context.Context) (*ledgerv1.Achterstand, error) {
	head, err := t.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	var at store.Position
	_ = t.Region.Read(func(m *region.Model) { at = m.Position() })
	return t.behind(ctx, head, at, 0, time.Time{})
}

// beyond reports whether p lies after the store's last event: a position
// of another store (a client that remembered it from an earlier server at
// the same address), which no figures will ever include.
func (t *Tracker) beyond(ctx context.Context, p store.Position) bool {
	head, err := t.Store.Head(ctx)
	return err == nil && head.Less(p)
}

// WaitRegion waits until the regional model includes p, at most MaxWait.
func (t *Tracker) WaitRegion(ctx context.Context, p store.Position) error {
	if t.beyond(ctx, p) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, t.maxWait())
	defer cancel()
	if err := t.Region.WaitFor(ctx, p); err != nil {
		return t.late(context.WithoutCancel(ctx), p, t.RegionBehind)
	}
	return nil
}

// CaseloadBehind says how far gemeente's caseload view is behind the store: the
// events the relay has not yet put on the bus (of every gemeente, so an
// upper bound for this one) plus the messages of its bus stream the view
// has not taken in.
func (t *Tracker) CaseloadBehind(ctx context.Context, gemeente string) (*ledgerv1.Achterstand, error) {
	head, err := t.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	published := t.Relay.Published()
	pr, _ := t.Views.Progress(gemeente)
	s, err := t.JS.Stream(ctx, bus.StreamName(gemeente))
	if err != nil {
		return nil, fmt.Errorf("bus stream of %s: %w", gemeente, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("bus stream of %s: %w", gemeente, err)
	}
	var busBehind uint64
	var oldest time.Time
	if last := info.State.LastSeq; last > pr.Applied {
		busBehind = last - pr.Applied
		if m, err := s.GetMsg(ctx, pr.Applied+1); err == nil {
			oldest = m.Time
		}
	}
	return t.behind(ctx, head, published, busBehind, oldest)
}

// WaitCaseload waits until gemeente's caseload view includes store
// position p, at most MaxWait.
func (t *Tracker) WaitCaseload(ctx context.Context, gemeente string, p store.Position) error {
	if t.beyond(ctx, p) {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, t.maxWait())
	defer cancel()
	err := t.Relay.WaitFor(wctx, p)
	if err == nil {
		// Everything up to p is on the bus now: the view includes p once
		// it has taken in what its stream holds.
		var info *jetstream.StreamInfo
		var s jetstream.Stream
		if s, err = t.JS.Stream(wctx, bus.StreamName(gemeente)); err == nil {
			if info, err = s.Info(wctx); err == nil {
				err = t.Views.WaitApplied(wctx, gemeente, info.State.LastSeq)
			}
		}
	}
	if err != nil {
		return t.late(context.WithoutCancel(ctx), p, func(ctx context.Context) (*ledgerv1.Achterstand, error) {
			return t.CaseloadBehind(ctx, gemeente)
		})
	}
	return nil
}

// late is the error of a wait that ran out: it says how far behind.
func (t *Tracker) late(ctx context.Context, p store.Position, measure func(context.Context) (*ledgerv1.Achterstand, error)) error {
	a, err := measure(ctx)
	if err != nil {
		return fmt.Errorf("%w: waiting for %s: %w", ErrBehind, p, err)
	}
	return fmt.Errorf("%w: de cijfers bevatten positie %s nog niet na %s wachten; ze lopen %d gebeurtenissen (%.1f s) achter op de store (bijgewerkt tot %s, store op %s)",
		ErrBehind, p, t.maxWait(), a.GetGebeurtenissen(), a.GetSeconden(), a.GetBijgewerktTot(), a.GetStorePositie())
}

// behind is the Achterstand of figures at position at, with extra messages
// still to take in downstream whose oldest is from extraSince.
func (t *Tracker) behind(ctx context.Context, head, at store.Position, extra uint64, extraSince time.Time) (*ledgerv1.Achterstand, error) {
	a := &ledgerv1.Achterstand{StorePositie: head.String(), BijgewerktTot: at.String(), Gebeurtenissen: extra}
	oldest := extraSince
	if at.Less(head) {
		n, err := t.Store.EventsBetween(ctx, at, head)
		if err != nil {
			return nil, fmt.Errorf("events between %s and %s: %w", at, head, err)
		}
		a.Gebeurtenissen += n
		next, err := t.Store.EventAfter(ctx, at)
		if err == nil && (oldest.IsZero() || next.Recorded.Before(oldest)) {
			oldest = next.Recorded
		}
	}
	if a.Gebeurtenissen > 0 && !oldest.IsZero() {
		// Elapsed time since the store took the oldest event in, on the
		// store's clock: a duration, not a "today".
		a.Seconden = max(0, time.Since(oldest).Seconds())
	}
	return a, nil
}
