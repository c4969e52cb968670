package beleidsview

import (
	"testing"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestVerreken settles results with remainders: the leftover cents of a
// solidary division go one each to the largest remainders (ties to the
// lowest code), for a surplus and for a deficit alike, and the parts add up
// to the region's result; a stream the agreement does not name, or names
// one to one, settles each gemeente's own result; all weights 0 settles
// one to one and says so.
func TestVerreken(t *testing.T) {
	const (
		buig  = ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG
		bv    = ledgerv1.Budgetstroom_BUDGETSTROOM_BEDRIJFSVOERING
		wsw   = ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT
		inw   = ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS
		dagen = ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN
	)
	solidair := func(s ledgerv1.Budgetstroom, m ledgerv1.Verdeelmethode) *ledgerv1.Stroomverdeling {
		return &ledgerv1.Stroomverdeling{Budgetstroom: s, Verrekening: ledgerv1.Verrekening_VERREKENING_SOLIDAIR, Methode: m}
	}
	row := func(s ledgerv1.Budgetstroom, cent int64) *ledgerv1.Resultaatpost {
		return &ledgerv1.Resultaatpost{Budgetstroom: s, ResultaatCent: cent}
	}
	weights := map[ledgerv1.Verdeelmethode]map[string]int64{
		inw:   {"GM0001": 1, "GM0002": 1, "GM0003": 1},
		dagen: {"GM0001": 0, "GM0002": 0, "GM0003": 0},
	}
	type want struct{ verrekend, regio int64 }
	for _, tc := range []struct {
		name    string
		stromen []*ledgerv1.Stroomverdeling
		results map[string][]*ledgerv1.Resultaatpost
		stream  ledgerv1.Budgetstroom
		want    map[string]want // per gemeente
		remark  bool
	}{
		{"surplus of 100 cents over three equal weights: 34, 33, 33",
			[]*ledgerv1.Stroomverdeling{solidair(bv, inw)},
			map[string][]*ledgerv1.Resultaatpost{"GM0001": {row(bv, 70)}, "GM0002": {row(bv, 40)}, "GM0003": {row(bv, -10)}},
			bv, map[string]want{"GM0001": {34, 100}, "GM0002": {33, 100}, "GM0003": {33, 100}}, false},
		{"deficit of 100 cents: floors of −34 each, the two cents back to the lowest codes",
			[]*ledgerv1.Stroomverdeling{solidair(bv, inw)},
			map[string][]*ledgerv1.Resultaatpost{"GM0001": {row(bv, -100)}, "GM0002": {}, "GM0003": {}},
			bv, map[string]want{"GM0001": {-33, -100}, "GM0002": {-33, -100}, "GM0003": {-34, -100}}, false},
		{"a stream not named is settled one to one",
			[]*ledgerv1.Stroomverdeling{solidair(bv, inw)},
			map[string][]*ledgerv1.Resultaatpost{"GM0001": {row(buig, 500)}, "GM0002": {row(buig, -200)}, "GM0003": {}},
			buig, map[string]want{"GM0001": {500, 0}, "GM0002": {-200, 0}, "GM0003": {0, 0}}, false},
		{"named one to one",
			[]*ledgerv1.Stroomverdeling{{Budgetstroom: wsw, Verrekening: ledgerv1.Verrekening_VERREKENING_EEN_OP_EEN}},
			map[string][]*ledgerv1.Resultaatpost{"GM0001": {row(wsw, 7)}, "GM0002": {row(wsw, 8)}, "GM0003": {row(wsw, 9)}},
			wsw, map[string]want{"GM0001": {7, 0}, "GM0002": {8, 0}, "GM0003": {9, 0}}, false},
		{"all weights 0: one to one, with the reason",
			[]*ledgerv1.Stroomverdeling{solidair(bv, dagen)},
			map[string][]*ledgerv1.Resultaatpost{"GM0001": {row(bv, 5)}, "GM0002": {row(bv, 6)}, "GM0003": {}},
			bv, map[string]want{"GM0001": {5, 11}, "GM0002": {6, 11}, "GM0003": {0, 11}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &ledgerv1.Resultaatverdeling{Jaar: 2026, Stromen: tc.stromen}
			var sum, total int64
			for g, w := range tc.want {
				posts, err := Verreken(a, g, tc.results, func(m ledgerv1.Verdeelmethode) map[string]int64 { return weights[m] })
				if err != nil {
					t.Fatal(err)
				}
				var p *ledgerv1.Verrekeningspost
				for _, q := range posts {
					if q.GetBudgetstroom() == tc.stream {
						p = q
					}
				}
				if p == nil {
					t.Fatalf("%s: no post for %s in %v", g, tc.stream, posts)
				}
				if p.GetVerrekendCent() != w.verrekend || p.GetRegioResultaatCent() != w.regio || p.GetVerschilCent() != p.GetVerrekendCent()-p.GetEigenResultaatCent() {
					t.Errorf("%s: %v, want verrekend %d of regio %d", g, p, w.verrekend, w.regio)
				}
				if got := p.GetOpmerking() != ""; got != tc.remark {
					t.Errorf("%s: remark %q", g, p.GetOpmerking())
				}
				sum += p.GetVerrekendCent()
				total = p.GetRegioResultaatCent()
			}
			if total != 0 && sum != total {
				t.Errorf("the settled parts add up to %d, the region's result is %d", sum, total)
			}
		})
	}
}

// TestVerrekenInCircles: a solidary stream's result is its circle's, shared
// by the circle; a gemeente outside settles its own result one to one and
// is not told the circle's.
func TestVerrekenInCircles(t *testing.T) {
	bv := ledgerv1.Budgetstroom_BUDGETSTROOM_BEDRIJFSVOERING
	a := &ledgerv1.Resultaatverdeling{Jaar: 2026, Stromen: []*ledgerv1.Stroomverdeling{{Budgetstroom: bv, Verrekening: ledgerv1.Verrekening_VERREKENING_SOLIDAIR, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS}}}
	results := map[string][]*ledgerv1.Resultaatpost{
		"GM0001": {{Budgetstroom: bv, ResultaatCent: 100}},
		"GM0002": {{Budgetstroom: bv, ResultaatCent: 0}},
		"GM0003": {{Budgetstroom: bv, ResultaatCent: -999}},
	}
	weights := func(ledgerv1.Verdeelmethode) map[string]int64 {
		return map[string]int64{"GM0001": 1, "GM0002": 1, "GM0003": 1}
	}
	member := func(g string, s ledgerv1.Budgetstroom) bool { return g != "GM0003" }
	for g, want := range map[string][2]int64{"GM0001": {50, 100}, "GM0002": {50, 100}, "GM0003": {-999, 0}} {
		posts, err := VerrekenFor(a, g, results, weights, member)
		if err != nil || len(posts) != 1 {
			t.Fatalf("%s: %v %v", g, posts, err)
		}
		if p := posts[0]; p.GetVerrekendCent() != want[0] || p.GetRegioResultaatCent() != want[1] {
			t.Errorf("%s: %v, want settled %d of the circle's %d", g, p, want[0], want[1])
		}
	}
}
