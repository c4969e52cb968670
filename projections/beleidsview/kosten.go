package beleidsview

import (
	"fmt"
	"sort"

	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/beleid"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

type postKey struct {
	stroom   ledgerv1.Budgetstroom
	taakveld string
}

// directSums sums lines that are not shared per post, as a costs.Running
// keeps them, and returns the shared lines apart.
func directSums(lines []costs.Line) (map[costs.Post]costs.Sum, []costs.Line) {
	direct := map[costs.Post]costs.Sum{}
	var shared []costs.Line
	for i := range lines {
		l := &lines[i]
		if l.Kind == costs.Gedeeld {
			shared = append(shared, *l)
			continue
		}
		k := costs.Post{Budgetstroom: l.Budgetstroom, Taakveld: l.Taakveld}
		s := direct[k]
		s.Add(l, 1)
		direct[k] = s
	}
	return direct, shared
}

// kostenposten sets a gemeente's costs of the period, its direct costs per
// budget stream and taakveld and its shared cost lines, against the budget
// of policy version v (the one in force on the peildatum) for year. With
// forecast (a year view) each post gets the costs to year end at the run
// rate from 1 January through peil. The total is the sum of the posts,
// field by field, so that a controller adding up the rows gets the total
// row.
func kostenposten(direct map[costs.Post]costs.Sum, shared []costs.Line, v *beleid.Version, year int, peil region.Day, forecast bool) ([]*ledgerv1.Kostenpost, *ledgerv1.Kostenpost, error) {
	posts := map[postKey]*ledgerv1.Kostenpost{}
	post := func(k postKey) *ledgerv1.Kostenpost {
		p := posts[k]
		if p == nil {
			p = &ledgerv1.Kostenpost{Budgetstroom: k.stroom, Taakveld: k.taakveld}
			posts[k] = p
		}
		return p
	}
	for k, sum := range direct {
		p := post(postKey{k.Budgetstroom, k.Taakveld})
		p.DirectCent += sum.Cents
		p.AfrekeningCent += sum.Afrekening
		p.OngeprijsdeDagen += sum.UnpricedDays
	}
	for _, l := range shared {
		post(postKey{l.Budgetstroom, l.Taakveld}).GedeeldCent += l.Cents
	}
	if v != nil {
		streams := ledgerv1.Budgetstroom(0).Descriptor().Values()
		for i := 0; i < streams.Len(); i++ {
			b := ledgerv1.Budgetstroom(streams.Get(i).Number())
			if b == ledgerv1.Budgetstroom_BUDGETSTROOM_UNSPECIFIED {
				continue
			}
			if cents, ok := v.Budget(int32(year), b); ok {
				post(postKey{b, beleid.Taakveld(b)}).BudgetCent = cents
			}
		}
	}

	keys := make([]postKey, 0, len(posts))
	for k := range posts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].stroom != keys[j].stroom {
			return keys[i].stroom < keys[j].stroom
		}
		return keys[i].taakveld < keys[j].taakveld
	})
	daysInYear := int64(region.DaysInYear(year))
	elapsed := int64(peil-region.YearStart(year)) + 1
	total := &ledgerv1.Kostenpost{}
	out := make([]*ledgerv1.Kostenpost, len(keys))
	for i, k := range keys {
		p := posts[k]
		p.TotaalCent = p.DirectCent + p.AfrekeningCent + p.GedeeldCent
		if forecast {
			f, err := costs.MulDiv(p.TotaalCent, daysInYear, elapsed)
			if err != nil {
				return nil, nil, fmt.Errorf("prognose %s %s: %w", k.stroom, k.taakveld, err)
			}
			p.PrognoseCent = f
		}
		total.DirectCent += p.DirectCent
		total.AfrekeningCent += p.AfrekeningCent
		total.GedeeldCent += p.GedeeldCent
		total.TotaalCent += p.TotaalCent
		total.BudgetCent += p.BudgetCent
		total.PrognoseCent += p.PrognoseCent
		total.OngeprijsdeDagen += p.OngeprijsdeDagen
		out[i] = p
	}
	return out, total, nil
}
