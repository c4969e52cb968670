// Package beleid holds each gemeente's policy and the regional agreements:
// which products a gemeente buys at which tariff, its budgets and targets,
// the verdeelsleutel of a year and the shared costs the centrumgemeente
// books. Policy is itself immutable, effective-dated events in the ledger;
// this package decides them and finds the version in force on a day.
package beleid

import (
	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Product codes a gemeente can buy from the centrumgemeente.
const (
	ProductBeschutWerk       = "beschut-werk"
	ProductWsw               = "wsw"
	ProductDetachering       = "detachering"
	ProductLKSBaan           = "lks-baan"
	ProductWerkervaringsplek = "werkervaringsplek"
	ProductLeerwerktraject   = "leerwerktraject"
	ProductDagbesteding      = "dagbesteding"
	ProductVangnet           = "vangnet"
	ProductJobcoaching       = "jobcoaching"
	ProductBegeleiding       = "begeleiding"
)

// Eenheid is what a tariff is per.
type Eenheid string

// Units of tariffs.
const (
	PerJaar Eenheid = "jaar" // a placement, priced per day as a share of the year
	PerUur  Eenheid = "uur"  // hours of begeleiding delivered
)

// Product describes a product code.
type Product struct {
	Code         string
	Omschrijving string
	Eenheid      Eenheid
	// Budgetstroom it is paid from unless the policy says otherwise.
	Budgetstroom ledgerv1.Budgetstroom
}

// Products is the catalogue, in the order --help lists it.
var Products = []Product{
	{ProductBeschutWerk, "beschut werk", PerJaar, ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT},
	{ProductWsw, "Wsw-dienstverband", PerJaar, ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT},
	{ProductDetachering, "detachering", PerJaar, ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET},
	{ProductLKSBaan, "baan met loonkostensubsidie", PerJaar, ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG},
	{ProductWerkervaringsplek, "werkervaringsplek", PerJaar, ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET},
	{ProductLeerwerktraject, "leerwerktraject", PerJaar, ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET},
	{ProductDagbesteding, "arbeidsmatige dagbesteding", PerJaar, ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET},
	{ProductVangnet, "vangnetplaats in het ontwikkelbedrijf", PerJaar, ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET},
	{ProductJobcoaching, "jobcoaching", PerUur, ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET},
	{ProductBegeleiding, "begeleiding", PerUur, ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET},
}

// LookupProduct finds a product by code.
func LookupProduct(code string) (Product, bool) {
	for _, p := range Products {
		if p.Code == code {
			return p, true
		}
	}
	return Product{}, false
}

// DefaultProduct is the product a placement of type t is priced as when the
// plaatsing names none.
func DefaultProduct(t ledgerv1.PlaatsingType) string {
	switch t {
	case ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK:
		return ProductBeschutWerk
	case ledgerv1.PlaatsingType_PLAATSING_TYPE_WSW_DIENSTVERBAND:
		return ProductWsw
	case ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING:
		return ProductDetachering
	case ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN:
		return ProductLKSBaan
	case ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK:
		return ProductWerkervaringsplek
	case ledgerv1.PlaatsingType_PLAATSING_TYPE_LEERWERKTRAJECT:
		return ProductLeerwerktraject
	case ledgerv1.PlaatsingType_PLAATSING_TYPE_DAGBESTEDING:
		return ProductDagbesteding
	}
	return ""
}

// Taakveld is the Iv3 taakveld of a budget stream: 6.3 inkomensregelingen
// (incl. LKS), 6.4 Wsw en beschut werk, 6.5 arbeidsparticipatie.
func Taakveld(b ledgerv1.Budgetstroom) string {
	switch b {
	case ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG:
		return "6.3"
	case ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT:
		return "6.4"
	case ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET:
		return "6.5"
	case ledgerv1.Budgetstroom_BUDGETSTROOM_BEDRIJFSVOERING:
		return "0.4"
	}
	return ""
}
