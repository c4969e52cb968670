package costs

import (
	"fmt"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// hist builds a regional model by applying events as if stored one after
// another (increasing positions, revisions per stream), as the region
// package's own tests do. Event ids are readable names: "pl1", "mv2".
type hist struct {
	m    *region.Model
	seq  uint64
	revs map[string]uint64
	ids  map[string]int
}

func newHist() *hist {
	return &hist{m: region.New(nil), revs: map[string]uint64{}, ids: map[string]int{}}
}

func (h *hist) id(prefix string) string {
	h.ids[prefix]++
	return fmt.Sprintf("%s%d", prefix, h.ids[prefix])
}

func (h *hist) apply(gm, caseID string, d region.Day, id string, ev *ledgerv1.Event) string {
	h.seq++
	ev.Envelope = &ledgerv1.Envelope{EventId: id, CaseId: caseID, Gemeente: gm, OccurredOn: d.Date()}
	stream := caseID
	if stream == "" {
		stream = "regio-" + gm
	}
	rev := h.revs[stream]
	h.revs[stream]++
	h.m.Apply(store.RecordedEvent{Position: store.Position{Commit: h.seq, Prepare: h.seq}, Revision: rev}, ev)
	return id
}

func day(y int, m time.Month, d int) region.Day { return region.YMD(y, m, d) }

// tariffs is a policy's products: product → cents per year, or per hour
// for hourly products.
type tariffs map[string]int64

func (h *hist) policy(gm string, from region.Day, t tariffs) string {
	var ps []*ledgerv1.ProductTarief
	for _, code := range sortedKeys(t) {
		pt := &ledgerv1.ProductTarief{Product: code}
		if code == "jobcoaching" || code == "begeleiding" {
			pt.CentPerUur = t[code]
		} else {
			pt.CentPerJaar = t[code]
		}
		ps = append(ps, pt)
	}
	return h.apply(gm, "", from, h.id("bl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: &ledgerv1.Beleid{GeldigVanaf: from.Date(), Producten: ps}}})
}

func (h *hist) key(year int, method ledgerv1.Verdeelmethode) string {
	return h.apply("GM0402", "", day(year, 1, 1), h.id("vs"), &ledgerv1.Event{Payload: &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: int32(year), Methode: method}}})
}

func (h *hist) booking(van, tot region.Day, cent int64, b ledgerv1.Budgetstroom) string {
	return h.apply("GM0402", "", tot, h.id("gk"), &ledgerv1.Event{Payload: &ledgerv1.Event_GedeeldeKosten{GedeeldeKosten: &ledgerv1.GedeeldeKosten{Van: van.Date(), Cent: cent, Budgetstroom: b}}})
}

// kase records one case's transitions; gm follows verhuizingen.
type kase struct {
	h  *hist
	id string
	gm string
}

func (h *hist) aanmelding(gm string, d region.Day) *kase {
	c := &kase{h: h, id: h.id("case"), gm: gm}
	h.apply(gm, c.id, d, h.id("am"), &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: "R-" + c.id, Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK}}})
	return c
}

func (c *kase) intake(d region.Day) string {
	return c.h.apply(c.gm, c.id, d, c.h.id("in"), &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_BESCHUT}}})
}

func (c *kase) plaatsing(d region.Day, t ledgerv1.PlaatsingType, product string) string {
	return c.h.apply(c.gm, c.id, d, c.h.id("pl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: t, Product: product}}})
}

func (c *kase) uitval(d region.Day) string {
	return c.h.apply(c.gm, c.id, d, c.h.id("uv"), &ledgerv1.Event{Payload: &ledgerv1.Event_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE}}})
}

func (c *kase) vangnet(d region.Day) string {
	return c.h.apply(c.gm, c.id, d, c.h.id("vn"), &ledgerv1.Event{Payload: &ledgerv1.Event_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{VangnetType: ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK}}})
}

func (c *kase) uitstroom(d region.Day) string {
	return c.h.apply(c.gm, c.id, d, c.h.id("us"), &ledgerv1.Event{Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK}}})
}

func (c *kase) verhuizing(d region.Day, naar string) string {
	id := c.h.apply(c.gm, c.id, d, c.h.id("mv"), &ledgerv1.Event{Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{VanGemeente: c.gm, NaarGemeente: naar}}})
	c.gm = naar
	return id
}

func (c *kase) uren(van, tot region.Day, product string, minuten uint32) string {
	return c.h.apply(c.gm, c.id, tot, c.h.id("ur"), &ledgerv1.Event{Payload: &ledgerv1.Event_Uren{Uren: &ledgerv1.Uren{Product: product, Van: van.Date(), Minuten: minuten}}})
}

// registry is the test's participants: inhabitants on 1 January 2026;
// Weesp left in 2022 and takes part in nothing here.
func registry(t testing.TB) *gemeente.Registry {
	t.Helper()
	r, err := gemeente.New([]gemeente.Gemeente{
		{Code: "GM0402", Naam: "Hilversum", Inwoners: map[int]int64{2026: 90_000}},
		{Code: "GM1942", Naam: "Gooise Meren", Inwoners: map[int]int64{2026: 58_000}},
		{Code: "GM0406", Naam: "Huizen", Inwoners: map[int]int64{2026: 42_000}},
		{Code: "GM0457", Naam: "Weesp", Inwoners: map[int]int64{2021: 20_000}, GeldigTot: day(2022, 3, 24).Date(), Opvolger: "GM0363"},
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
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
