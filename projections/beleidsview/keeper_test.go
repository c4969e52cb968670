package beleidsview

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestKeeperEqualsCompute is the property the Keeper stands on: for a
// generated regional history (late events, corrections, verhuizingen,
// policy changes, bookings), the figures it maintains event by event equal
// a computation from scratch on the same model, at sampled points of the
// history, for every gemeente, for year and month views and the cost
// export, with today fixed (frames maintained) and moved (frames made
// again).
func TestKeeperEqualsCompute(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 1500
	}
	gd, err := generate(genConfig{seed: 11, events: n, from: genFrom, to: genTo, urenEvery: 14, nacalculatie: true})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := gd.records()
	if err != nil {
		t.Fatal(err)
	}
	m := region.New(gd.reg)
	k := NewKeeper(gd.reg, "GM0402")
	r := rand.New(rand.NewPCG(11, 3))
	midYear := region.YMD(2025, 6, 17)

	check := func(at int, today region.Day) {
		t.Helper()
		for year := genFrom.Year(); year <= today.Year(); year++ {
			months := []int{0, 1 + r.IntN(12)}
			for _, month := range months {
				if _, err := periods(year, month, today); err != nil {
					continue // a month after today
				}
				want, err := ComputeAll(m, gd.reg, "GM0402", year, month, today)
				if err != nil {
					t.Fatalf("event %d: compute %d-%d: %v", at, year, month, err)
				}
				for _, w := range want {
					got, err := k.View(m, w.GetGemeente(), year, month, today, true)
					if err != nil {
						t.Fatalf("event %d: keeper view %s %d-%d: %v", at, w.GetGemeente(), year, month, err)
					}
					if !proto.Equal(got, w) {
						t.Fatalf("event %d (today %s): view %s %d-%d differs\nkeeper:  %v\ncompute: %v", at, today, w.GetGemeente(), year, month, brief(got), brief(w))
					}
					// Without the residents' rows: the same view less them.
					bare, err := k.View(m, w.GetGemeente(), year, month, today, false)
					if err != nil {
						t.Fatal(err)
					}
					if want := withoutClients(w); !proto.Equal(bare, want) {
						t.Fatalf("event %d: view %s %d-%d without per_client differs\nkeeper:  %v\ncompute: %v", at, w.GetGemeente(), year, month, brief(bare), brief(want))
					}
				}
			}
			from, to := region.YearStart(year), min(region.YearStart(year+1), today+1)
			// The weights a settlement divides by, from the Keeper's counted
			// days, are those counted over every case.
			for _, method := range []ledgerv1.Verdeelmethode{ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN, ledgerv1.Verdeelmethode_VERDEELMETHODE_PLAATSING_DAGEN, ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS} {
				if got, want := k.Weights(m, method, year, from, to), costs.Weights(m, gd.reg, method, year, from, to); !reflect.DeepEqual(got, want) {
					t.Fatalf("event %d: %s weights of %d: keeper %v, counted over the cases %v", at, method, year, got, want)
				}
			}
			for _, g := range gd.reg.Codes() {
				want, err := costs.Lines(m, gd.reg, "GM0402", g, from, to)
				if err != nil {
					t.Fatal(err)
				}
				got, err := k.Lines(m, g, year, today)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
					t.Fatalf("event %d (today %s): cost lines %s %d differ: keeper %d lines, compute %d\n%s", at, today, g, year, len(got), len(want), firstDiff(got, want))
				}
			}
		}
	}

	samples := 0
	for i, rec := range recs {
		if err := m.ApplyWatched(rec, k); err != nil {
			t.Fatal(err)
		}
		if i == 50 || i%(len(recs)/25) == 0 || i == len(recs)-1 {
			check(i, genTo)
			samples++
			if samples%5 == 0 {
				check(i, midYear) // today moved: the current year's frame is made again
			}
		}
	}
	if k.Made == 0 {
		t.Fatal("the keeper made no frame")
	}
	// While today stands still and no policy is recorded, the frames are
	// kept up to date, not made again.
	check(len(recs), genTo)
	before := k.Made
	check(len(recs), genTo)
	if k.Made != before {
		t.Fatalf("a read with nothing changed made %d frames", k.Made-before)
	}
}

// withoutClients is v without Loonwaarde.per_client.
func withoutClients(v *ledgerv1.Beleidsview) *ledgerv1.Beleidsview {
	out := proto.Clone(v).(*ledgerv1.Beleidsview)
	DropClients(out)
	return out
}

func brief(v interface{ String() string }) string {
	s := v.String()
	if len(s) > 1500 {
		s = s[:1500] + "…"
	}
	return s
}

func firstDiff(a, b []costs.Line) string {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return fmt.Sprintf("line %d:\nkeeper:  %+v\ncompute: %+v", i, a[i], b[i])
		}
	}
	return "one is a prefix of the other"
}
