package costs

import (
	"slices"
	"testing"

	"github.com/gooi-vechtstreek/ledger/projections/region"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// row is the part of a line the table checks; Events only when set.
type row struct {
	Kind             Kind
	Gemeente, Month  string
	Product, Policy  string
	From, To         region.Day
	Days, Minutes    int64
	Tariff, Cents    int64
	Remark           string
	Events           []string
	Budget, Taakveld string
}

func project(l Line, withEvents, withBudget bool) row {
	r := row{Kind: l.Kind, Gemeente: l.Gemeente, Month: l.Month, Product: l.Product, Policy: l.Policy,
		From: l.From, To: l.To, Days: l.Days, Minutes: l.Minutes, Tariff: l.Tariff, Cents: l.Cents, Remark: l.Remark}
	if withEvents {
		r.Events = l.Events
	}
	if withBudget {
		r.Budget, r.Taakveld = l.Budgetstroom.String(), l.Taakveld
	}
	return r
}

const (
	beschut = ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK
	wsw     = ledgerv1.PlaatsingType_PLAATSING_TYPE_WSW_DIENSTVERBAND
	detach  = ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING
)

// base is the policies most rows use, in force from 1 January 2026:
// Hilversum pays €12,000 a year for beschut werk and €8,000 for a vangnet
// place; Gooise Meren €11,000 for beschut werk and buys no vangnet. Huizen
// has no policy at all.
func base(h *hist) {
	h.policy("GM0402", day(2026, 1, 1), tariffs{"beschut-werk": 1_200_000, "vangnet": 800_000, "jobcoaching": 9_500})
	h.policy("GM1942", day(2026, 1, 1), tariffs{"beschut-werk": 1_100_000, "jobcoaching": 8_000})
}

// placed registers a case in gm on the first of the month before d, takes
// its intake and places it in beschut werk on d.
func placed(h *hist, gm string, d region.Day) *kase {
	c := h.aanmelding(gm, d-40)
	c.intake(d - 30)
	c.plaatsing(d, beschut, "")
	return c
}

func TestPlacementLines(t *testing.T) {
	march, april := day(2026, 3, 1), day(2026, 4, 1)
	const p, v = Plaatsing, "beschut-werk"
	tests := []struct {
		name     string
		build    func(h *hist)
		from, to region.Day
		want     []row // by gemeente code, then the book's order
	}{
		{
			name: "verhuizing mid-month: a line per gemeente, 14 + 17 = 31 days",
			build: func(h *hist) {
				c := placed(h, "GM0402", march)
				c.verhuizing(day(2026, 3, 15), "GM1942")
			},
			from: march, to: april,
			want: []row{
				// 1..14 March: 1_200_000 × 14 / 365 = 16_800_000 / 365 = 46_027.39 → 46_027
				{Kind: p, Gemeente: "GM0402", Month: "2026-03", Product: v, Policy: "GM0402/v1", From: march, To: day(2026, 3, 14), Days: 14, Tariff: 1_200_000, Cents: 46_027, Events: []string{"pl1", "mv1"}},
				// 15..31 March: 1_100_000 × 17 / 365 = 18_700_000 / 365 = 51_232.88 → 51_233
				{Kind: p, Gemeente: "GM1942", Month: "2026-03", Product: v, Policy: "GM1942/v1", From: day(2026, 3, 15), To: day(2026, 3, 31), Days: 17, Tariff: 1_100_000, Cents: 51_233, Events: []string{"pl1", "mv1"}},
			},
		},
		{
			name: "an intake during the placement splits a spell, not a line",
			build: func(h *hist) {
				c := placed(h, "GM0402", march)
				c.intake(day(2026, 3, 20))
			},
			from: march, to: april,
			want: []row{
				// 1_200_000 × 31 / 365 = 37_200_000 / 365 = 101_917.81 → 101_918
				{Kind: p, Gemeente: "GM0402", Month: "2026-03", Product: v, Policy: "GM0402/v1", From: march, To: day(2026, 3, 31), Days: 31, Tariff: 1_200_000, Cents: 101_918, Events: []string{"pl1"}},
			},
		},
		{
			name: "moved away and back within the month: one line per gemeente, days not contiguous",
			build: func(h *hist) {
				c := placed(h, "GM0402", march)
				c.verhuizing(day(2026, 3, 10), "GM1942")
				c.verhuizing(day(2026, 3, 20), "GM0402")
			},
			from: march, to: april,
			want: []row{
				// 1..9 and 20..31 March = 9 + 12 = 21 days: 25_200_000 / 365 = 69_041.10 → 69_041
				{Kind: p, Gemeente: "GM0402", Month: "2026-03", Product: v, Policy: "GM0402/v1", From: march, To: day(2026, 3, 31), Days: 21, Tariff: 1_200_000, Cents: 69_041, Events: []string{"pl1", "mv1", "mv2"}},
				// 10..19 March: 1_100_000 × 10 / 365 = 11_000_000 / 365 = 30_136.99 → 30_137
				{Kind: p, Gemeente: "GM1942", Month: "2026-03", Product: v, Policy: "GM1942/v1", From: day(2026, 3, 10), To: day(2026, 3, 19), Days: 10, Tariff: 1_100_000, Cents: 30_137, Events: []string{"pl1", "mv1", "mv2"}},
			},
		},
		{
			name: "policy change mid-placement: a line per version",
			build: func(h *hist) {
				h.policy("GM0402", day(2026, 3, 10), tariffs{"beschut-werk": 1_300_000})
				placed(h, "GM0402", march)
			},
			from: march, to: april,
			want: []row{
				// 1..9 March at v1: 1_200_000 × 9 / 365 = 10_800_000 / 365 = 29_589.04 → 29_589
				{Kind: p, Gemeente: "GM0402", Month: "2026-03", Product: v, Policy: "GM0402/v1", From: march, To: day(2026, 3, 9), Days: 9, Tariff: 1_200_000, Cents: 29_589},
				// 10..31 March at v2: 1_300_000 × 22 / 365 = 28_600_000 / 365 = 78_356.16 → 78_356
				{Kind: p, Gemeente: "GM0402", Month: "2026-03", Product: v, Policy: "GM0402/v2", From: day(2026, 3, 10), To: day(2026, 3, 31), Days: 22, Tariff: 1_300_000, Cents: 78_356},
			},
		},
		{
			name: "leap year: 29 February counted, 366 in the denominator",
			build: func(h *hist) {
				placed(h, "GM0402", day(2028, 2, 1))
			},
			from: day(2028, 2, 1), to: day(2028, 3, 1),
			want: []row{
				// 1_200_000 × 29 / 366 = 34_800_000 / 366 = 95_081.97 → 95_082
				{Kind: p, Gemeente: "GM0402", Month: "2028-02", Product: v, Policy: "GM0402/v1", From: day(2028, 2, 1), To: day(2028, 2, 29), Days: 29, Tariff: 1_200_000, Cents: 95_082},
			},
		},
		{
			name: "a placement across a year boundary: each month over its own year's days",
			build: func(h *hist) {
				placed(h, "GM0402", day(2027, 12, 20))
			},
			from: day(2027, 12, 1), to: day(2028, 2, 1),
			want: []row{
				// 20..31 December 2027: 1_200_000 × 12 / 365 = 14_400_000 / 365 = 39_452.05 → 39_452
				{Kind: p, Gemeente: "GM0402", Month: "2027-12", Product: v, Policy: "GM0402/v1", From: day(2027, 12, 20), To: day(2027, 12, 31), Days: 12, Tariff: 1_200_000, Cents: 39_452},
				// January 2028: 1_200_000 × 31 / 366 = 37_200_000 / 366 = 101_639.34 → 101_639
				{Kind: p, Gemeente: "GM0402", Month: "2028-01", Product: v, Policy: "GM0402/v1", From: day(2028, 1, 1), To: day(2028, 1, 31), Days: 31, Tariff: 1_200_000, Cents: 101_639},
			},
		},
		{
			name: "ended by uitval: the day of the uitval is not charged",
			build: func(h *hist) {
				c := placed(h, "GM0402", march)
				c.uitval(day(2026, 3, 11))
			},
			from: march, to: april,
			want: []row{
				// 1..10 March: 1_200_000 × 10 / 365 = 12_000_000 / 365 = 32_876.71 → 32_877
				{Kind: p, Gemeente: "GM0402", Month: "2026-03", Product: v, Policy: "GM0402/v1", From: march, To: day(2026, 3, 10), Days: 10, Tariff: 1_200_000, Cents: 32_877, Events: []string{"pl1", "uv1"}},
			},
		},
		{
			name: "ended by terugval op vangnet: the vangnet placement is priced as vangnet",
			build: func(h *hist) {
				c := placed(h, "GM0402", march)
				c.vangnet(day(2026, 3, 11))
			},
			from: march, to: april,
			want: []row{
				// as above: 32_877
				{Kind: p, Gemeente: "GM0402", Month: "2026-03", Product: v, Policy: "GM0402/v1", From: march, To: day(2026, 3, 10), Days: 10, Tariff: 1_200_000, Cents: 32_877, Events: []string{"pl1", "vn1"}},
				// 11..31 March: 800_000 × 21 / 365 = 16_800_000 / 365 = 46_027.40 → 46_027
				{Kind: p, Gemeente: "GM0402", Month: "2026-03", Product: "vangnet", Policy: "GM0402/v1", From: day(2026, 3, 11), To: day(2026, 3, 31), Days: 21, Tariff: 800_000, Cents: 46_027, Events: []string{"vn1"}},
			},
		},
		{
			name: "ended by the next plaatsing, of a product the gemeente does not buy",
			build: func(h *hist) {
				c := placed(h, "GM0402", march)
				c.plaatsing(day(2026, 3, 11), detach, "")
			},
			from: march, to: april,
			want: []row{
				{Kind: p, Gemeente: "GM0402", Month: "2026-03", Product: v, Policy: "GM0402/v1", From: march, To: day(2026, 3, 10), Days: 10, Tariff: 1_200_000, Cents: 32_877, Events: []string{"pl1", "pl2"}},
				// 21 days, not bought: 0 cents, the version named, the remark says why
				{Kind: p, Gemeente: "GM0402", Month: "2026-03", Product: "detachering", Policy: "GM0402/v1", From: day(2026, 3, 11), To: day(2026, 3, 31), Days: 21, Remark: RemarkNotBought, Events: []string{"pl2"}},
			},
		},
		{
			name: "no policy in force: the days still form a line",
			build: func(h *hist) {
				c := placed(h, "GM0406", march)
				c.uitstroom(day(2026, 3, 21))
			},
			from: march, to: april,
			want: []row{
				{Kind: p, Gemeente: "GM0406", Month: "2026-03", Product: v, From: march, To: day(2026, 3, 20), Days: 20, Remark: RemarkNoPolicy, Events: []string{"pl1", "us1"}},
			},
		},
		{
			name: "the first policy takes effect during the placement",
			build: func(h *hist) {
				placed(h, "GM1942", day(2025, 12, 20))
			},
			from: day(2025, 12, 1), to: day(2026, 2, 1),
			want: []row{
				{Kind: p, Gemeente: "GM1942", Month: "2025-12", Product: v, From: day(2025, 12, 20), To: day(2025, 12, 31), Days: 12, Remark: RemarkNoPolicy},
				// 1_100_000 × 31 / 365 = 34_100_000 / 365 = 93_424.66 → 93_425
				{Kind: p, Gemeente: "GM1942", Month: "2026-01", Product: v, Policy: "GM1942/v1", From: day(2026, 1, 1), To: day(2026, 1, 31), Days: 31, Tariff: 1_100_000, Cents: 93_425},
			},
		},
		{
			name: "exact halves round to the even cent",
			build: func(h *hist) {
				h.policy("GM0406", day(2028, 1, 1), tariffs{"beschut-werk": 549, "wsw": 183})
				a := placed(h, "GM0406", day(2028, 3, 1))
				a.uitval(day(2028, 3, 2))
				b := h.aanmelding("GM0406", day(2028, 1, 1))
				b.intake(day(2028, 1, 2))
				b.plaatsing(day(2028, 3, 1), wsw, "")
				b.uitval(day(2028, 3, 2))
			},
			from: day(2028, 3, 1), to: day(2028, 4, 1),
			want: []row{
				// 549 × 1 / 366 = 1.5 → 2
				{Kind: p, Gemeente: "GM0406", Month: "2028-03", Product: v, Policy: "GM0406/v1", From: day(2028, 3, 1), To: day(2028, 3, 1), Days: 1, Tariff: 549, Cents: 2},
				// 183 × 1 / 366 = 0.5 → 0
				{Kind: p, Gemeente: "GM0406", Month: "2028-03", Product: "wsw", Policy: "GM0406/v1", From: day(2028, 3, 1), To: day(2028, 3, 1), Days: 1, Tariff: 183, Cents: 0},
			},
		},
		{
			name: "a period that ends mid-month charges the days before its end only",
			build: func(h *hist) {
				placed(h, "GM0402", march)
			},
			from: day(2026, 3, 11), to: day(2026, 3, 21),
			want: []row{
				// 11..20 March: 12_000_000 / 365 → 32_877
				{Kind: p, Gemeente: "GM0402", Month: "2026-03", Product: v, Policy: "GM0402/v1", From: day(2026, 3, 11), To: day(2026, 3, 20), Days: 10, Tariff: 1_200_000, Cents: 32_877, Events: []string{"pl1"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bookRows(t, tt.build, tt.from, tt.to, Plaatsing, false)
			want := tt.want
			for i := range want {
				if want[i].Events == nil && i < len(got) {
					got[i].Events = nil
				}
			}
			if !slices.EqualFunc(got, want, rowEqual) {
				t.Errorf("lines:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// bookRows builds the history on the base policies and returns the lines
// of one kind of the book for [from, to), with their events.
func bookRows(t *testing.T, build func(*hist), from, to region.Day, kind Kind, withBudget bool) []row {
	t.Helper()
	h := newHist()
	base(h)
	build(h)
	b, err := NewBook(h.m, registry(t), "GM0402", from, to)
	if err != nil {
		t.Fatal(err)
	}
	var got []row
	for _, l := range b.All() {
		if l.Kind == kind {
			got = append(got, project(l, true, withBudget))
		}
	}
	return got
}

func rowEqual(a, b row) bool {
	return a.Kind == b.Kind && a.Gemeente == b.Gemeente && a.Month == b.Month && a.Product == b.Product && a.Policy == b.Policy &&
		a.From == b.From && a.To == b.To && a.Days == b.Days && a.Minutes == b.Minutes && a.Tariff == b.Tariff && a.Cents == b.Cents &&
		a.Remark == b.Remark && slices.Equal(a.Events, b.Events) && a.Budget == b.Budget && a.Taakveld == b.Taakveld
}

func TestHoursLines(t *testing.T) {
	h := newHist()
	base(h)
	// From 10 March Hilversum pays €100 an hour of jobcoaching instead of
	// €95; Gooise Meren €80.01 from 1 March.
	h.policy("GM0402", day(2026, 3, 10), tariffs{"beschut-werk": 1_200_000, "jobcoaching": 10_000})
	h.policy("GM1942", day(2026, 3, 1), tariffs{"jobcoaching": 8_001})
	c := h.aanmelding("GM0402", day(2026, 2, 1))
	c.intake(day(2026, 2, 2))
	c.uren(day(2026, 2, 20), day(2026, 3, 9), "jobcoaching", 90) // before the period: not in the book
	c.uren(day(2026, 3, 1), day(2026, 3, 12), "jobcoaching", 600)
	c.uren(day(2026, 3, 1), day(2026, 3, 12), "begeleiding", 60)
	c.verhuizing(day(2026, 3, 20), "GM1942")
	c.uren(day(2026, 3, 15), day(2026, 3, 31), "jobcoaching", 50)
	c.uren(day(2026, 3, 31), day(2026, 4, 1), "jobcoaching", 60) // after the period

	b, err := NewBook(h.m, registry(t), "GM0402", day(2026, 3, 10), day(2026, 4, 1))
	if err != nil {
		t.Fatal(err)
	}
	var got []row
	for _, l := range b.All() {
		got = append(got, project(l, true, true))
	}
	const u = Uren
	want := []row{
		// Tariff of the last day (12 March: v2, 10_000), not of the first
		// (v1, 9_500): 600 × 10_000 / 60 = 100_000
		{Kind: u, Gemeente: "GM0402", Month: "2026-03", Product: "jobcoaching", Policy: "GM0402/v2", From: day(2026, 3, 1), To: day(2026, 3, 12), Minutes: 600, Tariff: 10_000, Cents: 100_000, Events: []string{"ur2"}, Budget: "BUDGETSTROOM_PARTICIPATIEBUDGET", Taakveld: "6.5"},
		// Not bought: 0, remark, the catalogue's budget stream
		{Kind: u, Gemeente: "GM0402", Month: "2026-03", Product: "begeleiding", Policy: "GM0402/v2", From: day(2026, 3, 1), To: day(2026, 3, 12), Minutes: 60, Remark: RemarkNotBought, Events: []string{"ur3"}, Budget: "BUDGETSTROOM_PARTICIPATIEBUDGET", Taakveld: "6.5"},
		// Charged to the gemeente responsible on 31 March: 50 × 8_001 / 60 =
		// 400_050 / 60 = 6_667.5 → 6_668 (the even cent)
		{Kind: u, Gemeente: "GM1942", Month: "2026-03", Product: "jobcoaching", Policy: "GM1942/v2", From: day(2026, 3, 15), To: day(2026, 3, 31), Minutes: 50, Tariff: 8_001, Cents: 6_668, Events: []string{"ur4"}, Budget: "BUDGETSTROOM_PARTICIPATIEBUDGET", Taakveld: "6.5"},
	}
	if !slices.EqualFunc(got, want, rowEqual) {
		t.Errorf("lines:\n got %v\nwant %v", got, want)
	}
}

func TestBudgetAndTrace(t *testing.T) {
	h := newHist()
	pol := h.policy("GM0402", day(2026, 1, 1), tariffs{"beschut-werk": 1_200_000})
	// The policy may pay a product from another stream than the catalogue.
	h.apply("GM1942", "", day(2026, 1, 1), "bl-own", &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: &ledgerv1.Beleid{
		GeldigVanaf: day(2026, 1, 1).Date(),
		Producten:   []*ledgerv1.ProductTarief{{Product: "beschut-werk", CentPerJaar: 1_100_000, Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG}},
	}}})
	c := placed(h, "GM0402", day(2026, 3, 1))
	c.verhuizing(day(2026, 3, 15), "GM1942")
	lines, err := Lines(h.m, registry(t), "GM0402", "GM0402", day(2026, 3, 1), day(2026, 4, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 {
		t.Fatalf("%d lines for GM0402", len(lines))
	}
	l := lines[0]
	if l.Case != c.id || l.Placement != "pl1" || l.PolicyEvent != pol || l.Budgetstroom != ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT || l.Taakveld != "6.4" {
		t.Errorf("GM0402 line %+v", l)
	}
	other, err := Lines(h.m, registry(t), "GM0402", "GM1942", day(2026, 3, 1), day(2026, 4, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(other) != 1 || other[0].PolicyEvent != "bl-own" || other[0].Budgetstroom != ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG || other[0].Taakveld != "6.3" {
		t.Errorf("GM1942 lines %+v", other)
	}

	p := l.Proto()
	if p.GetSoort() != "plaatsing" || p.GetMaand() != "2026-03" || p.GetZaak() != c.id || p.GetBeleidsversie() != "GM0402/v1" ||
		p.GetVan().GetDay() != 1 || p.GetTotEnMet().GetDay() != 14 || p.GetDagen() != 14 || p.GetBedragCent() != 46_027 ||
		!slices.Equal(p.GetEvents(), []string{"pl1", "mv1"}) || p.GetTaakveld() != "6.4" {
		t.Errorf("proto %v", p)
	}
}

func TestOpenEndedPeriodRefused(t *testing.T) {
	h := newHist()
	placed(h, "GM0402", day(2026, 3, 1))
	if _, err := NewBook(h.m, registry(t), "GM0402", day(2026, 1, 1), region.Open); err == nil {
		t.Error("a book without an end would charge an open placement forever")
	}
	b, err := NewBook(h.m, registry(t), "GM0402", day(2026, 4, 1), day(2026, 4, 1))
	if err != nil || len(b.All()) != 0 {
		t.Errorf("empty period: %v, %v", b.All(), err)
	}
}

// lks places the case in an LKS job with a loonkostensubsidie of cents a
// month.
func (c *kase) lks(d region.Day, cents int64) string {
	return c.h.apply(c.gm, c.id, d, c.h.id("pl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{
		Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN, LksCentPerMaand: cents}}})
}

func TestLKSLines(t *testing.T) {
	jan, march, april := day(2026, 1, 1), day(2026, 3, 1), day(2026, 4, 1)
	const k, pr, buig, tv = LKS, ProductLKS, "BUDGETSTROOM_BUIG", "6.3"
	lksCase := func(h *hist, gm string, d region.Day, cents int64) *kase {
		c := h.aanmelding(gm, d-40)
		c.intake(d - 30)
		c.lks(d, cents)
		return c
	}
	tests := []struct {
		name     string
		build    func(h *hist)
		from, to region.Day
		want     []row
	}{
		{
			name:  "a whole month is the monthly amount",
			build: func(h *hist) { lksCase(h, "GM0402", day(2026, 2, 10), 150_000) },
			from:  march, to: april,
			want: []row{{Kind: k, Gemeente: "GM0402", Month: "2026-03", Product: pr, From: march, To: day(2026, 3, 31), Days: 31, Tariff: 150_000, Cents: 150_000,
				Events: []string{"pl1"}, Budget: buig, Taakveld: tv}},
		},
		{
			name: "across a month boundary: each month over its own days",
			build: func(h *hist) {
				c := lksCase(h, "GM0402", day(2026, 1, 20), 150_000)
				c.uitval(day(2026, 2, 10))
			},
			from: jan, to: april,
			want: []row{
				// 20..31 January, 12 of 31 days: 1_800_000 / 31 = 58_064.52 → 58_065
				{Kind: k, Gemeente: "GM0402", Month: "2026-01", Product: pr, From: day(2026, 1, 20), To: day(2026, 1, 31), Days: 12, Tariff: 150_000, Cents: 58_065, Events: []string{"pl1"}, Budget: buig, Taakveld: tv},
				// 1..9 February, 9 of 28 days: 1_350_000 / 28 = 48_214.29 → 48_214
				{Kind: k, Gemeente: "GM0402", Month: "2026-02", Product: pr, From: day(2026, 2, 1), To: day(2026, 2, 9), Days: 9, Tariff: 150_000, Cents: 48_214, Events: []string{"pl1", "uv1"}, Budget: buig, Taakveld: tv},
			},
		},
		{
			name: "a verhuizing mid-month: each gemeente its days, together the month",
			build: func(h *hist) {
				c := lksCase(h, "GM0402", day(2026, 2, 10), 150_000)
				c.verhuizing(day(2026, 3, 15), "GM1942")
			},
			from: march, to: april,
			want: []row{
				// 14 of 31 days: 2_100_000 / 31 = 67_741.94 → 67_742
				{Kind: k, Gemeente: "GM0402", Month: "2026-03", Product: pr, From: march, To: day(2026, 3, 14), Days: 14, Tariff: 150_000, Cents: 67_742, Events: []string{"pl1", "mv1"}, Budget: buig, Taakveld: tv},
				// 17 of 31 days: 2_550_000 / 31 = 82_258.06 → 82_258; 67_742 + 82_258 = 150_000
				{Kind: k, Gemeente: "GM1942", Month: "2026-03", Product: pr, From: day(2026, 3, 15), To: day(2026, 3, 31), Days: 17, Tariff: 150_000, Cents: 82_258, Events: []string{"pl1", "mv1"}, Budget: buig, Taakveld: tv},
			},
		},
		{
			name: "the subsidy changes mid-month: a new plaatsing, a line each",
			build: func(h *hist) {
				c := lksCase(h, "GM0402", day(2026, 2, 10), 150_000)
				c.lks(day(2026, 3, 16), 180_000)
			},
			from: march, to: april,
			want: []row{
				// 1..15 March: 2_250_000 / 31 = 72_580.65 → 72_581
				{Kind: k, Gemeente: "GM0402", Month: "2026-03", Product: pr, From: march, To: day(2026, 3, 15), Days: 15, Tariff: 150_000, Cents: 72_581, Events: []string{"pl1", "pl2"}, Budget: buig, Taakveld: tv},
				// 16..31 March: 2_880_000 / 31 = 92_903.23 → 92_903
				{Kind: k, Gemeente: "GM0402", Month: "2026-03", Product: pr, From: day(2026, 3, 16), To: day(2026, 3, 31), Days: 16, Tariff: 180_000, Cents: 92_903, Events: []string{"pl2"}, Budget: buig, Taakveld: tv},
			},
		},
		{
			name: "a policy change mid-month does not cut the subsidy's line",
			build: func(h *hist) {
				lksCase(h, "GM0402", day(2026, 2, 10), 150_000)
				h.policy("GM0402", day(2026, 3, 10), tariffs{"beschut-werk": 1_300_000})
			},
			from: march, to: april,
			want: []row{{Kind: k, Gemeente: "GM0402", Month: "2026-03", Product: pr, From: march, To: day(2026, 3, 31), Days: 31, Tariff: 150_000, Cents: 150_000,
				Events: []string{"pl1"}, Budget: buig, Taakveld: tv}},
		},
		{
			name:  "no subsidy, no line",
			build: func(h *hist) { lksCase(h, "GM0402", day(2026, 2, 10), 0) },
			from:  march, to: april,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bookRows(t, tt.build, tt.from, tt.to, LKS, true)
			if !slices.EqualFunc(got, tt.want, rowEqual) {
				t.Errorf("lines:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}
