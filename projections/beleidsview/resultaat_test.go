package beleidsview

import (
	"testing"

	"google.golang.org/protobuf/proto"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

const (
	pb        = participatie
	wsw       = integratieWsw
	bedrijfsv = ledgerv1.Budgetstroom_BUDGETSTROOM_BEDRIJFSVOERING
)

// TestResultaat: the result per budget stream on the figures another
// ontwikkelbedrijf published for 2024, in euros (so in cents × 100).
func TestResultaat(t *testing.T) {
	const e = 100 // cents per euro
	income := map[ledgerv1.Budgetstroom]*ledgerv1.Inkomsten{
		buig:      {Budgetstroom: buig, Cent: 52_900_200 * e},
		wsw:       {Budgetstroom: wsw, Cent: 23_029_400 * e},
		pb:        {Budgetstroom: pb, Cent: 9_980_100 * e, CorrectieCent: 598_806 * e, CorrectieReden: "korting 5%"},
		bedrijfsv: {Budgetstroom: bedrijfsv, Cent: 11_098_200 * e},
	}
	// Costs as posts: BUIG over two taakvelden' worth of lines, the
	// bedrijfsvoering wholly shared.
	posts := []*ledgerv1.Kostenpost{
		{Budgetstroom: buig, Taakveld: "6.3", DirectCent: 48_000_000 * e, GedeeldCent: 991_200 * e, TotaalCent: 48_991_200 * e},
		{Budgetstroom: pb, Taakveld: "6.5", DirectCent: 6_768_000 * e, TotaalCent: 6_768_000 * e},
		{Budgetstroom: wsw, Taakveld: "6.4", DirectCent: 21_036_000 * e, TotaalCent: 21_036_000 * e},
		{Budgetstroom: bedrijfsv, Taakveld: "0.4", GedeeldCent: 17_372_000 * e, TotaalCent: 17_372_000 * e},
		{Budgetstroom: buig, Taakveld: "6.3", BudgetCent: 1}, // a budget without costs adds nothing
	}
	rows, total := resultaat(income, posts)
	want := map[ledgerv1.Budgetstroom]int64{buig: 3_909_000 * e, wsw: 1_993_400 * e, pb: 2_613_294 * e, bedrijfsv: -6_273_800 * e}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %v", len(rows), len(want), rows)
	}
	for _, r := range rows {
		if r.GetResultaatCent() != want[r.GetBudgetstroom()] {
			t.Errorf("%s: result %d, want %d", r.GetBudgetstroom(), r.GetResultaatCent()/e, want[r.GetBudgetstroom()]/e)
		}
		// A year that is over: its costs are the costs to year end.
		if r.GetPrognoseResultaatCent() != r.GetResultaatCent() {
			t.Errorf("%s: forecast %d ≠ result %d for a whole year", r.GetBudgetstroom(), r.GetPrognoseResultaatCent(), r.GetResultaatCent())
		}
	}
	if rows[0].GetBudgetstroom() != buig || rows[3].GetBudgetstroom() != bedrijfsv {
		t.Errorf("rows not in the order of the streams: %v", rows)
	}
	if total.GetResultaatCent() != 2_241_894*e || total.GetCorrectieCent() != 598_806*e || total.GetInkomstenCent() != (52_900_200+23_029_400+9_980_100-598_806+11_098_200)*e {
		t.Errorf("total %v", total)
	}
	if r, tot := resultaat(nil, nil); r != nil || tot != nil {
		t.Errorf("no income and no costs gave %v %v", r, tot)
	}
}

// TestResultaatFollowsIncome: income recorded for a gemeente reaches its
// year view, live (the Keeper) as from scratch, and replaces an earlier
// record of the same year and stream.
func TestResultaatFollowsIncome(t *testing.T) {
	h := newHist(t)
	h.policy("GM0406", pol{from: day(2026, 1, 1), jaar: map[string]int64{"beschut-werk": 1_200_000}})
	h.aanmelding("GM0406", "Ri", day(2026, 1, 5), bijstand).intake(day(2026, 1, 10), ontwikkel, 50).plaatsing(day(2026, 2, 1), ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, 0)
	reg := registry(t)
	today := day(2026, 12, 31)
	k := NewKeeper(reg, "GM0402")
	view := func() *ledgerv1.Beleidsview {
		t.Helper()
		live, err := k.View(h.m, "GM0406", 2026, 0, today, true)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Compute(h.m, reg, "GM0402", "GM0406", 2026, 0, today)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(live, want) {
			t.Fatalf("keeper and compute differ:\n%v\n%v", live.GetResultaat(), want.GetResultaat())
		}
		return live
	}
	before := view()
	if len(before.GetResultaat()) != 1 || before.GetResultaat()[0].GetInkomstenCent() != 0 || before.GetResultaat()[0].GetResultaatCent() >= 0 {
		t.Fatalf("costs without income: %v", before.GetResultaat())
	}
	costs := -before.GetResultaat()[0].GetResultaatCent()
	record := func(cent int64) {
		ev := &ledgerv1.Event{Payload: &ledgerv1.Event_Inkomsten{Inkomsten: &ledgerv1.Inkomsten{Gemeente: "GM0406", Jaar: 2026, Budgetstroom: wsw, Cent: cent}}}
		h.apply("GM0402", "", day(2026, 3, 1), h.id("ik"), ev)
		k.Changed(h.m, ev, nil)
	}
	record(50_000_000)
	record(60_000_000) // the septembercirculaire: replaces the first
	after := view()
	r := after.GetResultaat()
	if len(r) != 1 || r[0].GetInkomstenCent() != 60_000_000 || r[0].GetResultaatCent() != 60_000_000-costs {
		t.Errorf("after income: %v", r)
	}
	// Another gemeente's income is not GM0406's.
	ev := &ledgerv1.Event{Payload: &ledgerv1.Event_Inkomsten{Inkomsten: &ledgerv1.Inkomsten{Gemeente: "GM1942", Jaar: 2026, Budgetstroom: buig, Cent: 1}}}
	h.apply("GM0402", "", day(2026, 3, 2), h.id("ik"), ev)
	k.Changed(h.m, ev, nil)
	if got := view(); len(got.GetResultaat()) != 1 {
		t.Errorf("GM1942's income in GM0406's result: %v", got.GetResultaat())
	}
}
