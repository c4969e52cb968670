package beleidsview

import (
	"fmt"
	"strings"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Kwartaal is the movement on the ladder in one quarter of a year view.
type Kwartaal struct {
	Naam           string // "2026-K1"
	Omhoog, Omlaag int64
}

// Kwartalen sums a year view's months into its quarters: what a raad reads
// as movement up and down the ladder per quarter. Nil for a month view.
func Kwartalen(v *ledgerv1.Beleidsview) []Kwartaal {
	ms := v.GetPerMaand()
	if len(ms) == 0 {
		return nil
	}
	year, _, _ := strings.Cut(ms[0].GetPeriode(), "-")
	out := make([]Kwartaal, 0, 4)
	for i, m := range ms {
		q := i / 3
		if q == len(out) {
			out = append(out, Kwartaal{Naam: fmt.Sprintf("%s-K%d", year, q+1)})
		}
		out[q].Omhoog += m.GetTredeOmhoog()
		out[q].Omlaag += m.GetTredeOmlaag()
	}
	return out
}
