package retention_test

import (
	"testing"

	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/retention"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

func on(y, m, d int32, ev *ledgerv1.Event) *ledgerv1.Event {
	ev.Envelope = &ledgerv1.Envelope{CaseId: "6b3f1a52-8c55-4a5e-9a43-1f7f0d6c9e10", Gemeente: "GM0402", OccurredOn: &ledgerv1.Date{Year: y, Month: m, Day: d}}
	return ev
}

var (
	aanmelding = func(y, m, d int32) *ledgerv1.Event {
		return on(y, m, d, &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: "R-1", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_WSW}}})
	}
	intake = func(y, m, d int32) *ledgerv1.Event {
		return on(y, m, d, &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_BESCHUT, LoonwaardeProcent: 30}}})
	}
	plaatsing = func(y, m, d int32) *ledgerv1.Event {
		return on(y, m, d, &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}})
	}
	uitval = func(y, m, d int32) *ledgerv1.Event {
		return on(y, m, d, &ledgerv1.Event{Payload: &ledgerv1.Event_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE}}})
	}
	uitstroom = func(y, m, d int32) *ledgerv1.Event {
		return on(y, m, d, &ledgerv1.Event{Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG}}})
	}
)

func TestDecide(t *testing.T) {
	rules, err := retention.Load("../../deploy/bewaartermijnen.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		history   []*ledgerv1.Event
		resultaat string
		due       string
	}{
		{"placed and ended", []*ledgerv1.Event{aanmelding(2012, 1, 5), intake(2012, 2, 1), plaatsing(2012, 3, 1), uitstroom(2014, 6, 1)}, "verstrekt-en-beeindigd", "2024-06-01"},
		{"placed, uitval, out", []*ledgerv1.Event{aanmelding(2020, 1, 5), intake(2020, 2, 1), plaatsing(2020, 3, 1), uitval(2020, 4, 1), uitstroom(2020, 5, 1)}, "verstrekt-en-beeindigd", "2030-05-01"},
		{"intake, never placed", []*ledgerv1.Event{aanmelding(2024, 1, 5), intake(2024, 2, 1), uitstroom(2024, 3, 1)}, "afgebroken", "2025-03-01"},
		{"out before intake", []*ledgerv1.Event{aanmelding(2024, 1, 5), uitstroom(2024, 2, 29)}, "geweigerd", "2029-03-01"},
		{"still open", []*ledgerv1.Event{aanmelding(2024, 1, 5), intake(2024, 2, 1)}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, due, ok := rules.Decide(tc.history)
			if tc.resultaat == "" {
				if ok {
					t.Fatalf("an open case has result %s, due %s", res.Resultaat, event.FormatDate(due))
				}
				return
			}
			if !ok || res.Resultaat != tc.resultaat || event.FormatDate(due) != tc.due {
				t.Fatalf("got %q due %s (%v), want %q due %s", res.Resultaat, event.FormatDate(due), ok, tc.resultaat, tc.due)
			}
		})
	}
}

func TestLoadRefusesUnknownCondition(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/r.json"
	if err := writeFile(path, `{"resultaten":[{"resultaat":"x","voorwaarde":"altijd","jaren":3}]}`); err != nil {
		t.Fatal(err)
	}
	if _, err := retention.Load(path); err == nil {
		t.Fatal("a rule with an unknown condition loaded")
	}
}
