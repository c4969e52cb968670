package region

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// feed applies events as if stored one after another.
type feed struct {
	m    *Model
	seq  uint64
	revs map[string]uint64
}

func newFeed() *feed { return &feed{m: New(nil), revs: map[string]uint64{}} }

func (f *feed) add(gm, caseID string, d *ledgerv1.Date, ev *ledgerv1.Event) *ledgerv1.Event {
	f.seq++
	ev.Envelope = &ledgerv1.Envelope{EventId: uuid.NewString(), CaseId: caseID, Gemeente: gm, OccurredOn: d, RecordedAt: timestamppb.New(recordedAt)}
	stream := caseID
	if stream == "" {
		stream = gm
	}
	rev := f.revs[stream]
	f.revs[stream]++
	f.m.Apply(store.RecordedEvent{Position: store.Position{Commit: f.seq, Prepare: f.seq}, Revision: rev}, ev)
	return ev
}

func TestSpellsAndPlacements(t *testing.T) {
	f := newFeed()
	id := uuid.NewString()
	d := func(m time.Month, day int) *ledgerv1.Date { return event.YMD(2026, m, day) }
	f.add("GM0402", id, d(1, 5), &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: "R", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_WSW}}})
	f.add("GM0402", id, d(1, 6), &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_BESCHUT}}})
	pl := f.add("GM0402", id, d(2, 1), &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}})
	f.add("GM0402", id, d(3, 15), &ledgerv1.Event{Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{VanGemeente: "GM0402", NaarGemeente: "GM1942"}}})
	f.add("GM1942", id, d(3, 31), &ledgerv1.Event{Payload: &ledgerv1.Event_Uren{Uren: &ledgerv1.Uren{Product: "jobcoaching", Van: d(3, 1), Minuten: 600}}})
	vn := f.add("GM1942", id, d(4, 10), &ledgerv1.Event{Payload: &ledgerv1.Event_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{VangnetType: ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK}}})
	f.add("GM1942", id, d(5, 1), &ledgerv1.Event{Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK}}})

	c, ok := f.m.Case(id)
	if !ok {
		t.Fatal("case missing")
	}
	ps := c.Placements()
	if len(ps) != 2 {
		t.Fatalf("%d placements", len(ps))
	}
	first, second := ps[0], ps[1]
	if first.ID != pl.GetEnvelope().GetEventId() || first.Product != beleid.ProductBeschutWerk || first.Start != YMD(2026, 2, 1) || first.End != YMD(2026, 4, 10) || first.EndKind != "vangnet" || first.EndedBy != vn.GetEnvelope().GetEventId() {
		t.Errorf("first placement %+v", first)
	}
	if !second.Vangnet || second.Product != beleid.ProductVangnet || second.End != YMD(2026, 5, 1) || second.EndKind != "uitstroom" {
		t.Errorf("vangnet placement %+v", second)
	}
	if g := c.GemeenteOn(YMD(2026, 3, 14)); g != "GM0402" {
		t.Errorf("14 March responsible %s", g)
	}
	if g := c.GemeenteOn(YMD(2026, 3, 15)); g != "GM1942" {
		t.Errorf("15 March responsible %s", g)
	}
	// The placement is split by the verhuizing into two spells.
	var onFirst []Spell
	for _, s := range c.Spells() {
		if s.Placement == first {
			onFirst = append(onFirst, s)
		}
	}
	if len(onFirst) != 2 || onFirst[0].Gemeente != "GM0402" || onFirst[1].Gemeente != "GM1942" || onFirst[0].To != YMD(2026, 3, 15) {
		t.Errorf("spells of the first placement: %+v", onFirst)
	}
	h := c.Hours()
	if len(h) != 1 || h[0].Gemeente != "GM1942" || h[0].Minuten != 600 || h[0].Van != YMD(2026, 3, 1) || h[0].Tot != YMD(2026, 3, 31) {
		t.Errorf("hours %+v", h)
	}
	last := c.Spells()[len(c.Spells())-1]
	if last.To != Open || last.State.Open() {
		t.Errorf("last spell %+v, want the closed case from uitstroom on", last)
	}
}

func TestPolicyAndAgreements(t *testing.T) {
	f := newFeed()
	f.add("GM0402", "", event.YMD(2026, 1, 1), &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: &ledgerv1.Beleid{GeldigVanaf: event.YMD(2026, 1, 1)}}})
	f.add("GM0402", "", event.YMD(2026, 6, 1), &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: &ledgerv1.Beleid{GeldigVanaf: event.YMD(2026, 7, 1)}}})
	h := f.m.Policy("GM0402")
	if len(h) != 2 || h[1].Versie != 2 || h.InForce(event.YMD(2026, 6, 30)).Versie != 1 || h.InForce(event.YMD(2026, 7, 1)).Versie != 2 || h.InForce(event.YMD(2025, 12, 31)) != nil {
		t.Errorf("policy history %+v", h)
	}
	f.add("GM0402", "", event.YMD(2026, 1, 2), &ledgerv1.Event{Payload: &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: 2026, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS}}})
	f.add("GM0402", "", event.YMD(2026, 3, 2), &ledgerv1.Event{Payload: &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: 2026, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN}}})
	k, ok := f.m.Key(2026)
	if !ok || k.Versie != 2 || k.Methode != ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN || k.Ref() != "2026/v2" {
		t.Errorf("key %+v", k)
	}
	f.add("GM0402", "", event.YMD(2026, 3, 31), &ledgerv1.Event{Payload: &ledgerv1.Event_GedeeldeKosten{GedeeldeKosten: &ledgerv1.GedeeldeKosten{Van: event.YMD(2026, 1, 1), Cent: 100_000_00, Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET}}})
	b := f.m.Bookings()
	if len(b) != 1 || b[0].Van != YMD(2026, 1, 1) || b[0].Tot != YMD(2026, 3, 31) {
		t.Errorf("bookings %+v", b)
	}
	// The booking is divided by the key in force when it was booked, not by
	// one recorded later; a booking made before any key waits for one.
	f.add("GM0402", "", event.YMD(2026, 4, 2), &ledgerv1.Event{Payload: &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: 2026, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_PLAATSING_DAGEN}}})
	if k, _ := f.m.BookingKey(b[0]); k.Versie != 2 {
		t.Errorf("booking divided by key v%d, want v2 (in force when booked)", k.Versie)
	}
	f.add("GM0402", "", event.YMD(2027, 1, 31), &ledgerv1.Event{Payload: &ledgerv1.Event_GedeeldeKosten{GedeeldeKosten: &ledgerv1.GedeeldeKosten{Van: event.YMD(2027, 1, 1), Cent: 5, Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG}}})
	if _, ok := f.m.BookingKey(f.m.Bookings()[1]); ok {
		t.Error("a 2027 booking found a key before one was recorded")
	}
	f.add("GM0402", "", event.YMD(2027, 2, 1), &ledgerv1.Event{Payload: &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: 2027, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS}}})
	if k, ok := f.m.BookingKey(f.m.Bookings()[1]); !ok || k.Jaar != 2027 {
		t.Error("a booking made before any key is not divided by the key recorded later")
	}
	if DaysInYear(2024) != 366 || DaysInYear(2026) != 365 {
		t.Error("days in year")
	}
}

func TestDayOf(t *testing.T) {
	for d := time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2200; d = d.AddDate(0, 0, 1) {
		want := Day(d.Unix() / 86400)
		if got := DayOf(event.Date(d)); got != want {
			t.Fatalf("DayOf(%s) = %d, want %d", d.Format(time.DateOnly), got, want)
		}
		if got := want.Date(); event.CompareDates(got, event.Date(d)) != 0 {
			t.Fatalf("Day(%d).Date() = %v", want, got)
		}
	}
}

// recordedAt is when the test events were recorded: a fixed instant, not
// the machine's clock.
var recordedAt = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
