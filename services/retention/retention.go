// Package retention decides when a closed case's personal data is due for
// destruction: the retention periods of the VNG Selectielijst 2020
// (procestype 8, voorzieningen) as data (deploy/bewaartermijnen.json), and
// the one rule that picks a case's result and archive action date from its
// history.
package retention

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Result is one result type of the selectielijst with its period.
type Result struct {
	Resultaat    string `json:"resultaat"`
	Omschrijving string `json:"omschrijving"`
	// Voorwaarde names the history that has this result.
	Voorwaarde string `json:"voorwaarde"`
	Jaren      int    `json:"jaren"`
}

// Rules are the retention periods in force; the first result whose
// condition holds decides.
type Rules struct {
	Bron       string   `json:"bron"`
	Resultaten []Result `json:"resultaten"`
}

// conditions are what a Voorwaarde may name.
var conditions = map[string]func(h history) bool{
	"ooit-geplaatst":          func(h history) bool { return h.placed },
	"intake-zonder-plaatsing": func(h history) bool { return h.intake && !h.placed },
	"zonder-intake":           func(h history) bool { return !h.intake && !h.placed },
}

// Load reads the rules at path.
func Load(path string) (*Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("retention rules: %w", err)
	}
	var r Rules
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("retention rules %s: %w", path, err)
	}
	if len(r.Resultaten) == 0 {
		return nil, fmt.Errorf("retention rules %s: no results", path)
	}
	for _, res := range r.Resultaten {
		if _, ok := conditions[res.Voorwaarde]; !ok {
			return nil, fmt.Errorf("retention rules %s: result %q: unknown voorwaarde %q (known: ooit-geplaatst, intake-zonder-plaatsing, zonder-intake)", path, res.Resultaat, res.Voorwaarde)
		}
		if res.Jaren < 1 || res.Jaren > 100 {
			return nil, fmt.Errorf("retention rules %s: result %q: %d years", path, res.Resultaat, res.Jaren)
		}
	}
	return &r, nil
}

type history struct{ intake, placed bool }

// Decide returns a case's result and the day its personal data may be
// destroyed (the archive action date): the period of its result after the
// day it closed. ok is false for a case that is not closed, or whose
// history fits no result.
func (r *Rules) Decide(events []*ledgerv1.Event) (res Result, due *ledgerv1.Date, ok bool) {
	st, err := caseflow.Fold(events)
	if err != nil || st.Toestand != ledgerv1.Toestand_TOESTAND_UITGESTROOMD {
		return Result{}, nil, false
	}
	var h history
	var closed *ledgerv1.Date
	for _, ev := range events {
		switch ev.GetPayload().(type) {
		case *ledgerv1.Event_Intake:
			h.intake = true
		case *ledgerv1.Event_Plaatsing, *ledgerv1.Event_Vangnet:
			h.placed = true
		case *ledgerv1.Event_Uitstroom:
			closed = ev.GetEnvelope().GetOccurredOn()
		}
	}
	if closed == nil {
		return Result{}, nil, false
	}
	for _, res := range r.Resultaten {
		if conditions[res.Voorwaarde](h) {
			return res, event.Date(event.DateTime(closed).AddDate(res.Jaren, 0, 0)), true
		}
	}
	return Result{}, nil, false
}

// DueBy reports whether due is on or before day.
func DueBy(due, day *ledgerv1.Date) bool {
	return !event.DateTime(due).After(event.DateTime(day))
}
