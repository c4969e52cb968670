package costs

import (
	"maps"
	"slices"
	"testing"

	"github.com/gooi-vechtstreek/ledger/projections/region"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

const (
	inwoners  = ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS
	caseload  = ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN
	plaatsing = ledgerv1.Verdeelmethode_VERDEELMETHODE_PLAATSING_DAGEN
	pbudget   = ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET
)

// quarter is the caseload the shared-cost tests divide by, over the first
// quarter of 2026 (31 + 28 + 31 = 90 days):
//
//	case A  Hilversum, open all quarter (90 days), placed from 15 February
//	        (14 + 31 = 45 placement days)
//	case B  Gooise Meren, open 1 February to the uitstroom on 1 March (28)
//	case C  Hilversum from 1 December 2025, placed from 10 January, moves to
//	        Huizen on 17 March: Hilversum 31 + 28 + 16 = 75 open and
//	        22 + 28 + 16 = 66 placement days, Huizen 15 and 15
//	case D  Weesp, which left the arrangement in 2022: weighs nothing
//
// Caseload-days: GM0402 90 + 75 = 165, GM1942 28, GM0406 15; total 208.
// Placement-days: GM0402 45 + 66 = 111, GM0406 15, GM1942 0; total 126.
func quarter(h *hist) {
	a := h.aanmelding("GM0402", day(2025, 11, 1))
	a.intake(day(2025, 11, 2))
	a.plaatsing(day(2026, 2, 15), beschut, "")
	b := h.aanmelding("GM1942", day(2026, 2, 1))
	b.uitstroom(day(2026, 3, 1))
	c := h.aanmelding("GM0402", day(2025, 12, 1))
	c.intake(day(2025, 12, 2))
	c.plaatsing(day(2026, 1, 10), beschut, "")
	c.verhuizing(day(2026, 3, 17), "GM0406")
	d := h.aanmelding("GM0457", day(2026, 1, 1))
	d.intake(day(2026, 1, 2))
	d.plaatsing(day(2026, 1, 3), beschut, "")
}

func TestSharedLines(t *testing.T) {
	q1, q2 := day(2026, 1, 1), day(2026, 4, 1)
	const g = Gedeeld
	tests := []struct {
		name   string
		method ledgerv1.Verdeelmethode // 0: no verdeelsleutel recorded
		van    region.Day
		tot    region.Day // 31 March when zero
		want   []row      // Weight and TotalWeight in Days and Minutes
	}{
		{
			// total 190_000 inhabitants:
			// GM0402 10^6 × 90_000 / 190_000 = 473_684 r 40_000
			// GM0406 10^6 × 42_000 / 190_000 = 221_052 r 120_000 → +1
			// GM1942 10^6 × 58_000 / 190_000 = 305_263 r 30_000
			// 999_999 given, one cent to the largest remainder (GM0406)
			name: "by inhabitants on 1 January", method: inwoners, van: q1,
			want: []row{
				{Kind: g, Gemeente: "GM0402", Cents: 473_684, Days: 90_000, Minutes: 190_000},
				{Kind: g, Gemeente: "GM0406", Cents: 221_053, Days: 42_000, Minutes: 190_000},
				{Kind: g, Gemeente: "GM1942", Cents: 305_263, Days: 58_000, Minutes: 190_000},
			},
		},
		{
			// total 208:
			// GM0402 165 × 10^6 / 208 = 793_269 r 48
			// GM0406  15 × 10^6 / 208 =  72_115 r 80 → +1 (tie with GM1942, lower code)
			// GM1942  28 × 10^6 / 208 = 134_615 r 80
			name: "by caseload-days, a tie on the remainder", method: caseload, van: q1,
			want: []row{
				{Kind: g, Gemeente: "GM0402", Cents: 793_269, Days: 165, Minutes: 208},
				{Kind: g, Gemeente: "GM0406", Cents: 72_116, Days: 15, Minutes: 208},
				{Kind: g, Gemeente: "GM1942", Cents: 134_615, Days: 28, Minutes: 208},
			},
		},
		{
			// total 126:
			// GM0402 111 × 10^6 / 126 = 880_952 r 48
			// GM0406  15 × 10^6 / 126 = 119_047 r 78 → +1
			// GM1942 0, still shown
			name: "by placement-days", method: plaatsing, van: q1,
			want: []row{
				{Kind: g, Gemeente: "GM0402", Cents: 880_952, Days: 111, Minutes: 126},
				{Kind: g, Gemeente: "GM0406", Cents: 119_048, Days: 15, Minutes: 126},
				{Kind: g, Gemeente: "GM1942", Cents: 0, Days: 0, Minutes: 126},
			},
		},
		{
			name: "no verdeelsleutel for the year: whole with the centrumgemeente", van: q1,
			want: []row{
				{Kind: g, Gemeente: "GM0402", Cents: 1_000_000, Remark: "niet verdeeld: geen verdeelsleutel voor 2026"},
			},
		},
		{
			// 1..9 January: nobody placed yet (C from 10 January)
			name: "all weights 0: whole with the centrumgemeente", method: plaatsing, van: day(2026, 1, 1), tot: day(2026, 1, 9),
			want: []row{
				{Kind: g, Gemeente: "GM0402", Cents: 1_000_000, Remark: "niet verdeeld: totaal gewicht is 0 (plaatsingsdagen, verdeelsleutel 2026/v1)"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHist()
			quarter(h)
			var key string
			if tt.method != 0 {
				key = h.key(2026, tt.method)
			}
			tot := tt.tot
			if tot == 0 {
				tot = day(2026, 3, 31)
			}
			bk := h.booking(tt.van, tot, 1_000_000, pbudget)
			b, err := NewBook(h.m, registry(t), "GM0402", q1, q2)
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			var sum int64
			for _, l := range b.All() {
				if l.Kind != Gedeeld {
					continue
				}
				sum += l.Cents
				got = append(got, row{Kind: l.Kind, Gemeente: l.Gemeente, Cents: l.Cents, Days: l.Weight, Minutes: l.TotalWeight, Remark: l.Remark})
				wantEvents := []string{bk}
				if key != "" {
					wantEvents = append(wantEvents, key)
					if l.Key != "2026/v1" || l.Method != tt.method {
						t.Errorf("%s: key %q method %v", l.Gemeente, l.Key, l.Method)
					}
				}
				if l.Booking != bk || !slices.Equal(l.Events, wantEvents) || l.Month != monthOf(tot).String() || l.From != tt.van || l.To != tot ||
					l.Budgetstroom != pbudget || l.Taakveld != "6.5" {
					t.Errorf("%s: trace %+v", l.Gemeente, l)
				}
			}
			if !slices.EqualFunc(got, tt.want, rowEqual) {
				t.Errorf("lines:\n got %v\nwant %v", got, tt.want)
			}
			if sum != 1_000_000 {
				t.Errorf("parts add up to %d", sum)
			}
		})
	}
}

func TestWeights(t *testing.T) {
	h := newHist()
	quarter(h)
	reg := registry(t)
	from, to := day(2026, 1, 1), day(2026, 4, 1)
	tests := []struct {
		method ledgerv1.Verdeelmethode
		want   map[string]int64
	}{
		{inwoners, map[string]int64{"GM0402": 90_000, "GM1942": 58_000, "GM0406": 42_000}},
		{caseload, map[string]int64{"GM0402": 165, "GM1942": 28, "GM0406": 15}},
		{plaatsing, map[string]int64{"GM0402": 111, "GM1942": 0, "GM0406": 15}},
		{ledgerv1.Verdeelmethode_VERDEELMETHODE_UNSPECIFIED, map[string]int64{"GM0402": 0, "GM1942": 0, "GM0406": 0}},
	}
	for _, tt := range tests {
		if got := Weights(h.m, reg, tt.method, 2026, from, to); !maps.Equal(got, tt.want) {
			t.Errorf("%v: got %v, want %v", tt.method, got, tt.want)
		}
	}
	// A period across a year end adds both years: case A was open
	// 1 November 2025 on; GM0402 in December 2025: A 31 + C 31 = 62, in
	// January 2026: 31 + 31 = 62.
	if got := Weights(h.m, reg, caseload, 2026, day(2025, 12, 1), day(2026, 2, 1))["GM0402"]; got != 124 {
		t.Errorf("caseload-days across the year end: %d, want 124", got)
	}
}
