package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestAuditHerleid traces a placement line, an hours line and a share of
// shared costs back to their events, policy, key and arithmetic, from the
// export and from a delivered report; a line whose amount does not follow
// from its events is a finding.
func TestAuditHerleid(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0406", "--geldig-vanaf", "2026-01-01",
		"--product", "beschut-werk=12000", "--product", "jobcoaching=85.50", "--product", "lks-baan=9800")
	mustCLI(t, addr, "regio", "verdeelsleutel", "--jaar", "2026", "--methode", "inwoners")
	clk.Set(2026, time.March, 2)
	c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0406", "--doelgroep", "beschut-werk", "--verwijzer", "werkcentrum", "--client-id", "R-herleid-1", "--datum", "2026-01-05")
	mustCLI(t, addr, "case", "intake", c, "--trede", "beschut", "--loonwaarde", "25", "--datum", "2026-01-06")
	mustCLI(t, addr, "case", "plaatsen", c, "--type", "beschut-werk", "--datum", "2026-01-07")
	mustCLI(t, addr, "case", "uren", c, "--product", "jobcoaching", "--van", "2026-01-07", "--tot", "2026-01-31", "--uren", "10")
	lks := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0406", "--doelgroep", "banenafspraak", "--verwijzer", "uwv", "--client-id", "R-herleid-2", "--datum", "2026-02-02")
	mustCLI(t, addr, "case", "intake", lks, "--trede", "bemiddelbaar-met-ondersteuning", "--loonwaarde", "60", "--datum", "2026-02-03")
	mustCLI(t, addr, "case", "plaatsen", lks, "--type", "lks-baan", "--werkgever", "Bakkerij", "--lks-bedrag", "1250.00", "--datum", "2026-02-10")
	clk.Set(2026, time.April, 10)
	mustCLI(t, addr, "regio", "kosten", "--van", "2026-01-01", "--tot", "2026-03-31", "--bedrag", "1000.01", "--budgetstroom", "participatiebudget", "--omschrijving", "overhead Q1")

	var rows [][]string
	eventually(t, "the regional model", func() bool {
		code, out, _ := cli(t, addr, "export", "costs", "--gemeente", "GM0406", "--year", "2026")
		r := csv.NewReader(strings.NewReader(out))
		r.Comma = ';'
		rows, _ = r.ReadAll()
		return code == exitOK && strings.Contains(out, "gedeeld;")
	})
	row := func(soort, maand string) int { // 1-based, under the header
		for i, r := range rows[1:] {
			if r[0] == soort && r[2] == maand {
				return i + 1
			}
		}
		t.Fatalf("no %s line of %s in the export", soort, maand)
		return 0
	}
	herleid := func(arg string, extra ...string) herleiding {
		t.Helper()
		return herleidJSON(t, addr, arg, extra...)
	}
	has := func(h herleiding, frag string) bool {
		return strings.Contains(strings.Join(h.Rekensom, "\n"), frag)
	}

	t.Run("plaatsing", func(t *testing.T) {
		h := herleid(fmt.Sprintf("GM0406/2026/%d", row("plaatsing", "2026-01")))
		// 25 days of 1.200.000 cent a year: 30.000.000 / 365 = 82.191
		// rest 285, more than half: 82.192.
		if !h.Klopt || h.Uitkomst != 82192 || !has(h, "30.000.000 / 365 = 82.191 rest 285") || !has(h, "naar boven") {
			t.Errorf("arithmetic %v = %d (klopt %v)", h.Rekensom, h.Uitkomst, h.Klopt)
		}
		if b := h.Beleid; b == nil || b.Versie != "GM0406/v1" || b.CentPerJaar != 1_200_000 || b.GeldigVanaf != "2026-01-01" || !isPosition(b.Positie) {
			t.Errorf("beleid %+v", b)
		}
		var kinds []string
		for _, g := range h.Gebeurtenissen {
			if !isPosition(g.Positie) {
				t.Errorf("event %s without its position: %+v", g.Event, g)
			}
			kinds = append(kinds, g.Soort)
		}
		if strings.Join(kinds, " ") != "beleid plaatsing" {
			t.Errorf("events of the line, in store order: %v", kinds)
		}
	})
	t.Run("uren", func(t *testing.T) {
		h := herleid(fmt.Sprintf("GM0406/2026/%d", row("uren", "2026-01")))
		if !h.Klopt || h.Uitkomst != 85500 || !has(h, "8.550 cent per uur × 600 minuten / 60 minuten per uur = 5.130.000 / 60 = 85.500 rest 0") {
			t.Errorf("arithmetic %v = %d", h.Rekensom, h.Uitkomst)
		}
	})
	t.Run("lks", func(t *testing.T) {
		// The loonkostensubsidie of 10..28 February, from the plaatsing in
		// the store: 125.000 cent × 19 / 28 = 84.821 rest 12.
		h := herleid(fmt.Sprintf("GM0406/2026/%d", row("lks", "2026-02")))
		if !h.Klopt || h.Uitkomst != 84821 || !has(h, "125.000 cent per maand × 19 dagen / 28 dagen in de maand = 2.375.000 / 28 = 84.821 rest 12") {
			t.Errorf("arithmetic %v = %d (klopt %v)", h.Rekensom, h.Uitkomst, h.Klopt)
		}
		if h.Kostenregel["budgetstroom"] != "buig" || h.Kostenregel["taakveld"] != "6.3" {
			t.Errorf("an LKS line on %s %s, want buig 6.3", h.Kostenregel["budgetstroom"], h.Kostenregel["taakveld"])
		}
	})
	t.Run("gedeeld", func(t *testing.T) {
		h := herleid(fmt.Sprintf("GM0406/2026/%d", row("gedeeld", "2026-03")))
		if h.Boeking == nil || h.Boeking.Cent != 100_001 || h.Verdeelsleutel == nil || h.Verdeelsleutel.Versie != "2026/v1" || h.Verdeelsleutel.Methode != "inwoners" {
			t.Fatalf("booking %+v, key %+v", h.Boeking, h.Verdeelsleutel)
		}
		var sum, extra int64
		own := false
		for _, d := range h.Delen {
			if d.Floor+d.Extra != d.Deel {
				t.Errorf("%s: %d + %d ≠ %d", d.Gemeente, d.Floor, d.Extra, d.Deel)
			}
			sum, extra = sum+d.Deel, extra+d.Extra
			own = own || d.Gemeente == "GM0406" && d.Deel == h.Uitkomst
		}
		if sum != 100_001 || !own || !h.Klopt || len(h.Delen) < 2 || extra >= int64(len(h.Delen)) {
			t.Errorf("parts %+v sum to %d (want the booking), own part %v, klopt %v", h.Delen, sum, own, h.Klopt)
		}
	})
	t.Run("rapportage", func(t *testing.T) {
		_, id := deliver(t, addr, "GM0406")
		n := row("plaatsing", "2026-02")
		fromReport := herleid(fmt.Sprintf("%s/%d", id, n))
		again := herleid(fmt.Sprintf("GM0406/2026/%d", n), "--tot", fromReport.Positie, "--peildatum", fromReport.Peildatum)
		if fromReport.Rapportage != id || fromReport.Uitkomst != again.Uitkomst || fromReport.Kostenregel["bedrag_cent"] != again.Kostenregel["bedrag_cent"] || !fromReport.Klopt {
			t.Errorf("line %d of report %s: %+v\nthe same line of the export at its position: %+v", n, id, fromReport, again)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			arg  string
			code int
			want string
		}{
			{"GM0406/2026/999", exitFailed, "heeft"},
			{"GM9999/2026/1", exitUsage, "onbekende gemeente"},
			{"GM0406/2026/0", exitUsage, "geen regelnummer"},
			{"GM0406/twintig/1", exitUsage, "geen jaar"},
			{uuid.NewString() + "/1", exitFailed, "staat niet in de opslag"},
			{"regel-17", exitUsage, "GEMEENTE/JAAR/REGEL"},
		} {
			code, _, errs := auditCLI(t, addr, "auditor", "audit", "herleid", tc.arg, "--gemeenten", "../../deploy/gemeenten.json")
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("%s: exit %d %q, want %d and %q", tc.arg, code, errs, tc.code, tc.want)
			}
		}
		if code, _, errs := auditCLI(t, addr, "GM0406", "audit", "herleid", "GM0406/2026/1", "--gemeenten", "../../deploy/gemeenten.json"); code != exitFailed || !strings.Contains(errs, "toegang") {
			t.Errorf("a gemeente read the whole history: exit %d %q", code, errs)
		}
	})
	t.Run("bevinding", func(t *testing.T) {
		// A line one cent off its own events: the trace, done again here,
		// says so.
		reg, err := gemeente.Load("../../deploy/gemeenten.json")
		if err != nil {
			t.Fatal(err)
		}
		m, err := replayModel(t.Context(), clientAs(t, addr, "auditor"), reg, "", nil, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		day := &ledgerv1.Date{Year: 2026, Month: 4, Day: 10}
		resp, err := replayCosts(m, reg, "GM0406", 2026, day)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{row("plaatsing", "2026-01"), row("uren", "2026-01"), row("gedeeld", "2026-03")} {
			l := resp.GetRegels()[n-1]
			l.BedragCent++
			var h herleiding
			if err := trace(&h, l, m, reg, map[uuid.UUID]store.Position{}, day); err != nil {
				t.Fatal(err)
			}
			if h.Klopt || h.Uitkomst != l.GetBedragCent()-1 {
				t.Errorf("%s line with a cent too many: klopt %v, uitkomst %d", l.GetSoort(), h.Klopt, h.Uitkomst)
			}
		}
	})
}

// TestHalfEven is the rounding of the trace's own arithmetic.
func TestHalfEven(t *testing.T) {
	for _, tc := range []struct {
		a, b, den, want int64
		says            string
	}{
		{10, 6, 4, 15, ""},                  // 60/4 = 15 exactly
		{7, 1, 4, 2, "meer dan de helft"},   // 1.75
		{5, 1, 4, 1, "minder dan de helft"}, // 1.25
		{5, 1, 2, 2, "naar beneden"},        // 2.5 → 2
		{7, 1, 2, 4, "naar boven"},          // 3.5 → 4
		{1_200_000, 25, 365, 82192, "meer dan de helft"},
	} {
		var h herleiding
		got := halfEven(&h, []int64{tc.a, tc.b}, []string{"x", "y"}, tc.den, "z")
		if got != tc.want || !strings.Contains(strings.Join(h.Rekensom, " "), tc.says) {
			t.Errorf("%d × %d / %d = %d (%v), want %d (%q)", tc.a, tc.b, tc.den, got, h.Rekensom, tc.want, tc.says)
		}
	}
}

func isPosition(s string) bool {
	_, err := store.ParsePosition(s)
	return err == nil
}

func herleidJSON(t *testing.T, addr, arg string, extra ...string) herleiding {
	t.Helper()
	args := append([]string{"audit", "herleid", arg, "--json", "--gemeenten", "../../deploy/gemeenten.json"}, extra...)
	code, out, errs := auditCLI(t, addr, "auditor", args...)
	if code != exitOK {
		t.Fatalf("audit herleid %s: exit %d: %s%s", arg, code, out, errs)
	}
	var h herleiding
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return h
}
