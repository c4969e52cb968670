package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
)

// TestResultaatThroughTheCLI: income recorded per gemeente, budget stream
// and year (with a correction), against the direct and shared costs the
// ledger prices, gives the year's result per stream, through the real
// server and the operators' commands.
func TestResultaatThroughTheCLI(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0406", "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=12000")
	mustCLI(t, addr, "regio", "verdeelsleutel", "--jaar", "2026", "--methode", "inwoners")
	clk.Set(2026, time.November, 24)
	c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0406", "--doelgroep", "beschut-werk", "--verwijzer", "werkcentrum", "--client-id", "R-resultaat-1", "--datum", "2026-01-05")
	mustCLI(t, addr, "case", "intake", c, "--trede", "beschut", "--datum", "2026-01-06")
	mustCLI(t, addr, "case", "plaatsen", c, "--type", "beschut-werk", "--datum", "2026-02-01")
	mustCLI(t, addr, "regio", "kosten", "--van", "2026-01-01", "--tot", "2026-03-31", "--bedrag", "90000", "--budgetstroom", "bedrijfsvoering", "--omschrijving", "overhead Q1")
	mustCLI(t, addr, "regio", "inkomsten", "--gemeente", "GM0406", "--jaar", "2026", "--budgetstroom", "integratie-uitkering-wsw-beschut", "--bedrag", "8000", "--omschrijving", "meicirculaire")
	mustCLI(t, addr, "regio", "inkomsten", "--gemeente", "GM0406", "--jaar", "2026", "--budgetstroom", "integratie-uitkering-wsw-beschut", "--bedrag", "10000", "--omschrijving", "septembercirculaire")
	mustCLI(t, addr, "regio", "inkomsten", "--gemeente", "GM0406", "--jaar", "2026", "--budgetstroom", "participatiebudget", "--bedrag", "20000", "--correctie", "1000", "--correctie-reden", "korting 5%")
	mustCLI(t, addr, "regio", "inkomsten", "--gemeente", "GM0406", "--jaar", "2026", "--budgetstroom", "bedrijfsvoering", "--bedrag", "2500")

	for _, tc := range []struct {
		args []string
		rule string
	}{
		{[]string{"--gemeente", "GM9999", "--jaar", "2026", "--budgetstroom", "buig", "--bedrag", "1"}, "inkomsten.gemeente"},
		{[]string{"--gemeente", "GM0406", "--jaar", "2026", "--budgetstroom", "buig", "--bedrag", "10", "--correctie", "1"}, "inkomsten.correctie"},
		{[]string{"--gemeente", "GM0406", "--jaar", "2026", "--budgetstroom", "buig", "--bedrag", "10", "--correctie", "11", "--correctie-reden", "x"}, "inkomsten.correctie"},
		{[]string{"--gemeente", "GM0406", "--jaar", "1850", "--budgetstroom", "buig", "--bedrag", "10"}, "jaar"},
	} {
		code, _, errs := cli(t, addr, append([]string{"regio", "inkomsten"}, tc.args...)...)
		if code != exitFailed || !strings.Contains(errs, tc.rule) {
			t.Errorf("%v: exit %d %q, want refused with %s", tc.args, code, errs, tc.rule)
		}
	}

	type row struct {
		Budgetstroom          string `json:"budgetstroom"`
		InkomstenCent         string `json:"inkomsten_cent"`
		CorrectieCent         string `json:"correctie_cent"`
		DirectCent            string `json:"direct_cent"`
		GedeeldCent           string `json:"gedeeld_cent"`
		ResultaatCent         string `json:"resultaat_cent"`
		PrognoseResultaatCent string `json:"prognose_resultaat_cent"`
	}
	// --resultaat --json is the view with only its result.
	var got struct {
		View struct {
			Resultaat       []row `json:"resultaat"`
			ResultaatTotaal row   `json:"resultaat_totaal"`
			Kosten          []any `json:"kosten"`
		}
	}
	var last string
	defer func() {
		if t.Failed() {
			t.Log(last)
		}
	}()
	eventually(t, "the result with every income", func() bool {
		out := mustCLI(t, addr, "view", "GM0406", "--year", "2026", "--resultaat", "--json")
		got.View.Resultaat = nil
		if err := json.Unmarshal([]byte(out), &got.View); err != nil {
			t.Fatal(err)
		}
		last = out
		return len(got.View.Resultaat) == 3 && got.View.ResultaatTotaal.InkomstenCent == "3150000"
	})
	if len(got.View.Kosten) != 0 {
		t.Errorf("--resultaat printed the costs too")
	}
	by := map[string]row{}
	for _, r := range got.View.Resultaat {
		by[r.Budgetstroom] = r
	}
	num := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("not an amount: %q", s)
		}
		return n
	}
	wsw := by["BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT"]
	if num(wsw.InkomstenCent) != 1_000_000 || num(wsw.DirectCent) <= 0 || num(wsw.ResultaatCent) != 1_000_000-num(wsw.DirectCent) {
		t.Errorf("wsw: %+v (the septembercirculaire replaces the meicirculaire)", wsw)
	}
	part := by["BUDGETSTROOM_PARTICIPATIEBUDGET"]
	if num(part.InkomstenCent) != 1_900_000 || num(part.CorrectieCent) != 100_000 || num(part.ResultaatCent) != 1_900_000 {
		t.Errorf("participatiebudget: %+v", part)
	}
	bv := by["BUDGETSTROOM_BEDRIJFSVOERING"]
	if num(bv.GedeeldCent) <= 0 || num(bv.GedeeldCent) >= 9_000_000 || num(bv.ResultaatCent) != 250_000-num(bv.GedeeldCent) {
		t.Errorf("bedrijfsvoering: %+v (GM0406's share of the overhead against its contribution)", bv)
	}
	var sum int64
	for _, r := range got.View.Resultaat {
		sum += num(r.ResultaatCent)
	}
	if num(got.View.ResultaatTotaal.ResultaatCent) != sum {
		t.Errorf("total %s, rows sum to %d", got.View.ResultaatTotaal.ResultaatCent, sum)
	}
	// The table, and only the gemeente's own.
	if out := mustCLI(t, addr, "view", "GM0406", "--year", "2026", "--resultaat"); !strings.Contains(out, "PROGNOSE RESULTAAT") || !strings.Contains(out, "bedrijfsvoering") {
		t.Errorf("the table:\n%s", out)
	}
	if code, _, errs := cli(t, addr, "view", "GM0406", "--year", "2026", "--resultaat", "--token", tokenFor(t, addr, "GM1942")); code != exitFailed || !strings.Contains(errs, "toegang.eigen-gemeente") {
		t.Errorf("GM1942 read GM0406's result: exit %d %q", code, errs)
	}
	// What was recorded, with its versions; a gemeente sees only its own.
	shown := mustCLI(t, addr, "regio", "show")
	if !strings.Contains(shown, "INKOMSTEN") || strings.Count(shown, "GM0406") != 4 || !strings.Contains(shown, "v2") {
		t.Errorf("regio show:\n%s", shown)
	}
	if other := mustCLI(t, addr, "regio", "show", "--json", "--token", tokenFor(t, addr, "GM1942")); strings.Contains(other, "GM0406") {
		t.Errorf("GM1942 sees GM0406's income:\n%s", other)
	}
	if own := mustCLI(t, addr, "regio", "show", "--json", "--token", tokenFor(t, addr, "GM0406")); strings.Count(own, `"gemeente": "GM0406"`)+strings.Count(own, `"gemeente":"GM0406"`) != 4 {
		t.Errorf("GM0406 does not see its own income:\n%s", own)
	}
}

// TestUitstroomPensioen: retirement is an uitstroom reason of its own,
// counted as such in the beleidsview.
func TestUitstroomPensioen(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "wsw", "--wsw-indicatie-sinds", "2005-09-01", "--verwijzer", "uwv", "--client-id", "R-pensioen-1", "--datum", "2026-01-05")
	mustCLI(t, addr, "case", "uitstroom", c, "--reden", "pensioen", "--datum", "2026-03-01")
	eventually(t, "the uitstroom by reason", func() bool {
		var v struct {
			View struct {
				Totaal struct {
					UitstroomPerReden []struct {
						Sleutel string `json:"sleutel"`
						Aantal  string `json:"aantal"`
					} `json:"uitstroom_per_reden"`
				} `json:"totaal"`
			} `json:"view"`
		}
		if err := json.Unmarshal([]byte(mustCLI(t, addr, "view", "GM0402", "--year", "2026", "--json")), &v); err != nil {
			t.Fatal(err)
		}
		r := v.View.Totaal.UitstroomPerReden
		return len(r) == 1 && r[0].Sleutel == "pensioen" && r[0].Aantal == "1"
	})
}

// TestWswThroughTheCLI: the Rijksbijdrage per SE is policy data, and the
// beleidsview sets the Wsw workforce against it: persons, standaardeenheden
// from the placements' hours, and what the Rijk pays for them.
func TestWswThroughTheCLI(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-01-01", "--product", "wsw=30000", "--wsw-per-se", "28000")
	if out := mustCLI(t, addr, "policy", "show", "GM0402"); !strings.Contains(out, "Wsw per SE") || !strings.Contains(out, "€ 28.000,00 per jaar") {
		t.Errorf("policy show does not list the Rijksbijdrage per SE:\n%s", out)
	}
	clk.Set(2026, time.March, 2)
	for i, uren := range []string{"36", "18"} {
		c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "wsw", "--wsw-indicatie-sinds", "2004-02-01", "--verwijzer", "uwv", "--client-id", fmt.Sprintf("R-se-%d", i), "--datum", "2026-01-05")
		mustCLI(t, addr, "case", "intake", c, "--trede", "beschut", "--datum", "2026-01-06")
		mustCLI(t, addr, "case", "plaatsen", c, "--type", "wsw-dienstverband", "--uren", uren, "--datum", "2026-01-07")
	}
	// 54 hours a week: 1,5 SE, € 42.000 a year.
	eventually(t, "the Wsw workforce", func() bool {
		return strings.Contains(mustCLI(t, addr, "view", "GM0402", "--year", "2026"), "Wsw-medewerkers: 2, 1.50 standaardeenheden; Rijksbijdrage € 28.000,00 per SE, samen € 42.000,00 per jaar")
	})
}

// TestDoelenThroughTheCLI: targets and denominators recorded for a gemeente
// and year show in its beleidsview against the figures, and a record that
// contradicts itself is refused with its rule.
func TestDoelenThroughTheCLI(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-01-01", "--product", "lks-baan=9800", "--product", "beschut-werk=12000")
	clk.Set(2026, time.November, 24)
	for i, typ := range []string{"lks-baan", "lks-baan", "beschut-werk"} {
		c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "banenafspraak", "--verwijzer", "uwv", "--client-id", "R-doel-"+strconv.Itoa(i), "--datum", "2026-01-05")
		mustCLI(t, addr, "case", "intake", c, "--trede", "ontwikkelbaar", "--datum", "2026-01-06")
		mustCLI(t, addr, "case", "plaatsen", c, "--type", typ, "--werkgever", "Bakkerij", "--datum", "2026-02-01")
	}
	if code, _, errs := cli(t, addr, "regio", "doelen", "--gemeente", "GM0402", "--jaar", "2026", "--lks-norm-50", "300", "--lks-norm-75", "200"); code != exitFailed || !strings.Contains(errs, "doelen.lks-norm") {
		t.Errorf("a 75%% norm below the 50%% one: exit %d %q", code, errs)
	}
	mustCLI(t, addr, "regio", "doelen", "--gemeente", "GM0402", "--jaar", "2026", "--lks-norm-50", "209", "--lks-norm-75", "281", "--taakstelling-beschut", "4", "--doelgroepregister", "600")
	var out string
	eventually(t, "the targets in the beleidsview", func() bool {
		out = mustCLI(t, addr, "view", "GM0402", "--year", "2026")
		return strings.Contains(out, "taakstelling beschut werk")
	})
	for _, want := range []string{"LKS-norm bij 50%", "LKS-norm bij 75%", "inwoners in het doelgroepregister"} {
		if !strings.Contains(out, want) {
			t.Errorf("the view lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "beschut werk") && !strings.Contains(line, "25,0%") {
			t.Errorf("1 of 4 beschut places: %q", line)
		}
		if strings.Contains(line, "LKS-norm bij 50%") && !strings.Contains(line, "1,0%") {
			t.Errorf("2 of 209 LKS jobs: %q", line)
		}
	}
}

// TestWatAls: the same history under another verdeelsleutel, through the
// binary's command against a real server: the shares move, the total and
// the direct costs do not, and nothing is written.
func TestWatAls(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	for _, gm := range []string{"GM0402", "GM0406"} {
		mustCLI(t, addr, "policy", "set", "--gemeente", gm, "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=12000")
	}
	mustCLI(t, addr, "regio", "verdeelsleutel", "--jaar", "2026", "--methode", "inwoners")
	clk.Set(2026, time.November, 24)
	// Huizen has the only case: by caseload it pays all of the overhead.
	c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0406", "--doelgroep", "beschut-werk", "--verwijzer", "werkcentrum", "--client-id", "R-watals-1", "--datum", "2026-01-05")
	mustCLI(t, addr, "case", "intake", c, "--trede", "beschut", "--datum", "2026-01-06")
	mustCLI(t, addr, "case", "plaatsen", c, "--type", "beschut-werk", "--datum", "2026-02-01")
	mustCLI(t, addr, "regio", "kosten", "--van", "2026-01-01", "--tot", "2026-03-31", "--bedrag", "90000", "--budgetstroom", "bedrijfsvoering", "--omschrijving", "overhead Q1")
	dir := testDir(t)
	file := filepath.Join(dir, "variant.json")
	if err := os.WriteFile(file, []byte(`{"naam": "naar caseload", "verdeelsleutels": {"2026": "caseload-dagen"}, "resultaatverdelingen": {"2026": {"bedrijfsvoering": "solidair:inwoners"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	type rij struct {
		Gemeente    string `json:"gemeente"`
		Direct      int64  `json:"direct_cent"`
		Gedeeld     int64  `json:"gedeeld_cent"`
		Variant     int64  `json:"variant_gedeeld_cent"`
		TotaalVar   int64  `json:"totaal_variant_cent"`
		VerschilVar int64  `json:"verschil_cent"`
		Verrekend   int64  `json:"resultaat_verrekend_cent"`
		VerrekendV  int64  `json:"resultaat_verrekend_variant_cent"`
	}
	var out struct {
		Rijen []rij `json:"rijen"`
	}
	before := storeHeadCLI(t, addr)
	// The peildatum of the server's clock: the command's own default is
	// this machine's today.
	args := []string{"wat-als", "--variant", file, "--jaar", "2026", "--peildatum", "2026-11-24", "--gemeenten", "../../deploy/gemeenten.json", "--json"}
	if err := json.Unmarshal([]byte(mustCLI(t, addr, args...)), &out); err != nil {
		t.Fatal(err)
	}
	var gedeeld, variantTotal, settled, variantSettled int64
	for _, r := range out.Rijen {
		gedeeld += r.Gedeeld
		variantTotal += r.Variant
		settled += r.Verrekend
		variantSettled += r.VerrekendV
		switch r.Gemeente {
		case "GM0406":
			if r.Variant != 9_000_000 || r.Gedeeld >= 9_000_000 || r.Direct <= 0 {
				t.Errorf("Huizen, the only caseload: %+v", r)
			}
		case "GM0402":
			// In the variant Hilversum shares the bedrijfsvoering's result by
			// its inhabitants, though it has no case.
			if r.Variant != 0 || r.Direct != 0 || r.VerrekendV >= 0 {
				t.Errorf("Hilversum in the variant: %+v", r)
			}
		default:
			if r.Variant != 0 || r.Direct != 0 {
				t.Errorf("%s without a case pays in the variant: %+v", r.Gemeente, r)
			}
		}
	}
	if settled != variantSettled {
		t.Errorf("the region's result is %d as recorded and %d in the variant", settled, variantSettled)
	}
	if gedeeld != 9_000_000 || variantTotal != 9_000_000 {
		t.Errorf("divided %d as recorded and %d in the variant, booked 9.000.000", gedeeld, variantTotal)
	}
	if after := storeHeadCLI(t, addr); after != before {
		t.Errorf("wat-als wrote to the store: %s → %s", before, after)
	}
	// A gemeente reads only its own events: refused, not a partial answer.
	code, _, errs := cli(t, addr, append(args[:len(args)-1], "--token", tokenFor(t, addr, "GM0406"))...)
	if code == exitOK {
		t.Errorf("a gemeente ran wat-als on its own part of the history: %q", errs)
	}
	if code, _, errs := cli(t, addr, "wat-als", "--variant", filepath.Join(dir, "geen.json")); code != exitUsage || !strings.Contains(errs, "--variant") {
		t.Errorf("a missing file: exit %d %q", code, errs)
	}
}

// storeHeadCLI is the store's last position as the auditor's verify sees it.
func storeHeadCLI(t *testing.T, addr string) string {
	t.Helper()
	return verifyJSON(t, addr, "auditor").Tot
}

// TestVerrekeningThroughTheCLI: under a Resultaatverdeling the year's
// result of a solidary stream is divided over every participant by its
// inhabitants, to the cent: the settled parts add up to the region's
// result, each within a cent of its exact share, and a stream the
// agreement names one to one settles each gemeente's own result. The
// replay gives the same settlement; wrong agreements are refused with
// their rule.
func TestVerrekeningThroughTheCLI(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "regio", "verdeelsleutel", "--jaar", "2026", "--methode", "inwoners")
	clk.Set(2026, time.November, 24)
	mustCLI(t, addr, "regio", "kosten", "--van", "2026-01-01", "--tot", "2026-03-31", "--bedrag", "90000", "--budgetstroom", "bedrijfsvoering", "--omschrijving", "overhead Q1")
	mustCLI(t, addr, "regio", "inkomsten", "--gemeente", "GM0402", "--jaar", "2026", "--budgetstroom", "bedrijfsvoering", "--bedrag", "50000")
	mustCLI(t, addr, "regio", "inkomsten", "--gemeente", "GM0406", "--jaar", "2026", "--budgetstroom", "bedrijfsvoering", "--bedrag", "2500")
	// The first income of GM0406 for BUIG is its version 1, whatever was
	// recorded for other gemeenten and streams, as regio show numbers it.
	if code, _, errs := cli(t, addr, "regio", "inkomsten", "--gemeente", "GM0406", "--jaar", "2026", "--budgetstroom", "buig", "--bedrag", "1000"); code != exitOK || !strings.Contains(errs, "versie 1,") {
		t.Errorf("the first BUIG income of GM0406: exit %d %q, want versie 1", code, errs)
	}

	for _, tc := range []struct {
		args []string
		rule string
	}{
		{[]string{"--jaar", "2026", "--stroom", "buig=solidair"}, "resultaatverdeling.methode"},
		{[]string{"--jaar", "2026", "--stroom", "buig=een-op-een:inwoners"}, "resultaatverdeling.methode"},
		{[]string{"--jaar", "2026", "--stroom", "buig=een-op-een", "--stroom", "buig=solidair:inwoners"}, "resultaatverdeling.budgetstroom"},
		{[]string{"--stroom", "buig=een-op-een"}, "resultaatverdeling.jaar"},
	} {
		code, _, errs := cli(t, addr, append([]string{"regio", "resultaatverdeling"}, tc.args...)...)
		if code != exitFailed || !strings.Contains(errs, tc.rule) {
			t.Errorf("%v: exit %d %q, want refused with %s", tc.args, code, errs, tc.rule)
		}
	}
	mustCLI(t, addr, "regio", "resultaatverdeling", "--jaar", "2026", "--stroom", "bedrijfsvoering=solidair:inwoners", "--stroom", "buig=een-op-een", "--besluit", "AB 2026-21")
	if out := mustCLI(t, addr, "regio", "show"); !strings.Contains(out, "bedrijfsvoering=solidair:inwoners buig=een-op-een") || !strings.Contains(out, "AB 2026-21") {
		t.Errorf("regio show does not list the resultaatverdeling:\n%s", out)
	}

	type post struct {
		Budgetstroom       string `json:"budgetstroom"`
		Verrekening        string `json:"verrekening"`
		Gewicht            int64  `json:"gewicht,string"`
		TotaalGewicht      int64  `json:"totaal_gewicht,string"`
		EigenResultaatCent int64  `json:"eigen_resultaat_cent,string"`
		RegioResultaatCent int64  `json:"regio_resultaat_cent,string"`
		VerrekendCent      int64  `json:"verrekend_cent,string"`
		VerschilCent       int64  `json:"verschil_cent,string"`
	}
	settlement := func(g string, extra ...string) map[string]post {
		var v struct {
			Verrekening []post `json:"verrekening"`
		}
		out := mustCLI(t, addr, append([]string{"view", g, "--year", "2026", "--resultaat", "--json"}, extra...)...)
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		by := map[string]post{}
		for _, p := range v.Verrekening {
			if p.VerschilCent != p.VerrekendCent-p.EigenResultaatCent {
				t.Errorf("%s %s: verschil %d is not verrekend − eigen", g, p.Budgetstroom, p.VerschilCent)
			}
			by[p.Budgetstroom] = p
		}
		return by
	}
	const bv, buig = "BUDGETSTROOM_BEDRIJFSVOERING", "BUDGETSTROOM_BUIG"
	// The shared costs are divided to the cent, so the region's result of
	// the stream is its income less the booking.
	const regio = 5_000_000 + 250_000 - 9_000_000
	var settled int64
	eventually(t, "the settlement of every income", func() bool {
		return settlement("GM0406")[bv].RegioResultaatCent == regio
	})
	reg, err := gemeente.Load("../../deploy/gemeenten.json")
	if err != nil {
		t.Fatal(err)
	}
	parts := reg.Participating(&ledgerv1.Date{Year: 2026, Month: 1, Day: 1})
	if len(parts) < 3 {
		t.Fatalf("participants in 2026: %v", parts)
	}
	for _, gm := range parts {
		g := gm.Code
		s := settlement(g)
		p := s[bv]
		if p.Verrekening != "VERREKENING_SOLIDAIR" || p.RegioResultaatCent != regio || p.TotaalGewicht <= 0 {
			t.Fatalf("%s: %+v", g, p)
		}
		// Within a cent of the exact share regio × gewicht / totaal.
		exact := float64(regio) * float64(p.Gewicht) / float64(p.TotaalGewicht)
		if d := float64(p.VerrekendCent) - exact; d <= -1 || d >= 1 {
			t.Errorf("%s: settled %d, the exact share is %.2f", g, p.VerrekendCent, exact)
		}
		settled += p.VerrekendCent
		if b, ok := s[buig]; ok && b.RegioResultaatCent != 0 {
			t.Errorf("%s is told the region's BUIG result, settled one to one: %+v", g, b)
		}
		if b, ok := s[buig]; g == "GM0406" && (!ok || b.Verrekening != "VERREKENING_EEN_OP_EEN" || b.VerrekendCent != 100_000 || b.VerschilCent != 0) {
			t.Errorf("GM0406 buig, one to one: %+v", b)
		}
		if replay := settlement(g, "--replay"); replay[bv] != p {
			t.Errorf("%s: replay settles %+v, live %+v", g, replay[bv], p)
		}
	}
	if settled != regio {
		t.Errorf("the settled parts add up to %d; the region's result is %d", settled, regio)
	}
	// The region's result: every participant's, summed; the settlement
	// moves it between them and keeps it whole.
	var rr struct {
		Rijen []struct {
			Gemeente  string           `json:"gemeente"`
			Resultaat map[string]int64 `json:"resultaat_cent"`
			Totaal    int64            `json:"totaal_cent"`
			Verrekend int64            `json:"verrekend_cent"`
		} `json:"rijen"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, addr, "regio", "resultaat", "--jaar", "2026", "--json")), &rr); err != nil {
		t.Fatal(err)
	}
	var bvSum, totaal, verrekend int64
	for _, r := range rr.Rijen {
		bvSum += r.Resultaat["bedrijfsvoering"]
		totaal += r.Totaal
		verrekend += r.Verrekend
	}
	if len(rr.Rijen) != len(parts) || bvSum != regio || totaal != verrekend {
		t.Errorf("regio resultaat: %d rows, bedrijfsvoering %d (want %d), total %d settled %d", len(rr.Rijen), bvSum, regio, totaal, verrekend)
	}
	if out := mustCLI(t, addr, "regio", "resultaat", "--jaar", "2026"); !strings.Contains(out, "regio") || !strings.Contains(out, "BEDRIJFSVOERING") {
		t.Errorf("regio resultaat:\n%s", out)
	}
	if code, _, _ := cli(t, addr, "regio", "resultaat", "--jaar", "2026", "--token", tokenFor(t, addr, "GM0406")); code == exitOK {
		t.Error("a gemeente read the region's result, every gemeente's figures")
	}
	if out := mustCLI(t, addr, "view", "GM0406", "--year", "2026", "--resultaat"); !strings.Contains(out, "Verrekening van het resultaat") || !strings.Contains(out, "solidair (inwoners)") {
		t.Errorf("view --resultaat shows no settlement:\n%s", out)
	}
	// A later income (the septembercirculaire) moves the settlement every
	// gemeente's view shows: the server keeps it only until the model moves.
	mustCLI(t, addr, "regio", "inkomsten", "--gemeente", "GM0402", "--jaar", "2026", "--budgetstroom", "bedrijfsvoering", "--bedrag", "51000")
	eventually(t, "the settlement after a later income", func() bool {
		return settlement("GM0406")[bv].RegioResultaatCent == regio+100_000
	})
	// The gemeente's page shows it too.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	resp, err := hc.PostForm("http://"+addr+"/inloggen", url.Values{"token": {tokenFor(t, addr, "GM0406")}, "terug": {"/gemeente/GM0406?jaar=2026"}})
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="verrekening"`) || !strings.Contains(string(page), "solidair (inwoners:") || !strings.Contains(string(page), `id="ladder"`) {
		t.Errorf("the gemeente's page of 2026: HTTP %d, no settlement table (%v)", resp.StatusCode, err)
	}
}

// TestTerugkeerThroughTheCLI: a resident who left for regular work comes
// back on the vangnet in the same case within the policy's months, counted
// as instroom by terugkeer in both views, live as replayed; after the
// period the ledger refuses with its rule.
func TestTerugkeerThroughTheCLI(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-01-01", "--product", "werkervaringsplek=6000", "--product", "vangnet=9000", "--terugkeer-maanden", "3")
	if out := mustCLI(t, addr, "policy", "show", "GM0402"); !strings.Contains(out, "3 maanden na uitstroom naar regulier werk") {
		t.Errorf("policy show does not say the return period:\n%s", out)
	}
	clk.Set(2026, time.November, 24)
	start := func(client string) string {
		c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "bijstand", "--verwijzer", "uwv", "--client-id", client, "--datum", "2026-02-02")
		mustCLI(t, addr, "case", "intake", c, "--trede", "ontwikkelbaar", "--datum", "2026-02-03")
		mustCLI(t, addr, "case", "plaatsen", c, "--type", "werkervaringsplek", "--datum", "2026-02-10")
		mustCLI(t, addr, "case", "uitstroom", c, "--reden", "regulier-werk", "--datum", "2026-05-01")
		return c
	}
	back, late := start("R-terug-1"), start("R-terug-2")
	mustCLI(t, addr, "case", "vangnet", back, "--type", "werkervaringsplek", "--datum", "2026-07-15")
	if code, _, errs := cli(t, addr, "case", "vangnet", late, "--type", "werkervaringsplek", "--datum", "2026-08-02"); code != exitFailed || !strings.Contains(errs, "terugkeer.termijn") || !strings.Contains(errs, "2026-08-01") {
		t.Errorf("a return after the period: exit %d %q", code, errs)
	}
	if out := mustCLI(t, addr, "case", "show", back, "--json"); !strings.Contains(out, "TOESTAND_VANGNET") {
		t.Errorf("the case is not back on the vangnet:\n%s", out)
	}
	type telling struct {
		Sleutel string `json:"sleutel"`
		Aantal  string `json:"aantal"`
	}
	instroom := func(replay bool) []telling {
		var v struct {
			View struct {
				Totaal struct {
					InstroomPerReden []telling `json:"instroom_per_reden"`
				} `json:"totaal"`
			} `json:"view"`
		}
		args := []string{"view", "GM0402", "--year", "2026", "--month", "7", "--json"}
		if replay {
			args = append(args, "--replay")
		}
		if err := json.Unmarshal([]byte(mustCLI(t, addr, args...)), &v); err != nil {
			t.Fatal(err)
		}
		return v.View.Totaal.InstroomPerReden
	}
	eventually(t, "the return in July's instroom", func() bool {
		r := instroom(false)
		return len(r) == 1 && r[0] == telling{"terugkeer", "1"}
	})
	if r := instroom(true); len(r) != 1 || r[0] != (telling{"terugkeer", "1"}) {
		t.Errorf("replayed, July's instroom is %v", r)
	}
	// The caseload view, from the bus: the same instroom, live as replayed.
	eventually(t, "the caseload view", func() bool {
		live := mustCLI(t, addr, "view", "GM0402", "--caseload", "--json")
		return strings.Contains(live, `"terugkeer"`) && strings.Contains(live, "TOESTAND_VANGNET")
	})
	live, replay := mustCLI(t, addr, "view", "GM0402", "--caseload", "--json"), mustCLI(t, addr, "view", "GM0402", "--caseload", "--replay", "--json")
	strip := func(s string) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		v, _ := m["view"].(map[string]any)
		delete(v, "bron")
		b, _ := json.Marshal(v)
		return string(b)
	}
	if strip(live) != strip(replay) {
		t.Errorf("the caseload view differs from its replay:\nlive   %s\nreplay %s", strip(live), strip(replay))
	}
}

// TestWerkgeversThroughTheCLI: a detachering at an employer named by its
// KvK number, then an LKS-baan at the same employer, is a detachering that
// became a contract; the view counts the placements at regular employers.
func TestWerkgeversThroughTheCLI(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-01-01", "--product", "detachering=15000", "--product", "lks-baan=9800")
	clk.Set(2026, time.November, 24)
	c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "banenafspraak", "--verwijzer", "uwv", "--client-id", "R-kvk-1", "--datum", "2026-02-02")
	mustCLI(t, addr, "case", "intake", c, "--trede", "bemiddelbaar-met-ondersteuning", "--datum", "2026-02-03")
	if code, _, errs := cli(t, addr, "case", "plaatsen", c, "--type", "detachering", "--werkgever", "Bakkerij", "--werkgever-kvk", "1234567", "--einddatum", "2026-12-31", "--datum", "2026-03-01"); code != exitFailed || !strings.Contains(errs, "plaatsing.kvk") {
		t.Errorf("a KvK number of seven digits: exit %d %q", code, errs)
	}
	mustCLI(t, addr, "case", "plaatsen", c, "--type", "detachering", "--werkgever", "Bakkerij", "--werkgever-kvk", "12345678", "--einddatum", "2026-12-31", "--datum", "2026-03-01")
	mustCLI(t, addr, "case", "plaatsen", c, "--type", "lks-baan", "--werkgever", "Bakkerij", "--werkgever-kvk", "12345678", "--lks-bedrag", "1200", "--datum", "2026-09-01")
	var last string
	defer func() {
		if t.Failed() {
			t.Log(last)
		}
	}()
	eventually(t, "the contract in the view", func() bool {
		out := mustCLI(t, addr, "view", "GM0402", "--year", "2026")
		last = out + mustCLI(t, addr, "view", "GM0402", "--year", "2026", "--json")
		return strings.Contains(out, "Actieve plaatsingen bij een reguliere werkgever: 1 (bij 1 werkgevers met KvK-nummer); binnen het ontwikkelbedrijf: 0") &&
			detacheringToContract(t, mustCLI(t, addr, "view", "GM0402", "--year", "2026", "--json")) == 1
	})
}

// detacheringToContract reads a view's JSON (protojson spaces it at
// random, so it is parsed, not searched) for the detacheringen that became
// a contract.
func detacheringToContract(t *testing.T, out string) int64 {
	t.Helper()
	var v struct {
		View struct {
			Totaal struct {
				Plaatsingen []struct {
					Soort        string `json:"soort"`
					NaarContract int64  `json:"naar_contract,string"`
				} `json:"plaatsingen"`
			} `json:"totaal"`
		} `json:"view"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	for _, p := range v.View.Totaal.Plaatsingen {
		if p.Soort == "detachering" {
			return p.NaarContract
		}
	}
	return 0
}

// TestLadderThroughTheCLI: a later intake with a higher trede is a move up
// the ladder in its quarter, a lower one a move down.
func TestLadderThroughTheCLI(t *testing.T) {
	clk := clock.NewManual(2026, time.November, 24)
	addr := startServer(t, t.TempDir(), clk)
	c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "bijstand", "--verwijzer", "uwv", "--client-id", "R-ladder-1", "--datum", "2026-01-05")
	mustCLI(t, addr, "case", "intake", c, "--trede", "ontwikkelbaar", "--datum", "2026-01-06")
	mustCLI(t, addr, "case", "intake", c, "--trede", "bemiddelbaar-met-ondersteuning", "--datum", "2026-02-10")
	mustCLI(t, addr, "case", "intake", c, "--trede", "beschut", "--datum", "2026-07-01")
	eventually(t, "the ladder per quarter", func() bool {
		out := mustCLI(t, addr, "view", "GM0402", "--year", "2026")
		return strings.Contains(out, "LADDER") && regexp.MustCompile(`2026-K1\s+1\s+0`).MatchString(out) &&
			regexp.MustCompile(`2026-K2\s+0\s+0`).MatchString(out) && regexp.MustCompile(`2026-K3\s+0\s+1`).MatchString(out)
	})
}
