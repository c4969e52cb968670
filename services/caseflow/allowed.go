package caseflow

import (
	"github.com/gooi-vechtstreek/ledger/services/beleid"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Transitie names a kind of transition a klantmanager records on an
// existing case.
type Transitie string

// The transitions after the aanmelding, in the order a case usually takes
// them.
const (
	TransitieIntake     Transitie = "intake"
	TransitiePlaatsing  Transitie = "plaatsing"
	TransitieUitval     Transitie = "uitval"
	TransitieVangnet    Transitie = "vangnet"
	TransitieUitstroom  Transitie = "uitstroom"
	TransitieVerhuizing Transitie = "verhuizing"
	TransitieUren       Transitie = "uren"
)

// Transities lists every kind, in that order.
var Transities = []Transitie{TransitieIntake, TransitiePlaatsing, TransitieUitval, TransitieVangnet, TransitieUitstroom, TransitieVerhuizing, TransitieUren}

// Allowed lists the transitions that Check lets follow s on day d. Each kind
// is tried as a draft whose own fields are filled validly, so that only the
// state machine decides: a form built from this offers what the ledger
// would take, from the same rules, not from a second copy of them. What the
// real command then adds (a product the gemeente does not buy, a date
// before the last transition) is still refused by Decide, with its rule.
func Allowed(s State, d *ledgerv1.Date) []Transitie {
	var out []Transitie
	for _, t := range Transities {
		if Check(s, draftOf(t, s, d)) == nil {
			out = append(out, t)
		}
	}
	return out
}

// draftOf is a transition of kind t on day d with valid values of its own.
func draftOf(t Transitie, s State, d *ledgerv1.Date) *ledgerv1.Event {
	ev := &ledgerv1.Event{Envelope: &ledgerv1.Envelope{OccurredOn: d}}
	switch t {
	case TransitieIntake:
		ev.Payload = &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_DAGBESTEDING}}
	case TransitiePlaatsing:
		ev.Payload = &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}
	case TransitieUitval:
		ev.Payload = &ledgerv1.Event_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_OVERIG}}
	case TransitieVangnet:
		ev.Payload = &ledgerv1.Event_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{VangnetType: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}
	case TransitieUitstroom:
		ev.Payload = &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG}}
	case TransitieVerhuizing:
		// Any participant but the case's own; which one is the form's choice.
		ev.Payload = &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{NaarGemeente: s.Gemeente + "-ander"}}
	case TransitieUren:
		ev.Payload = &ledgerv1.Event_Uren{Uren: &ledgerv1.Uren{Product: firstHourProduct(), Van: d, Minuten: 60}}
	}
	return ev
}

func firstHourProduct() string {
	for _, p := range beleid.Products {
		if p.Eenheid == beleid.PerUur {
			return p.Code
		}
	}
	return ""
}
