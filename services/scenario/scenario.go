// Package scenario generates a seeded regional scenario: years of policy,
// regional agreements and client journeys across the participating
// gemeenten, as the API requests an operator would send, in the order and
// on the days they would be sent. Tests run it end to end through the API
// on a simulated clock; benchmarks use it for realistic volumes.
//
// The same seed always gives the same scenario.
package scenario

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Config shapes a scenario.
type Config struct {
	Seed      uint64
	Residents int
	// From is the first day; policies and the first verdeelsleutel are
	// recorded on it. Until is the last day anything happens.
	From, Until time.Time
	// Gemeenten take part with weights by inhabitants; the centrumgemeente
	// books the shared costs.
	Gemeenten *gemeente.Registry
	// Stand, when set, is the population already at work on the first
	// day, and the new journeys no longer include Wsw (closed to new
	// instroom since 2015).
	Stand *Stand
}

// Stand is what a region employs and places when the history starts: the
// ontwikkelbedrijf's Wsw and beschut employees, beschut places elsewhere,
// and LKS jobs against the norm. Counts for the region are spread over the
// gemeenten by inhabitants; the LKS figures are given for one gemeente
// (Ref) and scaled to the others by inhabitants.
type Stand struct {
	Wsw, Beschut int
	Ref          string
	LKS, LKSNorm int
}

// RegionStand is Gooi en Vechtstreek in its own published figures: 479 Wsw
// and 204 Participatiewet employees at the ontwikkelbedrijf at the end of
// 2024, about 300 beschut places, and Hilversum's 110 LKS placements
// against a norm of 209.
var RegionStand = Stand{Wsw: 480, Beschut: 300, Ref: "GM0402", LKS: 110, LKSNorm: 209}

// Step is one request on one day. Exactly one of the request fields is set.
// A Record for an existing case has CaseID empty and Resident set: the
// runner fills in the case id the resident's aanmelding was given.
type Step struct {
	Day      time.Time
	Resident int // index of the resident, for Record
	Record   *ledgerv1.RecordRequest
	Beleid   *ledgerv1.RecordBeleidRequest
	Regio    *ledgerv1.RecordRegioRequest
}

// Tariffs of the first year, euro cents per year or per hour. A beschut
// werk place costs about €12,000 a year (DESIGN.md §2).
var baseTariffs = map[string]int64{
	beleid.ProductBeschutWerk:       12_000_00,
	beleid.ProductWsw:               31_000_00,
	beleid.ProductDetachering:       6_500_00,
	beleid.ProductLKSBaan:           9_800_00,
	beleid.ProductWerkervaringsplek: 4_200_00,
	beleid.ProductLeerwerktraject:   5_600_00,
	beleid.ProductDagbesteding:      8_400_00,
	beleid.ProductVangnet:           10_500_00,
	beleid.ProductJobcoaching:       87_50,
	beleid.ProductBegeleiding:       64_00,
}

type gen struct {
	cfg   Config
	rnd   *rand.Rand
	steps []Step
	codes []string
	cum   []int64 // cumulative inhabitants, to pick a gemeente
	inw   map[string]int64
	next  int // the next resident index
}

func day(t time.Time) *ledgerv1.Date { return event.Date(t) }

// Generate builds the scenario. Steps are sorted by day; within a day,
// policy and agreements come before case work.
func Generate(cfg Config) ([]Step, error) {
	if cfg.Gemeenten == nil || cfg.Gemeenten.Centrum() == "" {
		return nil, fmt.Errorf("scenario: a gemeenten registry with a centrum is required")
	}
	if !cfg.Until.After(cfg.From) {
		return nil, fmt.Errorf("scenario: Until %s is not after From %s", cfg.Until, cfg.From)
	}
	g := &gen{cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	var total int64
	for _, gm := range cfg.Gemeenten.Participating(day(cfg.Until)) {
		n, _ := gm.InwonersOp(cfg.Until.Year())
		if n <= 0 || !gm.ParticipatesOn(day(cfg.From)) {
			continue
		}
		total += n
		if g.inw == nil {
			g.inw = map[string]int64{}
		}
		g.inw[gm.Code] = n
		g.codes = append(g.codes, gm.Code)
		g.cum = append(g.cum, total)
	}
	if len(g.codes) < 2 {
		return nil, fmt.Errorf("scenario: fewer than two gemeenten take part from %s to %s", cfg.From.Format(time.DateOnly), cfg.Until.Format(time.DateOnly))
	}
	g.policies()
	g.agreements()
	if cfg.Stand != nil {
		if err := g.stand(*cfg.Stand); err != nil {
			return nil, err
		}
	}
	for r := 0; r < cfg.Residents; r++ {
		g.resident(g.next)
		g.next++
	}
	if cfg.Stand != nil {
		g.money(*cfg.Stand)
	}
	sort.SliceStable(g.steps, func(i, j int) bool {
		a, b := g.steps[i], g.steps[j]
		if !a.Day.Equal(b.Day) {
			return a.Day.Before(b.Day)
		}
		return a.Record == nil && b.Record != nil
	})
	return g.steps, nil
}

func (g *gen) add(s Step) {
	if !s.Day.After(g.cfg.Until) {
		g.steps = append(g.steps, s)
	}
}

func (g *gen) pickGemeente() string {
	n := g.rnd.Int64N(g.cum[len(g.cum)-1])
	for i, c := range g.cum {
		if n < c {
			return g.codes[i]
		}
	}
	return g.codes[len(g.codes)-1]
}

// policies: every gemeente sets its policy on the first day, then each
// December for the next year with tariffs up 2–4%; some change tariffs
// mid-year too.
func (g *gen) policies() {
	for i, code := range g.codes {
		factor := int64(1000)
		for y := g.cfg.From.Year(); y <= g.cfg.Until.Year(); y++ {
			from := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
			recorded := time.Date(y-1, 12, 1, 0, 0, 0, 0, time.UTC)
			if y == g.cfg.From.Year() {
				from, recorded = g.cfg.From, g.cfg.From
			}
			g.add(Step{Day: recorded, Beleid: g.policy(code, from, factor, y)})
			if i%3 == 0 {
				// A mid-year change: recorded two weeks ahead of 1 July.
				mid := time.Date(y, 7, 1, 0, 0, 0, 0, time.UTC)
				if mid.After(g.cfg.From) {
					g.add(Step{Day: mid.AddDate(0, 0, -14), Beleid: g.policy(code, mid, factor+15, y)})
				}
			}
			factor += 20 + g.rnd.Int64N(21)
		}
	}
}

func (g *gen) policy(code string, from time.Time, factor int64, year int) *ledgerv1.RecordBeleidRequest {
	norm := 20 + g.rnd.Int64N(40)
	if st := g.cfg.Stand; st != nil {
		norm = int64(g.scaled(st.LKSNorm, st.Ref, code))
	}
	// The Rijksbijdrage per SE and the months a resident may return after
	// regular work are the same everywhere, and drawn from nothing: the
	// rest of a seeded history stays as it was.
	b := &ledgerv1.Beleid{GeldigVanaf: day(from), LksNorm: norm, Toelichting: fmt.Sprintf("beleid %d", year), WswCentPerSe: 28_000_00, TerugkeerMaanden: 6}
	for _, p := range beleid.Products {
		t := &ledgerv1.ProductTarief{Product: p.Code}
		cents := baseTariffs[p.Code] * factor / 1000
		if p.Eenheid == beleid.PerUur {
			t.CentPerUur = cents
		} else {
			t.CentPerJaar = cents
		}
		b.Producten = append(b.Producten, t)
	}
	for _, s := range []ledgerv1.Budgetstroom{ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG, ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET, ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT} {
		b.Budgetten = append(b.Budgetten, &ledgerv1.Budget{Jaar: int32(year), Budgetstroom: s, Cent: (200_000 + g.rnd.Int64N(800_000)) * 100})
	}
	return &ledgerv1.RecordBeleidRequest{Gemeente: code, Actor: "beleid-" + code, Beleid: b}
}

// agreements: a verdeelsleutel per year (recorded on the first day, then
// each December), and shared costs booked per quarter after it ends.
func (g *gen) agreements() {
	methods := []ledgerv1.Verdeelmethode{ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS, ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN, ledgerv1.Verdeelmethode_VERDEELMETHODE_PLAATSING_DAGEN}
	for y := g.cfg.From.Year(); y <= g.cfg.Until.Year(); y++ {
		recorded := time.Date(y-1, 12, 1, 0, 0, 0, 0, time.UTC)
		if y == g.cfg.From.Year() {
			recorded = g.cfg.From
		}
		g.add(Step{Day: recorded, Regio: &ledgerv1.RecordRegioRequest{Actor: "regio", Afspraak: &ledgerv1.RecordRegioRequest_Verdeelsleutel{
			Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: int32(y), Methode: methods[(y-g.cfg.From.Year())%len(methods)]}}}})
		for q := 0; q < 4; q++ {
			start := time.Date(y, time.Month(3*q+1), 1, 0, 0, 0, 0, time.UTC)
			end := start.AddDate(0, 3, -1)
			if start.Before(g.cfg.From) {
				continue
			}
			g.add(Step{Day: end.AddDate(0, 0, 5), Regio: &ledgerv1.RecordRegioRequest{Actor: "regio", Datum: day(end),
				Afspraak: &ledgerv1.RecordRegioRequest_GedeeldeKosten{GedeeldeKosten: &ledgerv1.GedeeldeKosten{
					Van: day(start), Cent: (150_000+g.rnd.Int64N(100_000))*100 + g.rnd.Int64N(100), Omschrijving: fmt.Sprintf("overhead ontwikkelbedrijf %dK%d", y, q+1),
					Budgetstroom: ledgerv1.Budgetstroom(1 + g.rnd.IntN(3)),
				}}}})
		}
	}
}

// money: each year, every gemeente's income per budget stream (recorded
// in June, after the meicirculaire), its targets and denominators
// (recorded in January) and the region's Resultaatverdeling, sized by the stand: the integratie-uitkering by
// its Wsw and beschut places at about € 28.000 a place, BUIG by its LKS
// norm at € 1.250 a month, the Participatiebudget at € 45 an inhabitant
// less a 5% correction, and a contribution to the bedrijfsvoering of € 7 an
// inhabitant. It draws from a random source of its own, so that the rest
// of the scenario is what it was without it.
func (g *gen) money(st Stand) {
	rnd := rand.New(rand.NewPCG(g.cfg.Seed^0x6d6f6e6579, 0x5eed))
	var total int64
	for _, c := range g.codes {
		total += g.inw[c]
	}
	for y := g.cfg.From.Year(); y <= g.cfg.Until.Year(); y++ {
		for _, code := range g.codes {
			share := func(n int) int64 { return (int64(n)*g.inw[code] + total/2) / total }
			places := share(st.Wsw + st.Beschut)
			norm := int64(g.scaled(st.LKSNorm, st.Ref, code))
			vary := func(c int64) int64 { return c * (97 + rnd.Int64N(7)) / 100 }
			pb := vary(g.inw[code] * 45_00)
			for _, in := range []*ledgerv1.Inkomsten{
				{Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT, Cent: vary(places * 28_000_00), Omschrijving: fmt.Sprintf("integratie-uitkering %d", y)},
				{Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG, Cent: vary(norm * 12 * 1_250_00), Omschrijving: fmt.Sprintf("BUIG %d", y)},
				{Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET, Cent: pb, CorrectieCent: pb / 20, CorrectieReden: "korting 5%", Omschrijving: fmt.Sprintf("Participatiebudget %d", y)},
				{Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BEDRIJFSVOERING, Cent: vary(g.inw[code] * 7_00), Omschrijving: fmt.Sprintf("bijdrage bedrijfsvoering %d", y)},
			} {
				in.Gemeente, in.Jaar = code, int32(y)
				g.add(Step{Day: time.Date(y, 6, 15, 0, 0, 0, 0, time.UTC), Regio: &ledgerv1.RecordRegioRequest{Actor: "regio", Afspraak: &ledgerv1.RecordRegioRequest_Inkomsten{Inkomsten: in}}})
			}
			if code == g.codes[0] {
				// The year's settlement: costs charged one to one are
				// settled one to one, the shared bedrijfsvoering by
				// inhabitants.
				g.add(Step{Day: time.Date(y, 1, 10, 0, 0, 0, 0, time.UTC), Regio: &ledgerv1.RecordRegioRequest{Actor: "regio", Afspraak: &ledgerv1.RecordRegioRequest_Resultaatverdeling{Resultaatverdeling: &ledgerv1.Resultaatverdeling{
					Jaar: int32(y), Besluit: fmt.Sprintf("AB %d-01", y), Stromen: []*ledgerv1.Stroomverdeling{
						{Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG, Verrekening: ledgerv1.Verrekening_VERREKENING_EEN_OP_EEN},
						{Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BEDRIJFSVOERING, Verrekening: ledgerv1.Verrekening_VERREKENING_SOLIDAIR, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS},
					}}}}})
			}
			g.add(Step{Day: time.Date(y, 1, 15, 0, 0, 0, 0, time.UTC), Regio: &ledgerv1.RecordRegioRequest{Actor: "regio", Afspraak: &ledgerv1.RecordRegioRequest_Doelen{Doelen: &ledgerv1.Doelen{
				Gemeente: code, Jaar: int32(y), LksNormVijftigProcent: norm, LksNormVijfenzeventigProcent: norm * 281 / 209,
				TaakstellingBeschut: share(st.Beschut), Bijstand: g.inw[code] * 25 / 1000, Doelgroepregister: g.inw[code] / 100,
				Toelichting: fmt.Sprintf("doelen %d", y),
			}}}})
		}
	}
}

// scaled is n of gemeente ref scaled to gemeente code by inhabitants.
func (g *gen) scaled(n int, ref, code string) int {
	if g.inw[ref] == 0 {
		return n
	}
	return int((int64(n)*g.inw[code] + g.inw[ref]/2) / g.inw[ref])
}

// spread divides n over the gemeenten by inhabitants, so that the counts
// add up to n: the cost allocation's largest remainders.
func (g *gen) spread(n int) (map[string]int, error) {
	parts, err := costs.Allocate(int64(n), g.inw)
	if err != nil {
		return nil, fmt.Errorf("scenario: spread %d over the gemeenten: %w", n, err)
	}
	out := make(map[string]int, len(parts))
	for code, p := range parts {
		out[code] = int(p)
	}
	return out, nil
}

// stand places the population already at work on the first day: each is
// registered, taken in and placed on it (the go-live beginstand), and then
// leaves at a plausible rate over the years: Wsw employees retire, beschut
// and LKS placements end now and then.
func (g *gen) stand(st Stand) error {
	type cohort struct {
		n         map[string]int
		doelgroep ledgerv1.Doelgroep
		trede     ledgerv1.Trede
		typ       func(i int) ledgerv1.PlaatsingType
		leaveRate int // percent a year
	}
	lks := map[string]int{}
	for _, code := range g.codes {
		lks[code] = g.scaled(st.LKS, st.Ref, code)
	}
	wsw, err := g.spread(st.Wsw)
	if err != nil {
		return err
	}
	beschut, err := g.spread(st.Beschut)
	if err != nil {
		return err
	}
	cohorts := []cohort{
		{wsw, ledgerv1.Doelgroep_DOELGROEP_WSW, ledgerv1.Trede_TREDE_BESCHUT, func(i int) ledgerv1.PlaatsingType {
			if i%4 == 0 { // about a quarter of the Wsw employees work detached
				return ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING
			}
			return ledgerv1.PlaatsingType_PLAATSING_TYPE_WSW_DIENSTVERBAND
		}, 6},
		{beschut, ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK, ledgerv1.Trede_TREDE_BESCHUT, func(int) ledgerv1.PlaatsingType { return ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK }, 8},
		{lks, ledgerv1.Doelgroep_DOELGROEP_BANENAFSPRAAK, ledgerv1.Trede_TREDE_BEMIDDELBAAR_MET_ONDERSTEUNING, func(int) ledgerv1.PlaatsingType { return ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN }, 12},
	}
	first := g.cfg.From
	for _, c := range cohorts {
		for _, code := range g.codes {
			for i := 0; i < c.n[code]; i++ {
				r := g.next
				g.next++
				rec := func(t time.Time, tr *ledgerv1.RecordRequest) {
					tr.Datum, tr.Actor = day(t), "beginstand"
					g.add(Step{Day: t, Resident: r, Record: tr})
				}
				lw := uint32(20 + g.rnd.IntN(40))
				rec(first, &ledgerv1.RecordRequest{Gemeente: code, Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
					ResidentId: fmt.Sprintf("R-stand-%06d", r), Doelgroep: c.doelgroep, Verwijzer: ledgerv1.Verwijzer(1 + g.rnd.IntN(5)),
					WswIndicatieSinds: wswIndicatie(c.doelgroep, r),
				}}})
				rec(first, &ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: c.trede, LoonwaardeProcent: lw}}})
				p := &ledgerv1.Plaatsing{Type: c.typ(i), Werkgever: "ontwikkelbedrijf", MinutenPerWeek: uint32(24+g.rnd.IntN(13)) * 60, LoonwaardeProcent: lw}
				switch p.Type {
				case ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING:
					p.Werkgever, p.GeplandeEinddatum, p.WerkgeverKvk = "werkgever", day(first.AddDate(1, 0, 0)), kvk(r)
				case ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN:
					p.Werkgever, p.LksCentPerMaand, p.WerkgeverKvk = "werkgever", int64(80_000+g.rnd.IntN(60_000)), kvk(r)
				}
				rec(first, &ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Plaatsing{Plaatsing: p}})
				// Leaving: each year with the cohort's rate.
				years := g.cfg.Until.Sub(first).Hours() / 24 / 365
				if g.rnd.Float64() < 1-math.Pow(1-float64(c.leaveRate)/100, years) {
					t := first.AddDate(0, 0, 30+g.rnd.IntN(max(1, int(years*365)-30)))
					reden := ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG // pensioen, mostly
					if c.doelgroep != ledgerv1.Doelgroep_DOELGROEP_WSW && g.rnd.IntN(2) == 0 {
						reden = ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK
					}
					// One in five detached Wsw employees who leave is hired
					// by the employer (the resident decides, not the random
					// source: the rest of the history stays as it was).
					if p.Type == ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING && r%5 == 0 {
						reden = ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK
					}
					rec(t, &ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: reden}}})
				}
			}
		}
	}
	return nil
}

// resident walks one resident through a plausible journey.
func (g *gen) resident(r int) {
	span := int(g.cfg.Until.Sub(g.cfg.From).Hours() / 24)
	t := g.cfg.From.AddDate(0, 0, g.rnd.IntN(span))
	gm := g.pickGemeente()
	doelgroep := ledgerv1.Doelgroep(1 + g.rnd.IntN(5))
	if g.cfg.Stand != nil && doelgroep == ledgerv1.Doelgroep_DOELGROEP_WSW {
		// No new Wsw since 2015: the Wsw population is the stand.
		doelgroep = ledgerv1.Doelgroep_DOELGROEP_BIJSTAND
	}
	rec := func(tr *ledgerv1.RecordRequest) {
		tr.Datum, tr.Actor = day(t), "km-"+gm
		g.add(Step{Day: t, Resident: r, Record: tr})
	}
	rec(&ledgerv1.RecordRequest{Gemeente: gm, Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
		ResidentId: fmt.Sprintf("R-scenario-%06d", r), Doelgroep: doelgroep, Verwijzer: ledgerv1.Verwijzer(1 + g.rnd.IntN(5)),
		WswIndicatieSinds: wswIndicatie(doelgroep, r),
	}}})
	if g.rnd.IntN(10) == 0 {
		t = t.AddDate(0, 0, 5+g.rnd.IntN(30))
		rec(&ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG}}})
		return
	}
	t = t.AddDate(0, 0, 5+g.rnd.IntN(25))
	loonwaarde := uint32(10 + g.rnd.IntN(60))
	rec(&ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede(1 + g.rnd.IntN(5)), LoonwaardeProcent: loonwaarde}}})
	var placedSince time.Time
	for spell := 0; spell < 4; spell++ {
		t = t.AddDate(0, 0, 7+g.rnd.IntN(60))
		typ := placementFor(doelgroep, g.rnd)
		p := &ledgerv1.Plaatsing{Type: typ, Werkgever: "werkgever", MinutenPerWeek: uint32(16+g.rnd.IntN(21)) * 60, LoonwaardeProcent: min(100, loonwaarde+uint32(g.rnd.IntN(10)))}
		if typ == ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING || typ == ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN {
			p.WerkgeverKvk = kvk(r)
		}
		if typ == ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING {
			p.GeplandeEinddatum = day(t.AddDate(1, 0, 0))
		}
		if typ == ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN {
			p.LksCentPerMaand = int64(80_000 + g.rnd.IntN(60_000))
		}
		rec(&ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Plaatsing{Plaatsing: p}})
		placedSince = t
		// Jobcoaching per quarter for LKS jobs and detacheringen.
		coached := typ == ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN || typ == ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING
		stay := 60 + g.rnd.IntN(700)
		if coached {
			for q := placedSince; q.AddDate(0, 3, 0).Before(placedSince.AddDate(0, 0, stay)); q = q.AddDate(0, 3, 0) {
				last := q.AddDate(0, 3, -1)
				g.add(Step{Day: last, Resident: r, Record: &ledgerv1.RecordRequest{Datum: day(last), Actor: "jobcoach",
					Transition: &ledgerv1.RecordRequest_Uren{Uren: &ledgerv1.Uren{Product: beleid.ProductJobcoaching, Van: day(q), Minuten: uint32(300 + g.rnd.IntN(1500))}}}})
			}
		}
		t = t.AddDate(0, 0, stay)
		if g.rnd.IntN(12) == 0 {
			// A move within the region during the placement.
			moveAt := placedSince.AddDate(0, 0, 1+stay/2)
			naar := g.pickGemeente()
			if naar != gm {
				g.add(Step{Day: moveAt, Resident: r, Record: &ledgerv1.RecordRequest{Datum: day(moveAt), Actor: "km-" + gm,
					Transition: &ledgerv1.RecordRequest_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{NaarGemeente: naar}}}})
				gm = naar
			}
		}
		switch n := g.rnd.IntN(10); {
		case n < 3: // uitval, sometimes caught by the vangnet
			rec(&ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden(1 + g.rnd.IntN(5))}}})
			if g.rnd.IntN(2) == 0 {
				t = t.AddDate(0, 0, 1+g.rnd.IntN(10))
				rec(&ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{VangnetType: ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK}}})
				t = t.AddDate(0, 0, 30+g.rnd.IntN(200))
			}
			if g.rnd.IntN(3) == 0 {
				t = t.AddDate(0, 0, 5+g.rnd.IntN(30))
				loonwaarde = min(100, loonwaarde+uint32(g.rnd.IntN(15)))
				rec(&ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede(1 + g.rnd.IntN(5)), LoonwaardeProcent: loonwaarde}}})
			}
		case n < 6: // out to regular work or school
			rec(&ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden(1 + g.rnd.IntN(4))}}})
			return
		default: // the next placement follows directly
		}
	}
}

// kvk is the KvK number of the employer of resident r's placements at an
// employer: one of 400 in the region, so that a detachering and a later
// LKS-baan of the same resident are at the same employer (a contract). A
// function of the resident, not of the random source.
func kvk(r int) string { return fmt.Sprintf("%08d", 30_000_000+r%400) }

// wswIndicatie is the date of a Wsw employee's standing indication, before
// 2015 (no new ones since); nil for other doelgroepen. It is a function of
// the resident, not of the random source, so that the rest of a seeded
// history stays as it was.
func wswIndicatie(d ledgerv1.Doelgroep, r int) *ledgerv1.Date {
	if d != ledgerv1.Doelgroep_DOELGROEP_WSW {
		return nil
	}
	return &ledgerv1.Date{Year: int32(1998 + r%17), Month: int32(1 + r%12), Day: 1}
}

func placementFor(d ledgerv1.Doelgroep, rnd *rand.Rand) ledgerv1.PlaatsingType {
	switch d {
	case ledgerv1.Doelgroep_DOELGROEP_WSW:
		if rnd.IntN(3) == 0 {
			return ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING
		}
		return ledgerv1.PlaatsingType_PLAATSING_TYPE_WSW_DIENSTVERBAND
	case ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK:
		return ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK
	case ledgerv1.Doelgroep_DOELGROEP_BANENAFSPRAAK:
		return ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN
	}
	return []ledgerv1.PlaatsingType{
		ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK,
		ledgerv1.PlaatsingType_PLAATSING_TYPE_LEERWERKTRAJECT,
		ledgerv1.PlaatsingType_PLAATSING_TYPE_DAGBESTEDING,
		ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN,
	}[rnd.IntN(4)]
}
