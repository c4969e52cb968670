package beleidsview

import (
	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// doelen sets the figures of a period's stock (its peildatum) against the
// gemeente's targets and denominators for the year (region.Model.Targets):
// LKS placements against the norm at 50% and 75%, active beschut-werk
// placements against the taakstelling, and the caseload's bijstand and
// banenafspraak residents against how many the gemeente has on bijstand
// and in the doelgroepregister. A target that is not set gives no row.
func doelen(t *ledgerv1.Periodecijfers, d *ledgerv1.Doelen) []*ledgerv1.Doelcijfer {
	if d == nil {
		return nil
	}
	var beschut int64
	for _, p := range t.GetPlaatsingen() {
		if p.GetSoort() == TypeWord(ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK) {
			beschut = p.GetActief()
		}
	}
	inCaseload := func(dg ledgerv1.Doelgroep) int64 {
		for _, c := range t.GetCaseloadPerDoelgroep() {
			if c.GetSleutel() == DoelgroepWord(dg) {
				return c.GetAantal()
			}
		}
		return 0
	}
	var out []*ledgerv1.Doelcijfer
	add := func(naam string, waarde int64, tegen string, doel int64) {
		if doel > 0 {
			out = append(out, &ledgerv1.Doelcijfer{Naam: naam, Waarde: waarde, Tegen: tegen, Doel: doel, Percentage: percent1(waarde, doel)})
		}
	}
	add("LKS-banen", t.GetLks().GetActief(), "LKS-norm bij 50%", d.GetLksNormVijftigProcent())
	add("LKS-banen", t.GetLks().GetActief(), "LKS-norm bij 75%", d.GetLksNormVijfenzeventigProcent())
	add("beschut werk", beschut, "taakstelling beschut werk", d.GetTaakstellingBeschut())
	add("bijstand in de caseload", inCaseload(ledgerv1.Doelgroep_DOELGROEP_BIJSTAND), "inwoners in de bijstand", d.GetBijstand())
	add("banenafspraak in de caseload", inCaseload(ledgerv1.Doelgroep_DOELGROEP_BANENAFSPRAAK), "inwoners in het doelgroepregister", d.GetDoelgroepregister())
	return out
}
