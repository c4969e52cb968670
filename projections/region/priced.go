package region

import (
	"context"
	"fmt"

	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// LastPriced is the last day on which anything of gemeente g has been
// priced up to today: a day of a placement it was responsible for, the
// last day of hours charged to it, or the last day of a booking of shared
// costs (which is divided over every participant). ok is false when
// nothing of g has been priced yet.
//
// A policy version may start before today only after this day: days
// already priced are never priced again (beleid.DecideBeleid).
func (m *Model) LastPriced(g string, today Day) (last Day, ok bool) {
	see := func(d Day) {
		if d > today {
			d = today
		}
		if !ok || d > last {
			last, ok = d, true
		}
	}
	for _, c := range m.cases {
		for _, s := range c.Spells() {
			if s.Gemeente == g && s.Placement != nil && s.From <= today {
				see(s.To - 1)
			}
		}
		for _, h := range c.Hours() {
			if h.Gemeente == g {
				see(h.Tot)
			}
		}
	}
	for _, b := range m.bookings {
		see(b.Tot)
	}
	return last, ok
}

// header is a store that tells the position of its last event
// (natsstore.Store does).
type header interface {
	Head(ctx context.Context) (store.Position, error)
}

// LastPriced answers Model.LastPriced on the model once it has applied
// every event the store held when the call began, so that a placement
// acknowledged a moment ago counts. With a store that can not tell its
// head it answers on the model as it is.
func (l *Live) LastPriced(ctx context.Context, g string, today *ledgerv1.Date) (*ledgerv1.Date, error) {
	if err := l.catchUp(ctx); err != nil {
		return nil, fmt.Errorf("last priced day of %s: %w", g, err)
	}
	var last Day
	var ok bool
	err := l.Read(func(m *Model) { last, ok = m.LastPriced(g, DayOf(today)) })
	if err != nil {
		return nil, fmt.Errorf("last priced day of %s: %w", g, err)
	}
	if !ok {
		return nil, nil
	}
	return last.Date(), nil
}

// catchUp waits until the model holds every event the store holds now.
func (l *Live) catchUp(ctx context.Context) error {
	h, ok := l.st.(header)
	if !ok {
		return nil
	}
	head, err := h.Head(ctx)
	if err != nil {
		return err
	}
	return l.WaitFor(ctx, head)
}

// Latest is Model.Latest once the model holds every event the store holds
// now: the day the recorded history has reached, nil when there is none.
// An import decides its policy lines as of that day.
func (l *Live) Latest(ctx context.Context) (*ledgerv1.Date, error) {
	if err := l.catchUp(ctx); err != nil {
		return nil, fmt.Errorf("latest day of the history: %w", err)
	}
	var d Day
	var ok bool
	if err := l.Read(func(m *Model) { d, ok = m.Latest() }); err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	return d.Date(), nil
}

// Absent returns those of ids (case ids) that the store does not hold, as
// the model knows once it holds every event the store holds now. A case
// appended after that moment is not seen; a writer that relies on the
// answer appends with "no stream" expected, so the store refuses such a
// write rather than a case being begun twice.
func (l *Live) Absent(ctx context.Context, ids []string) ([]string, error) {
	if err := l.catchUp(ctx); err != nil {
		return nil, fmt.Errorf("cases in the store: %w", err)
	}
	return l.AbsentSoFar(ids)
}

// AbsentSoFar is Absent as the model knows it now, without waiting for it
// to hold what the store holds: a case appended after the model's position
// is not seen. A caller that remembers what it wrote itself asks this, so
// that it does not wait for the model to apply its own writes; the store's
// "no stream" expectation still refuses a case someone else began.
func (l *Live) AbsentSoFar(ids []string) ([]string, error) {
	var out []string
	err := l.Read(func(m *Model) {
		for _, id := range ids {
			if _, ok := m.cases[id]; !ok {
				out = append(out, id)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
