package beleidsview

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Keys of the counters besides enum numbers: a verhuizing as uitstroom
// reason, and the vangnet placements as a soort.
const (
	keyVerhuizing        int32 = -1
	keyHerindeling       int32 = -2
	keyHerindelingBuiten int32 = -3
	keyVangnet           int32 = -1
)

// engine gathers the figures of some gemeenten over some periods in one
// pass over the cases. Every count goes to the gemeente responsible at the
// moment that decides it, and only when that gemeente is one asked for: a
// gemeente's figures are built from its own stretches of its residents'
// cases, never from another's.
type engine struct {
	// drager maps a gemeente to the one carrying its cases on a day, after
	// herindelingen (region.Model.Drager).
	drager func(g string, d region.Day) string
	ps     []period
	gs     map[string]*gacc
	// The current case's resident number in the last gemeente asked: a
	// case has one resident, and mostly one gemeente.
	lastAcc *gacc
	lastNum int32
	// sign is +1 while a case is added, −1 while what it added is taken
	// away again (Running.Remove): every count is a sum over cases.
	sign int64
	// The current case and its measurements so far, which tag each
	// measurement so that it can be taken away again and ordered as a walk
	// over the cases by id would have met it.
	cur string
	seq int32
	// perClient puts each resident's loonwaarde development in the
	// figures (Loonwaarde.per_client); without it only the means.
	perClient bool
}

// residentOf returns the current case's resident's number in a; the case
// must not change between calls without addCase resetting lastAcc.
func (e *engine) residentOf(a *gacc, id string) int32 {
	if a != e.lastAcc {
		e.lastAcc, e.lastNum = a, a.resident(id)
	}
	return e.lastNum
}

// gacc is one gemeente's accumulator.
type gacc struct {
	fig []figures // by period
	// Residents G saw, numbered in the order met: the figures refer to
	// them by number, which is cheaper to keep and sort than the id.
	number map[string]int32
	names  []string
	// Loonwaarde measurements G saw, by resident number. cijfers orders
	// them by day; of two on one day the later in a walk over the cases by
	// id, each in effective order, is the latest.
	meas [][]measurement
	// ver counts the changes to G's figures, for a reader's cache.
	ver uint64
}

// resident returns the number of a resident id, numbering it when new.
func (a *gacc) resident(id string) int32 {
	n, ok := a.number[id]
	if !ok {
		n = int32(len(a.names))
		a.number[id] = n
		a.names = append(a.names, id)
		a.meas = append(a.meas, nil)
	}
	return n
}

// minutenActief is four hours a week: the activation figure counts
// residents placed for at least that long.
const minutenActief = 4 * 60

// figures are one gemeente's counts in one period.
type figures struct {
	caseload      int64
	perTrede      map[int32]int64
	perDoelgroep  map[int32]int64
	inAanmelding  int64
	inVerhuizing  int64
	inHerindeling int64
	inTerugkeer   int64
	uitstroom     map[int32]int64 // by UitstroomReden; keyVerhuizing for a verhuizing away
	plaatsingen   map[int32]*ledgerv1.PlaatsingCijfers
	lwSum, lwN    int64
	lks           int64
	// actief4: in a placement of at least four hours a week; first,
	// toFirst: first placements started and the days from aanmelding.
	actief4, first, toFirst int64
	// wsw, wswMin: Wsw cases in the caseload, and the minutes a week of
	// their placements (a standaardeenheid is 36 hours).
	wsw, wswMin int64
	// omhoog, omlaag: moves up and down the ladder (trede) in the period.
	omhoog, omlaag int64
	// Active placements at a regular employer and inside, and the
	// employers' KvK numbers with how many placements each.
	bijWerkgever, binnen int64
	employers            map[string]int64
	// Residents (numbers) in the caseload on the peildatum, with the
	// number of their open cases, for the loonwaarde development.
	residents map[int32]int32
}

type measurement struct {
	day   region.Day
	value uint32
	cas   string // case id
	seq   int32  // place among the case's measurements
}

// compare orders measurements by day, then as the walk over the cases met
// them.
func (x measurement) compare(y measurement) int {
	if c := cmp.Compare(x.day, y.day); c != 0 {
		return c
	}
	if c := strings.Compare(x.cas, y.cas); c != 0 {
		return c
	}
	return cmp.Compare(x.seq, y.seq)
}

func newEngine(ps []period, gs []gemeente.Gemeente, drager func(string, region.Day) string) *engine {
	e := &engine{ps: ps, gs: make(map[string]*gacc, len(gs)), drager: drager, sign: 1}
	for _, g := range gs {
		a := &gacc{fig: make([]figures, len(ps)), number: map[string]int32{}}
		for i := range a.fig {
			a.fig[i] = figures{
				perTrede:     map[int32]int64{},
				perDoelgroep: map[int32]int64{},
				uitstroom:    map[int32]int64{},
				plaatsingen:  map[int32]*ledgerv1.PlaatsingCijfers{},
				residents:    map[int32]int32{},
				employers:    map[string]int64{},
			}
		}
		e.gs[g.Code] = a
	}
	return e
}

// spellAt returns the spell covering day d, nil before the case existed.
func spellAt(spells []region.Spell, d region.Day) *region.Spell {
	i := sort.Search(len(spells), func(i int) bool { return spells[i].To > d })
	if i < len(spells) && spells[i].From <= d {
		return &spells[i]
	}
	return nil
}

func gemeenteAt(spells []region.Spell, d region.Day) string {
	if sp := spellAt(spells, d); sp != nil {
		return sp.Gemeente
	}
	return ""
}

// soortKey is the counter key of a placement's soort.
func soortKey(p *region.Placement) int32 {
	if p.Vangnet {
		return keyVangnet
	}
	return int32(p.Type)
}

func (f *figures) plaatsing(key int32) *ledgerv1.PlaatsingCijfers {
	pc := f.plaatsingen[key]
	if pc == nil {
		pc = &ledgerv1.PlaatsingCijfers{}
		f.plaatsingen[key] = pc
	}
	return pc
}

// addCase adds one case's contributions to the gemeenten responsible.
func (e *engine) addCase(c *region.Case) {
	spells := c.Spells()
	if len(spells) == 0 {
		return
	}
	e.lastAcc, e.cur, e.seq = nil, c.ID, 0
	e.stock(spells)
	e.flows(c)
	e.transfers(c)
	e.placements(c, spells)
}

// stock counts what the case is on each peildatum: caseload, placement
// active, LKS, loonwaarde.
func (e *engine) stock(spells []region.Spell) {
	for i, p := range e.ps {
		sp := spellAt(spells, p.peil)
		if sp == nil {
			continue
		}
		a := e.gs[sp.Gemeente]
		if a == nil {
			continue
		}
		f, n := &a.fig[i], e.sign
		e.touch(sp.Gemeente)
		if sp.State.Open() {
			f.caseload += n
			f.perTrede[int32(sp.State.Trede)] += n
			f.perDoelgroep[int32(sp.State.Doelgroep)] += n
			if lw := sp.State.Loonwaarde; lw > 0 {
				f.lwSum += n * int64(lw)
				f.lwN += n
			}
			if sp.State.Doelgroep == ledgerv1.Doelgroep_DOELGROEP_WSW {
				f.wsw += n
				// Wsw employment only (in the ontwikkelbedrijf or detached),
				// at most one SE a person.
				if pl := sp.Placement; pl != nil && !pl.Vangnet && (pl.Type == ledgerv1.PlaatsingType_PLAATSING_TYPE_WSW_DIENSTVERBAND || pl.Type == ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING) {
					f.wswMin += n * min(int64(pl.MinutenPerWeek), minutenPerSE)
				}
			}
			r := e.residentOf(a, sp.State.ResidentID)
			if f.residents[r] += int32(n); f.residents[r] == 0 {
				delete(f.residents, r)
			}
		}
		if pl := sp.Placement; pl != nil {
			f.plaatsing(soortKey(pl)).Actief += n
			if pl.AtEmployer() {
				f.bijWerkgever += n
				if pl.KvK != "" {
					if f.employers[pl.KvK] += n; f.employers[pl.KvK] == 0 {
						delete(f.employers, pl.KvK)
					}
				}
			} else {
				f.binnen += n
			}
			if sp.State.Open() && pl.MinutenPerWeek >= minutenActief {
				f.actief4 += n
			}
			if !pl.Vangnet && pl.Type == ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN {
				f.lks += n
			}
		}
	}
}

// flows walks the effective history with the case state, counting instroom
// and uitstroom by the one definition (caseflow.Stromen) at the gemeente
// responsible just before and after each event, and gathering the
// loonwaarde measurements each gemeente saw.
func (e *engine) flows(c *region.Case) {
	var s caseflow.State
	for _, ev := range c.Effective() {
		before := s
		s = caseflow.Evolve(s, ev)
		d := region.DayOf(ev.GetEnvelope().GetOccurredOn())
		// After a herindeling the successor carries the case: what happens
		// to it from that day on is the successor's.
		before.Gemeente, s.Gemeente = e.drager(before.Gemeente, d), e.drager(s.Gemeente, d)
		st, n := caseflow.Stromen(before, s, ev)
		for _, x := range st[:n] {
			a := e.gs[x.Gemeente]
			if a == nil {
				continue
			}
			e.touch(x.Gemeente)
			for i, per := range e.ps {
				if per.start > d || d > per.peil {
					continue
				}
				f := &a.fig[i]
				switch {
				case x.Soort == caseflow.StroomAanmelding:
					f.inAanmelding += e.sign
				case x.Soort == caseflow.StroomVerhuizing && x.Uit:
					f.uitstroom[keyVerhuizing] += e.sign
				case x.Soort == caseflow.StroomVerhuizing:
					f.inVerhuizing += e.sign
				case x.Soort == caseflow.StroomTerugkeer:
					f.inTerugkeer += e.sign
				case x.Soort == caseflow.StroomUitstroom:
					f.uitstroom[int32(x.Reden)] += e.sign
				}
			}
		}
		switch p := ev.GetPayload().(type) {
		case *ledgerv1.Event_Verhuizing:
			// What G receives at a verhuizing to it is the snapshot: its
			// loonwaarde is G's first measurement of the resident.
			if lw := p.Verhuizing.GetSnapshot().GetLoonwaardeProcent(); lw > 0 && before.Gemeente != p.Verhuizing.GetNaarGemeente() {
				if to := e.gs[p.Verhuizing.GetNaarGemeente()]; to != nil {
					e.measure(to, s.ResidentID, d, lw)
				}
			}
		case *ledgerv1.Event_Intake:
			if lw := p.Intake.GetLoonwaardeProcent(); lw > 0 {
				if a := e.gs[s.Gemeente]; a != nil {
					e.measure(a, s.ResidentID, d, lw)
				}
			}
			// A later intake that sets another trede moves the resident on
			// the ladder (the treden are in ladder order).
			if a := e.gs[s.Gemeente]; a != nil && before.Intake && before.Trede != 0 && s.Trede != before.Trede {
				e.touch(s.Gemeente)
				for i, per := range e.ps {
					if per.start <= d && d <= per.peil {
						if s.Trede > before.Trede {
							a.fig[i].omhoog += e.sign
						} else {
							a.fig[i].omlaag += e.sign
						}
					}
				}
			}
		case *ledgerv1.Event_Plaatsing:
			if lw := p.Plaatsing.GetLoonwaardeProcent(); lw > 0 {
				if a := e.gs[s.Gemeente]; a != nil {
					e.measure(a, s.ResidentID, d, lw)
				}
			}
		}
	}
}

// transfers counts the herindelingen the case went through: uitstroom at
// the ended gemeente on its last day, instroom at the successor on the
// first, or an uitstroom that says the case ended with its gemeente.
func (e *engine) transfers(c *region.Case) {
	for _, t := range c.Transfers() {
		last := t.Day - 1
		if a := e.gs[t.Van]; a != nil {
			key := keyHerindeling
			if t.Buiten {
				key = keyHerindelingBuiten
			}
			e.touch(t.Van)
			for i, per := range e.ps {
				if per.start <= last && last <= per.peil {
					a.fig[i].uitstroom[key] += e.sign
				}
			}
		}
		if a := e.gs[t.Naar]; a != nil && !t.Buiten {
			e.touch(t.Naar)
			for i, per := range e.ps {
				if per.start <= t.Day && t.Day <= per.peil {
					a.fig[i].inHerindeling += e.sign
				}
			}
		}
	}
}

func (e *engine) measure(a *gacc, resident string, d region.Day, lw uint32) {
	n := e.residentOf(a, resident)
	m := measurement{day: d, value: lw, cas: e.cur, seq: e.seq}
	e.seq++
	a.ver++
	if e.sign > 0 {
		a.meas[n] = append(a.meas[n], m)
		return
	}
	a.meas[n] = slices.DeleteFunc(a.meas[n], func(x measurement) bool { return x.cas == m.cas && x.seq == m.seq })
}

// touch notes that g's figures change.
func (e *engine) touch(g string) {
	if a := e.gs[g]; a != nil {
		a.ver++
	}
}

// placements counts starts and ends: a start for the gemeente responsible
// on the first day, an end for the one responsible on the last active day,
// dated by the event that ended it.
func (e *engine) placements(c *region.Case, spells []region.Spell) {
	// The case's first placement, counted where and when it started, with
	// the days since the case began (its aanmelding).
	if pls := c.Placements(); len(pls) > 0 {
		pl := pls[0]
		if g := gemeenteAt(spells, pl.Start); e.gs[g] != nil {
			for i, per := range e.ps {
				if per.start <= pl.Start && pl.Start <= per.peil {
					f := &e.gs[g].fig[i]
					f.first += e.sign
					f.toFirst += e.sign * int64(pl.Start-spells[0].From)
				}
			}
		}
	}
	for _, pl := range c.Placements() {
		key := soortKey(pl)
		if g := gemeenteAt(spells, pl.Start); e.gs[g] != nil {
			e.touch(g)
			for i, per := range e.ps {
				if per.start <= pl.Start && pl.Start <= per.peil {
					e.gs[g].fig[i].plaatsing(key).Gestart += e.sign
				}
			}
		}
		if pl.End == region.Open {
			continue
		}
		// A placement ended on the day it started had no active day; it is
		// the start day's gemeente's.
		last := max(pl.Start, pl.End-1)
		g := gemeenteAt(spells, last)
		a := e.gs[g]
		if a == nil {
			continue
		}
		e.touch(g)
		for i, per := range e.ps {
			if per.start <= pl.End && pl.End <= per.peil {
				pc := a.fig[i].plaatsing(key)
				pc.Beeindigd += e.sign
				switch pl.EndKind {
				case "uitval":
					pc.Uitval += e.sign
				case "vangnet":
					pc.TerugvalVangnet += e.sign
				}
				if pl.Contract {
					pc.NaarContract += e.sign
				}
			}
		}
	}
}

// cijfers turns period i of a gemeente's accumulator into its figures.
func (e *engine) cijfers(a *gacc, i int, pol beleid.History) *ledgerv1.Periodecijfers {
	p, f := e.ps[i], &a.fig[i]
	out := &ledgerv1.Periodecijfers{
		Periode:              p.label,
		Peildatum:            p.peil.Date(),
		Caseload:             f.caseload,
		CaseloadPerTrede:     enumTellingen(f.perTrede, func(k int32) string { return TredeWord(ledgerv1.Trede(k)) }),
		CaseloadPerDoelgroep: enumTellingen(f.perDoelgroep, func(k int32) string { return DoelgroepWord(ledgerv1.Doelgroep(k)) }),
		Instroom:             f.inAanmelding + f.inVerhuizing + f.inHerindeling + f.inTerugkeer,
		InstroomPerReden:     wordTellingen(map[string]int64{RedenAanmelding: f.inAanmelding, RedenVerhuizing: f.inVerhuizing, RedenHerindeling: f.inHerindeling, RedenTerugkeer: f.inTerugkeer}),
	}
	uit := map[string]int64{}
	for r, n := range f.uitstroom {
		out.Uitstroom += n
		switch r {
		case keyVerhuizing:
			uit[RedenVerhuizing] += n
		case keyHerindeling:
			uit[RedenHerindeling] += n
		case keyHerindelingBuiten:
			uit[RedenHerindelingBuiten] += n
		default:
			uit[UitstroomReden(ledgerv1.UitstroomReden(r))] += n
		}
	}
	out.UitstroomPerReden = wordTellingen(uit)

	keys := make([]int32, 0, len(f.plaatsingen))
	for k := range f.plaatsingen {
		keys = append(keys, k)
	}
	// Types in enum order, unspecified after them, vangnet last.
	sort.Slice(keys, func(x, y int) bool {
		a, b := keys[x], keys[y]
		if (a == keyVangnet) != (b == keyVangnet) {
			return b == keyVangnet
		}
		return enumLess(a, b)
	})
	for _, k := range keys {
		pc := f.plaatsingen[k]
		if pc.Gestart == 0 && pc.Beeindigd == 0 && pc.Uitval == 0 && pc.TerugvalVangnet == 0 && pc.Actief == 0 && pc.NaarContract == 0 {
			continue // everything that counted it was taken away again
		}
		c := &ledgerv1.PlaatsingCijfers{
			Gestart: pc.Gestart, Beeindigd: pc.Beeindigd, Uitval: pc.Uitval,
			TerugvalVangnet: pc.TerugvalVangnet, Actief: pc.Actief, NaarContract: pc.NaarContract,
			UitvalPercentage: percent1(pc.Uitval, pc.Beeindigd),
		}
		if k == keyVangnet {
			c.Soort = SoortVangnet
		} else {
			c.Soort = TypeWord(ledgerv1.PlaatsingType(k))
		}
		out.Plaatsingen = append(out.Plaatsingen, c)
	}

	out.Loonwaarde = a.loonwaarde(f, p.peil, e.perClient)

	out.Lks = &ledgerv1.LksCijfers{Actief: f.lks}
	if v := pol.InForce(p.peil.Date()); v != nil {
		out.Lks.Norm = v.Beleid.GetLksNorm()
	}
	out.Lks.Percentage = percent1(out.Lks.Actief, out.Lks.Norm)
	out.ActiefVierUur, out.ActiefVierUurPercentage = f.actief4, percent1(f.actief4, f.caseload)
	out.EerstePlaatsingen, out.DagenTotEerstePlaatsing = f.first, mean1(f.toFirst, f.first)
	out.Wsw = wswCijfers(f, pol.InForce(p.peil.Date()))
	out.TredeOmhoog, out.TredeOmlaag = f.omhoog, f.omlaag
	if f.bijWerkgever != 0 || f.binnen != 0 {
		out.Werkgevers = &ledgerv1.Werkgevers{BijWerkgever: f.bijWerkgever, Binnen: f.binnen, Werkgevers: int64(len(f.employers))}
	}
	return out
}

// minutenPerSE is a standaardeenheid: a full-time Wsw employee, 36 hours
// a week.
const minutenPerSE = 36 * 60

// wswCijfers is the Wsw workforce of f against the Rijksbijdrage per SE of
// the policy in force; nil without Wsw employees or a bijdrage.
func wswCijfers(f *figures, v *beleid.Version) *ledgerv1.WswCijfers {
	var per int64
	if v != nil {
		per = v.Beleid.GetWswCentPerSe()
	}
	if f.wsw == 0 && per == 0 {
		return nil
	}
	out := &ledgerv1.WswCijfers{Personen: f.wsw, CentPerSe: per, Standaardeenheden: float64(costs.RoundHalfEven(f.wswMin*100, minutenPerSE)) / 100}
	// Exact in 128 bits; a sum past int64 cents (absurd here) shows 0.
	out.RijksbijdrageCent, _ = costs.MulDiv(f.wswMin, per, minutenPerSE)
	return out
}

// loonwaarde is the mean latest loonwaarde of the caseload and, per
// resident in it, the development over the measurements G saw up to the
// peildatum.
func (a *gacc) loonwaarde(f *figures, peil region.Day, perClient bool) *ledgerv1.Loonwaarde {
	lw := &ledgerv1.Loonwaarde{GemiddeldProcent: mean1(f.lwSum, f.lwN), Gemeten: f.lwN}
	residents := make([]int32, 0, len(f.residents))
	for r := range f.residents {
		residents = append(residents, r)
	}
	if perClient {
		// The rows by resident id; the means do not depend on the order.
		slices.SortFunc(residents, func(x, y int32) int { return strings.Compare(a.names[x], a.names[y]) })
	}
	var devSum, devN int64
	for _, r := range residents {
		ms := a.meas[r]
		slices.SortFunc(ms, measurement.compare)
		n := sort.Search(len(ms), func(i int) bool { return ms[i].day > peil })
		if n == 0 {
			continue
		}
		first, last := ms[0], ms[n-1]
		d := int32(last.value) - int32(first.value)
		if n >= 2 {
			devSum += int64(d)
			devN++
		}
		if !perClient {
			continue
		}
		lw.PerClient = append(lw.PerClient, &ledgerv1.LoonwaardeOntwikkeling{
			ResidentId:     a.names[r],
			EersteProcent:  first.value,
			LaatsteProcent: last.value,
			Verschil:       d,
			EersteMeting:   dateOf(first.day),
			LaatsteMeting:  dateOf(last.day),
		})
	}
	lw.GemiddeldeOntwikkeling = mean1(devSum, devN)
	return lw
}

// percent1 is 100 × part / whole with one decimal, half to even; 0 when
// whole is 0.
func percent1(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(costs.RoundHalfEven(part*1000, whole)) / 10
}

// mean1 is sum / n with one decimal, half to even; 0 when n is 0.
func mean1(sum, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(costs.RoundHalfEven(sum*10, n)) / 10
}
