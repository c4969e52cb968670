package costs

import (
	"github.com/gooi-vechtstreek/ledger/projections/region"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Kind is what a line prices.
type Kind string

// Kinds of lines.
const (
	Plaatsing Kind = "plaatsing" // days of a placement
	Uren      Kind = "uren"      // hours of begeleiding or jobcoaching
	Gedeeld   Kind = "gedeeld"   // a part of shared costs
	// LKS is the loonkostensubsidie of an LKS placement's days: BUIG, by
	// the placement's own monthly amount, whatever the policy.
	LKS Kind = "lks"
	// Afrekening settles a nacalculatie: per gemeente, month and product,
	// the amount now less the amount as it was priced (settle).
	Afrekening Kind = "afrekening"
)

// ProductLKS is the product of an LKS line.
const ProductLKS = "loonkostensubsidie"

// Remarks on lines, for the controller who reads them.
const (
	RemarkNoPolicy     = "geen beleid van kracht"
	RemarkNotBought    = "product niet ingekocht"
	RemarkNotDivided   = "niet verdeeld: "
	remarkNoHourTariff = "geen uurtarief voor dit product"
	remarkNoYearTariff = "geen jaartarief voor dit product"
)

// Line is one cost line, with everything needed to recompute and trace it.
type Line struct {
	Kind     Kind
	Gemeente string // charged
	Month    string // "YYYY-MM"
	// Case and Placement (event id of the plaatsing or terugval op vangnet)
	// for placement lines; Case for hours.
	Case, Placement, Product string
	Budgetstroom             ledgerv1.Budgetstroom
	Taakveld                 string // Iv3: "6.3", "6.4" or "6.5"
	// Policy version that priced the line ("GM0402/v3") and its event;
	// empty when no policy was in force, and on shared lines.
	Policy, PolicyEvent string
	// First and last day, both inclusive. A placement line's Days may be
	// fewer than To−From+1 when the case moved away and back within the
	// month; the line then covers the days with this gemeente only.
	From, To region.Day
	Days     int64 // placement lines: days charged
	Minutes  int64 // hours lines
	// Tariff is cents per year (placement) or per hour (hours).
	Tariff int64
	Cents  int64
	// Events that produced the line: the plaatsing, the event that ended
	// it when it ends the line, the verhuizingen into or out of the
	// gemeente within or bounding it; the uren event; the booking and the
	// verdeelsleutel.
	Events []string
	// Shared lines: the booking's event id, the verdeelsleutel version
	// ("2026/v2"), its method and the weights.
	Booking, Key        string
	Method              ledgerv1.Verdeelmethode
	Weight, TotalWeight int64
	// Why a line has no amount or was not divided.
	Remark string
}

// Proto is the line's export form.
func (l Line) Proto() *ledgerv1.Kostenregel {
	return &ledgerv1.Kostenregel{
		Soort:          string(l.Kind),
		Gemeente:       l.Gemeente,
		Maand:          l.Month,
		Zaak:           l.Case,
		Plaatsing:      l.Placement,
		Product:        l.Product,
		Budgetstroom:   l.Budgetstroom,
		Taakveld:       l.Taakveld,
		Beleidsversie:  l.Policy,
		BeleidEvent:    l.PolicyEvent,
		Van:            l.From.Date(),
		TotEnMet:       l.To.Date(),
		Dagen:          l.Days,
		Minuten:        l.Minutes,
		TariefCent:     l.Tariff,
		BedragCent:     l.Cents,
		Events:         append([]string(nil), l.Events...),
		Boeking:        l.Booking,
		Verdeelsleutel: l.Key,
		Methode:        l.Method,
		Gewicht:        l.Weight,
		TotaalGewicht:  l.TotalWeight,
		Opmerking:      l.Remark,
	}
}
