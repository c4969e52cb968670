package beleidsview

import (
	"fmt"
	"sync"

	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Keeper keeps every gemeente's beleidsview figures and cost lines up to
// date as the live regional model applies events (it is a
// region.Watcher), so that a view is read, not recomputed from every case.
//
// It is the same computation as Compute, kept per case: each figure is a
// sum over cases, so when a case changes the Keeper takes away what the
// case counted before and adds what it counts now, with the engine and the
// cost builder that Compute uses. A late event or a correction therefore
// changes exactly the periods the case's figures change in.
//
// Per year it keeps a frame: the year view's columns (the year to the
// peildatum and each month), for every gemeente, and the year's direct
// costs. A frame is made on the first read of its year and kept while its
// peildatum holds: a frame of the current year is made again when today
// moves, and every frame when a policy version is recorded (it reprices).
// Shared costs are divided on read, from the few bookings of the period and
// the caseload- and placement-days the Keeper counts for every case.
//
// A Keeper is used under the live model's lock (region.Live.Read and the
// watcher calls): it is not safe for concurrent use on its own.
type Keeper struct {
	reg     *gemeente.Registry
	centrum string
	days    *costs.DayCounts // nil until the first frame
	frames  map[int]*frame
	// shared counts the verdeelsleutels and bookings applied: they change
	// shared cost lines, which are not in a frame's versions.
	shared uint64
	// Made counts the frames made, for tests and the log: a steady Keeper
	// makes none.
	Made int
}

type frame struct {
	year  int
	peil  region.Day
	e     *engine
	costs *costs.Running
	views map[viewKey]*cachedView
	lines map[string]*cachedLines
}

type viewKey struct {
	g         string
	month     int
	perClient bool
}

// stamp says which figures a cached answer was made from.
type stamp struct {
	fig, cost, shared uint64
}

type cachedView struct {
	at stamp
	v  *ledgerv1.Beleidsview
}

type cachedLines struct {
	at    stamp
	lines []costs.Line
}

// NewKeeper returns a Keeper; centrum is the centrumgemeente that keeps
// shared costs that cannot be divided, empty for the registry's.
func NewKeeper(reg *gemeente.Registry, centrum string) *Keeper {
	if centrum == "" && reg != nil {
		centrum = reg.Centrum()
	}
	return &Keeper{reg: reg, centrum: centrum, frames: map[int]*frame{}}
}

// Weights are the weights of shared costs by method over [from, to), from
// the days the Keeper counts as cases change when it has them: what a
// settlement divides a year's result by, without counting every case.
func (k *Keeper) Weights(m *region.Model, method ledgerv1.Verdeelmethode, year int, from, to region.Day) map[string]int64 {
	if k.days == nil {
		return costs.Weights(m, k.reg, method, year, from, to)
	}
	return costs.CountedWeights(k.reg, method, year, from, to, k.days)
}

// Changing takes away what case c counted, before it changes.
func (k *Keeper) Changing(m *region.Model, c *region.Case) {
	if k.days == nil {
		return
	}
	k.days.Add(c, -1)
	for y, f := range k.frames {
		if err := f.apply(c, -1); err != nil {
			delete(k.frames, y) // made again, and the error reported, on read
		}
	}
}

// Changed adds what case c counts now, or notes a policy, verdeelsleutel or
// booking.
func (k *Keeper) Changed(m *region.Model, ev *ledgerv1.Event, c *region.Case) {
	if c == nil {
		if ev.GetBeleid() != nil {
			// A policy version reprices from its geldig_vanaf, in any year.
			clear(k.frames)
		}
		k.shared++
		return
	}
	if k.days == nil {
		return
	}
	k.days.Add(c, 1)
	for y, f := range k.frames {
		if err := f.apply(c, 1); err != nil {
			delete(k.frames, y)
		}
	}
}

// apply adds (sign 1) or takes away (-1) what case c counts in the frame:
// its figures and its costs. The two halves are apart and only read the
// derived case, so a first frame runs them side by side (Keeper.frame).
func (f *frame) apply(c *region.Case, sign int64) error {
	f.addFigures(c, sign)
	return f.addCosts(c, sign)
}

// counts reports whether c can count in the frame's year: a case whose
// days and events lie wholly outside it counts nothing in it.
func (f *frame) counts(c *region.Case) bool {
	return touches(c, f.e.ps[0].start, f.e.ps[0].peil)
}

// addFigures is apply's half for the figures (f.e).
func (f *frame) addFigures(c *region.Case, sign int64) {
	if !f.counts(c) {
		return
	}
	f.e.sign = sign
	f.e.addCase(c)
	f.e.sign = 1
}

// addCosts is apply's half for the costs (f.costs).
func (f *frame) addCosts(c *region.Case, sign int64) error {
	switch {
	case !f.counts(c):
		return nil
	case sign > 0:
		return f.costs.Add(c)
	}
	return f.costs.Remove(c)
}

// touches reports whether anything of the case can count in [from, peil]:
// a spell reaching into it, or an event (hours, a verhuizing, an uitstroom)
// dated in it. Spells cover the case from its first event on, so the
// first spell's start and the last spell's end bound every event too.
func touches(c *region.Case, from, peil region.Day) bool {
	sp := c.Spells()
	if len(sp) == 0 {
		return false
	}
	if sp[0].From > peil {
		return false
	}
	last := sp[len(sp)-1].To
	if last != region.Open && last < from {
		// A placement ended by the case's last event counts its end on
		// that day: last is that day, which is before from.
		return false
	}
	return true
}

// frame returns the year's frame for today, making it when there is none
// or when its peildatum moved.
func (k *Keeper) frame(m *region.Model, year int, today region.Day) (*frame, error) {
	ps, err := periods(year, 0, today)
	if err != nil {
		return nil, err
	}
	if f := k.frames[year]; f != nil && f.peil == ps[0].peil {
		return f, nil
	}
	m.DeriveAll()
	if k.days == nil {
		k.days = costs.NewDayCounts()
		for _, c := range m.Cases() {
			k.days.Add(c, 1)
		}
	}
	if k.centrum == "" {
		return nil, fmt.Errorf("beleidsview %d: no gemeente registry", year)
	}
	f := &frame{
		year: year, peil: ps[0].peil,
		e:     newEngine(ps, k.reg.All(), m.Drager),
		costs: costs.NewRunning(m, k.reg, k.centrum, ps[0].start, ps[0].peil+1),
		views: map[viewKey]*cachedView{},
		lines: map[string]*cachedLines{},
	}
	// A first frame takes every case once (at a million events most of a
	// start's time after the snapshots): apply's two halves side by side.
	cases := m.Cases()
	var costErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, c := range cases {
			if costErr = f.addCosts(c, 1); costErr != nil {
				return
			}
		}
	})
	for _, c := range cases {
		f.addFigures(c, 1)
	}
	wg.Wait()
	if costErr != nil {
		return nil, fmt.Errorf("beleidsview %d: %w", year, costErr)
	}
	k.frames[year] = f
	k.Made++
	return f, nil
}

func (k *Keeper) stamp(f *frame, g string) stamp {
	var fig uint64
	if a := f.e.gs[g]; a != nil {
		fig = a.ver
	}
	return stamp{fig: fig, cost: f.costs.Version(g), shared: k.shared}
}

// View returns gemeente g's beleidsview of a year (month 0) or a month as
// of today: the same view as Compute on the same model, with each
// resident's loonwaarde development only when perClient. The view's top
// message is the caller's; the figures under it are shared, read them only.
func (k *Keeper) View(m *region.Model, g string, year, month int, today region.Day, perClient bool) (*ledgerv1.Beleidsview, error) {
	gm, ok := k.reg.Lookup(g)
	if !ok {
		return nil, fmt.Errorf("beleidsview %q: %w", g, gemeente.ErrUnknownGemeente)
	}
	if _, err := periods(year, month, today); err != nil {
		return nil, err
	}
	f, err := k.frame(m, year, today)
	if err != nil {
		return nil, err
	}
	key, at := viewKey{g, month, perClient}, k.stamp(f, g)
	if cv := f.views[key]; cv != nil && cv.at == at {
		return k.answer(m, cv.v), nil
	}
	cols := []int{0}
	if month == 0 {
		for i := 1; i < len(f.e.ps); i++ {
			cols = append(cols, i)
		}
	} else {
		cols[0] = month // the year's columns are the year, then its months
	}
	p := f.e.ps[cols[0]]
	first, last := fmt.Sprintf("%04d-01", year), fmt.Sprintf("%04d-12", year)
	if month > 0 {
		first, last = p.label, p.label
	}
	direct := f.costs.Direct(g, first, last)
	shared, err := f.costs.Shared(g, p.start, p.peil+1, k.days)
	if err != nil {
		return nil, fmt.Errorf("beleidsview %s %s: %w", g, p.label, err)
	}
	f.e.perClient = perClient
	v, err := f.e.view(m, k.reg, gm, cols, direct, shared, f.costs.Subsidy(g, first, last), year, month)
	if err != nil {
		return nil, err
	}
	f.views[key] = &cachedView{at: at, v: v}
	return k.answer(m, v), nil
}

// answer is a cached view, stamped with the model's position: a new top
// message that shares the cached figures, which no one changes (a caller
// sets only top-level fields such as Bron), so that a read does not copy
// every resident's loonwaarde development.
func (k *Keeper) answer(m *region.Model, v *ledgerv1.Beleidsview) *ledgerv1.Beleidsview {
	return &ledgerv1.Beleidsview{
		Gemeente:      v.Gemeente,
		Naam:          v.Naam,
		Periode:       v.Periode,
		Peildatum:     v.Peildatum,
		Totaal:        v.Totaal,
		PerMaand:      v.PerMaand,
		Kosten:        v.Kosten,
		KostenTotaal:  v.KostenTotaal,
		Herindelingen: v.Herindelingen,
		Bron:          v.Bron,
		BijgewerktTot: m.Position().String(),
		// Every field of the view: TestKeeperEqualsCompute fails on one
		// left out.
		Resultaat:       v.Resultaat,
		ResultaatTotaal: v.ResultaatTotaal,
		Doelen:          v.Doelen,
	}
}

// Lines returns gemeente g's cost lines of a year up to today, as
// costs.Lines gives them for [1 January, today+1) on the same model. The
// slice is shared: do not modify it.
func (k *Keeper) Lines(m *region.Model, g string, year int, today region.Day) ([]costs.Line, error) {
	if _, ok := k.reg.Lookup(g); !ok {
		return nil, fmt.Errorf("kosten %q: %w", g, gemeente.ErrUnknownGemeente)
	}
	if region.YearStart(year) > today {
		return nil, nil // the year has not begun
	}
	f, err := k.frame(m, year, today)
	if err != nil {
		return nil, err
	}
	at := k.stamp(f, g)
	if cl := f.lines[g]; cl != nil && cl.at == at {
		return cl.lines, nil
	}
	lines, err := f.costs.Lines(g, k.days)
	if err != nil {
		return nil, err
	}
	f.lines[g] = &cachedLines{at: at, lines: lines}
	return lines, nil
}
