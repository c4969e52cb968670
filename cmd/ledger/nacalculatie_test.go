package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/export"
)

// TestNacalculatieThroughTheCLI: Huizen's GR budget for 2026 is adopted on
// 15 April with a higher tariff from 1 January. The report delivered that
// morning is made again unchanged, today's export keeps every line it had
// and gains afrekening lines per month that add up to the difference, the
// beleidsview shows both, and each afrekening line traces to its cents.
func TestNacalculatieThroughTheCLI(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0406", "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=12000")
	clk.Set(2026, time.March, 2)
	c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0406", "--doelgroep", "beschut-werk", "--verwijzer", "werkcentrum", "--client-id", "R-nacalc-1", "--datum", "2026-01-05")
	mustCLI(t, addr, "case", "intake", c, "--trede", "beschut", "--loonwaarde", "25", "--datum", "2026-01-06")
	mustCLI(t, addr, "case", "plaatsen", c, "--type", "beschut-werk", "--datum", "2026-01-07")
	clk.Set(2026, time.April, 15)
	delivered, id := deliver(t, addr, "GM0406")

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"without a decision", []string{"--geldig-vanaf", "2026-01-01", "--nacalculatie", "begroting"}, exitUsage, "horen bij elkaar"},
		{"of the future", []string{"--geldig-vanaf", "2026-05-01", "--nacalculatie", "begroting", "--besluit", "AB 2026-14"}, exitFailed, "nacalculatie.verleden"},
		{"an ordinary version backdated", []string{"--geldig-vanaf", "2026-01-01"}, exitFailed, "beleid.geen-terugwerkende-kracht"},
	} {
		args := append([]string{"policy", "set", "--gemeente", "GM0406", "--product", "beschut-werk=12775"}, tc.args...)
		if code, _, errs := cli(t, addr, args...); code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d %q, want %d and %q", tc.name, code, errs, tc.code, tc.want)
		}
	}
	// 12.775 a year is 35,00 a day.
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0406", "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=12775",
		"--nacalculatie", "GR-begroting 2026 vastgesteld", "--besluit", "AB 2026-14")

	var now string
	eventually(t, "the export with the nacalculatie", func() bool {
		code, out, _ := cli(t, addr, "export", "costs", "--gemeente", "GM0406", "--year", "2026")
		now = out
		return code == exitOK && strings.Contains(out, "afrekening;")
	})
	// Every line delivered is still there, unchanged; what is new is the
	// afrekening: Jan 25 days, Feb 28, Mar 31, Apr 1-15, at 35,00 a day less
	// what they were priced at (82.192, 92.055, 101.918, 49.315 cent).
	if !strings.HasPrefix(now, delivered) {
		t.Fatalf("the lines priced before the nacalculatie changed:\ndelivered:\n%s\nnow:\n%s", delivered, now)
	}
	rows := readCSV(t, strings.TrimPrefix(now, delivered))
	want := map[string]int64{"2026-01": 87_500 - 82_192, "2026-02": 98_000 - 92_055, "2026-03": 108_500 - 101_918, "2026-04": 52_500 - 49_315}
	var settled int64
	for _, r := range rows {
		cents, _ := strconv.ParseInt(r["bedrag_cent"], 10, 64)
		if r["soort"] != "afrekening" || want[r["maand"]] != cents || r["beleidsversie"] != "GM0406/v2" || !strings.Contains(r["opmerking"], "besluit AB 2026-14") {
			t.Errorf("afrekening line %v", r)
		}
		settled += cents
	}
	if len(rows) != 4 || settled != 21_020 {
		t.Errorf("%d afrekening lines, %d cent; want one per month, 21.020 cent", len(rows), settled)
	}

	// The delivered report is made again unchanged; today it differs by
	// the four afrekening lines, and only by them.
	code, out, errs := auditCLI(t, addr, "auditor", "audit", "verschil", id, "--json", "--gemeenten", "../../deploy/gemeenten.json")
	if code != exitOK {
		t.Fatalf("audit verschil: exit %d: %s", code, errs)
	}
	var v verschilJSON
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Reproduceerbaar || v.VerschilCent != settled || len(v.Verschillen) != 4 {
		t.Errorf("verschil: reproduceerbaar %v, %d cent in %d lines, want 21.020 in 4", v.Reproduceerbaar, v.VerschilCent, len(v.Verschillen))
	}
	for _, d := range v.Verschillen {
		if d.Wat != "toegevoegd" || d.Sleutel.Soort != "afrekening" {
			t.Errorf("difference %+v, want only added afrekening lines", d)
		}
	}

	// The beleidsview shows both: direct as priced, afrekening, total.
	var bv struct {
		View struct {
			KostenTotaal map[string]string `json:"kosten_totaal"`
		} `json:"view"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, addr, "view", "GM0406", "--year", "2026", "--json")), &bv); err != nil {
		t.Fatal(err)
	}
	if k := bv.View.KostenTotaal; k["direct_cent"] != "325480" || k["afrekening_cent"] != "21020" || k["totaal_cent"] != "346500" {
		t.Errorf("beleidsview costs %v, want direct 325.480, afrekening 21.020, totaal 346.500", k)
	}
	if out := mustCLI(t, addr, "view", "GM0406", "--year", "2026"); !strings.Contains(out, "AFREKENING") || !strings.Contains(out, "€ 210,20") {
		t.Errorf("the beleidsview does not show the afrekening:\n%s", out)
	}

	// An afrekening line traces to the lines it settles, each recomputed.
	n := strings.Count(delivered, "\n") // the header and the delivered lines: the next is the first afrekening
	h := herleidJSON(t, addr, fmt.Sprintf("GM0406/2026/%d", n))
	if !h.Klopt || h.Uitkomst != want["2026-01"] || h.Beleid == nil || h.Beleid.Versie != "GM0406/v2" || h.Beleid.CentPerJaar != 1_277_500 {
		t.Errorf("trace of the January afrekening: klopt %v, %d cent, beleid %+v\n%s", h.Klopt, h.Uitkomst, h.Beleid, strings.Join(h.Rekensom, "\n"))
	}

	// From the day after, the new tariff prices directly.
	clk.Set(2026, time.April, 16)
	eventually(t, "the next day's export", func() bool {
		_, out, _ := cli(t, addr, "export", "costs", "--gemeente", "GM0406", "--year", "2026")
		return strings.Contains(out, ";2026-04-16;2026-04-16;1;") && strings.Contains(out, ";1277500;3500;35,00;")
	})
}

func readCSV(t *testing.T, body string) []map[string]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(strings.Join(append([]string{strings.Join(export.CostHeader, ";")}, strings.Split(strings.TrimSpace(body), "\n")...), "\n")))
	r.Comma = ';'
	all, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, row := range all[1:] {
		m := map[string]string{}
		for i, col := range all[0] {
			m[col] = row[i]
		}
		out = append(out, m)
	}
	return out
}
