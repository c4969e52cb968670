package costs

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var benchGemeenten = []string{"GM0034", "GM0317", "GM0376", "GM0402", "GM0406", "GM0417", "GM1696", "GM1942"}

// benchRegion is a seeded regional history: the eight participants, a
// policy change every half year, a verdeelsleutel per year, monthly shared
// costs per budget stream, and nCases cases across 2026–2028.
func benchRegion(b *testing.B, nCases int) (*region.Model, *gemeente.Registry) {
	r := rand.New(rand.NewPCG(2026, 1))
	h := newHist()
	var list []gemeente.Gemeente
	for _, g := range benchGemeenten {
		list = append(list, gemeente.Gemeente{Code: g, Naam: g, Inwoners: map[int]int64{2026: 10_000 + r.Int64N(90_000)}})
		for y := 2026; y <= 2028; y++ {
			for _, m := range []time.Month{1, 7} {
				var ps []*ledgerv1.ProductTarief
				for _, p := range beleid.Products {
					ps = append(ps, &ledgerv1.ProductTarief{Product: p.Code, CentPerJaar: 500_000 + r.Int64N(1_500_000), CentPerUur: 5_000 + r.Int64N(10_000)})
				}
				d := day(y, m, 1)
				h.apply(g, "", d, h.id("bl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: &ledgerv1.Beleid{GeldigVanaf: d.Date(), Producten: ps}}})
			}
		}
	}
	reg, err := gemeente.New(list)
	if err != nil {
		b.Fatal(err)
	}
	for y := 2026; y <= 2028; y++ {
		h.key(y, ledgerv1.Verdeelmethode(1+(y-2026)%3))
		for m := time.January; m <= time.December; m++ {
			for s := 1; s <= 3; s++ {
				h.booking(day(y, m, 1), region.MonthStart(y, m+1)-1, 1_000_000+r.Int64N(10_000_000), ledgerv1.Budgetstroom(s))
			}
		}
	}
	for range nCases {
		genOne(r, h, benchGemeenten, day(2026, 1, 1), day(2029, 1, 1))
	}
	return h.m, reg
}

// BenchmarkLines prices 20,000 cases: a year's book (what a beleidsview
// rebuild asks for) and the whole three years. The model's per-case
// derivation (spells, placements) is done before timing: it belongs to the
// regional model, not to pricing.
func BenchmarkLines(b *testing.B) {
	m, reg := benchRegion(b, 20_000)
	cases := len(m.Cases())
	for _, bc := range []struct {
		name     string
		from, to region.Day
	}{
		{"year", day(2027, 1, 1), day(2028, 1, 1)},
		{"three-years", day(2026, 1, 1), day(2029, 1, 1)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := NewBook(m, reg, "GM0402", bc.from, bc.to); err != nil {
				b.Fatal(err)
			}
			var lines int
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				book, err := NewBook(m, reg, "GM0402", bc.from, bc.to)
				if err != nil {
					b.Fatal(err)
				}
				lines = 0
				for _, g := range benchGemeenten {
					lines += len(book.Lines(g))
				}
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(lines)*float64(b.N)/s, "lines/s")
			b.ReportMetric(float64(cases)*float64(b.N)/s, "cases/s")
			b.ReportMetric(float64(m.Events())*float64(b.N)/s, "events/s")
			b.ReportMetric(float64(lines), "lines")
		})
	}
}
