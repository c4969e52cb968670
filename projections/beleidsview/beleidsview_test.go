package beleidsview

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Enum values used in the scenarios, short.
const (
	bijstand    = ledgerv1.Doelgroep_DOELGROEP_BIJSTAND
	beschutDG   = ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK
	wswDG       = ledgerv1.Doelgroep_DOELGROEP_WSW
	uwv         = ledgerv1.Doelgroep_DOELGROEP_UWV
	beschut     = ledgerv1.Trede_TREDE_BESCHUT
	ontwikkel   = ledgerv1.Trede_TREDE_ONTWIKKELBAAR
	metOnderst  = ledgerv1.Trede_TREDE_BEMIDDELBAAR_MET_ONDERSTEUNING
	direct      = ledgerv1.Trede_TREDE_DIRECT_BEMIDDELBAAR
	beschutWerk = ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK
	detachering = ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING
	lksBaan     = ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN
	wep         = ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK
	dagbest     = ledgerv1.PlaatsingType_PLAATSING_TYPE_DAGBESTEDING
	regulier    = ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK
	onderwijs   = ledgerv1.UitstroomReden_UITSTROOM_REDEN_ONDERWIJS

	buig          = ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG
	participatie  = ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET
	integratieWsw = ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT
)

// check is one expectation: the summary of gemeente gm's view of year (and
// month, 0 for the year) as of today; maand > 0 picks that month of a year
// view's per_maand instead of its totaal.
type check struct {
	gm          string
	year, month int
	today       region.Day
	maand       int
	want        string
}

func TestFigures(t *testing.T) {
	tests := []struct {
		name   string
		build  func(h *hist)
		checks []check
	}{
		{
			name: "caseload by trede and doelgroep, instroom and uitstroom by reason",
			build: func(h *hist) {
				h.aanmelding("GM0402", "R1", day(2026, 1, 5), bijstand).intake(day(2026, 1, 20), beschut, 40)
				h.aanmelding("GM0402", "R2", day(2026, 1, 10), beschutDG) // no intake: trede onbekend
				h.aanmelding("GM0402", "R3", day(2026, 1, 15), wswDG).intake(day(2026, 1, 16), direct, 80).uitstroom(day(2026, 1, 31), regulier)
				h.aanmelding("GM0402", "R4", day(2026, 2, 1), bijstand).intake(day(2026, 2, 3), ontwikkel, 0)
				h.aanmelding("GM1942", "R5", day(2026, 1, 7), uwv)
			},
			checks: []check{
				// R3 left on 31 January: not in the caseload of that day.
				{gm: "GM0402", year: 2026, month: 1, today: day(2026, 6, 30), want: `
					caseload 2 | trede beschut 1, onbekend 1 | doelgroep beschut-werk 1, bijstand 1
					in aanmelding 3 | uit regulier-werk 1
					lw 40.0 n1 dev 0.0 | R1 40→40
					lks 0/0 0.0%`},
				{gm: "GM0402", year: 2026, today: day(2026, 6, 30), maand: 1, want: `
					caseload 2 | trede beschut 1, onbekend 1 | doelgroep beschut-werk 1, bijstand 1
					in aanmelding 3 | uit regulier-werk 1
					lw 40.0 n1 dev 0.0 | R1 40→40
					lks 0/0 0.0%`},
				// R4's intake measured no loonwaarde: counted, not measured.
				{gm: "GM0402", year: 2026, month: 2, today: day(2026, 6, 30), want: `
					caseload 3 | trede beschut 1, ontwikkelbaar 1, onbekend 1 | doelgroep beschut-werk 1, bijstand 2
					in aanmelding 1 | uit -
					lw 40.0 n1 dev 0.0 | R1 40→40
					lks 0/0 0.0%`},
				{gm: "GM0402", year: 2026, today: day(2026, 6, 30), want: `
					caseload 3 | trede beschut 1, ontwikkelbaar 1, onbekend 1 | doelgroep beschut-werk 1, bijstand 2
					in aanmelding 4 | uit regulier-werk 1
					lw 40.0 n1 dev 0.0 | R1 40→40
					lks 0/0 0.0%`},
				{gm: "GM1942", year: 2026, month: 1, today: day(2026, 6, 30), want: `
					caseload 1 | trede onbekend 1 | doelgroep uwv 1
					in aanmelding 1 | uit -
					lw 0.0 n0 dev 0.0 |
					lks 0/0 0.0%`},
			},
		},
		{
			name: "verhuizing mid-month moves caseload, placement and loonwaarde",
			build: func(h *hist) {
				h.aanmelding("GM0402", "R7", day(2026, 1, 5), bijstand).
					intake(day(2026, 1, 10), beschut, 30).
					plaatsing(day(2026, 2, 1), beschutWerk, 35).
					verhuizing(day(2026, 3, 15), "GM1942").
					intake(day(2026, 4, 10), metOnderst, 45)
			},
			checks: []check{
				{gm: "GM0402", year: 2026, month: 2, today: day(2026, 4, 30), want: `
					caseload 1 | trede beschut 1 | doelgroep bijstand 1
					in - | uit -
					beschut-werk g1 b0 u0 v0 a1 0.0%
					lw 35.0 n1 dev 5.0 | R7 30→35
					lks 0/0 0.0%`},
				// The old gemeente: an uitstroom by verhuizing, nothing active.
				{gm: "GM0402", year: 2026, month: 3, today: day(2026, 4, 30), want: `
					caseload 0 | trede - | doelgroep -
					in - | uit verhuizing 1
					lw 0.0 n0 dev 0.0 |
					lks 0/0 0.0%`},
				// The new one: instroom by verhuizing; the placement runs on;
				// its first measurement is the snapshot it received, not the
				// intake done in Hilversum.
				{gm: "GM1942", year: 2026, month: 3, today: day(2026, 4, 30), want: `
					caseload 1 | trede beschut 1 | doelgroep bijstand 1
					in verhuizing 1 | uit -
					beschut-werk g0 b0 u0 v0 a1 0.0%
					lw 35.0 n1 dev 0.0 | R7 35→35
					lks 0/0 0.0%`},
				{gm: "GM1942", year: 2026, today: day(2026, 4, 30), want: `
					caseload 1 | trede bemiddelbaar-met-ondersteuning 1 | doelgroep bijstand 1
					in verhuizing 1 | uit -
					beschut-werk g0 b0 u0 v0 a1 0.0%
					lw 45.0 n1 dev 10.0 | R7 35→45
					lks 0/0 0.0%`},
				{gm: "GM0402", year: 2026, today: day(2026, 4, 30), want: `
					caseload 0 | trede - | doelgroep -
					in aanmelding 1 | uit verhuizing 1
					beschut-werk g1 b0 u0 v0 a0 0.0%
					lw 0.0 n0 dev 0.0 |
					lks 0/0 0.0%`},
				// As of the day before the move, the case is still Hilversum's
				// and the move is nowhere.
				{gm: "GM0402", year: 2026, month: 3, today: day(2026, 3, 14), want: `
					caseload 1 | trede beschut 1 | doelgroep bijstand 1
					in - | uit -
					beschut-werk g0 b0 u0 v0 a1 0.0%
					lw 35.0 n1 dev 5.0 | R7 30→35
					lks 0/0 0.0%`},
				{gm: "GM1942", year: 2026, month: 3, today: day(2026, 3, 14), want: `
					caseload 0 | trede - | doelgroep -
					in - | uit -
					lw 0.0 n0 dev 0.0 |
					lks 0/0 0.0%`},
				// From the day of the move it is Gooise Meren's.
				{gm: "GM1942", year: 2026, month: 3, today: day(2026, 3, 15), want: `
					caseload 1 | trede beschut 1 | doelgroep bijstand 1
					in verhuizing 1 | uit -
					beschut-werk g0 b0 u0 v0 a1 0.0%
					lw 35.0 n1 dev 0.0 | R7 35→35
					lks 0/0 0.0%`},
			},
		},
		{
			name: "placements started, ended, uitval, terugval op vangnet; LKS against the norm",
			build: func(h *hist) {
				h.policy("GM0406", pol{from: day(2026, 1, 1), norm: 4})
				h.policy("GM0406", pol{from: day(2026, 10, 1), norm: 3})
				h.aanmelding("GM0406", "Ra", day(2026, 1, 5), bijstand).intake(day(2026, 1, 10), ontwikkel, 50).
					plaatsing(day(2026, 3, 1), wep, 0).uitval(day(2026, 5, 1))
				h.aanmelding("GM0406", "Rb", day(2026, 1, 5), bijstand).intake(day(2026, 1, 10), ontwikkel, 50).
					plaatsing(day(2026, 3, 10), wep, 0).vangnet(day(2026, 6, 1), wep)
				h.aanmelding("GM0406", "Rc", day(2026, 1, 5), bijstand).intake(day(2026, 1, 10), ontwikkel, 50).
					plaatsing(day(2026, 4, 1), wep, 0).plaatsing(day(2026, 7, 1), lksBaan, 60)
				h.aanmelding("GM0406", "Rd", day(2026, 1, 5), bijstand).intake(day(2026, 1, 10), ontwikkel, 50).
					plaatsing(day(2026, 2, 1), detachering, 0).uitstroom(day(2026, 8, 1), regulier)
			},
			checks: []check{
				{gm: "GM0406", year: 2026, today: day(2026, 12, 31), want: `
					caseload 3 | trede ontwikkelbaar 3 | doelgroep bijstand 3
					in aanmelding 4 | uit regulier-werk 1
					detachering g1 b1 u0 v0 a0 0.0%
					lks-baan g1 b0 u0 v0 a1 0.0%
					werkervaringsplek g3 b3 u1 v1 a0 33.3%
					vangnet g1 b0 u0 v0 a1 0.0%
					lw 53.3 n3 dev 10.0 | Ra 50→50 Rb 50→50 Rc 50→60
					lks 1/3 33.3%`},
				{gm: "GM0406", year: 2026, month: 5, today: day(2026, 12, 31), want: `
					caseload 4 | trede ontwikkelbaar 4 | doelgroep bijstand 4
					in - | uit -
					detachering g0 b0 u0 v0 a1 0.0%
					werkervaringsplek g0 b1 u1 v0 a2 100.0%
					lw 50.0 n4 dev 0.0 | Ra 50→50 Rb 50→50 Rc 50→50 Rd 50→50
					lks 0/4 0.0%`},
				{gm: "GM0406", year: 2026, today: day(2026, 12, 31), maand: 6, want: `
					caseload 4 | trede ontwikkelbaar 4 | doelgroep bijstand 4
					in - | uit -
					detachering g0 b0 u0 v0 a1 0.0%
					werkervaringsplek g0 b1 u0 v1 a1 0.0%
					vangnet g1 b0 u0 v0 a1 0.0%
					lw 50.0 n4 dev 0.0 | Ra 50→50 Rb 50→50 Rc 50→50 Rd 50→50
					lks 0/4 0.0%`},
				// The norm of the version in force on each peildatum.
				{gm: "GM0406", year: 2026, month: 9, today: day(2026, 12, 31), want: `
					caseload 3 | trede ontwikkelbaar 3 | doelgroep bijstand 3
					in - | uit -
					lks-baan g0 b0 u0 v0 a1 0.0%
					vangnet g0 b0 u0 v0 a1 0.0%
					lw 53.3 n3 dev 10.0 | Ra 50→50 Rb 50→50 Rc 50→60
					lks 1/4 25.0%`},
			},
		},
		{
			// The uitval is recorded by the new gemeente on the day of the
			// move, but the placement's last active day was the old one's.
			name: "a placement ending on the day of a verhuizing ended in the old gemeente",
			build: func(h *hist) {
				h.aanmelding("GM0406", "Rm", day(2026, 1, 5), bijstand).intake(day(2026, 1, 10), ontwikkel, 50).
					plaatsing(day(2026, 2, 1), wep, 0).verhuizing(day(2026, 6, 1), "GM1942").uitval(day(2026, 6, 1))
			},
			checks: []check{
				{gm: "GM0406", year: 2026, month: 6, today: day(2026, 6, 30), want: `
					caseload 0 | trede - | doelgroep -
					in - | uit verhuizing 1
					werkervaringsplek g0 b1 u1 v0 a0 100.0%
					lw 0.0 n0 dev 0.0 |
					lks 0/0 0.0%`},
				{gm: "GM1942", year: 2026, month: 6, today: day(2026, 6, 30), want: `
					caseload 1 | trede ontwikkelbaar 1 | doelgroep bijstand 1
					in verhuizing 1 | uit -
					lw 50.0 n1 dev 0.0 | Rm 50→50
					lks 0/0 0.0%`},
			},
		},
		{
			name: "running year: peildatum is today, nothing after it counts",
			build: func(h *hist) {
				// Recorded as of a later day: the view as of 20 May must not
				// see the uitstroom of 1 June.
				h.aanmelding("GM0402", "Rx", day(2026, 5, 10), bijstand).intake(day(2026, 5, 12), beschut, 20).
					plaatsing(day(2026, 5, 15), beschutWerk, 0).uitstroom(day(2026, 6, 1), onderwijs)
			},
			checks: []check{
				{gm: "GM0402", year: 2026, today: day(2026, 5, 20), want: `
					caseload 1 | trede beschut 1 | doelgroep bijstand 1
					in aanmelding 1 | uit -
					beschut-werk g1 b0 u0 v0 a1 0.0%
					lw 20.0 n1 dev 0.0 | Rx 20→20
					lks 0/0 0.0%`},
				{gm: "GM0402", year: 2026, today: day(2026, 6, 1), maand: 6, want: `
					caseload 0 | trede - | doelgroep -
					in - | uit onderwijs 1
					beschut-werk g0 b1 u0 v0 a0 0.0%
					lw 0.0 n0 dev 0.0 |
					lks 0/0 0.0%`},
			},
		},
	}
	reg := registry(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHist(t)
			tc.build(h)
			for _, c := range tc.checks {
				v, err := Compute(h.m, reg, "GM0402", c.gm, c.year, c.month, c.today)
				if err != nil {
					t.Fatal(err)
				}
				p := v.GetTotaal()
				if c.maand > 0 {
					if c.month != 0 || len(v.GetPerMaand()) < c.maand {
						t.Fatalf("%s %d: no month %d in %d months", c.gm, c.year, c.maand, len(v.GetPerMaand()))
					}
					p = v.GetPerMaand()[c.maand-1]
				}
				if got, want := summary(p), lines(c.want); got != want {
					t.Errorf("%s %s (month %d) as of %s:\ngot:\n%s\nwant:\n%s", c.gm, v.GetPeriode(), c.maand, c.today, got, want)
				}
				// A month view and the year view's month agree.
				if c.month > 0 {
					y, err := Compute(h.m, reg, "GM0402", c.gm, c.year, 0, c.today)
					if err != nil {
						t.Fatal(err)
					}
					if ym := y.GetPerMaand()[c.month-1]; !proto.Equal(ym, v.GetTotaal()) {
						t.Errorf("%s %s: month view and year view's month differ:\n%s\n%s", c.gm, v.GetPeriode(), summary(v.GetTotaal()), summary(ym))
					}
				}
			}
		})
	}
}

func TestPeriods(t *testing.T) {
	h := newHist(t)
	reg := registry(t)
	v, err := Compute(h.m, reg, "", "GM0402", 2026, 0, day(2026, 5, 20))
	if err != nil {
		t.Fatal(err)
	}
	if v.GetPeriode() != "2026" || v.GetNaam() != "Hilversum" || !proto.Equal(v.GetPeildatum(), day(2026, 5, 20).Date()) {
		t.Errorf("view %s %s peildatum %v", v.GetPeriode(), v.GetNaam(), v.GetPeildatum())
	}
	months := v.GetPerMaand()
	if len(months) != 5 {
		t.Fatalf("%d months up to 20 May, want 5", len(months))
	}
	if months[0].GetPeriode() != "2026-01" || !proto.Equal(months[0].GetPeildatum(), day(2026, 1, 31).Date()) ||
		months[1].GetPeriode() != "2026-02" || !proto.Equal(months[1].GetPeildatum(), day(2026, 2, 28).Date()) ||
		months[4].GetPeriode() != "2026-05" || !proto.Equal(months[4].GetPeildatum(), day(2026, 5, 20).Date()) {
		t.Errorf("months %v", months)
	}
	mv, err := Compute(h.m, reg, "", "GM0402", 2024, 2, day(2026, 5, 20))
	if err != nil {
		t.Fatal(err)
	}
	if mv.GetPeriode() != "2024-02" || !proto.Equal(mv.GetPeildatum(), day(2024, 2, 29).Date()) || len(mv.GetPerMaand()) != 0 {
		t.Errorf("month view %s peildatum %v, %d months", mv.GetPeriode(), mv.GetPeildatum(), len(mv.GetPerMaand()))
	}

	for _, bad := range []struct {
		gm          string
		year, month int
		want        error
	}{
		{"GM0402", 2026, 13, ErrPeriode},
		{"GM0402", 2026, -1, ErrPeriode},
		{"GM0402", 2026, 6, ErrPeriode}, // starts after today
		{"GM0402", 2027, 0, ErrPeriode}, // starts after today
		{"GM9999", 2026, 0, gemeente.ErrUnknownGemeente},
	} {
		if _, err := Compute(h.m, reg, "", bad.gm, bad.year, bad.month, day(2026, 5, 20)); !errors.Is(err, bad.want) {
			t.Errorf("%s %d-%d: err %v, want %v", bad.gm, bad.year, bad.month, err, bad.want)
		}
	}
}

// costScenario: Hilversum buys beschut werk (IU Wsw/beschut), LKS (BUIG)
// and jobcoaching (Participatiebudget), not dagbesteding; shared costs are
// divided by inhabitants.
func costScenario(t *testing.T) *hist {
	h := newHist(t)
	h.policy("GM0402", pol{
		from: day(2026, 1, 1),
		jaar: map[string]int64{"beschut-werk": 12_000_00, "lks-baan": 3_650_00},
		uur:  map[string]int64{"jobcoaching": 60_00},
		year: 2026, budgets: map[ledgerv1.Budgetstroom]int64{buig: 10_000_00, participatie: 20_000_00, integratieWsw: 50_000_00},
		norm: 2,
	})
	h.key(2026, ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS)
	h.aanmelding("GM0402", "R1", day(2025, 12, 1), beschutDG).intake(day(2025, 12, 10), beschut, 30).
		plaatsing(day(2026, 1, 1), beschutWerk, 0).
		uren(day(2026, 2, 1), day(2026, 2, 28), "jobcoaching", 90)
	h.aanmelding("GM0402", "R2", day(2026, 1, 1), bijstand).intake(day(2026, 1, 2), beschut, 0).
		plaatsing(day(2026, 3, 1), dagbest, 0) // not bought: unpriced days
	h.aanmelding("GM1942", "R3", day(2025, 12, 1), bijstand).intake(day(2025, 12, 2), beschut, 0).
		plaatsing(day(2026, 1, 1), beschutWerk, 0) // Gooise Meren has no policy: unpriced
	h.booking(day(2026, 1, 1), day(2026, 3, 31), 10_000_00, participatie)
	return h
}

type post struct {
	stroom                                 ledgerv1.Budgetstroom
	taakveld                               string
	direct, gedeeld, totaal, budget, progn int64
	ongeprijsd                             int64
}

func posts(v *ledgerv1.Beleidsview) []post {
	var out []post
	for _, k := range append(v.GetKosten(), v.GetKostenTotaal()) {
		out = append(out, post{k.GetBudgetstroom(), k.GetTaakveld(), k.GetDirectCent(), k.GetGedeeldCent(), k.GetTotaalCent(), k.GetBudgetCent(), k.GetPrognoseCent(), k.GetOngeprijsdeDagen()})
	}
	return out
}

func TestCosts(t *testing.T) {
	h := costScenario(t)
	reg := registry(t)
	// Hand-computed, all as of 31 March 2026 (day 90 of 365):
	//   beschut werk 12,000.00/year: January round(1,200,000×31/365) = 101,918;
	//     February round(1,200,000×28/365) = 92,055; March 101,918; 295,891.
	//   jobcoaching 90 minutes at 60.00/hour: 9,000.
	//   shared 10,000.00 by inhabitants 90,000 : 58,000 : 42,000 → Hilversum
	//     floor(473,684.2) = 473,684, Gooise Meren 305,263, Huizen 221,052 + the
	//     one cent left (largest remainder .63) = 221,053.
	//   dagbesteding not bought: March, 31 days unpriced.
	//   forecast: round(482,684×365/90) = 1,957,552; round(295,891×365/90) =
	//     1,200,002.
	tests := []struct {
		name  string
		gm    string
		month int
		today region.Day
		want  []post
	}{
		{"year view Hilversum", "GM0402", 0, day(2026, 3, 31), []post{
			{buig, "6.3", 0, 0, 0, 10_000_00, 0, 0},
			{participatie, "6.5", 9_000, 473_684, 482_684, 20_000_00, 1_957_552, 31},
			{integratieWsw, "6.4", 295_891, 0, 295_891, 50_000_00, 1_200_002, 0},
			{0, "", 304_891, 473_684, 778_575, 80_000_00, 3_157_554, 31},
		}},
		{"month view Hilversum: no forecast, the year's budget", "GM0402", 3, day(2026, 3, 31), []post{
			{buig, "6.3", 0, 0, 0, 10_000_00, 0, 0},
			{participatie, "6.5", 0, 473_684, 473_684, 20_000_00, 0, 31},
			{integratieWsw, "6.4", 101_918, 0, 101_918, 50_000_00, 0, 0},
			{0, "", 101_918, 473_684, 575_602, 80_000_00, 0, 31},
		}},
		// Up to today only: 15 March is day 15 of March, round(1,200,000×15/365)
		// = 49,315; the shared costs booked for the quarter end after today.
		{"running month Hilversum: nothing after today", "GM0402", 3, day(2026, 3, 15), []post{
			{buig, "6.3", 0, 0, 0, 10_000_00, 0, 0},
			{participatie, "6.5", 0, 0, 0, 20_000_00, 0, 15},
			{integratieWsw, "6.4", 49_315, 0, 49_315, 50_000_00, 0, 0},
			{0, "", 49_315, 0, 49_315, 80_000_00, 0, 15},
		}},
		{"Gooise Meren: its share, its own unpriced placement, no budget", "GM1942", 0, day(2026, 3, 31), []post{
			{participatie, "6.5", 0, 305_263, 305_263, 0, 1_238_011, 0},
			{integratieWsw, "6.4", 0, 0, 0, 0, 0, 90},
			{0, "", 0, 305_263, 305_263, 0, 1_238_011, 90},
		}},
		{"Huizen: only its share", "GM0406", 0, day(2026, 3, 31), []post{
			{participatie, "6.5", 0, 221_053, 221_053, 0, 896_493, 0},
			{0, "", 0, 221_053, 221_053, 0, 896_493, 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			today := tc.today
			v, err := Compute(h.m, reg, "GM0402", tc.gm, 2026, tc.month, today)
			if err != nil {
				t.Fatal(err)
			}
			got := posts(v)
			if len(got) != len(tc.want) {
				t.Fatalf("posts:\n%+v\nwant\n%+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("post %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
			// The posts add up to the cost lines of the period.
			from := region.YearStart(2026)
			if tc.month > 0 {
				from = region.MonthStart(2026, 3)
			}
			ls, err := costs.Lines(h.m, reg, "GM0402", tc.gm, from, today+1)
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for _, l := range ls {
				sum += l.Cents
			}
			if v.GetKostenTotaal().GetTotaalCent() != sum {
				t.Errorf("posts total %d, cost lines %d", v.GetKostenTotaal().GetTotaalCent(), sum)
			}
		})
	}
}

func TestComputeAllMatchesCompute(t *testing.T) {
	h := costScenario(t)
	// Weesp left in 2022: no view of it for 2026.
	reg, err := gemeente.New(append(registry(t).All(), gemeente.Gemeente{Code: "GM0457", Naam: "Weesp", GeldigTot: day(2022, 3, 24).Date(), Opvolger: "GM0363"}))
	if err != nil {
		t.Fatal(err)
	}
	all, err := ComputeAll(h.m, reg, "GM0402", 2026, 0, day(2026, 3, 31))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].GetGemeente() != "GM0402" || all[1].GetGemeente() != "GM0406" || all[2].GetGemeente() != "GM1942" {
		t.Fatalf("views of %v, want GM0402, GM0406, GM1942", all)
	}
	for _, v := range all {
		one, err := Compute(h.m, reg, "GM0402", v.GetGemeente(), 2026, 0, day(2026, 3, 31))
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(one, v) {
			t.Errorf("%s: ComputeAll and Compute differ", v.GetGemeente())
		}
	}
}

// TestLKSInEuros: the beleidsview shows the loonkostensubsidie of the
// period beside the count of LKS placements, and it is on the BUIG post.
func TestLKSInEuros(t *testing.T) {
	h := newHist(t)
	c := h.aanmelding("GM0406", "Rl", day(2026, 1, 5), bijstand).intake(day(2026, 1, 10), ontwikkel, 50)
	c.h.apply(c.gm, c.id, day(2026, 7, 1), c.h.id("pl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: lksBaan, LksCentPerMaand: 150_000}}})
	reg := registry(t)
	for _, tc := range []struct {
		month int
		cent  int64
	}{{0, 6 * 150_000}, {6, 0}, {9, 150_000}} {
		v, err := Compute(h.m, reg, "GM0402", "GM0406", 2026, tc.month, day(2026, 12, 31))
		if err != nil {
			t.Fatal(err)
		}
		if got := v.GetTotaal().GetLksCent(); got != tc.cent {
			t.Errorf("month %d: LKS %d cent, want %d", tc.month, got, tc.cent)
		}
		var buig int64
		for _, k := range v.GetKosten() {
			if k.GetBudgetstroom() == ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG && k.GetTaakveld() == "6.3" {
				buig += k.GetDirectCent()
			}
		}
		if buig != tc.cent {
			t.Errorf("month %d: BUIG 6.3 direct %d cent, want the subsidy %d", tc.month, buig, tc.cent)
		}
	}
}
