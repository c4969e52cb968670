package costs

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// nacalculatie records a revision of gm's policy from `from` on, at
// beschut-werk cent per year, recorded at 10:00 on day `on`.
func (h *hist) nacalculatie(gm string, from, on region.Day, cent int64) string {
	return h.nacalculatieFrom(gm, from, on, cent, ledgerv1.Budgetstroom_BUDGETSTROOM_UNSPECIFIED)
}

// nacalculatieFrom is nacalculatie paying beschut-werk from stroom (0: the
// catalogue's).
func (h *hist) nacalculatieFrom(gm string, from, on region.Day, cent int64, stroom ledgerv1.Budgetstroom) string {
	h.seq++
	id := h.id("nc")
	stream := "regio-" + gm
	ev := &ledgerv1.Event{
		Envelope: &ledgerv1.Envelope{EventId: id, Gemeente: gm, OccurredOn: on.Date(),
			RecordedAt: timestamppb.New(time.Date(on.Year(), on.Time().Month(), on.Time().Day(), 10, 0, 0, 0, clock.Location()))},
		Payload: &ledgerv1.Event_Beleid{Beleid: &ledgerv1.Beleid{
			GeldigVanaf:  from.Date(),
			Producten:    []*ledgerv1.ProductTarief{{Product: "beschut-werk", CentPerJaar: cent, Budgetstroom: stroom}},
			Nacalculatie: &ledgerv1.Nacalculatie{Reden: "GR-begroting vastgesteld", Besluit: "AB 2026-14"},
		}},
	}
	h.m.Apply(store.RecordedEvent{Position: store.Position{Commit: h.seq, Prepare: h.seq}, Revision: h.revs[stream]}, ev)
	h.revs[stream]++
	return id
}

func brief(ls []Line) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "%s %s %s %s..%s %dd %s %d\n", l.Kind, l.Month, l.Policy, l.From, l.To, l.Days, l.Product, l.Cents)
	}
	return b.String()
}

// TestNacalculatie: a revision of the year's tariff recorded on 15 April
// leaves every line priced up to that day as it was, prices from 16 April
// on, and settles January to April in afrekening lines, per month and
// product, that add up to the difference exactly. A report made before it
// is made again unchanged.
func TestNacalculatie(t *testing.T) {
	reg := registry(t)
	h := newHist()
	h.policy("GM0402", day(2026, 1, 1), tariffs{"beschut-werk": 1_200_000})
	c := h.aanmelding("GM0402", day(2026, 1, 1))
	c.intake(day(2026, 1, 1))
	c.plaatsing(day(2026, 1, 1), ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, "")
	// A placement of Gooise Meren, which has no nacalculatie: no
	// afrekening for it.
	o := h.aanmelding("GM1942", day(2026, 1, 1))
	o.intake(day(2026, 1, 1))
	o.plaatsing(day(2026, 1, 1), ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, "")
	h.policy("GM1942", day(2026, 1, 1), tariffs{"beschut-werk": 1_100_000})

	before, err := NewBook(h.m, reg, "GM0402", day(2026, 1, 1), day(2026, 4, 16))
	if err != nil {
		t.Fatal(err)
	}
	// 1.277.500 a year is 3.500 a day.
	nc := h.nacalculatie("GM0402", day(2026, 1, 1), day(2026, 4, 15), 1_277_500)
	after, err := NewBook(h.m, reg, "GM0402", day(2026, 1, 1), day(2026, 5, 1))
	if err != nil {
		t.Fatal(err)
	}

	want := `plaatsing 2026-01 GM0402/v1 2026-01-01..2026-01-31 31d beschut-werk 101918
plaatsing 2026-02 GM0402/v1 2026-02-01..2026-02-28 28d beschut-werk 92055
plaatsing 2026-03 GM0402/v1 2026-03-01..2026-03-31 31d beschut-werk 101918
plaatsing 2026-04 GM0402/v1 2026-04-01..2026-04-15 15d beschut-werk 49315
plaatsing 2026-04 GM0402/v2 2026-04-16..2026-04-30 15d beschut-werk 52500
afrekening 2026-01 GM0402/v2 2026-01-01..2026-01-31 31d beschut-werk 6582
afrekening 2026-02 GM0402/v2 2026-02-01..2026-02-28 28d beschut-werk 5945
afrekening 2026-03 GM0402/v2 2026-03-01..2026-03-31 31d beschut-werk 6582
afrekening 2026-04 GM0402/v2 2026-04-01..2026-04-30 30d beschut-werk 3185
`
	got := after.Lines("GM0402")
	if brief(got) != want {
		t.Fatalf("lines after the nacalculatie:\n%s\nwant:\n%s", brief(got), want)
	}
	// Settled: the afrekening adds up to what the year costs now less
	// what was priced. Now: 120 days at 3.500.
	var priced, settled int64
	for _, l := range got {
		if l.Kind == Afrekening {
			settled += l.Cents
			if !strings.Contains(l.Remark, "besluit AB 2026-14") || len(l.Events) != 1 || l.Events[0] != nc || l.PolicyEvent != nc {
				t.Errorf("afrekening %s names remark %q, events %v", l.Month, l.Remark, l.Events)
			}
		} else {
			priced += l.Cents
		}
	}
	if priced+settled != 120*3_500 || settled != 22_294 {
		t.Errorf("priced %d + settled %d, want 420.000 now and 22.294 settled", priced, settled)
	}
	// The lines known before stay as they were, to the cent.
	if b, a := brief(before.Lines("GM0402")), brief(got[:4]); b != a {
		t.Errorf("a report made before the nacalculatie changed:\nbefore:\n%s\nafter:\n%s", b, a)
	}
	// Gooise Meren is not touched.
	for _, l := range after.Lines("GM1942") {
		if l.Kind == Afrekening {
			t.Errorf("afrekening for a gemeente without nacalculatie: %+v", l)
		}
	}
	// Running gives the same lines and sums as the book.
	r := NewRunning(h.m, reg, "GM0402", day(2026, 1, 1), day(2026, 5, 1))
	for _, c := range h.m.Cases() {
		if err := r.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	rl, err := r.Lines("GM0402", NewDayCounts())
	if err != nil {
		t.Fatal(err)
	}
	if brief(rl) != want {
		t.Errorf("running lines:\n%s\nwant:\n%s", brief(rl), want)
	}
	sum := r.Direct("GM0402", "2026-01", "2026-12")[Post{ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT, "6.4"}]
	if sum.Cents != priced || sum.Afrekening != settled {
		t.Errorf("running sums %+v, want cents %d and afrekening %d", sum, priced, settled)
	}
	// Taking a case away takes its afrekening away.
	for _, c := range h.m.Cases() {
		if err := r.Remove(c); err != nil {
			t.Fatal(err)
		}
	}
	if s := r.Direct("GM0402", "2026-01", "2026-12"); len(s) != 0 {
		t.Errorf("after removing every case: %+v", s)
	}
}

// TestPricedTimeline is the table of which version prices a day directly.
func TestPricedTimeline(t *testing.T) {
	h := newHist()
	h.policy("GM0402", day(2026, 1, 1), tariffs{"beschut-werk": 1})
	h.policy("GM0402", day(2026, 7, 1), tariffs{"beschut-werk": 2})
	h.nacalculatie("GM0402", day(2026, 1, 1), day(2026, 3, 10), 3)
	h.nacalculatie("GM0402", day(2026, 2, 1), day(2026, 9, 30), 4)
	tl := newTimeline(h.m.Policy("GM0402"), true)
	now := newTimeline(h.m.Policy("GM0402"), false)
	for _, tc := range []struct {
		d             region.Day
		priced, today string
	}{
		{day(2026, 1, 15), "GM0402/v1", "GM0402/v3"},
		{day(2026, 3, 10), "GM0402/v1", "GM0402/v4"}, // the day it was recorded: priced already
		{day(2026, 3, 11), "GM0402/v3", "GM0402/v4"},
		{day(2026, 7, 1), "GM0402/v2", "GM0402/v2"}, // a later geldig_vanaf keeps its own period
		{day(2026, 2, 1), "GM0402/v1", "GM0402/v4"},
		{day(2026, 10, 1), "GM0402/v2", "GM0402/v2"},
	} {
		st, _ := tl.at(tc.d)
		sn, _ := now.at(tc.d)
		if st.ref != tc.priced || sn.ref != tc.today {
			t.Errorf("%s: priced by %s, now %s; want %s and %s", tc.d, st.ref, sn.ref, tc.priced, tc.today)
		}
	}
}

// TestNacalculatieMovesBudgetstroom: a nacalculatie that pays beschut werk
// from another budget stream takes the amount as priced off the old post
// and puts the amount now on the new one, and the cases settled one by one
// (Running) give the same posts as the gemeente settled at once (Book).
func TestNacalculatieMovesBudgetstroom(t *testing.T) {
	reg := registry(t)
	h := newHist()
	h.policy("GM0402", day(2026, 1, 1), tariffs{"beschut-werk": 1_200_000})
	a := h.aanmelding("GM0402", day(2026, 3, 1))
	a.intake(day(2026, 3, 1))
	a.plaatsing(day(2026, 3, 16), ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, "")
	b := h.aanmelding("GM0402", day(2026, 3, 1))
	b.intake(day(2026, 3, 1))
	b.plaatsing(day(2026, 3, 1), ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, "")
	b.uitval(day(2026, 3, 11))
	// From 15 March beschut werk is paid from the participatiebudget.
	h.nacalculatieFrom("GM0402", day(2026, 3, 15), day(2026, 4, 15), 1_277_500, ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET)

	book, err := NewBook(h.m, reg, "GM0402", day(2026, 1, 1), day(2026, 4, 1))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunning(h.m, reg, "GM0402", day(2026, 1, 1), day(2026, 4, 1))
	for _, c := range h.m.Cases() {
		if err := r.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	fromBook := map[Post]Sum{}
	for _, l := range book.Lines("GM0402") {
		k := Post{l.Budgetstroom, l.Taakveld}
		s := fromBook[k]
		s.Add(&l, 1)
		fromBook[k] = s
	}
	running := r.Direct("GM0402", "2026-01", "2026-12")
	wsw := Post{ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT, "6.4"}
	pb := Post{ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET, "6.5"}
	for _, k := range []Post{wsw, pb} {
		if fromBook[k] != running[k] {
			t.Errorf("post %v: book %+v, running %+v", k, fromBook[k], running[k])
		}
	}
	// A's 16 March days leave the old post and arrive on the new one at
	// the new tariff (16 days at 3.500); B's days before 15 March stay.
	if s := fromBook[wsw]; s.Cents+s.Afrekening != round(1_200_000*10, 365) {
		t.Errorf("old post now holds %d + %d, want only B's ten days", s.Cents, s.Afrekening)
	}
	if s := fromBook[pb]; s.Cents != 0 || s.Afrekening != 16*3_500 {
		t.Errorf("new post %+v, want A's 16 days at 3.500 settled", s)
	}
}

func round(num, den int64) int64 { return RoundHalfEven(num, den) }
