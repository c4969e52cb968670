package beleidsview

import (
	"slices"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// resultaat is a year's result per budget stream, the table a raad gets in
// its jaarrekening: each stream's income less its correction, against the
// stream's costs in the posts (direct, shared and settled, over all its
// taakvelden), and the result the costs to year end would give. A stream
// appears when it has income or costs. The total is the sum of the rows,
// field by field.
func resultaat(income map[ledgerv1.Budgetstroom]*ledgerv1.Inkomsten, posts []*ledgerv1.Kostenpost) ([]*ledgerv1.Resultaatpost, *ledgerv1.Resultaatpost) {
	rows := map[ledgerv1.Budgetstroom]*ledgerv1.Resultaatpost{}
	row := func(s ledgerv1.Budgetstroom) *ledgerv1.Resultaatpost {
		r := rows[s]
		if r == nil {
			r = &ledgerv1.Resultaatpost{Budgetstroom: s}
			rows[s] = r
		}
		return r
	}
	for s, in := range income {
		r := row(s)
		r.InkomstenCent = in.GetCent() - in.GetCorrectieCent()
		r.CorrectieCent = in.GetCorrectieCent()
	}
	for _, p := range posts {
		if p.GetTotaalCent() == 0 && p.GetPrognoseCent() == 0 {
			continue // a budget without costs: nothing to set against income
		}
		r := row(p.GetBudgetstroom())
		r.DirectCent += p.GetDirectCent()
		r.GedeeldCent += p.GetGedeeldCent()
		r.AfrekeningCent += p.GetAfrekeningCent()
		// A year that is over has no forecast of its own: its costs are
		// the costs to year end.
		r.PrognoseKostenCent += max(p.GetPrognoseCent(), p.GetTotaalCent())
	}
	if len(rows) == 0 {
		return nil, nil
	}
	keys := make([]ledgerv1.Budgetstroom, 0, len(rows))
	for s := range rows {
		keys = append(keys, s)
	}
	slices.Sort(keys)
	out := make([]*ledgerv1.Resultaatpost, len(keys))
	total := &ledgerv1.Resultaatpost{}
	for i, s := range keys {
		r := rows[s]
		r.ResultaatCent = r.InkomstenCent - r.DirectCent - r.GedeeldCent - r.AfrekeningCent
		r.PrognoseResultaatCent = r.InkomstenCent - r.PrognoseKostenCent
		total.InkomstenCent += r.InkomstenCent
		total.CorrectieCent += r.CorrectieCent
		total.DirectCent += r.DirectCent
		total.GedeeldCent += r.GedeeldCent
		total.AfrekeningCent += r.AfrekeningCent
		total.ResultaatCent += r.ResultaatCent
		total.PrognoseKostenCent += r.PrognoseKostenCent
		total.PrognoseResultaatCent += r.PrognoseResultaatCent
		out[i] = r
	}
	return out, total
}
