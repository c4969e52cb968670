package caseflow

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestHerindeling: from the day a gemeente ends, commands on its open cases
// go on under its successor, priced at the successor's policy; naming the
// ended gemeente is refused with the rule that names the successor; a
// successor outside the arrangement ends the cases.
func TestHerindeling(t *testing.T) {
	reg, err := gemeente.Load("../../services/gemeente/testdata/herindeling.json")
	if err != nil {
		t.Fatal(err)
	}
	y26, y27 := func(m time.Month, d int) *ledgerv1.Date { return event.YMD(2026, m, d) }, func(m time.Month, d int) *ledgerv1.Date { return event.YMD(2027, m, d) }
	policies := map[string]beleid.History{
		// Wijdemeren buys jobcoaching; Hilversum does not, but buys
		// begeleiding: after the date a carried case is priced by
		// Hilversum's policy.
		"GM1696": {policyOf("GM1696", 1, y26(1, 1), perJaar(beleid.ProductBeschutWerk, 12_000_00), perUur(beleid.ProductJobcoaching, 85_00))},
		"GM0457": {policyOf("GM0457", 1, y26(1, 1), perJaar(beleid.ProductBeschutWerk, 12_000_00), perUur(beleid.ProductJobcoaching, 85_00))},
		"GM0402": {policyOf("GM0402", 1, y26(1, 1), perJaar(beleid.ProductBeschutWerk, 12_500_00), perUur(beleid.ProductBegeleiding, 70_00))},
	}
	open := func(gm string) func(j *journey) {
		return func(j *journey) {
			j.do(aanmelding(y26(3, 2), gm))
			j.do(intake(y26(3, 9)))
			j.do(plaatsing(y26(4, 1), beschut))
		}
	}
	named := func(ev *ledgerv1.Event, gm string) *ledgerv1.Event { ev.Envelope.Gemeente = gm; return ev }
	cases := []struct {
		name  string
		setup func(j *journey)
		draft *ledgerv1.Event
		rule  string
		// the gemeente the accepted event is recorded under
		gemeente string
	}{
		{"laatste dag onder Wijdemeren", open("GM1696"), uitval(y26(12, 31)), "", "GM1696"},
		{"eerste dag onder Hilversum", open("GM1696"), uitval(y27(1, 1)), "", "GM0402"},
		{"Hilversum genoemd", open("GM1696"), named(uitval(y27(1, 4)), "GM0402"), "", "GM0402"},
		{"Wijdemeren genoemd na de datum", open("GM1696"), named(uitval(y27(1, 4)), "GM1696"), RuleGemeenteHerindeling, ""},
		{"aanmelding bij Wijdemeren na de datum", nil, aanmelding(y27(1, 2), "GM1696"), RuleGemeenteHerindeling, ""},
		{"uren over december: Wijdemeren", open("GM1696"), uren(y26(12, 31), y26(12, 1), beleid.ProductJobcoaching, 120), "", "GM1696"},
		{"uren over januari: Hilversums beleid", open("GM1696"), uren(y27(1, 31), y27(1, 1), beleid.ProductBegeleiding, 120), "", "GM0402"},
		{"uren over januari: niet door Hilversum ingekocht", open("GM1696"), uren(y27(1, 31), y27(1, 1), beleid.ProductJobcoaching, 120), RuleUrenProduct, ""},
		{"verhuizing naar de opvolger zelf", open("GM1696"), verhuizing(y27(2, 1), "GM0402"), RuleVerhuizingNaar, ""},
		{"verhuizing vanuit de opvolger", open("GM1696"), verhuizing(y27(2, 1), "GM1942"), "", "GM0402"},
		{"Weesp-zaak na de datum: beëindigd", open("GM0457"), uitval(y27(1, 4)), RuleGemeenteHerindeling, ""},
		{"Weesp-zaak: uren van vóór de datum", open("GM0457"), uren(y26(12, 31), y26(12, 1), beleid.ProductJobcoaching, 60), "", "GM0457"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newJourney(t)
			j.rules = Rules{Gemeenten: reg, Today: y27(3, 1), Policy: func(gm string) beleid.History { return policies[gm] }}
			if tc.setup != nil {
				tc.setup(j)
			}
			ev, err := j.try(tc.draft)
			if tc.rule != "" {
				var ref *Refusal
				if !errors.As(err, &ref) || ref.Rule != tc.rule {
					t.Fatalf("want refusal by %s, got %v", tc.rule, err)
				}
				if tc.rule == RuleGemeenteHerindeling && !strings.Contains(ref.Reden, "GM0402") && !strings.Contains(ref.Reden, "GM0363") {
					t.Errorf("the refusal does not name the successor: %s", ref.Reden)
				}
				return
			}
			if err != nil {
				t.Fatalf("want allowed, got %v", err)
			}
			if got := ev.GetEnvelope().GetGemeente(); got != tc.gemeente {
				t.Errorf("recorded under %s, want %s", got, tc.gemeente)
			}
			if v := ev.GetVerhuizing(); v != nil && v.GetVanGemeente() != "GM0402" {
				t.Errorf("verhuizing from %s, want the successor", v.GetVanGemeente())
			}
			j.history = append(j.history, ev)
			if s := j.state(); ev.GetUren() == nil && ev.GetVerhuizing() == nil && s.Gemeente != tc.gemeente {
				t.Errorf("state after the event under %s, want %s", s.Gemeente, tc.gemeente)
			}
		})
	}
}
