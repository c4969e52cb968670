package beleidsview

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// A seeded generator of a regional history: the eight participants, their
// policies (a tariff change mid-way, budgets per year), a verdeelsleutel per
// year, shared costs per quarter, and cases that go through every
// transition the work has (placements of every type, uitval, terugval op
// vangnet, verhuizingen between participants, herbeoordelingen, hours,
// corrections, uitstroom). Every case event is judged by caseflow.Check
// before it is kept, so the history is one the ledger would have accepted.

type genConfig struct {
	seed     uint64
	events   int        // stop starting cases once this many case events exist
	from, to region.Day // the history's days, inclusive
	// Days between the jobcoach's registrations of hours while a resident
	// is placed; 0 registers hours only now and then, which gives short
	// histories of many cases.
	urenEvery int
	// nacalculatie: Hilversum and Huizen revise their first tariffs from
	// the first day on, recorded months later (a nacalculatie).
	nacalculatie bool
}

type generated struct {
	events []*ledgerv1.Event // in store order
	reg    *gemeente.Registry
	cases  int
}

type genGemeente struct {
	code, naam string
	inwoners   int64
}

// genGemeenten are today's participants (deploy/gemeenten.json), weighted
// by inhabitants when a resident is referred or moves.
var genGemeenten = []genGemeente{
	{"GM0402", "Hilversum", 92_900},
	{"GM1942", "Gooise Meren", 60_400},
	{"GM0406", "Huizen", 41_700},
	{"GM0376", "Blaricum", 12_600},
	{"GM0417", "Laren", 11_500},
	{"GM1696", "Wijdemeren", 24_600},
	{"GM0317", "Eemnes", 9_700},
	{"GM0034", "Almere", 226_500},
}

type gen struct {
	cfg    genConfig
	r      *rand.Rand
	events []*ledgerv1.Event
	total  int64
	n      int // case events so far
	cases  int
}

func generate(cfg genConfig) (*generated, error) {
	g := &gen{cfg: cfg, r: rand.New(rand.NewPCG(cfg.seed, 0x6f6f6f69))}
	var list []gemeente.Gemeente
	for _, gg := range genGemeenten {
		inw := map[int]int64{}
		for y := cfg.from.Year(); y <= cfg.to.Year(); y++ {
			inw[y] = gg.inwoners + int64(y-cfg.from.Year())*200
		}
		list = append(list, gemeente.Gemeente{Code: gg.code, Naam: gg.naam, Inwoners: inw, GeldigVan: event.YMD(2015, 1, 1)})
		g.total += gg.inwoners
	}
	reg, err := gemeente.New(list)
	if err != nil {
		return nil, err
	}
	g.policies()
	g.agreements()
	for g.n < cfg.events {
		if err := g.simulateCase(); err != nil {
			return nil, err
		}
	}
	// Store order: by the day the fact took effect; a case's events keep
	// their order (their days never go back), policies and agreements come
	// before the cases of their day.
	sort.SliceStable(g.events, func(i, j int) bool {
		return event.CompareDates(g.events[i].GetEnvelope().GetOccurredOn(), g.events[j].GetEnvelope().GetOccurredOn()) < 0
	})
	return &generated{events: g.events, reg: reg, cases: g.cases}, nil
}

func (g *gen) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := g.r.Uint64()
		for k := 0; k < 8; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}

func (g *gen) emit(gm, caseID string, d region.Day, ev *ledgerv1.Event) *ledgerv1.Event {
	id := g.uuid()
	h := sha256.Sum256([]byte(id))
	ev.Envelope = &ledgerv1.Envelope{
		EventId: id, CaseId: caseID, Gemeente: gm, OccurredOn: d.Date(),
		RecordedAt: timestamppb.New(d.Time().Add(10 * time.Hour)), Actor: "medewerker-" + fmt.Sprint(g.r.IntN(40)),
		SchemaVersion: 1, PrevHash: h[:],
	}
	g.events = append(g.events, ev)
	return ev
}

func (g *gen) pickGemeente(not string) string {
	for {
		x := g.r.Int64N(g.total)
		for _, gg := range genGemeenten {
			if x < gg.inwoners {
				if gg.code != not {
					return gg.code
				}
				break
			}
			x -= gg.inwoners
		}
	}
}

func (g *gen) policies() {
	mid := region.YMD(g.cfg.from.Year()+1, 7, 1)
	for _, gg := range genGemeenten {
		for v, from := range []region.Day{g.cfg.from, mid} {
			factor := int64(100 + 3*v)
			b := &ledgerv1.Beleid{GeldigVanaf: from.Date(), LksNorm: gg.inwoners / 450, Toelichting: "gegenereerd"}
			for _, p := range beleid.Products {
				if gg.code == "GM0317" && p.Code == beleid.ProductDagbesteding {
					continue // Eemnes does not buy it: unpriced days
				}
				t := &ledgerv1.ProductTarief{Product: p.Code}
				if p.Eenheid == beleid.PerUur {
					t.CentPerUur = 85_00 * factor / 100
				} else {
					t.CentPerJaar = (8_000_00 + int64(len(p.Code))*700_00) * factor / 100
				}
				b.Producten = append(b.Producten, t)
			}
			for y := g.cfg.from.Year(); y <= g.cfg.to.Year(); y++ {
				for s := ledgerv1.Budgetstroom(1); s <= 3; s++ {
					b.Budgetten = append(b.Budgetten, &ledgerv1.Budget{Jaar: int32(y), Budgetstroom: s, Cent: gg.inwoners * int64(s) * 25_00})
				}
			}
			g.emit(gg.code, "", from, &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: b}})
			if v == 0 && g.cfg.nacalculatie && (gg.code == "GM0402" || gg.code == "GM0406") {
				n := proto.Clone(b).(*ledgerv1.Beleid)
				n.Nacalculatie = &ledgerv1.Nacalculatie{Reden: "GR-begroting vastgesteld", Besluit: "AB " + gg.code}
				for _, t := range n.Producten {
					t.CentPerJaar, t.CentPerUur = t.CentPerJaar*104/100, t.CentPerUur*104/100
				}
				// Recorded in the spring, for the whole period since.
				g.emit(gg.code, "", mid-region.Day(75), &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: n}})
			}
		}
	}
}

func (g *gen) agreements() {
	methods := []ledgerv1.Verdeelmethode{ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS, ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN, ledgerv1.Verdeelmethode_VERDEELMETHODE_PLAATSING_DAGEN}
	for y := g.cfg.from.Year(); y <= g.cfg.to.Year(); y++ {
		g.emit("GM0402", "", region.YearStart(y), &ledgerv1.Event{Payload: &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: int32(y), Methode: methods[y%3]}}})
		for q := 0; q < 4; q++ {
			van := region.MonthStart(y, time.Month(3*q+1))
			tot := region.MonthStart(y, time.Month(3*q+4)) - 1
			if tot > g.cfg.to {
				break
			}
			for s, cent := range map[ledgerv1.Budgetstroom]int64{ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET: 250_000_01, ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT: 100_000_03} {
				g.emit("GM0402", "", tot, &ledgerv1.Event{Payload: &ledgerv1.Event_GedeeldeKosten{GedeeldeKosten: &ledgerv1.GedeeldeKosten{Van: van.Date(), Cent: cent, Budgetstroom: s, Omschrijving: "overhead"}}})
			}
		}
	}
}

// caseSim is one case being lived.
type caseSim struct {
	g    *gen
	id   string
	s    caseflow.State
	last *ledgerv1.Event   // last intake, for a correctie
	evs  []*ledgerv1.Event // the case's events so far
}

func (c *caseSim) add(d region.Day, ev *ledgerv1.Event) error {
	c.g.emit(c.s.Gemeente, c.id, d, ev)
	if err := caseflow.Check(c.s, ev); err != nil {
		return fmt.Errorf("generator produced a refused event: %w", err)
	}
	c.evs = append(c.evs, ev)
	c.g.n++
	if ev.GetCorrectie() != nil {
		// The state is that of the corrected history, as Decide's is.
		s, err := caseflow.Fold(c.evs)
		if err != nil {
			return fmt.Errorf("generator produced a bad correctie: %w", err)
		}
		c.s = s
		return nil
	}
	c.s = caseflow.Evolve(c.s, ev)
	return nil
}

var genTypes = []struct {
	t ledgerv1.PlaatsingType
	w int
}{
	{ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, 20},
	{ledgerv1.PlaatsingType_PLAATSING_TYPE_WSW_DIENSTVERBAND, 5},
	{ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING, 15},
	{ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN, 20},
	{ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK, 20},
	{ledgerv1.PlaatsingType_PLAATSING_TYPE_LEERWERKTRAJECT, 10},
	{ledgerv1.PlaatsingType_PLAATSING_TYPE_DAGBESTEDING, 10},
}

func (g *gen) placementType() ledgerv1.PlaatsingType {
	x := g.r.IntN(100)
	for _, t := range genTypes {
		if x < t.w {
			return t.t
		}
		x -= t.w
	}
	return ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK
}

func (g *gen) loonwaarde(pZero int) uint32 {
	if g.r.IntN(100) < pZero {
		return 0
	}
	return uint32(15 + g.r.IntN(81))
}

func (g *gen) simulateCase() error {
	g.cases++
	c := &caseSim{g: g, id: g.uuid()}
	span := int(g.cfg.to - g.cfg.from + 1)
	d := g.cfg.from + region.Day(g.r.IntN(span))
	c.s.Gemeente = g.pickGemeente("")
	err := c.add(d, &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
		ResidentId: fmt.Sprintf("R%07d", g.cases),
		Doelgroep:  ledgerv1.Doelgroep(1 + g.r.IntN(5)),
		Verwijzer:  ledgerv1.Verwijzer(1 + g.r.IntN(5)),
		Persoonsgegevens: &ledgerv1.EncryptedPersonalData{
			KeyId: "k-" + c.id, Algorithm: "AES-256-GCM", Nonce: make([]byte, 12), Ciphertext: make([]byte, 72),
		},
	}}})
	if err != nil {
		return err
	}
	d += region.Day(3 + g.r.IntN(40))
	if d > g.cfg.to {
		return nil
	}
	if err := c.intake(d); err != nil {
		return err
	}
	for {
		placed := c.s.Placed()
		prev := d
		if placed {
			d += region.Day(30 + g.r.IntN(370))
		} else {
			d += region.Day(10 + g.r.IntN(110))
		}
		if placed && g.cfg.urenEvery > 0 {
			product := beleid.ProductJobcoaching
			if g.r.IntN(3) == 0 {
				product = beleid.ProductBegeleiding
			}
			for tot := prev + region.Day(g.cfg.urenEvery); tot < d && tot <= g.cfg.to; tot += region.Day(g.cfg.urenEvery) {
				van := tot - region.Day(g.cfg.urenEvery) + 1
				if err := c.add(tot, &ledgerv1.Event{Payload: &ledgerv1.Event_Uren{Uren: &ledgerv1.Uren{Product: product, Van: van.Date(), Minuten: uint32(30 * (1 + g.r.IntN(8)))}}}); err != nil {
					return err
				}
			}
		}
		if d > g.cfg.to {
			return nil
		}
		if placed && g.cfg.urenEvery == 0 && g.r.IntN(100) < 40 {
			// Hours of jobcoaching over the last weeks.
			van := max(d-28, region.DayOf(c.s.AanmeldDatum))
			if err := c.add(d, &ledgerv1.Event{Payload: &ledgerv1.Event_Uren{Uren: &ledgerv1.Uren{Product: beleid.ProductJobcoaching, Van: van.Date(), Minuten: uint32(60 + 30*g.r.IntN(20))}}}); err != nil {
				return err
			}
		}
		if c.last != nil && g.r.IntN(100) < 3 {
			// The intake's loonwaarde was entered wrong; corrected today.
			fixed := proto.Clone(c.last.GetIntake()).(*ledgerv1.Intake)
			fixed.LoonwaardeProcent = g.loonwaarde(0)
			if err := c.add(d, &ledgerv1.Event{Payload: &ledgerv1.Event_Correctie{Correctie: &ledgerv1.Correctie{
				Corrigeert: c.last.GetEnvelope().GetEventId(), Reden: "typefout", Datum: c.last.GetEnvelope().GetOccurredOn(),
				Vervanging: &ledgerv1.Correctie_Intake{Intake: fixed},
			}}}); err != nil {
				return err
			}
			c.last = nil
		}
		x := g.r.IntN(100)
		var err error
		switch {
		case placed && x < 20:
			err = c.add(d, &ledgerv1.Event{Payload: &ledgerv1.Event_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden(1 + g.r.IntN(5))}}})
		case placed && x < 30 && c.s.Toestand == ledgerv1.Toestand_TOESTAND_GEPLAATST:
			err = c.add(d, &ledgerv1.Event{Payload: &ledgerv1.Event_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{VanPlaatsing: c.s.LaatstePlaatsing, VangnetType: ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK}}})
		case placed && x < 50, !placed && x < 55:
			err = c.plaatsing(d)
		case !placed && x < 60 && c.s.Toestand == ledgerv1.Toestand_TOESTAND_UITGEVALLEN:
			err = c.add(d, &ledgerv1.Event{Payload: &ledgerv1.Event_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{VanPlaatsing: c.s.LaatstePlaatsing, VangnetType: ledgerv1.PlaatsingType_PLAATSING_TYPE_DAGBESTEDING}}})
		case x < 70:
			err = c.add(d, &ledgerv1.Event{Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden(1 + g.r.IntN(4))}}})
			if err == nil {
				return nil
			}
		case x < 78:
			naar := g.pickGemeente(c.s.Gemeente)
			err = c.add(d, &ledgerv1.Event{Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{VanGemeente: c.s.Gemeente, NaarGemeente: naar, Snapshot: c.s.Snapshot()}}})
		case x < 88:
			err = c.intake(d)
		}
		if err != nil {
			return err
		}
	}
}

func (c *caseSim) intake(d region.Day) error {
	ev := &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede(1 + c.g.r.IntN(5)), LoonwaardeProcent: c.g.loonwaarde(15), Doel: "werk"}}}
	if err := c.add(d, ev); err != nil {
		return err
	}
	c.last = ev
	return nil
}

func (c *caseSim) plaatsing(d region.Day) error {
	t := c.g.placementType()
	p := &ledgerv1.Plaatsing{Type: t, Werkgever: "werkgever", MinutenPerWeek: 1800, LoonwaardeProcent: c.g.loonwaarde(50), Product: beleid.DefaultProduct(t)}
	switch t {
	case ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING:
		p.GeplandeEinddatum = (d + region.Day(90+c.g.r.IntN(270))).Date()
	case ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN:
		p.LksCentPerMaand = int64(500_00 + c.g.r.IntN(1500_00))
	}
	return c.add(d, &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: p}})
}

// records returns the events as the store holds them: marshalled, with
// increasing positions and revisions per stream.
func (gd *generated) records() ([]store.RecordedEvent, error) {
	out := make([]store.RecordedEvent, len(gd.events))
	revs := map[string]uint64{}
	for i, ev := range gd.events {
		data, err := proto.Marshal(ev)
		if err != nil {
			return nil, err
		}
		env := ev.GetEnvelope()
		stream := "case-" + env.GetCaseId()
		switch {
		case ev.GetBeleid() != nil:
			stream = event.PolicyStream(env.GetGemeente())
		case env.GetCaseId() == "":
			stream = event.RegionStream
		}
		out[i] = store.RecordedEvent{
			ID: uuid.MustParse(env.GetEventId()), Stream: stream, Type: event.Type(ev), Revision: revs[stream],
			Position: store.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}, Recorded: env.GetRecordedAt().AsTime(), Data: data,
		}
		revs[stream]++
	}
	return out, nil
}

// model applies the events to a new model, decoded as from the store.
func (gd *generated) model() (*region.Model, error) {
	recs, err := gd.records()
	if err != nil {
		return nil, err
	}
	m := region.New(nil)
	for _, rec := range recs {
		if err := m.ApplyRecord(rec); err != nil {
			return nil, err
		}
	}
	return m, nil
}
