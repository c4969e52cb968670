package beleidsview

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// hist builds a regional model by applying events as if stored one after
// another (increasing positions, revisions per stream), as the region
// package's tests do. Every case event is first judged by caseflow.Check
// against the case's state, so a scenario can only hold histories the
// ledger would have accepted. Event ids are readable: "pl1", "mv2".
type hist struct {
	t      testing.TB
	m      *region.Model
	seq    uint64
	revs   map[string]uint64
	ids    map[string]int
	states map[string]caseflow.State
}

func newHist(t testing.TB) *hist {
	return &hist{t: t, m: region.New(nil), revs: map[string]uint64{}, ids: map[string]int{}, states: map[string]caseflow.State{}}
}

func (h *hist) id(prefix string) string {
	h.ids[prefix]++
	return fmt.Sprintf("%s%d", prefix, h.ids[prefix])
}

func (h *hist) apply(gm, caseID string, d region.Day, id string, ev *ledgerv1.Event) string {
	h.t.Helper()
	h.seq++
	ev.Envelope = &ledgerv1.Envelope{EventId: id, CaseId: caseID, Gemeente: gm, OccurredOn: d.Date(), RecordedAt: timestamppb.New(time.Unix(int64(h.seq), 0))}
	stream := caseID
	if caseID != "" {
		s := h.states[caseID]
		if err := caseflow.Check(s, ev); err != nil {
			h.t.Fatalf("scenario refused by the state machine: %v", err)
		}
		h.states[caseID] = caseflow.Evolve(s, ev)
	} else {
		stream = "regio-" + gm
	}
	rev := h.revs[stream]
	h.revs[stream]++
	h.m.Apply(store.RecordedEvent{Position: store.Position{Commit: h.seq, Prepare: h.seq}, Revision: rev}, ev)
	return id
}

func day(y int, m time.Month, d int) region.Day { return region.YMD(y, m, d) }

// pol is a policy version in a test.
type pol struct {
	from    region.Day
	jaar    map[string]int64 // product → cents per year
	uur     map[string]int64 // product → cents per hour
	budgets map[ledgerv1.Budgetstroom]int64
	year    int32
	norm    int64
}

func (h *hist) policy(gm string, p pol) string {
	b := &ledgerv1.Beleid{GeldigVanaf: p.from.Date(), LksNorm: p.norm}
	for _, code := range sortedKeys(p.jaar) {
		b.Producten = append(b.Producten, &ledgerv1.ProductTarief{Product: code, CentPerJaar: p.jaar[code]})
	}
	for _, code := range sortedKeys(p.uur) {
		b.Producten = append(b.Producten, &ledgerv1.ProductTarief{Product: code, CentPerUur: p.uur[code]})
	}
	for s := ledgerv1.Budgetstroom(1); s <= 3; s++ {
		if c, ok := p.budgets[s]; ok {
			b.Budgetten = append(b.Budgetten, &ledgerv1.Budget{Jaar: p.year, Budgetstroom: s, Cent: c})
		}
	}
	return h.apply(gm, "", p.from, h.id("bl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: b}})
}

func (h *hist) key(year int, method ledgerv1.Verdeelmethode) string {
	return h.apply("GM0402", "", day(year, 1, 1), h.id("vs"), &ledgerv1.Event{Payload: &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: int32(year), Methode: method}}})
}

func (h *hist) booking(van, tot region.Day, cent int64, b ledgerv1.Budgetstroom) string {
	return h.apply("GM0402", "", tot, h.id("gk"), &ledgerv1.Event{Payload: &ledgerv1.Event_GedeeldeKosten{GedeeldeKosten: &ledgerv1.GedeeldeKosten{Van: van.Date(), Cent: cent, Budgetstroom: b}}})
}

// kase records one case's transitions; gm follows verhuizingen.
type kase struct {
	h        *hist
	id       string
	gm       string
	resident string
}

func (h *hist) aanmelding(gm, resident string, d region.Day, dg ledgerv1.Doelgroep) *kase {
	c := &kase{h: h, id: h.id("case"), gm: gm, resident: resident}
	h.apply(gm, c.id, d, h.id("am"), &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
		ResidentId: resident, Doelgroep: dg, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_WERKCENTRUM}}})
	return c
}

func (c *kase) intake(d region.Day, t ledgerv1.Trede, lw uint32) *kase {
	c.h.apply(c.gm, c.id, d, c.h.id("in"), &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: t, LoonwaardeProcent: lw}}})
	return c
}

func (c *kase) plaatsing(d region.Day, t ledgerv1.PlaatsingType, lw uint32) *kase {
	p := &ledgerv1.Plaatsing{Type: t, LoonwaardeProcent: lw}
	if t == ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING {
		p.GeplandeEinddatum = (d + 300).Date()
	}
	c.h.apply(c.gm, c.id, d, c.h.id("pl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: p}})
	return c
}

func (c *kase) uitval(d region.Day) *kase {
	c.h.apply(c.gm, c.id, d, c.h.id("uv"), &ledgerv1.Event{Payload: &ledgerv1.Event_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE}}})
	return c
}

func (c *kase) vangnet(d region.Day, t ledgerv1.PlaatsingType) *kase {
	c.h.apply(c.gm, c.id, d, c.h.id("vn"), &ledgerv1.Event{Payload: &ledgerv1.Event_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{VangnetType: t}}})
	return c
}

func (c *kase) uitstroom(d region.Day, r ledgerv1.UitstroomReden) *kase {
	c.h.apply(c.gm, c.id, d, c.h.id("us"), &ledgerv1.Event{Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: r}}})
	return c
}

// verhuizing carries the snapshot Decide would have added.
func (c *kase) verhuizing(d region.Day, naar string) *kase {
	snap := c.h.states[c.id].Snapshot()
	c.h.apply(c.gm, c.id, d, c.h.id("mv"), &ledgerv1.Event{Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{VanGemeente: c.gm, NaarGemeente: naar, Snapshot: snap}}})
	c.gm = naar
	return c
}

func (c *kase) uren(van, tot region.Day, product string, minuten uint32) *kase {
	c.h.apply(c.gm, c.id, tot, c.h.id("ur"), &ledgerv1.Event{Payload: &ledgerv1.Event_Uren{Uren: &ledgerv1.Uren{Product: product, Van: van.Date(), Minuten: minuten}}})
	return c
}

// registry is the test's participants, with inhabitants on 1 January 2026.
func registry(t testing.TB) *gemeente.Registry {
	t.Helper()
	r, err := gemeente.New([]gemeente.Gemeente{
		{Code: "GM0402", Naam: "Hilversum", Inwoners: map[int]int64{2026: 90_000}},
		{Code: "GM1942", Naam: "Gooise Meren", Inwoners: map[int]int64{2026: 58_000}},
		{Code: "GM0406", Naam: "Huizen", Inwoners: map[int]int64{2026: 42_000}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// summary prints the non-cost figures of a period in a compact form that a
// table of expectations can spell out by hand:
//
//	caseload 2 | trede beschut 1, onbekend 1 | doelgroep bijstand 2
//	in aanmelding 1 | uit regulier-werk 1
//	werkervaringsplek g3 b3 u1 v1 a0 33.3%
//	lw 40.0 n1 dev 0.0 | R1 40→40
//	lks 1/4 25.0%
func summary(p *ledgerv1.Periodecijfers) string {
	var b strings.Builder
	fmt.Fprintf(&b, "caseload %d | trede %s | doelgroep %s\n", p.GetCaseload(), tellingen(p.GetCaseloadPerTrede()), tellingen(p.GetCaseloadPerDoelgroep()))
	fmt.Fprintf(&b, "in %s | uit %s\n", tellingen(p.GetInstroomPerReden()), tellingen(p.GetUitstroomPerReden()))
	for _, pc := range p.GetPlaatsingen() {
		fmt.Fprintf(&b, "%s g%d b%d u%d v%d a%d %.1f%%\n", pc.GetSoort(), pc.GetGestart(), pc.GetBeeindigd(), pc.GetUitval(), pc.GetTerugvalVangnet(), pc.GetActief(), pc.GetUitvalPercentage())
	}
	lw := p.GetLoonwaarde()
	fmt.Fprintf(&b, "lw %.1f n%d dev %.1f |", lw.GetGemiddeldProcent(), lw.GetGemeten(), lw.GetGemiddeldeOntwikkeling())
	for _, c := range lw.GetPerClient() {
		fmt.Fprintf(&b, " %s %d→%d", c.GetResidentId(), c.GetEersteProcent(), c.GetLaatsteProcent())
	}
	l := p.GetLks()
	fmt.Fprintf(&b, "\nlks %d/%d %.1f%%", l.GetActief(), l.GetNorm(), l.GetPercentage())
	return b.String()
}

func tellingen(ts []*ledgerv1.Telling) string {
	if len(ts) == 0 {
		return "-"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s %d", t.GetSleutel(), t.GetAantal())
	}
	return strings.Join(parts, ", ")
}

// lines trims a table's expectation: leading tabs of a raw string go.
func lines(s string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		out = append(out, strings.TrimSpace(l))
	}
	return strings.Join(out, "\n")
}
