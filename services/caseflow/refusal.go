package caseflow

import (
	"errors"
	"fmt"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var (
	// ErrTransitionRefused is wrapped by every *Refusal.
	ErrTransitionRefused = errors.New("transition refused")
	// ErrCaseNotFound: no case with that id.
	ErrCaseNotFound = errors.New("case not found")
)

// Refusal is a transition the rules do not allow. Its message is for a
// klantmanager; Rule names the rule for logs, tests and support.
type Refusal struct {
	Rule     string
	CaseID   string
	Toestand ledgerv1.Toestand
	Reden    string
	// Err is an underlying sentinel, such as gemeente.ErrUnknownGemeente.
	Err error
}

func (r *Refusal) Error() string {
	msg := "geweigerd [" + r.Rule + "]"
	if r.CaseID != "" {
		msg += " zaak " + r.CaseID
		if r.Toestand != ledgerv1.Toestand_TOESTAND_UNSPECIFIED {
			msg += " (" + ToestandNaam(r.Toestand) + ")"
		}
	}
	return msg + ": " + r.Reden
}

// Refused returns the rule and reason, as every refusal of the ledger does.
func (r *Refusal) Refused() (rule, reden string) { return r.Rule, r.Reden }

// Unwrap lets errors.Is match ErrTransitionRefused and the underlying cause.
func (r *Refusal) Unwrap() []error {
	if r.Err != nil {
		return []error{ErrTransitionRefused, r.Err}
	}
	return []error{ErrTransitionRefused}
}

func refuse(s State, rule, format string, args ...any) *Refusal {
	return &Refusal{Rule: rule, CaseID: s.CaseID, Toestand: s.Toestand, Reden: fmt.Sprintf(format, args...)}
}

// Rule names. Each is one sentence in the klantmanager's words in the
// refusal, and one row in the state machine's table test.
const (
	RuleDatumVerplicht           = "datum.verplicht"
	RuleDatumToekomst            = "datum.niet-in-toekomst"
	RuleDatumVolgorde            = "datum.niet-voor-vorige"
	RuleGemeenteDeelnemer        = "gemeente.deelnemer"
	RuleGemeenteHerindeling      = "gemeente.herindeling"
	RuleGemeenteVerantwoordelijk = "gemeente.verantwoordelijk"
	RuleZaakOnbekend             = "zaak.onbekend"
	RuleZaakGesloten             = "zaak.gesloten"
	RuleAanmeldingNieuweZaak     = "aanmelding.nieuwe-zaak"
	RuleAanmeldingClient         = "aanmelding.client"
	RuleAanmeldingDoelgroep      = "aanmelding.doelgroep"
	RuleAanmeldingVerwijzer      = "aanmelding.verwijzer"
	RuleWswGeenInstroom          = "wsw.geen-nieuwe-instroom"
	RuleTerugkeerTermijn         = "terugkeer.termijn"
	RulePlaatsingKvK             = "plaatsing.kvk"
	RuleWswIndicatie             = "wsw.indicatie"
	RuleEersteIsAanmelding       = "zaak.begint-met-aanmelding"
	RuleIntakeTrede              = "intake.trede"
	RuleLoonwaarde               = "loonwaarde.procent"
	RulePlaatsingNaIntake        = "plaatsing.na-intake"
	RulePlaatsingType            = "plaatsing.type"
	RulePlaatsingEinddatum       = "plaatsing.einddatum-na-start"
	RulePlaatsingLKS             = "plaatsing.lks-bedrag"
	RuleDetacheringEinddatum     = "detachering.geplande-einddatum"
	RuleDetacheringMax12         = "detachering.max-12-maanden"
	RuleUitvalGeplaatst          = "uitval.alleen-geplaatst"
	RuleUitvalReden              = "uitval.reden"
	RuleVangnetVanuitPlaatsing   = "vangnet.vanuit-plaatsing"
	RuleVangnetType              = "vangnet.type"
	RuleVangnetVanPlaatsing      = "vangnet.van-plaatsing"
	RuleUitstroomReden           = "uitstroom.reden"
	RuleVerhuizingNaar           = "verhuizing.andere-gemeente"
	RuleCorrectieReden           = "correctie.reden"
	RuleCorrectieOnbekend        = "correctie.onbekend-event"
	RuleCorrectieType            = "correctie.zelfde-soort"
	RuleCorrectieNiet            = "correctie.niet-corrigeerbaar"
	RuleCorrectieGeschiedenis    = "correctie.geldige-geschiedenis"
	RuleTransitieOnbekend        = "transitie.onbekend"
	RuleBeleidOntbreekt          = "beleid.van-kracht"
	RulePlaatsingProduct         = "plaatsing.product-ingekocht"
	RuleVangnetProduct           = "vangnet.product-ingekocht"
	RuleUrenProduct              = "uren.product-ingekocht"
	RuleUrenAantal               = "uren.aantal"
	RuleUrenPeriode              = "uren.periode"
	RuleWaarde                   = "waarde.geldig"
	RuleEventIDHergebruikt       = "event-id.hergebruikt"
)

// ToestandNaam is the klantmanager's word for a state.
func ToestandNaam(t ledgerv1.Toestand) string {
	switch t {
	case ledgerv1.Toestand_TOESTAND_AANGEMELD:
		return "aangemeld"
	case ledgerv1.Toestand_TOESTAND_IN_TRAJECT:
		return "in traject"
	case ledgerv1.Toestand_TOESTAND_GEPLAATST:
		return "geplaatst"
	case ledgerv1.Toestand_TOESTAND_VANGNET:
		return "op vangnet"
	case ledgerv1.Toestand_TOESTAND_UITGEVALLEN:
		return "uitgevallen"
	case ledgerv1.Toestand_TOESTAND_UITGESTROOMD:
		return "uitgestroomd"
	}
	return "nieuw"
}
