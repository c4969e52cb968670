package region

import (
	"testing"

	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestHerindelingSpells: from the day a gemeente ends its open cases are
// the successor's (or end, when the successor is outside the arrangement),
// and the case records the transfer; closed cases and cases that left
// before stay where they were.
func TestHerindelingSpells(t *testing.T) {
	reg, err := gemeente.Load("../../services/gemeente/testdata/herindeling.json")
	if err != nil {
		t.Fatal(err)
	}
	op := YMD(2027, 1, 1)
	type step struct {
		gm  string
		d   *ledgerv1.Date
		pay func() *ledgerv1.Event
	}
	aanm := func() *ledgerv1.Event {
		return &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: "R", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_WSW}}}
	}
	plaats := func() *ledgerv1.Event {
		return &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}}
	}
	uit := func() *ledgerv1.Event {
		return &ledgerv1.Event{Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK}}}
	}
	verhuis := func(van, naar string) func() *ledgerv1.Event {
		return func() *ledgerv1.Event {
			return &ledgerv1.Event{Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{VanGemeente: van, NaarGemeente: naar}}}
		}
	}
	for _, tc := range []struct {
		name  string
		steps []step
		// responsible on the last and the first day, and open on the first
		on31, on1 string
		open1     bool
		transfer  *Transfer
		placedTo  Day // end of the first placement
	}{
		{"open across the day", []step{{"GM1696", event.YMD(2026, 3, 2), aanm}, {"GM1696", event.YMD(2026, 4, 1), plaats}},
			"GM1696", "GM0402", true, &Transfer{Day: op, Van: "GM1696", Naar: "GM0402"}, Open},
		{"uitstroom on the day, under the successor", []step{{"GM1696", event.YMD(2026, 3, 2), aanm}, {"GM1696", event.YMD(2026, 4, 1), plaats}, {"GM0402", event.YMD(2027, 1, 1), uit}},
			"GM1696", "GM0402", false, &Transfer{Day: op, Van: "GM1696", Naar: "GM0402"}, op},
		{"closed before the day", []step{{"GM1696", event.YMD(2026, 3, 2), aanm}, {"GM1696", event.YMD(2026, 6, 1), uit}},
			"GM1696", "GM1696", false, nil, 0},
		{"moved away before the day", []step{{"GM1696", event.YMD(2026, 3, 2), aanm}, {"GM1696", event.YMD(2026, 6, 1), verhuis("GM1696", "GM1942")}},
			"GM1942", "GM1942", true, nil, 0},
		{"into a gemeente outside the arrangement", []step{{"GM0457", event.YMD(2026, 3, 2), aanm}, {"GM0457", event.YMD(2026, 4, 1), plaats}},
			"GM0457", "GM0457", false, &Transfer{Day: op, Van: "GM0457", Naar: "GM0363", Buiten: true}, op},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFeed()
			f.m = New(reg)
			id := uuid.NewString()
			for _, s := range tc.steps {
				f.add(s.gm, id, s.d, s.pay())
			}
			c, _ := f.m.Case(id)
			if g := c.GemeenteOn(op - 1); g != tc.on31 {
				t.Errorf("31 December under %q, want %q", g, tc.on31)
			}
			var first *Spell
			for i, sp := range c.Spells() {
				if sp.From <= op && op < sp.To {
					first = &c.Spells()[i]
				}
			}
			if first == nil || first.Gemeente != tc.on1 || first.State.Open() != tc.open1 {
				t.Errorf("1 January spell %+v, want under %s, open %v", first, tc.on1, tc.open1)
			}
			tr := c.Transfers()
			switch {
			case tc.transfer == nil && len(tr) != 0:
				t.Errorf("transfers %+v, want none", tr)
			case tc.transfer != nil && (len(tr) != 1 || tr[0] != *tc.transfer):
				t.Errorf("transfers %+v, want %+v", tr, *tc.transfer)
			}
			if tc.placedTo != 0 {
				if p := c.Placements()[0]; p.End != tc.placedTo {
					t.Errorf("placement ends %s, want %s", p.End, tc.placedTo)
				}
			}
			if tc.open1 && f.m.Drager(tc.on31, op) != tc.on1 && tc.transfer != nil {
				t.Errorf("Drager(%s) = %s", tc.on31, f.m.Drager(tc.on31, op))
			}
		})
	}
}
