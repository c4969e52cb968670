package beleidsview

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestDoelen: each figure against its target or denominator, on the
// peildatum, live as from scratch; a later record replaces the earlier.
func TestDoelen(t *testing.T) {
	h := newHist(t)
	h.aanmelding("GM0402", "Rl", day(2025, 1, 5), bijstand).intake(day(2025, 1, 10), ontwikkel, 50).plaatsing(day(2025, 2, 1), lksBaan, 60)
	h.aanmelding("GM0402", "Rb", day(2025, 1, 5), ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK).intake(day(2025, 1, 10), ontwikkel, 30).plaatsing(day(2025, 3, 1), beschutWerk, 0)
	h.aanmelding("GM0402", "Rr", day(2025, 1, 5), ledgerv1.Doelgroep_DOELGROEP_BANENAFSPRAAK)
	reg := registry(t)
	k := NewKeeper(reg, "GM0402")
	today := day(2025, 12, 31)
	view := func(month int) *ledgerv1.Beleidsview {
		t.Helper()
		live, err := k.View(h.m, "GM0402", 2025, month, today, true)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Compute(h.m, reg, "GM0402", "GM0402", 2025, month, today)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(live, want) {
			t.Fatalf("keeper and compute differ:\n%v\n%v", live.GetDoelen(), want.GetDoelen())
		}
		return live
	}
	if got := view(0).GetDoelen(); got != nil {
		t.Fatalf("targets before any were recorded: %v", got)
	}
	record := func(d *ledgerv1.Doelen) {
		ev := &ledgerv1.Event{Payload: &ledgerv1.Event_Doelen{Doelen: d}}
		h.apply("GM0402", "", day(2025, 3, 1), h.id("dl"), ev)
		k.Changed(h.m, ev, nil)
	}
	record(&ledgerv1.Doelen{Gemeente: "GM0402", Jaar: 2025, LksNormVijftigProcent: 100})
	// Hilversum 2025: the LKS norm at 50% and 75% is 209 and 281.
	record(&ledgerv1.Doelen{Gemeente: "GM0402", Jaar: 2025, LksNormVijftigProcent: 209, LksNormVijfenzeventigProcent: 281, TaakstellingBeschut: 4, Bijstand: 1600, Doelgroepregister: 800})
	record(&ledgerv1.Doelen{Gemeente: "GM1942", Jaar: 2025, TaakstellingBeschut: 99}) // another gemeente's
	type row struct {
		naam, tegen string
		waarde      int64
		doel        int64
		pct         float64
	}
	want := []row{
		{"LKS-banen", "LKS-norm bij 50%", 1, 209, 0.5},
		{"LKS-banen", "LKS-norm bij 75%", 1, 281, 0.4},
		{"beschut werk", "taakstelling beschut werk", 1, 4, 25},
		{"bijstand in de caseload", "inwoners in de bijstand", 1, 1600, 0.1},
		{"banenafspraak in de caseload", "inwoners in het doelgroepregister", 1, 800, 0.1},
	}
	for _, month := range []int{0, 12} {
		got := view(month).GetDoelen()
		if len(got) != len(want) {
			t.Fatalf("month %d: %d rows, want %d: %v", month, len(got), len(want), got)
		}
		for i, w := range want {
			g := got[i]
			if g.GetNaam() != w.naam || g.GetTegen() != w.tegen || g.GetWaarde() != w.waarde || g.GetDoel() != w.doel || g.GetPercentage() != w.pct {
				t.Errorf("month %d row %d: %v, want %+v", month, i, g, w)
			}
		}
	}
	// In February, before the beschut-werk placement: 0 of 4.
	if feb := view(2).GetDoelen(); len(feb) != 5 || feb[2].GetWaarde() != 0 || feb[2].GetPercentage() != 0 {
		t.Errorf("February: %v", feb)
	}
}

// TestActivation: the residents in a placement of at least four hours a
// week, their share of the caseload, and the days from aanmelding to a
// case's first placement, counted in the period it started.
func TestActivation(t *testing.T) {
	h := newHist(t)
	place := func(c *kase, d int, minutes uint32) {
		c.h.apply(c.gm, c.id, day(2026, 3, d), c.h.id("pl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: wep, MinutenPerWeek: minutes}}})
	}
	a := h.aanmelding("GM0406", "Ra", day(2026, 1, 1), bijstand).intake(day(2026, 1, 10), ontwikkel, 50)
	place(a, 2, 28*60) // 60 days after its aanmelding
	b := h.aanmelding("GM0406", "Rb", day(2026, 2, 1), bijstand).intake(day(2026, 2, 10), ontwikkel, 50)
	place(b, 13, 2*60) // two hours: placed, not active four hours; 40 days
	place(b, 20, 4*60) // a second placement: not a first one
	h.aanmelding("GM0406", "Rc", day(2026, 2, 1), bijstand)
	reg := registry(t)
	for _, tc := range []struct {
		month         int
		active        int64
		pct           float64
		first         int64
		days          float64
		caseloadTotal int64
	}{
		{0, 2, 66.7, 2, 50, 3}, // the year: both first placements, (60 + 40) / 2
		{3, 2, 66.7, 2, 50, 3}, // March, where they started
		{2, 0, 0, 0, 0, 3},     // February: nobody placed yet
	} {
		v, err := Compute(h.m, reg, "GM0402", "GM0406", 2026, tc.month, day(2026, 12, 31))
		if err != nil {
			t.Fatal(err)
		}
		got := v.GetTotaal()
		if got.GetCaseload() != tc.caseloadTotal || got.GetActiefVierUur() != tc.active || got.GetActiefVierUurPercentage() != tc.pct ||
			got.GetEerstePlaatsingen() != tc.first || got.GetDagenTotEerstePlaatsing() != tc.days {
			t.Errorf("month %d: caseload %d, active %d (%.1f%%), first %d after %.1f days; want %d, %d (%.1f%%), %d after %.1f",
				tc.month, got.GetCaseload(), got.GetActiefVierUur(), got.GetActiefVierUurPercentage(), got.GetEerstePlaatsingen(), got.GetDagenTotEerstePlaatsing(),
				tc.caseloadTotal, tc.active, tc.pct, tc.first, tc.days)
		}
	}
}

// TestWswWorkforce: the Wsw employees on the peildatum in persons and in
// standaardeenheden (hours a week over 36), against the Rijksbijdrage per
// SE of the policy in force, to the cent; other doelgroepen and Wsw
// employees who left do not count; live as from scratch.
func TestWswWorkforce(t *testing.T) {
	h := newHist(t)
	place := func(c *kase, d region.Day, minutes uint32) {
		c.h.apply(c.gm, c.id, d, c.h.id("pl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_WSW_DIENSTVERBAND, MinutenPerWeek: minutes}}})
	}
	wsw := ledgerv1.Doelgroep_DOELGROEP_WSW
	policy := func(from region.Day, perSE int64) {
		h.apply("GM0406", "", from, h.id("bl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: &ledgerv1.Beleid{GeldigVanaf: from.Date(), WswCentPerSe: perSE}}})
	}
	policy(day(2026, 1, 1), 2_800_000) // € 28.000 per SE
	policy(day(2026, 7, 1), 2_900_000) // from July € 29.000
	a := h.aanmelding("GM0406", "Wa", day(2026, 1, 5), wsw).intake(day(2026, 1, 6), ontwikkel, 40)
	place(a, day(2026, 1, 7), 36*60) // full time: 1 SE
	b := h.aanmelding("GM0406", "Wb", day(2026, 1, 5), wsw).intake(day(2026, 1, 6), ontwikkel, 40)
	place(b, day(2026, 1, 7), 20*60)                   // 20 hours: 0.5556 SE
	h.aanmelding("GM0406", "Wc", day(2026, 1, 5), wsw) // not placed: a person, no SE
	h.aanmelding("GM0406", "Wd", day(2026, 1, 5), wsw).uitstroom(day(2026, 2, 27), ledgerv1.UitstroomReden_UITSTROOM_REDEN_PENSIOEN)
	x := h.aanmelding("GM0406", "Xb", day(2026, 1, 5), bijstand).intake(day(2026, 1, 6), ontwikkel, 40)
	place(x, day(2026, 1, 7), 36*60) // not Wsw
	// Wsw employees in a job that is not Wsw employment, and one whose
	// recorded hours exceed a full week: a person each, no SE beyond one.
	l := h.aanmelding("GM0406", "Wl", day(2026, 1, 5), wsw).intake(day(2026, 1, 6), ontwikkel, 40)
	l.h.apply(l.gm, l.id, day(2026, 1, 7), l.h.id("pl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: lksBaan, MinutenPerWeek: 36 * 60}}})
	o := h.aanmelding("GM0406", "Wo", day(2026, 1, 5), wsw).intake(day(2026, 1, 6), ontwikkel, 40)
	place(o, day(2026, 1, 7), 40*60)
	reg := registry(t)
	k := NewKeeper(reg, "GM0402")
	for _, tc := range []struct {
		month    int
		personen int64
		se       float64
		perSE    int64
		cent     int64
	}{
		// 2160 + 1200 + 2160 (Wo capped at one SE) = 5520 minutes a week;
		// 5520 × 2.800.000 / 2160 = 7.155.555,56 cents. Wl is a person, no SE.
		{3, 5, 2.56, 2_800_000, 7_155_556},
		{1, 6, 2.56, 2_800_000, 7_155_556}, // Wd has not left yet
		{0, 5, 2.56, 2_900_000, 7_411_111}, // the year: peildatum 31 December, July's policy
	} {
		want := keptAsComputed(t, k, h, reg, "GM0406", tc.month)
		got := want.GetTotaal().GetWsw()
		if got.GetPersonen() != tc.personen || got.GetStandaardeenheden() != tc.se || got.GetCentPerSe() != tc.perSE || got.GetRijksbijdrageCent() != tc.cent {
			t.Errorf("month %d: %v, want %d persons, %.2f SE, %d per SE, %d cents", tc.month, got, tc.personen, tc.se, tc.perSE, tc.cent)
		}
	}
}

// TestWerkgevers: active placements at a regular employer (by type, or a
// werkervaringsplek naming a KvK number) and inside the ontwikkelbedrijf,
// the distinct employers, and the detacheringen that became a contract:
// an LKS-baan at the same employer or an uitstroom to regular work, not an
// LKS-baan elsewhere; live as from scratch.
func TestWerkgevers(t *testing.T) {
	h := newHist(t)
	place := func(c *kase, d region.Day, typ ledgerv1.PlaatsingType, kvk string) {
		p := &ledgerv1.Plaatsing{Type: typ, WerkgeverKvk: kvk}
		if typ == ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING {
			p.GeplandeEinddatum = (d + 300).Date()
		}
		c.h.apply(c.gm, c.id, d, c.h.id("pl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: p}})
	}
	const det, lks = ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING, ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN
	started := func(r string) *kase {
		return h.aanmelding("GM0406", r, day(2026, 1, 5), bijstand).intake(day(2026, 1, 6), ontwikkel, 40)
	}
	a := started("Ra")
	place(a, day(2026, 2, 1), det, "12345678")
	place(a, day(2026, 4, 1), lks, "12345678") // hired where detached
	b := started("Rb")
	place(b, day(2026, 2, 1), det, "87654321")
	b.uitstroom(day(2026, 3, 15), ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK)
	c := started("Rc")
	place(c, day(2026, 2, 1), det, "11112222")
	place(c, day(2026, 5, 1), lks, "33334444") // an LKS job elsewhere
	place(started("Rd"), day(2026, 2, 1), beschutWerk, "")
	place(started("Re"), day(2026, 2, 1), wep, "")
	place(started("Rf"), day(2026, 2, 1), wep, "12345678")
	reg := registry(t)
	k := NewKeeper(reg, "GM0402")
	for _, tc := range []struct {
		month                  int
		bij, binnen, employers int64
		contract               int64
	}{
		{0, 3, 2, 2, 2},
		{3, 3, 2, 2, 1}, // on 31 March a and c detached, f; b left on the 15th, to regular work
		{4, 3, 2, 2, 1},
	} {
		want := keptAsComputed(t, k, h, reg, "GM0406", tc.month)
		got := want.GetTotaal()
		var contract int64
		for _, p := range got.GetPlaatsingen() {
			contract += p.GetNaarContract()
			if p.GetNaarContract() != 0 && p.GetSoort() != "detachering" {
				t.Errorf("month %d: %s counts %d contracts", tc.month, p.GetSoort(), p.GetNaarContract())
			}
		}
		w := got.GetWerkgevers()
		if w.GetBijWerkgever() != tc.bij || w.GetBinnen() != tc.binnen || w.GetWerkgevers() != tc.employers || contract != tc.contract {
			t.Errorf("month %d: %v, %d to a contract; want %d at an employer, %d inside, %d employers, %d contracts", tc.month, w, contract, tc.bij, tc.binnen, tc.employers, tc.contract)
		}
	}
}

// TestLadder: an intake after the first that sets a higher trede is a
// move up, a lower one a move down, the same trede none; counted in the
// month it happened, a year as the sum; live as from scratch.
func TestLadder(t *testing.T) {
	h := newHist(t)
	const (
		beschut       = ledgerv1.Trede_TREDE_BESCHUT
		ondersteuning = ledgerv1.Trede_TREDE_BEMIDDELBAAR_MET_ONDERSTEUNING
	)
	a := h.aanmelding("GM0406", "La", day(2026, 1, 5), bijstand).intake(day(2026, 1, 6), ontwikkel, 40)
	a.intake(day(2026, 2, 10), ondersteuning, 50) // up
	a.intake(day(2026, 5, 3), beschut, 30)        // down
	b := h.aanmelding("GM0406", "Lb", day(2026, 1, 5), bijstand).intake(day(2026, 1, 6), ontwikkel, 40)
	b.intake(day(2026, 2, 20), ontwikkel, 45)    // the same trede: no move
	b.intake(day(2026, 3, 1), ondersteuning, 45) // up
	reg := registry(t)
	k := NewKeeper(reg, "GM0402")
	for _, tc := range []struct {
		month    int
		up, down int64
	}{{1, 0, 0}, {2, 1, 0}, {3, 1, 0}, {5, 0, 1}, {0, 2, 1}} {
		want := keptAsComputed(t, k, h, reg, "GM0406", tc.month)
		if got := want.GetTotaal(); got.GetTredeOmhoog() != tc.up || got.GetTredeOmlaag() != tc.down {
			t.Errorf("month %d: %d up, %d down; want %d, %d", tc.month, got.GetTredeOmhoog(), got.GetTredeOmlaag(), tc.up, tc.down)
		}
	}
}

// keptAsComputed is gemeente gm's 2026 view (month 0: the year) as of 31
// December, from the Keeper, which must equal the one Compute makes from
// scratch.
func keptAsComputed(t *testing.T, k *Keeper, h *hist, reg *gemeente.Registry, gm string, month int) *ledgerv1.Beleidsview {
	t.Helper()
	want, err := Compute(h.m, reg, "GM0402", gm, 2026, month, day(2026, 12, 31))
	if err != nil {
		t.Fatal(err)
	}
	live, err := k.View(h.m, gm, 2026, month, day(2026, 12, 31), true)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(live, want) {
		t.Fatalf("month %d: keeper and compute differ:\n%v\n%v", month, live.GetTotaal(), want.GetTotaal())
	}
	return want
}
