package beleidsview

import (
	"errors"
	"fmt"
	"time"

	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// ErrPeriode: the year or month asked for is not a period a view can show
// (month outside 1..12, or a period that starts after today).
var ErrPeriode = errors.New("ongeldige periode")

// period is one column of figures: [start, peil], both inclusive.
type period struct {
	label       string // "2026" or "2026-03"
	start, peil region.Day
}

// periods returns the periods of a view: the whole period first, then, for
// a year view, each month up to the peildatum.
func periods(year, month int, today region.Day) ([]period, error) {
	if year < 1 || year > 9999 {
		return nil, fmt.Errorf("%w: jaar %d", ErrPeriode, year)
	}
	if month < 0 || month > 12 {
		return nil, fmt.Errorf("%w: maand %d; geef 1 tot en met 12, of 0 voor het hele jaar", ErrPeriode, month)
	}
	start, end := region.YearStart(year), region.YearStart(year+1)-1
	label := fmt.Sprintf("%04d", year)
	if month > 0 {
		start, end = region.MonthStart(year, time.Month(month)), region.MonthStart(year, time.Month(month+1))-1
		label = fmt.Sprintf("%04d-%02d", year, month)
	}
	if today < start {
		return nil, fmt.Errorf("%w: %s begint na vandaag (%s)", ErrPeriode, label, today)
	}
	ps := []period{{label: label, start: start, peil: min(end, today)}}
	if month > 0 {
		return ps, nil
	}
	for m := time.January; m <= time.December; m++ {
		ms := region.MonthStart(year, m)
		if ms > ps[0].peil {
			break
		}
		me := region.MonthStart(year, m+1) - 1
		ps = append(ps, period{label: fmt.Sprintf("%04d-%02d", year, int(m)), start: ms, peil: min(me, ps[0].peil)})
	}
	return ps, nil
}

// Compute returns gemeente g's beleidsview of a year (month 0) or of one
// month, as of today: figures of its own residents and its own cost lines
// only. centrum is the centrumgemeente that keeps shared costs that can not
// be divided; empty means the registry's. Bron is left for the caller
// ("live" or "replay"); bijgewerkt_tot is the model's position.
//
// The cost lines are priced for every gemeente at once (shared costs need
// everyone's weights); to show every gemeente, ComputeAll does that once.
// Reading the model fills its per-case caches, so m must not be used
// concurrently (region.Live.Read serialises the live model's readers).
func Compute(m *region.Model, reg *gemeente.Registry, centrum, g string, year, month int, today region.Day) (*ledgerv1.Beleidsview, error) {
	if reg == nil {
		return nil, errors.New("beleidsview: no gemeente registry")
	}
	gm, ok := reg.Lookup(g)
	if !ok {
		return nil, fmt.Errorf("beleidsview %q: %w", g, gemeente.ErrUnknownGemeente)
	}
	vs, err := compute(m, reg, centrum, []gemeente.Gemeente{gm}, year, month, today)
	if err != nil {
		return nil, err
	}
	return vs[0], nil
}

// ComputeAll returns the beleidsview of every gemeente that participates on
// some day of the period, by code: the same views as Compute per gemeente,
// from one pass over the cases and one cost book.
func ComputeAll(m *region.Model, reg *gemeente.Registry, centrum string, year, month int, today region.Day) ([]*ledgerv1.Beleidsview, error) {
	if reg == nil {
		return nil, errors.New("beleidsview: no gemeente registry")
	}
	ps, err := periods(year, month, today)
	if err != nil {
		return nil, err
	}
	var gs []gemeente.Gemeente
	for _, g := range reg.All() {
		from, to := region.Day(0), region.Open
		if g.GeldigVan != nil {
			from = region.DayOf(g.GeldigVan)
		}
		if g.GeldigTot != nil {
			to = region.DayOf(g.GeldigTot)
		}
		if a, b := region.Overlap(from, to, ps[0].start, ps[0].peil+1); a < b {
			gs = append(gs, g)
		}
	}
	return compute(m, reg, centrum, gs, year, month, today)
}

func compute(m *region.Model, reg *gemeente.Registry, centrum string, gs []gemeente.Gemeente, year, month int, today region.Day) ([]*ledgerv1.Beleidsview, error) {
	ps, err := periods(year, month, today)
	if err != nil {
		return nil, err
	}
	if centrum == "" {
		centrum = reg.Centrum()
	}
	e := newEngine(ps, gs, m.Drager)
	e.perClient = true
	for _, c := range m.Cases() {
		e.addCase(c)
	}
	total := ps[0]
	book, err := costs.NewBook(m, reg, centrum, total.start, total.peil+1)
	if err != nil {
		return nil, fmt.Errorf("beleidsview %s: %w", total.label, err)
	}
	cols := make([]int, len(ps))
	for i := range cols {
		cols[i] = i
	}
	out := make([]*ledgerv1.Beleidsview, 0, len(gs))
	for _, g := range gs {
		lines := book.Lines(g.Code)
		direct, shared := directSums(lines)
		v, err := e.view(m, reg, g, cols, direct, shared, subsidyByMonth(lines), year, month)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// view builds gemeente g's view from the engine's columns cols: the period
// first, then its months. direct and shared are its costs of the period.
// lks is g's loonkostensubsidie per month ("YYYY-MM").
func (e *engine) view(m *region.Model, reg *gemeente.Registry, g gemeente.Gemeente, cols []int, direct map[costs.Post]costs.Sum, shared []costs.Line, lks map[string]int64, year, month int) (*ledgerv1.Beleidsview, error) {
	acc := e.gs[g.Code]
	pol := m.Policy(g.Code)
	total := e.ps[cols[0]]
	v := &ledgerv1.Beleidsview{
		Gemeente:      g.Code,
		Naam:          g.Naam,
		Periode:       total.label,
		Peildatum:     total.peil.Date(),
		Totaal:        e.cijfers(acc, cols[0], pol),
		BijgewerktTot: m.Position().String(),
	}
	// Herindelingen up to the day after the peildatum: the ended
	// gemeente's uitstroom is on its last day.
	for _, h := range reg.Betrokken(g.Code, (total.peil + 1).Date()) {
		v.Herindelingen = append(v.Herindelingen, reg.Proto(h))
	}
	for _, i := range cols[1:] {
		v.PerMaand = append(v.PerMaand, e.cijfers(acc, i, pol))
	}
	// The subsidy is a flow of cost lines, which come by month: a month's
	// is its lines', the year's the sum of its months'.
	if month > 0 {
		v.Totaal.LksCent = lks[total.label]
	}
	for _, mv := range v.PerMaand {
		mv.LksCent = lks[mv.GetPeriode()]
		v.Totaal.LksCent += mv.LksCent
	}
	var err error
	v.Kosten, v.KostenTotaal, err = kostenposten(direct, shared, pol.InForce(total.peil.Date()), year, total.peil, month == 0)
	if err != nil {
		return nil, fmt.Errorf("beleidsview %s %s: %w", g.Code, total.label, err)
	}
	if month == 0 {
		v.Resultaat, v.ResultaatTotaal = resultaat(m.Income(g.Code, int32(year)), v.Kosten)
	}
	v.Doelen = doelen(v.Totaal, m.Targets(g.Code, int32(year)))
	return v, nil
}

// subsidyByMonth sums LKS cost lines per month.
func subsidyByMonth(lines []costs.Line) map[string]int64 {
	out := map[string]int64{}
	for i := range lines {
		if lines[i].Kind == costs.LKS {
			out[lines[i].Month] += lines[i].Cents
		}
	}
	return out
}

// DropClients removes each resident's loonwaarde development from a view
// computed with them: what a view asked without per_client shows.
func DropClients(v *ledgerv1.Beleidsview) {
	for _, p := range append(v.GetPerMaand(), v.GetTotaal()) {
		if lw := p.GetLoonwaarde(); lw != nil {
			lw.PerClient = nil
		}
	}
}
