package caseflow

import ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"

// The one definition of a gemeente's caseload, which the caseload view and
// the beleidsview both count by:
//
//   - Responsible on a day is State.Gemeente after the case's effective
//     history up to that day: the gemeente of the aanmelding, then of each
//     verhuizing's naar_gemeente (and after a herindeling its successor,
//     which the views map with the region's drager).
//   - Active is State.Open: the case exists and has no uitstroom.
//   - Instroom and uitstroom are the Stromen of each event of the effective
//     history, below.
//
// A corrected fact changes all of it for every gemeente that held the case
// after it: the correctie carries the corrected snapshots of the later
// verhuizingen (Overdrachten), so the gemeente moved to counts from the
// corrected fact as well.

// StroomSoort is the kind of an instroom or uitstroom.
type StroomSoort int

const (
	// StroomAanmelding: the case starts (instroom).
	StroomAanmelding StroomSoort = iota + 1
	// StroomVerhuizing: the resident moves; uitstroom at the gemeente
	// moved from, instroom at the one moved to.
	StroomVerhuizing
	// StroomUitstroom: the case ends, with its reden.
	StroomUitstroom
	// StroomTerugkeer: a case closed by an uitstroom to regular work
	// reopens on the vangnet (instroom).
	StroomTerugkeer
)

// Stroom is one instroom or uitstroom of a case.
type Stroom struct {
	Gemeente string // whose caseload the case enters or leaves
	Uit      bool
	Soort    StroomSoort
	Reden    ledgerv1.UitstroomReden // of a StroomUitstroom
}

// Stromen returns the instroom and uitstroom of ev, an event of a case's
// effective history, given the states before and after it (Evolve). At most
// two; n says how many.
func Stromen(before, after State, ev *ledgerv1.Event) (out [2]Stroom, n int) {
	switch p := ev.GetPayload().(type) {
	case *ledgerv1.Event_Aanmelding:
		out[0] = Stroom{Gemeente: after.Gemeente, Soort: StroomAanmelding}
		return out, 1
	case *ledgerv1.Event_Verhuizing:
		van, naar := before.Gemeente, p.Verhuizing.GetNaarGemeente()
		if !before.Exists || van == "" {
			// A view that starts at the verhuizing: the gemeente moved
			// from is the envelope's.
			van = ev.GetEnvelope().GetGemeente()
		}
		if van == naar {
			return out, 0
		}
		out[0] = Stroom{Gemeente: van, Uit: true, Soort: StroomVerhuizing}
		out[1] = Stroom{Gemeente: naar, Soort: StroomVerhuizing}
		return out, 2
	case *ledgerv1.Event_Uitstroom:
		out[0] = Stroom{Gemeente: before.Gemeente, Uit: true, Soort: StroomUitstroom, Reden: p.Uitstroom.GetReden()}
		return out, 1
	case *ledgerv1.Event_Vangnet:
		if before.Exists && !before.Open() && after.Open() {
			out[0] = Stroom{Gemeente: after.Gemeente, Soort: StroomTerugkeer}
			return out, 1
		}
	}
	return out, 0
}
