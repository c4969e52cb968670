package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
	"github.com/gooi-vechtstreek/ledger/services/api"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/scenario"
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
	if bron["systeem"] != "import-klein" || bron["record"] != "K-17/1" || env["actor"] != "test-centrum (Gemeente Hilversum)" {
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
	// A Wsw client without the date of its indication is a new Wsw
	// indication, which there are none of since 2015.
	if !strings.Contains(errs, "regel 5 (bron GM0402/C-4/aanmelding): geweigerd [wsw.geen-nieuwe-instroom]") {
		t.Errorf("the Wsw row without its indication is not refused by its rule:\n%s", errs)
	}
	if want := "gelezen 7 regels: vastgelegd 5, al aanwezig 0, geweigerd 2"; !strings.Contains(out, want) {
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

// TestImportEqualsLive: a generated multi-year history imported in one go
// gives the same beleidsviews and cost lines, cent for cent, as the same
// history recorded live day by day on a simulated clock.
func TestImportEqualsLive(t *testing.T) {
	residents := 400
	if testing.Short() {
		residents = 120
	}
	reg, err := gemeente.Load("../../deploy/gemeenten.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := scenario.Config{Seed: 7, Residents: residents, Gemeenten: reg,
		From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}
	steps, err := scenario.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The import file is made before the live run, which fills in case ids.
	file := writeImportFile(t, scenario.ImportLines(steps))

	liveClock := clock.NewManual(2023, time.January, 1)
	liveAddr := startServer(t, t.TempDir(), liveClock)
	live := apiClient(t, liveAddr, time.Minute)
	if _, err := scenario.Run(context.Background(), live, steps, liveClock.SetTime, nil); err != nil {
		t.Fatal(err)
	}
	liveClock.Set(2026, time.January, 15)

	impAddr := startServer(t, t.TempDir(), clock.NewManual(2026, time.January, 15))
	out := mustCLI(t, impAddr, "import", file)
	if want := fmt.Sprintf("gelezen %d regels: vastgelegd %d, al aanwezig 0, geweigerd 0, overgeslagen 0", len(steps), len(steps)); !strings.Contains(out, want) {
		t.Fatalf("import: %q, want %q", out, want)
	}
	imported := apiClient(t, impAddr, time.Minute)

	for _, g := range reg.Participating(event.YMD(2025, 12, 31)) {
		for year := 2023; year <= 2025; year++ {
			var a, b *ledgerv1.Beleidsview
			eventually(t, fmt.Sprintf("both beleidsviews of %s %d", g.Code, year), func() bool {
				a, b = getView(t, live, g.Code, year, false), getView(t, imported, g.Code, year, false)
				return a.GetBijgewerktTot() == getView(t, live, g.Code, year, true).GetBijgewerktTot() &&
					b.GetBijgewerktTot() == getView(t, imported, g.Code, year, true).GetBijgewerktTot()
			})
			a.BijgewerktTot, b.BijgewerktTot = "", ""
			if !proto.Equal(a, b) {
				t.Fatalf("%s %d: the imported beleidsview differs from the live one", g.Code, year)
			}
			la, lb := costLines(t, live, g.Code, year), costLines(t, imported, g.Code, year)
			if len(la) == 0 && year > 2023 {
				t.Errorf("%s %d: no cost lines at all", g.Code, year)
			}
			if strings.Join(la, "\n") != strings.Join(lb, "\n") {
				t.Fatalf("%s %d: %d live cost lines, %d imported, or other amounts", g.Code, year, len(la), len(lb))
			}
		}
	}
}

// costLines is the export as comparable lines: every field but the ids,
// which differ between a live run and an import.
func costLines(t *testing.T, c ledgerv1connect.LedgerServiceClient, gm string, year int) []string {
	t.Helper()
	r, err := c.ExportKosten(context.Background(), connect.NewRequest(&ledgerv1.ExportKostenRequest{Gemeente: gm, Jaar: int32(year)}))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range r.Msg.GetRegels() {
		out = append(out, fmt.Sprintf("%s %s %s %s %v %s %s %s %s %d %d %d %d %s %v %d %d",
			l.GetSoort(), l.GetGemeente(), l.GetMaand(), l.GetProduct(), l.GetBudgetstroom(), l.GetTaakveld(), l.GetBeleidsversie(),
			event.FormatDate(l.GetVan()), event.FormatDate(l.GetTotEnMet()), l.GetDagen(), l.GetMinuten(), l.GetTariefCent(), l.GetBedragCent(),
			l.GetVerdeelsleutel(), l.GetMethode(), l.GetGewicht(), l.GetTotaalGewicht()))
	}
	slices.Sort(out)
	return out
}

// TestImportKilledAndResumed kills `ledger serve` with SIGKILL while an
// import streams in, restarts it and runs the same import again: it
// completes, and the ledger then holds exactly the history a clean import
// gives — nothing lost, nothing twice.
func TestImportKilledAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	reg, err := gemeente.Load("../../deploy/gemeenten.json")
	if err != nil {
		t.Fatal(err)
	}
	steps, err := scenario.Generate(scenario.Config{Seed: 3, Residents: 300, Gemeenten: reg,
		From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	lines := scenario.ImportLines(steps)
	file := writeImportFile(t, lines)
	// The zaak of an aanmelding about half way: once its case exists the
	// import is well under way.
	var halfway string
	for _, l := range lines[len(lines)/2:] {
		if l.GetRecord().GetAanmelding() != nil {
			halfway = api.ImportCaseID("geschiedenis", l.GetZaak()).String()
			break
		}
	}

	bin := buildLedger(t)
	data := t.TempDir()
	today := event.YMD(2026, time.January, 15)
	proc, addr := spawn(t, bin, data, today)
	client := apiClient(t, addr, 10*time.Second)
	done := make(chan int, 1)
	tok := tokenFor(t, addr, "centrum")
	go func() {
		var out, errb bytes.Buffer
		done <- run(context.Background(), []string{"import", "--server", addr, "--token", tok, "--regels-per-verzoek", "50", file}, &out, &errb)
	}()
	eventually(t, "the import half way", func() bool {
		_, err := client.GetCase(context.Background(), connect.NewRequest(&ledgerv1.GetCaseRequest{CaseId: halfway}))
		return err == nil
	})
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	if code := <-done; code == exitOK {
		t.Fatal("the import reported success although its server was killed")
	}

	_, addr = spawn(t, bin, data, today)
	code, out, errs := cli(t, addr, "import", file)
	if code != exitOK {
		t.Fatalf("resumed import: exit %d\n%s%s", code, out, errs)
	}
	var recorded, present int
	if _, err := fmt.Sscanf(out, fmt.Sprintf("gelezen %d regels: vastgelegd %%d, al aanwezig %%d,", len(lines)), &recorded, &present); err != nil || recorded == 0 || present == 0 || recorded+present != len(lines) {
		t.Fatalf("resumed import: %q (want some lines recorded before the kill and the rest now)", out)
	}

	clean := startServer(t, t.TempDir(), clock.NewManual(2026, time.January, 15))
	mustCLI(t, clean, "import", file)
	resumed := apiClient(t, addr, time.Minute)
	reference := apiClient(t, clean, time.Minute)
	for _, gm := range []string{"GM0402", "GM0034"} {
		for year := 2023; year <= 2025; year++ {
			var a, b *ledgerv1.Beleidsview
			eventually(t, fmt.Sprintf("beleidsviews %s %d", gm, year), func() bool {
				a, b = getView(t, resumed, gm, year, false), getView(t, reference, gm, year, false)
				return a.GetBijgewerktTot() == getView(t, resumed, gm, year, true).GetBijgewerktTot() &&
					b.GetBijgewerktTot() == getView(t, reference, gm, year, true).GetBijgewerktTot()
			})
			if a.GetBijgewerktTot() != b.GetBijgewerktTot() {
				t.Errorf("%s %d: the resumed ledger holds events up to %s, a clean import up to %s", gm, year, a.GetBijgewerktTot(), b.GetBijgewerktTot())
			}
			a.BijgewerktTot, b.BijgewerktTot = "", ""
			if !proto.Equal(a, b) {
				t.Errorf("%s %d: the resumed import differs from a clean one", gm, year)
			}
			if la, lb := costLines(t, resumed, gm, year), costLines(t, reference, gm, year); strings.Join(la, "\n") != strings.Join(lb, "\n") {
				t.Errorf("%s %d: cost lines differ after the resumed import", gm, year)
			}
		}
	}
}

// TestDemo: `make demo` (serve --demo) loads a region through the import on
// the first start, and every participant's beleidsview has figures.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("loads three years of a demo region")
	}
	clk := clock.NewManual(2026, time.December, 2)
	addr := startServerWith(t, t.TempDir(), clk, func(c *serveConfig) { c.demo = true })
	client := apiClient(t, addr, time.Minute)
	reg, err := gemeente.Load("../../deploy/gemeenten.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range reg.Participating(event.YMD(2025, 12, 31)) {
		eventually(t, "the demo beleidsview of "+g.Code, func() bool {
			v := getView(t, client, g.Code, 2025, false)
			return v.GetTotaal().GetCaseload() > 0 && v.GetKostenTotaal().GetTotaalCent() > 0
		})
	}
	if code, _, errs := cli(t, addr, "view", "GM0402", "--year", "2025"); code != exitOK {
		t.Fatalf("the tour's view: %s", errs)
	}
	// The money and the steering: every participant's income and result
	// per stream, its figures against its targets.
	for _, g := range reg.Participating(event.YMD(2025, 12, 31)) {
		eventually(t, "the demo result and targets of "+g.Code, func() bool {
			v := getView(t, client, g.Code, 2025, false)
			return len(v.GetResultaat()) == 4 && v.GetResultaatTotaal().GetInkomstenCent() > 0 && len(v.GetDoelen()) == 5
		})
	}
	// The region settles its result: the bedrijfsvoering by inhabitants,
	// to the cent over the participants; its Wsw workforce is set against
	// the Rijksbijdrage per SE; placements at employers carry KvK numbers,
	// some detacheringen became contracts.
	var settled, region int64
	contracts := int64(0)
	for _, g := range reg.Participating(event.YMD(2025, 1, 1)) {
		v := getView(t, client, g.Code, 2025, false)
		for _, p := range v.GetVerrekening() {
			if p.GetBudgetstroom() == ledgerv1.Budgetstroom_BUDGETSTROOM_BEDRIJFSVOERING {
				settled += p.GetVerrekendCent()
				region = p.GetRegioResultaatCent()
			}
		}
		if w := v.GetTotaal().GetWsw(); w.GetPersonen() > 0 && (w.GetCentPerSe() != 28_000_00 || w.GetRijksbijdrageCent() <= 0) {
			t.Errorf("%s's Wsw workforce: %v", g.Code, w)
		}
		if w := v.GetTotaal().GetWerkgevers(); w.GetBijWerkgever() <= 0 || w.GetWerkgevers() <= 0 {
			t.Errorf("%s's placements at employers: %v", g.Code, w)
		}
		for _, p := range v.GetTotaal().GetPlaatsingen() {
			contracts += p.GetNaarContract()
		}
	}
	if region == 0 || settled != region {
		t.Errorf("the bedrijfsvoering's result of 2025 is %d; settled over the participants %d", region, settled)
	}
	if contracts == 0 {
		t.Error("no detachering in the demo became a contract")
	}
	if out := mustCLI(t, addr, "view", "GM0402", "--year", "2025", "--resultaat"); !strings.Contains(out, "participatiebudget") || !strings.Contains(out, "bedrijfsvoering") {
		t.Errorf("the tour's result:\n%s", out)
	}

	// Sized by the region's own figures on the first day: about 480 Wsw
	// employees, about 300 beschut places, Hilversum's 110 LKS jobs
	// against a norm of 209.
	figures := func() (wsw, beschut int64, lks *ledgerv1.LksCijfers) {
		for _, g := range reg.Participating(event.YMD(2023, 1, 1)) {
			r, err := client.GetBeleidsview(context.Background(), connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: g.Code, Jaar: 2023, Maand: 1}))
			if err != nil {
				t.Fatal(err)
			}
			v := r.Msg.GetView().GetTotaal()
			for _, c := range v.GetCaseloadPerDoelgroep() {
				if c.GetSleutel() == "wsw" {
					wsw += c.GetAantal()
				}
			}
			for _, p := range v.GetPlaatsingen() {
				if p.GetSoort() == "beschut-werk" {
					beschut += p.GetActief()
				}
			}
			if g.Code == "GM0402" {
				lks = v.GetLks()
			}
		}
		return wsw, beschut, lks
	}
	// The regional model follows the import: wait until January 2023 is
	// all there (what is loaded first does not change after).
	var wsw, beschut int64
	var lks *ledgerv1.LksCijfers
	deadline := time.Now().Add(30 * time.Second)
	for {
		wsw, beschut, lks = figures()
		if (wsw >= 465 && beschut >= 290 && lks.GetActief() >= 110) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if lks.GetNorm() != 209 || lks.GetActief() < 110 || lks.GetActief() > 125 {
		t.Errorf("Hilversum's LKS in January 2023: %d against a norm of %d, want about 110 against 209", lks.GetActief(), lks.GetNorm())
	}
	if wsw < 465 || wsw > 480 {
		t.Errorf("Wsw employees in January 2023: %d, want about 480", wsw)
	}
	if beschut < 290 || beschut > 320 {
		t.Errorf("beschut places in January 2023: %d, want about 300", beschut)
	}
}

// writeImportFile writes lines as an import file (JSON Lines) named
// geschiedenis.jsonl, so that its source system is "geschiedenis".
func writeImportFile(t testing.TB, lines []*ledgerv1.ImportRegel) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "geschiedenis.jsonl")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		b, err := protojson.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return file
}
