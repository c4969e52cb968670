package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/clock"
)

// TestReadYourWrites: a query right after a command, by another run of
// the CLI, shows the command, without the caller waiting or retrying: the
// command's answer carries its store position, the CLI remembers it, the
// next query asks the server to wait for it. And every answer says how far
// behind it is.
func TestReadYourWrites(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-03-02", "--product", "beschut-werk=12000")
	for i := 1; i <= 20; i++ {
		id := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", fmt.Sprintf("R-ryw-%d", i))
		var caseload struct {
			View        map[string]any `json:"view"`
			Achterstand map[string]any `json:"achterstand"`
		}
		if err := json.Unmarshal([]byte(mustCLI(t, addr, "view", "GM0402", "--caseload", "--json")), &caseload); err != nil {
			t.Fatal(err)
		}
		if got := caseload.View["actief"]; got != fmt.Sprint(i) {
			t.Fatalf("after aanmelding %d the caseload view shows actief %v", i, got)
		}
		if caseload.Achterstand["store_positie"] == "" || caseload.Achterstand["store_positie"] == nil {
			t.Fatalf("the caseload view does not say how far behind it is: %v", caseload.Achterstand)
		}
		if list := mustCLI(t, addr, "case", "list", "--gemeente", "GM0402"); !strings.Contains(list, id) {
			t.Fatalf("case list after aanmelding %d lacks %s", i, id)
		}
		var bv struct {
			View struct {
				Totaal struct {
					Instroom string `json:"instroom"`
				} `json:"totaal"`
			} `json:"view"`
			Achterstand struct {
				Gebeurtenissen string `json:"gebeurtenissen"`
			} `json:"achterstand"`
		}
		if err := json.Unmarshal([]byte(mustCLI(t, addr, "view", "GM0402", "--json")), &bv); err != nil {
			t.Fatal(err)
		}
		if bv.View.Totaal.Instroom != fmt.Sprint(i) {
			t.Fatalf("after aanmelding %d the beleidsview shows instroom %s", i, bv.View.Totaal.Instroom)
		}
	}
	// Read as a person reads it: the view says it is up to date, and with
	// which position. Nothing is written after the last command, which
	// every view waited for.
	for _, args := range [][]string{{"view", "GM0402"}, {"view", "GM0402", "--caseload"}} {
		if out := mustCLI(t, addr, args...); !strings.Contains(out, "Actueel: bijgewerkt tot positie ") {
			t.Errorf("ledger %s does not say how current it is:\n%s", strings.Join(args, " "), out)
		}
	}
}
