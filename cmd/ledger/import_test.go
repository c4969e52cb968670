package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/api"
	"github.com/gooi-vechtstreek/ledger/services/clock"
)

// TestImportJSONLines imports a small history with a refused line in the
// middle, then the same file again.
func TestImportJSONLines(t *testing.T) {
	clk := clock.NewManual(2026, time.December, 2)
	addr := startServer(t, t.TempDir(), clk)
	code, out, errs := cli(t, addr, "import", "testdata/import-klein.jsonl")
	if code != exitFailed {
		t.Fatalf("import with a refused line: exit %d, want %d\n%s%s", code, exitFailed, out, errs)
	}
	// K-18 is placed before its intake (line 7): refused with line, source
	// and rule; its intake on line 8 is skipped, K-17 goes on.
	if !strings.Contains(errs, "regel 7 (bron K-18/2): geweigerd [plaatsing.na-intake]") {
		t.Errorf("the refusal does not name line, source and rule:\n%s", errs)
	}
	if want := "gelezen 10 regels: vastgelegd 8, al aanwezig 0, geweigerd 1, overgeslagen 1"; !strings.Contains(out, want) {
		t.Errorf("summary %q, want %q", out, want)
	}
	k17 := api.ImportCaseID("import-klein", "K-17").String()
	var shown struct {
		Case     map[string]any `json:"case"`
		Timeline []struct {
			Event struct {
				Envelope map[string]any `json:"envelope"`
			} `json:"event"`
		} `json:"timeline"`
		Keten bool `json:"keten_intact"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, addr, "case", "show", k17, "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if len(shown.Timeline) != 4 || !shown.Keten || shown.Case["toestand"] != "TOESTAND_GEPLAATST" {
		t.Fatalf("K-17: %d events, keten %v, case %v", len(shown.Timeline), shown.Keten, shown.Case)
	}
	env := shown.Timeline[0].Event.Envelope
	bron, _ := env["bron"].(map[string]any)
	if bron["systeem"] != "import-klein" || bron["record"] != "K-17/1" || env["actor"] != "km-test" {
		t.Errorf("the aanmelding's envelope does not keep its source and importer: %v", env)
	}
	if d, _ := env["occurred_on"].(map[string]any); d["year"] != float64(2026) || d["month"] != float64(2) || d["day"] != float64(3) {
		t.Errorf("occurred_on is %v, want the historical 2026-02-03", env["occurred_on"])
	}
	if !strings.HasPrefix(env["recorded_at"].(string), "2026-12-02") {
		t.Errorf("recorded_at is %v, want the moment of import", env["recorded_at"])
	}
	if code, _, errs := cli(t, addr, "case", "show", api.ImportCaseID("import-klein", "K-18").String(), "--json"); code != exitOK {
		t.Errorf("K-18 should hold its aanmelding, imported up to the refused line: %s", errs)
	}

	// Again: nothing is written twice.
	code, out, _ = cli(t, addr, "import", "testdata/import-klein.jsonl")
	if want := "vastgelegd 0, al aanwezig 8, geweigerd 1, overgeslagen 1"; code != exitFailed || !strings.Contains(out, want) {
		t.Errorf("second import: exit %d, %q, want %q", code, out, want)
	}
	if out := mustCLI(t, addr, "case", "show", k17, "--json"); strings.Count(out, `"bron":{"systeem"`) != 4 || strings.Contains(out, `"revision":"4"`) {
		t.Errorf("K-17 after the second import:\n%s", out)
	}
	if out := mustCLI(t, addr, "regio", "show"); strings.Count(out, "overhead Q1") != 1 {
		t.Errorf("the shared costs are booked more than once:\n%s", out)
	}
	// The costs follow: 31 days of 12,000 a year plus 10 hours at 87.50.
	eventually(t, "the cost export", func() bool {
		code, out, _ := cli(t, addr, "export", "costs", "--gemeente", "GM0402", "--year", "2026")
		return code == exitOK && strings.Contains(out, ";31;0;1200000;101918;1019,18;") && strings.Contains(out, "87500")
	})
}

// TestImportBeginstand: a CSV with one row per current client expands into
// aanmelding, intake and plaatsing; a bad row is refused with its line.
func TestImportBeginstand(t *testing.T) {
	clk := clock.NewManual(2026, time.December, 2)
	addr := startServer(t, t.TempDir(), clk)
	dir := t.TempDir()
	policy := filepath.Join(dir, "tarieven.jsonl")
	if err := os.WriteFile(policy, []byte(`{"bron": "b1", "beleid": {"gemeente": "GM0402", "beleid": {"geldig_vanaf": {"year": 2015, "month": 1, "day": 1}, "producten": [{"product": "beschut-werk", "cent_per_jaar": "1200000"}]}}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, addr, "import", policy)
	code, out, errs := cli(t, addr, "import", "testdata/beginstand.csv")
	if code != exitFailed || !strings.Contains(errs, "regel 4: geweigerd [import.formaat]") || !strings.Contains(errs, "aanmelddatum") {
		t.Fatalf("beginstand: exit %d\n%s%s", code, out, errs)
	}
	if want := "gelezen 6 regels: vastgelegd 5, al aanwezig 0, geweigerd 1"; !strings.Contains(out, want) {
		t.Errorf("summary %q, want %q", out, want)
	}
	c1 := api.ImportCaseID("beginstand", "GM0402/C-1").String()
	if out := mustCLI(t, addr, "case", "show", c1, "--json"); !strings.Contains(out, `"toestand":"TOESTAND_GEPLAATST"`) || !strings.Contains(out, `"werkgever":"Tomin"`) || !strings.Contains(out, `"minuten_per_week":1920`) {
		t.Errorf("C-1 is not placed at Tomin, 32 hours:\n%s", out)
	}
	eventually(t, "the caseload of GM0402", func() bool {
		return viewJSON(t, addr, "GM0402", false)["actief"] == "2"
	})
}
