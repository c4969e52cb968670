package beleidsview

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Verreken settles a year's result per budget stream for gemeente g under
// the regional agreement a. results holds the year's result rows of every
// participant (the participants are its keys); weights gives each
// participant's weight for a verdeelmethode. A stream the agreement does
// not name is settled one to one. For a solidary stream the result of all
// participants together is divided with costs.Allocate, the arithmetic of
// shared costs: floors, then the leftover cents to the largest remainders,
// so that the parts add up to the regional result exactly. The posts are
// in stream order, one for every stream that has a result anywhere or is
// named in the agreement.
func Verreken(a *ledgerv1.Resultaatverdeling, g string, results map[string][]*ledgerv1.Resultaatpost, weights func(ledgerv1.Verdeelmethode) map[string]int64) ([]*ledgerv1.Verrekeningspost, error) {
	return VerrekenFor(a, g, results, weights, nil)
}

// VerrekenFor is Verreken within circles (what if): a solidary stream's
// result is that of its members together, divided over them; a gemeente
// outside the stream's circle settles its own result one to one. Nil
// member: everyone takes part in every stream.
func VerrekenFor(a *ledgerv1.Resultaatverdeling, g string, results map[string][]*ledgerv1.Resultaatpost, weights func(ledgerv1.Verdeelmethode) map[string]int64, member costs.Member) ([]*ledgerv1.Verrekeningspost, error) {
	in := func(h string, s ledgerv1.Budgetstroom) bool { return member == nil || member(h, s) }
	rule := map[ledgerv1.Budgetstroom]*ledgerv1.Stroomverdeling{}
	for _, st := range a.GetStromen() {
		rule[st.GetBudgetstroom()] = st
	}
	own := map[ledgerv1.Budgetstroom]map[string]int64{}
	streams := map[ledgerv1.Budgetstroom]bool{}
	for s := range rule {
		streams[s] = true
	}
	for h, rows := range results {
		for _, r := range rows {
			s := r.GetBudgetstroom()
			streams[s] = true
			if own[s] == nil {
				own[s] = map[string]int64{}
			}
			own[s][h] += r.GetResultaatCent()
		}
	}
	keys := make([]ledgerv1.Budgetstroom, 0, len(streams))
	for s := range streams {
		keys = append(keys, s)
	}
	slices.Sort(keys)
	out := make([]*ledgerv1.Verrekeningspost, 0, len(keys))
	for _, s := range keys {
		p := &ledgerv1.Verrekeningspost{Budgetstroom: s, Verrekening: ledgerv1.Verrekening_VERREKENING_EEN_OP_EEN, EigenResultaatCent: own[s][g]}
		p.VerrekendCent = p.EigenResultaatCent
		// Only solidarity needs the region's result: settled one to one,
		// a gemeente is not told what the others' results add up to.
		if st := rule[s]; st.GetVerrekening() == ledgerv1.Verrekening_VERREKENING_SOLIDAIR && in(g, s) {
			for h := range results {
				if in(h, s) {
					p.RegioResultaatCent += own[s][h]
				}
			}
			p.Verrekening, p.Methode = st.GetVerrekening(), st.GetMethode()
			w := map[string]int64{}
			all := weights(st.GetMethode())
			for h := range results {
				if in(h, s) {
					w[h] = all[h]
					p.TotaalGewicht += all[h]
				}
			}
			p.Gewicht = w[g]
			shares, err := costs.Allocate(p.RegioResultaatCent, w)
			switch {
			case errors.Is(err, costs.ErrNoWeight):
				p.Opmerking = "totaal gewicht is 0: een-op-een verrekend"
			case err != nil:
				return nil, fmt.Errorf("settle %s of %d: %w", s, a.GetJaar(), err)
			default:
				p.VerrekendCent = shares[g]
			}
		}
		p.VerschilCent = p.VerrekendCent - p.EigenResultaatCent
		out = append(out, p)
	}
	return out, nil
}

// Settle fills the settlement of gemeente g's year view v when the region
// holds a Resultaatverdeling for the year (SettleAll, for g alone).
func Settle(v *ledgerv1.Beleidsview, rm *region.Model, reg *gemeente.Registry, g string, year int, today region.Day, view func(h string) (*ledgerv1.Beleidsview, error)) error {
	all, err := SettleAll(rm, reg, year, today, func(h string) (*ledgerv1.Beleidsview, error) {
		if h == g {
			return v, nil
		}
		return view(h)
	}, nil)
	if err != nil {
		return err
	}
	v.Verrekening = all[g]
	return nil
}

// SettleAll is the settlement of every participant of the year's first day
// when the region holds a Resultaatverdeling for the year (nil without
// one): each one's year view is asked of view (the same path, live or
// replayed, as the view it goes in), and the weights are those of shared
// costs over the year up to today, counted once for all: by weigh (a
// Keeper's Weights) when given, else over every case of the model. A
// server keeps the answer until the model moves: it is the same for every
// gemeente.
func SettleAll(rm *region.Model, reg *gemeente.Registry, year int, today region.Day, view func(h string) (*ledgerv1.Beleidsview, error), weigh func(m *region.Model, method ledgerv1.Verdeelmethode, year int, from, to region.Day) map[string]int64) (map[string][]*ledgerv1.Verrekeningspost, error) {
	if weigh == nil {
		weigh = func(m *region.Model, method ledgerv1.Verdeelmethode, year int, from, to region.Day) map[string]int64 {
			return costs.Weights(m, reg, method, year, from, to)
		}
	}
	a := rm.Settlement(int32(year))
	if a == nil || reg == nil {
		return nil, nil
	}
	from := region.YearStart(year)
	to := min(region.YearStart(year+1), today+1)
	results := map[string][]*ledgerv1.Resultaatpost{}
	for _, p := range reg.Participating(from.Date()) {
		pv, err := view(p.Code)
		if err != nil {
			return nil, fmt.Errorf("settle %d: view of %s: %w", year, p.Code, err)
		}
		results[p.Code] = pv.GetResultaat()
	}
	return SettleResults(a, results, func(m ledgerv1.Verdeelmethode) map[string]int64 { return weigh(rm, m, year, from, to) }, nil)
}

// SettleResults settles every participant of results (their year's rows
// per stream) under agreement a within the circles of member (nil: all),
// asking weigh for each method's weights once for all of them.
func SettleResults(a *ledgerv1.Resultaatverdeling, results map[string][]*ledgerv1.Resultaatpost, weigh func(ledgerv1.Verdeelmethode) map[string]int64, member costs.Member) (map[string][]*ledgerv1.Verrekeningspost, error) {
	weights := map[ledgerv1.Verdeelmethode]map[string]int64{}
	once := func(m ledgerv1.Verdeelmethode) map[string]int64 {
		w, ok := weights[m]
		if !ok {
			w = weigh(m)
			weights[m] = w
		}
		return w
	}
	out := make(map[string][]*ledgerv1.Verrekeningspost, len(results))
	for g := range results {
		posts, err := VerrekenFor(a, g, results, once, member)
		if err != nil {
			return nil, err
		}
		out[g] = posts
	}
	return out, nil
}
