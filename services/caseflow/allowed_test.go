package caseflow

import (
	"slices"
	"testing"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

func TestAllowed(t *testing.T) {
	d := func(day int32) *ledgerv1.Date { return &ledgerv1.Date{Year: 2026, Month: 3, Day: day} }
	open := func(toestand ledgerv1.Toestand, intake bool) State {
		return State{Exists: true, CaseID: "c", Gemeente: "GM0402", Toestand: toestand, Intake: intake, AanmeldDatum: d(1), Sinds: d(2), LaatstePlaatsing: "p"}
	}
	cases := []struct {
		name  string
		s     State
		on    *ledgerv1.Date
		allow []Transitie
	}{
		{"geen zaak", State{}, d(10), nil},
		{"aangemeld: eerst de intake", open(ledgerv1.Toestand_TOESTAND_AANGEMELD, false), d(10),
			[]Transitie{TransitieIntake, TransitieUitstroom, TransitieVerhuizing, TransitieUren}},
		{"in traject: plaatsen kan", open(ledgerv1.Toestand_TOESTAND_IN_TRAJECT, true), d(10),
			[]Transitie{TransitieIntake, TransitiePlaatsing, TransitieUitstroom, TransitieVerhuizing, TransitieUren}},
		{"geplaatst: uitval en vangnet", open(ledgerv1.Toestand_TOESTAND_GEPLAATST, true), d(10),
			[]Transitie{TransitieIntake, TransitiePlaatsing, TransitieUitval, TransitieVangnet, TransitieUitstroom, TransitieVerhuizing, TransitieUren}},
		{"op vangnet: niet nog eens", open(ledgerv1.Toestand_TOESTAND_VANGNET, true), d(10),
			[]Transitie{TransitieIntake, TransitiePlaatsing, TransitieUitval, TransitieUitstroom, TransitieVerhuizing, TransitieUren}},
		{"uitgevallen: terug op vangnet", open(ledgerv1.Toestand_TOESTAND_UITGEVALLEN, true), d(10),
			[]Transitie{TransitieIntake, TransitiePlaatsing, TransitieVangnet, TransitieUitstroom, TransitieVerhuizing, TransitieUren}},
		{"uitgestroomd: niets meer na de dag", open(ledgerv1.Toestand_TOESTAND_UITGESTROOMD, true), d(10), nil},
		{"uitgestroomd: uren tot en met de dag", open(ledgerv1.Toestand_TOESTAND_UITGESTROOMD, true), d(2), []Transitie{TransitieUren}},
		{"een dag vóór de vorige transitie", open(ledgerv1.Toestand_TOESTAND_IN_TRAJECT, true), d(1), []Transitie{TransitieUren}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Allowed(tc.s, tc.on)
			if !slices.Equal(got, tc.allow) {
				t.Errorf("Allowed = %v, want %v", got, tc.allow)
			}
		})
	}
}
