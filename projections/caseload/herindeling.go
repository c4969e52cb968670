package caseload

import (
	"maps"
	"slices"
	"sort"

	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// A herindeling moves cases between views without an event: from its day
// the successor carries the ended gemeente's open cases. Each view still
// takes in only the events addressed to its gemeente; Compose joins them on
// reading, as of a day:
//
//   - the ended gemeente's view no longer counts its open cases as active,
//     and shows them as uitstroom "herindeling" in the month of its last day
//     ("herindeling-buiten-regeling" when the successor is outside the
//     arrangement and the cases ended);
//   - the successor's view counts them, with instroom "herindeling" in the
//     month of the day, and their later events, which it took in without
//     their start (View.held), continue them.
//
// A carried case's history is the ended gemeente's part followed by the
// successor's part: every transition of the first is dated before the day
// and every one of the second on or after it, so the order does not depend
// on which bus stream was read first, and the live views and the replay
// agree. Only a direct successor carries; a chain of herindelingen is not
// followed here (the regional model follows it).

// carried is one case a herindeling moved.
type carried struct {
	id string
	// The case's contribution to the ended gemeente's view, to take out.
	was active
	// Under the successor: the state after both parts, its contribution
	// and the flows from the day on.
	state caseflow.State
	now   active
	flows []flow
	// Successor's held events this case claims, by kind.
	orphans, corrections uint64
}

// carriedCases returns the cases h moves from pred to succ (succ nil when
// the successor is outside the arrangement or has no view).
func carriedCases(h gemeente.Herindeling, pred, succ *View) []carried {
	ids := make([]string, 0)
	for id, c := range pred.cases {
		s := c.segments[len(c.segments)-1].state
		if s.Open() && s.Gemeente == pred.gemeente && (s.Sinds == nil || event.CompareDates(s.Sinds, h.Op) < 0) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := make([]carried, 0, len(ids))
	for _, id := range ids {
		c := pred.cases[id]
		seg := c.segments[len(c.segments)-1]
		cc := carried{id: id, was: pred.activeOf(c)}
		if succ == nil || h.Buiten {
			out = append(out, cc)
			continue
		}
		later := succ.held[id]
		for _, k := range later {
			if k.kind == keptCorrectie {
				cc.corrections++
			} else {
				cc.orphans++
			}
		}
		// Decoded only here, on reading: a view keeps its events encoded.
		events, err := decodeAll(append(slices.Clip(seg.events), later...))
		var state caseflow.State
		var eff []*ledgerv1.Event
		if err == nil {
			state, err = caseflow.Fold(events)
		}
		if err == nil {
			eff, err = caseflow.Effective(events)
		}
		if err != nil {
			// A later correction that does not fit: the case goes on as
			// the ended gemeente left it, as View.Apply would leave it.
			state, eff = seg.state, nil
			if own, derr := decodeAll(seg.events); derr == nil {
				eff = own
			}
		}
		if state.Gemeente == pred.gemeente {
			state.Gemeente = succ.gemeente
		}
		cc.state = state
		if state.Open() && state.Gemeente == succ.gemeente {
			cc.now = active{ok: true, toestand: state.Toestand, doelgroep: state.Doelgroep}
		}
		cc.flows = append([]flow{{maand: event.Month(h.Op), reden: RedenHerindeling}}, succ.flowsOf(eff, h.Op, pred.gemeente)...)
		out = append(out, cc)
	}
	return out
}

// Composed is a view as of a day, with the herindelingen in force then.
type Composed struct {
	view   *View
	totals totals
	anom   Anomalies
	// Cases to add to or show differently in the case list, by id.
	cases map[string]*ledgerv1.CaseSummary
	// Carried away: no longer active here.
	away map[string]bool
	// tot: the latest position of the views composed; exact when each of
	// them has taken in its stream.
	tot  store.Position
	info []*ledgerv1.Herindeling
}

// Compose returns the view of code as of day today: its own figures with
// the herindelingen in force on that day that involve it. views gives the
// view of a gemeente (nil when there is none).
func Compose(code string, views func(string) *View, reg *gemeente.Registry, today *ledgerv1.Date) *Composed {
	v := views(code)
	out := &Composed{view: v, totals: v.totals, anom: v.anomalies, tot: v.tot}
	if reg == nil || today == nil {
		return out
	}
	hs := reg.Betrokken(code, today)
	if len(hs) == 0 {
		return out
	}
	out.totals = v.totals.clone()
	out.cases, out.away = map[string]*ledgerv1.CaseSummary{}, map[string]bool{}
	for _, h := range hs {
		out.info = append(out.info, reg.Proto(h))
		switch code {
		case h.Van:
			reden := RedenHerindeling
			var succ *View
			if h.Buiten {
				reden = RedenHerindelingBuiten
			} else {
				succ = views(h.Naar)
			}
			last := event.Month(event.AddDays(h.Op, -1))
			if succ != nil && out.tot.Less(succ.tot) {
				out.tot = succ.tot
			}
			for _, cc := range carriedCases(h, v, succ) {
				out.totals.active(cc.was, -1)
				out.totals.flows([]flow{{maand: last, uit: true, reden: reden}}, +1)
				out.away[cc.id] = true
				if succ != nil {
					out.cases[cc.id] = cc.state.Summary(0)
				} else {
					segs := v.cases[cc.id].segments
					out.cases[cc.id] = segs[len(segs)-1].state.EndedOn(h.Op).Summary(0)
				}
			}
		case h.Naar:
			pred := views(h.Van)
			if pred == nil || h.Buiten {
				continue
			}
			if out.tot.Less(pred.tot) {
				out.tot = pred.tot
			}
			for _, cc := range carriedCases(h, pred, v) {
				out.totals.active(cc.now, +1)
				out.totals.flows(cc.flows, +1)
				out.anom.Orphans -= cc.orphans
				out.anom.SkippedCorrecties -= cc.corrections
				out.cases[cc.id] = cc.state.Summary(0)
			}
		}
	}
	return out
}

// Proto is the composed view as the API serves it; see View.Proto.
func (c *Composed) Proto(bron string) *ledgerv1.CaseloadView {
	w := *c.view
	w.totals, w.tot = c.totals, c.tot
	out := w.Proto(bron)
	out.Herindelingen = c.info
	return out
}

// Anomalies of the composed view: held events a carried case claims are
// not anomalies.
func (c *Composed) Anomalies() Anomalies { return c.anom }

// Cases lists the cases as View.Cases does, with carried cases under the
// successor: in its list with their state, in the ended gemeente's as gone
// over (or ended, when the successor is outside the arrangement).
func (c *Composed) Cases(includeClosed bool) []*ledgerv1.CaseSummary {
	v := c.view
	byID := make(map[string]*ledgerv1.CaseSummary, len(v.cases)+len(c.cases))
	for id, e := range v.cases {
		s, override := c.cases[id]
		if !override {
			s = e.segments[len(e.segments)-1].state.Summary(0)
		}
		if includeClosed || (v.activeOf(e).ok && !c.away[id]) {
			byID[id] = s
		}
	}
	for id, s := range c.cases {
		if _, own := v.cases[id]; own {
			continue
		}
		if includeClosed || (s.GetToestand() != ledgerv1.Toestand_TOESTAND_UITGESTROOMD && s.GetGemeente() == v.gemeente) {
			byID[id] = s
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]*ledgerv1.CaseSummary, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out
}

func (t totals) clone() totals {
	out := totals{actief: t.actief, perToestand: maps.Clone(t.perToestand), perDoelgroep: maps.Clone(t.perDoelgroep), perMaand: make(map[string]*maandTotals, len(t.perMaand))}
	for k, m := range t.perMaand {
		out.perMaand[k] = &maandTotals{in: maps.Clone(m.in), uit: maps.Clone(m.uit)}
	}
	return out
}
