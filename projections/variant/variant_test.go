package variant

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/projections/beleidsview"
	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var codes = []string{"GM0376", "GM0402", "GM0406", "GM1942"}

// history is a random regional year: policies, a verdeelsleutel, cases
// that are placed, move and leave, and bookings of shared costs.
type history struct {
	events   []*ledgerv1.Event
	bookings int64 // cents booked
}

func day(m time.Month, d int) *ledgerv1.Date { return region.YMD(2026, m, d).Date() }

func generate(r *rand.Rand) history {
	var h history
	n := 0
	add := func(gm, caseID string, on *ledgerv1.Date, ev *ledgerv1.Event) {
		n++
		ev.Envelope = &ledgerv1.Envelope{EventId: fmt.Sprintf("e%d", n), CaseId: caseID, Gemeente: gm, OccurredOn: on}
		h.events = append(h.events, ev)
	}
	for _, g := range codes {
		add(g, "", day(1, 1), &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: &ledgerv1.Beleid{GeldigVanaf: day(1, 1),
			Producten: []*ledgerv1.ProductTarief{{Product: "beschut-werk", CentPerJaar: 1_000_000 + r.Int64N(500_000)}}}}})
	}
	methods := []ledgerv1.Verdeelmethode{ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS, ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN, ledgerv1.Verdeelmethode_VERDEELMETHODE_PLAATSING_DAGEN}
	add("GM0402", "", day(1, 1), &ledgerv1.Event{Payload: &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: 2026, Methode: methods[r.IntN(3)]}}})
	for c := range 5 + r.IntN(20) {
		id := fmt.Sprintf("case-%d", c)
		gm := codes[r.IntN(len(codes))]
		start := 1 + r.IntN(150)
		at := func(d int) *ledgerv1.Date { return (region.YearStart(2026) + region.Day(d)).Date() }
		add(gm, id, at(start), &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: "R-" + id, Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK}}})
		add(gm, id, at(start+5), &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_BESCHUT}}})
		if r.IntN(3) > 0 {
			add(gm, id, at(start+10), &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}})
		}
		if r.IntN(3) == 0 {
			naar := codes[r.IntN(len(codes))]
			if naar != gm {
				add(gm, id, at(start+40), &ledgerv1.Event{Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{VanGemeente: gm, NaarGemeente: naar}}})
				gm = naar
			}
		}
		if r.IntN(4) == 0 {
			add(gm, id, at(start+90), &ledgerv1.Event{Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG}}})
		}
	}
	for q := range 1 + r.IntN(3) {
		van := region.YMD(2026, time.Month(1+3*q), 1)
		tot := region.YMD(2026, time.Month(4+3*q), 1) - 1
		cent := 1 + r.Int64N(10_000_000)
		h.bookings += cent
		add("GM0402", "", tot.Date(), &ledgerv1.Event{Payload: &ledgerv1.Event_GedeeldeKosten{GedeeldeKosten: &ledgerv1.GedeeldeKosten{Van: van.Date(), Cent: cent,
			Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET}}})
	}
	// Income, so that there is a result to settle, and now and then an
	// agreement on settling it.
	for _, g := range codes {
		add("GM0402", "", day(1, 15), &ledgerv1.Event{Payload: &ledgerv1.Event_Inkomsten{Inkomsten: &ledgerv1.Inkomsten{Gemeente: g, Jaar: 2026,
			Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET, Cent: r.Int64N(5_000_000)}}})
	}
	if r.IntN(2) == 0 {
		add("GM0402", "", day(1, 20), &ledgerv1.Event{Payload: &ledgerv1.Event_Resultaatverdeling{Resultaatverdeling: &ledgerv1.Resultaatverdeling{Jaar: 2026,
			Stromen: []*ledgerv1.Stroomverdeling{{Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET, Verrekening: ledgerv1.Verrekening_VERREKENING_SOLIDAIR, Methode: methods[r.IntN(3)]}}}}})
	}
	return h
}

// models applies the history as stored, and as the variant has it.
func models(h history, v Variant, reg *gemeente.Registry) (real, alt *region.Model) {
	real, alt = region.New(reg), region.New(reg)
	revs := map[string]uint64{}
	for i, ev := range h.events {
		stream := ev.GetEnvelope().GetCaseId()
		if stream == "" {
			stream = "regio-" + ev.GetEnvelope().GetGemeente()
		}
		rec := store.RecordedEvent{Position: store.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}, Revision: revs[stream]}
		revs[stream]++
		real.Apply(rec, ev)
		alt.Apply(rec, v.Rewrite(ev))
	}
	return real, alt
}

func registry(t *testing.T, r *rand.Rand) *gemeente.Registry {
	var list []string
	for _, g := range codes {
		list = append(list, fmt.Sprintf(`{"code": %q, "naam": "gemeente %s", "inwoners": {"2026": %d}}`, g, g, 1+r.Int64N(100_000)))
	}
	reg, err := gemeente.Parse(strings.NewReader(`{"centrum": "GM0402", "gemeenten": [` + strings.Join(list, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestWhatIf is the property the comparison stands on, over random
// histories: the variant that is today's own gives the real figures
// exactly; every variant divides the same total as was booked, and leaves
// the direct costs alone; and a variant does change who pays what.
func TestWhatIf(t *testing.T) {
	changed, settleChanged := false, false
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 7))
		reg := registry(t, r)
		h := generate(r)
		end := region.YearStart(2027)

		base, _ := models(h, Variant{}, reg)
		own := Own(base, []int32{2026})
		real, alt := models(h, own, reg)
		rows, err := own.Compare(real, alt, reg, 2026, end)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			if row.Shared != row.VariantShared || row.Settled != row.VariantSettled {
				t.Fatalf("seed %d: today's own variant gives %s %d shared, %d settled; the real figures %d, %d", seed, row.Gemeente, row.VariantShared, row.VariantSettled, row.Shared, row.Settled)
			}
		}

		other := Variant{Verdeelsleutels: map[int32]ledgerv1.Verdeelmethode{2026: ledgerv1.Verdeelmethode(1 + r.IntN(3))}}
		if r.IntN(2) == 0 {
			other.Resultaatverdelingen = map[int32]*ledgerv1.Resultaatverdeling{2026: {Jaar: 2026, Stromen: []*ledgerv1.Stroomverdeling{{
				Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET, Verrekening: ledgerv1.Verrekening_VERREKENING_SOLIDAIR, Methode: ledgerv1.Verdeelmethode(1 + r.IntN(3))}}}}
		}
		real, alt = models(h, other, reg)
		rows, err = other.Compare(real, alt, reg, 2026, end)
		if err != nil {
			t.Fatal(err)
		}
		var shared, variantShared, settledSum, variantSettled int64
		for _, row := range rows {
			shared += row.Shared
			variantShared += row.VariantShared
			settledSum += row.Settled
			variantSettled += row.VariantSettled
			changed = changed || row.Shared != row.VariantShared
			settleChanged = settleChanged || row.Settled != row.VariantSettled
		}
		if shared != h.bookings || variantShared != h.bookings {
			t.Fatalf("seed %d: booked %d, divided %d as recorded and %d in the variant", seed, h.bookings, shared, variantShared)
		}
		// A settlement moves the region's result between gemeenten; it
		// never makes or loses a cent.
		if settledSum != variantSettled {
			t.Fatalf("seed %d: the region's result is %d as recorded and %d in the variant", seed, settledSum, variantSettled)
		}
		// Full solidarity by inhabitants: each gemeente settles its share of
		// the region's whole result, within a cent per stream.
		all := Variant{Resultaatverdelingen: map[int32]*ledgerv1.Resultaatverdeling{2026: {Jaar: 2026, Stromen: []*ledgerv1.Stroomverdeling{
			{Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET, Verrekening: ledgerv1.Verrekening_VERREKENING_SOLIDAIR, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS},
			{Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT, Verrekening: ledgerv1.Verrekening_VERREKENING_SOLIDAIR, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS},
		}}}}
		sr, sa := models(h, all, reg)
		solid, err := all.Compare(sr, sa, reg, 2026, end)
		if err != nil {
			t.Fatal(err)
		}
		var whole int64
		for _, row := range solid {
			whole += row.Settled
		}
		w := costs.Weights(sa, reg, ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS, 2026, region.YearStart(2026), end)
		var wsum int64
		for _, x := range w {
			wsum += x
		}
		for _, row := range solid {
			exact := float64(whole) * float64(w[row.Gemeente]) / float64(wsum)
			if d := float64(row.VariantSettled) - exact; d <= -2 || d >= 2 {
				t.Fatalf("seed %d: %s settles %d in full solidarity, its share of %d is %.2f", seed, row.Gemeente, row.VariantSettled, whole, exact)
			}
		}
		// Circles: a gemeente with a DVO and one in the beschut circle share
		// none of the Participatiebudget's shared costs; what is booked is
		// still divided, and the region's result still the same.
		circled := Variant{Kringen: map[string]Kring{codes[0]: KringDVO, codes[2]: KringBeschut}} // not the centrumgemeente, which keeps what nobody shares
		if r.IntN(2) == 0 {
			circled.Resultaatverdelingen = all.Resultaatverdelingen
		}
		cr, ca := models(h, circled, reg)
		crows, err := circled.Compare(cr, ca, reg, 2026, end)
		if err != nil {
			t.Fatal(err)
		}
		var cshared, csettled int64
		for _, row := range crows {
			cshared += row.VariantShared
			csettled += row.VariantSettled
			if (row.Gemeente == codes[0] || row.Gemeente == codes[2]) && row.VariantShared != 0 {
				t.Fatalf("seed %d: %s outside the circle pays %d of the shared Participatiebudget", seed, row.Gemeente, row.VariantShared)
			}
		}
		if cshared != h.bookings || csettled != settledSum {
			t.Fatalf("seed %d: with circles %d divided of %d booked, result %d of %d", seed, cshared, h.bookings, csettled, settledSum)
		}
		// The variant's results are the beleidsview's own.
		book, err := costs.NewBook(real, reg, reg.Centrum(), region.YearStart(2026), end)
		if err != nil {
			t.Fatal(err)
		}
		yr := Yearresults(real, book, reg, 2026)
		for g, rows := range yr {
			v, err := beleidsview.Compute(real, reg, reg.Centrum(), g, 2026, 0, end-1)
			if err != nil {
				t.Fatal(err)
			}
			want := map[ledgerv1.Budgetstroom]int64{}
			for _, p := range v.GetResultaat() {
				want[p.GetBudgetstroom()] = p.GetResultaatCent()
			}
			for _, p := range rows {
				if p.GetResultaatCent() != want[p.GetBudgetstroom()] {
					t.Fatalf("seed %d: %s %s: result %d, the beleidsview's %d", seed, g, p.GetBudgetstroom(), p.GetResultaatCent(), want[p.GetBudgetstroom()])
				}
			}
		}
		// The direct costs are the cost engine's, the same in both.
		altRows, _ := other.Compare(alt, real, reg, 2026, end)
		for i := range rows {
			if rows[i].Direct != altRows[i].Direct {
				t.Fatalf("seed %d: %s's direct costs differ in the variant", seed, rows[i].Gemeente)
			}
		}
	}
	if !changed {
		t.Error("no variant changed any gemeente's share: the variant is not applied")
	}
	if !settleChanged {
		t.Error("no variant changed any gemeente's settled result: the variant's settlement is not applied")
	}
}

func TestLoadKringen(t *testing.T) {
	v, err := Load(strings.NewReader(`{"kringen": {"GM0317": "dvo", "GM0034": "beschut", "GM0402": "alles"}}`))
	if err != nil || v.Kringen["GM0317"] != KringDVO || v.Kringen["GM0034"] != KringBeschut || v.Kringen["GM0402"] != KringAlles {
		t.Fatalf("%+v %v", v, err)
	}
	for _, bad := range []string{`{"kringen": {"GM0317": "half"}}`, `{"kringen": {"Eemnes": "dvo"}}`} {
		if _, err := Load(strings.NewReader(bad)); !errors.Is(err, ErrVariant) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestLoadResultaatverdeling(t *testing.T) {
	v, err := Load(strings.NewReader(`{"resultaatverdelingen": {"2026": {"bedrijfsvoering": "solidair:inwoners", "buig": "een-op-een"}}}`))
	r := v.Resultaatverdelingen[2026]
	if err != nil || len(r.GetStromen()) != 2 || r.GetStromen()[0].GetBudgetstroom() != ledgerv1.Budgetstroom_BUDGETSTROOM_BEDRIJFSVOERING ||
		r.GetStromen()[0].GetMethode() != ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS || r.GetStromen()[1].GetVerrekening() != ledgerv1.Verrekening_VERREKENING_EEN_OP_EEN {
		t.Fatalf("%v %v", r, err)
	}
	for _, bad := range []string{`{"resultaatverdelingen": {"2026": {"buig": "solidair"}}}`, `{"resultaatverdelingen": {"2026": {"zwembad": "een-op-een"}}}`, `{"resultaatverdelingen": {"x": {}}}`} {
		if _, err := Load(strings.NewReader(bad)); !errors.Is(err, ErrVariant) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestLoad(t *testing.T) {
	v, err := Load(strings.NewReader(`{"naam": "solidair", "verdeelsleutels": {"2026": "caseload-dagen", "2027": "inwoners"}}`))
	if err != nil || v.Naam != "solidair" || v.Verdeelsleutels[2026] != ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN || v.Verdeelsleutels[2027] != ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS {
		t.Fatalf("%+v %v", v, err)
	}
	for _, bad := range []string{
		`{"verdeelsleutels": {"2026": "loting"}}`,
		`{"verdeelsleutels": {"twintig": "inwoners"}}`,
		`{"verdeelsleutel": {}}`,
		`{`,
	} {
		if _, err := Load(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: read", bad)
		}
	}
}
