package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/clock"
)

// TestBackdatedPolicy: a region that starts with the ledger today records
// the tariffs in force since 1 January and then placements that started
// before today; once days are priced, a version over them is refused.
func TestBackdatedPolicy(t *testing.T) {
	clk := clock.NewManual(2026, time.December, 2)
	addr := startServer(t, t.TempDir(), clk)
	policy := func(from, tariff string) (int, string) {
		code, _, errs := cli(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", from, "--product", "beschut-werk="+tariff)
		return code, errs
	}
	if code, errs := policy("2026-01-01", "12000"); code != exitOK {
		t.Fatalf("backdated first policy, nothing priced yet: exit %d: %s", code, errs)
	}
	caseID := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "integrale-toegang", "--client-id", "R-1", "--datum", "2026-02-01")
	mustCLI(t, addr, "case", "intake", caseID, "--trede", "beschut", "--loonwaarde", "30", "--datum", "2026-02-02")
	mustCLI(t, addr, "case", "plaatsen", caseID, "--type", "beschut-werk", "--werkgever", "Tomin", "--uren", "28", "--datum", "2026-03-01")

	// The placement is priced from 1 March through today: a version from
	// 1 June would price those days again. Gooise Meren has nothing priced.
	code, errs := policy("2026-06-01", "13000")
	if code != exitFailed || !strings.Contains(errs, "beleid.geen-terugwerkende-kracht") || !strings.Contains(errs, "2026-12-02") {
		t.Fatalf("backdated over priced days: exit %d, %q", code, errs)
	}
	if code, _, errs := cli(t, addr, "policy", "set", "--gemeente", "GM1942", "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=11500"); code != exitOK {
		t.Fatalf("another gemeente's backdated first policy: exit %d: %s", code, errs)
	}
	// From tomorrow on is still allowed.
	if code, errs := policy("2026-12-03", "13000"); code != exitOK {
		t.Fatalf("a version from tomorrow: exit %d: %s", code, errs)
	}
	if out := mustCLI(t, addr, "policy", "show", "GM0402"); !strings.Contains(out, "2026-01-01") || !strings.Contains(out, "2026-12-03") || strings.Contains(out, "2026-06-01") {
		t.Errorf("policy show GM0402:\n%s", out)
	}
}

// TestHerindelingRefusesEndedGemeente: Wijdemeren is added to Hilversum on
// 2027-01-01. Up to its last day it takes aanmeldingen; from then on a
// command naming it is refused by a rule that names the successor.
func TestHerindelingRefusesEndedGemeente(t *testing.T) {
	clk := clock.NewManual(2027, time.January, 2)
	addr := startServer(t, t.TempDir(), clk)
	aanmelden := func(datum string) (int, string) {
		code, _, errs := cli(t, addr, "case", "aanmelden", "--gemeente", "GM1696", "--doelgroep", "wsw", "--wsw-indicatie-sinds", "2010-03-01", "--verwijzer", "uwv", "--client-id", "R-w", "--datum", datum)
		return code, errs
	}
	if code, errs := aanmelden("2026-12-31"); code != exitOK {
		t.Fatalf("an aanmelding on Wijdemeren's last day: exit %d: %s", code, errs)
	}
	code, errs := aanmelden("2027-01-02")
	if code != exitFailed || !strings.Contains(errs, "gemeente.herindeling") || !strings.Contains(errs, "Hilversum (GM0402)") || !strings.Contains(errs, "registreer onder GM0402") {
		t.Fatalf("an aanmelding for Wijdemeren after the herindeling: exit %d, %q", code, errs)
	}
}
