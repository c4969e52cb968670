package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/export"
)

// startServer runs the whole ledger in this process (embedded NATS, store,
// relay, projections, API on a free port) on clk and returns its API
// address. Every test server runs on a clock the test sets, so no test
// depends on the day it runs.
func startServer(t testing.TB, data string, clk *clock.Manual) string {
	t.Helper()
	return startServerWith(t, data, clk, func(*serveConfig) {})
}

// startServerWith is startServer with a configuration the test changes.
func startServerWith(t testing.TB, data string, clk *clock.Manual, change func(*serveConfig)) string {
	t.Helper()
	addr, _ := startServerLine(t, data, clk, change)
	return addr
}

// startServerLine is startServerWith that also returns the server's start
// line ("ledger luistert op ... (NATS: ...)").
func startServerLine(t testing.TB, data string, clk *clock.Manual, change func(*serveConfig)) (addr, line string) {
	t.Helper()
	addr, line, stop := launchServer(t, data, clk, change)
	t.Cleanup(stop)
	return addr, line
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

// launchServer starts a server as startServerLine does and returns a stop
// that ends it and waits until it has ended: for a test that starts one
// server after another on the same data.
func launchServer(t testing.TB, data string, clk *clock.Manual, change func(*serveConfig)) (addr, line string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	// What the server logs is shown only when the test fails: a rare
	// failure's one clue is often what a projection logged meanwhile.
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server on %s logged (last lines):\n%s", data, tail(logs.String(), 60))
		}
	})
	go func() {
		cfg := serveConfig{data: data, http: "127.0.0.1:0", natsAddr: "127.0.0.1:-1", gemeenten: "../../deploy/gemeenten.json", srg: "../../deploy/srg.json", retention: "../../deploy/bewaartermijnen.json", store: "jetstream", replicas: 1, clock: clk.Clock()}
		if change != nil {
			change(&cfg)
		}
		done <- runServer(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), pw)
		pw.Close()
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		stop()
		t.Fatalf("server did not start: %v", err)
	}
	go io.Copy(io.Discard, pr)
	url := strings.Fields(line)[3]
	addr, ok := strings.CutPrefix(url, "http://")
	if !ok {
		addr, ok = strings.CutPrefix(url, "https://")
	}
	if !ok {
		stop()
		t.Fatalf("unexpected start line %q", line)
	}
	registerServer(addr, data)
	return addr, line, stop
}

// cli runs one ledger command against addr.
func cli(t *testing.T, addr string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	t.Setenv("LEDGER_SERVER", addr)
	// The positions the CLI remembers for read-your-writes stay with the
	// test: in its own directory, kept across its CLI calls.
	t.Setenv("LEDGER_POSITIES", filepath.Join(testDir(t), "posities.json"))
	who := "centrum"
	if len(args) > 1 && args[0] == "policy" && args[1] == "set" {
		for i, a := range args[:len(args)-1] {
			if a == "--gemeente" {
				who = whoFor(ledgerv1connect.LedgerServiceRecordBeleidProcedure, args[i+1])
			}
		}
	}
	t.Setenv("LEDGER_TOKEN", tokenFor(t, addr, who))
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func mustCLI(t *testing.T, addr string, args ...string) string {
	t.Helper()
	code, out, errs := cli(t, addr, args...)
	if code != exitOK {
		t.Fatalf("ledger %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return strings.TrimSpace(out)
}

// eventually polls cond until it holds or 30 seconds pass: the projections
// follow the store asynchronously, and this waits on their state, not a
// fixed time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func viewJSON(t *testing.T, addr, gm string, replay bool) map[string]any {
	t.Helper()
	args := []string{"view", gm, "--caseload", "--json"}
	if replay {
		args = append(args, "--replay")
	}
	var v struct {
		View map[string]any `json:"view"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, addr, args...)), &v); err != nil {
		t.Fatal(err)
	}
	return v.View
}

// TestJourneyThroughTheCLI walks one resident through the ledger with the
// operators' commands, against the real server.
func TestJourneyThroughTheCLI(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	// Hilversum's and Gooise Meren's policies for 2026, decided in advance.
	for _, gm := range []string{"GM0402", "GM1942"} {
		mustCLI(t, addr, "policy", "set", "--gemeente", gm, "--geldig-vanaf", "2026-01-01",
			"--product", "beschut-werk=12000", "--product", "vangnet=9000", "--product", "jobcoaching=85")
	}
	clk.Set(2026, time.November, 24)

	caseID := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "integrale-toegang", "--bsn", "111222333", "--datum", "2026-09-01")
	if len(caseID) != 36 {
		t.Fatalf("aanmelden printed %q, want the case id", caseID)
	}
	// A plaatsing before the intake is refused with the rule, exit 1.
	code, _, errs := cli(t, addr, "case", "plaatsen", caseID, "--type", "beschut-werk", "--datum", "2026-09-02")
	if code != exitFailed || !strings.Contains(errs, "plaatsing.na-intake") || !strings.Contains(errs, "intake") {
		t.Fatalf("plaatsing before intake: exit %d, %q", code, errs)
	}
	if got := mustCLI(t, addr, "case", "intake", caseID, "--trede", "beschut", "--loonwaarde", "30", "--datum", "2026-09-03"); got != caseID {
		t.Errorf("intake printed %q", got)
	}
	mustCLI(t, addr, "case", "plaatsen", caseID, "--type", "beschut-werk", "--werkgever", "Tomin", "--uren", "28", "--datum", "2026-09-10")
	mustCLI(t, addr, "case", "verhuizen", caseID, "--naar", "GM1942", "--datum", "2026-10-15")
	mustCLI(t, addr, "case", "vangnet", caseID, "--type", "werkervaringsplek", "--datum", "2026-11-01")

	var shown struct {
		Case     map[string]any   `json:"case"`
		Timeline []map[string]any `json:"timeline"`
		Keten    bool             `json:"keten_intact"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, addr, "case", "show", caseID, "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if len(shown.Timeline) != 5 || !shown.Keten || shown.Case["gemeente"] != "GM1942" || shown.Case["toestand"] != "TOESTAND_VANGNET" {
		t.Fatalf("case show: %d events, keten %v, case %v", len(shown.Timeline), shown.Keten, shown.Case)
	}
	// The klantmanager of the centrumgemeente reads the BSN, decrypted; the
	// gemeente where it was registered sees that history, but not the BSN.
	if pd, _ := shown.Timeline[0]["ontsleuteld"].(map[string]any); pd["bsn"] != "111222333" || shown.Timeline[0]["persoonsgegevens"] != "ontsleuteld" {
		t.Fatalf("the klantmanager does not read the BSN: %v", shown.Timeline[0])
	}
	if out := mustCLI(t, addr, "case", "show", caseID, "--json", "--token", tokenFor(t, addr, "GM0402")); strings.Contains(out, "111222333") || !strings.Contains(out, `"niet-voor-deze-rol"`) {
		t.Fatalf("the gemeente's view of the case shows the BSN, or does not say it is withheld:\n%s", out)
	}

	// Correct the doelgroep of the aanmelding, as recorded in GM0402.
	aanmeldingID := shown.Timeline[0]["event"].(map[string]any)["envelope"].(map[string]any)["event_id"].(string)
	mustCLI(t, addr, "case", "corrigeren", caseID, "--event", aanmeldingID, "--reden", "verkeerde doelgroep gekozen", "--doelgroep", "banenafspraak")
	// A second correction of the same fact starts from the corrected fact.
	mustCLI(t, addr, "case", "corrigeren", caseID, "--event", aanmeldingID, "--reden", "verwijzer was UWV", "--verwijzer", "uwv")
	if out := mustCLI(t, addr, "case", "show", caseID, "--json"); !strings.Contains(out, `"doelgroep":"DOELGROEP_BANENAFSPRAAK"`) {
		t.Errorf("after a second correction the first one is lost:\n%s", out)
	}
	code, _, errs = cli(t, addr, "case", "corrigeren", caseID, "--event", aanmeldingID, "--reden", "x", "--trede", "beschut")
	if code != exitUsage || !strings.Contains(errs, "--trede hoort niet bij een aanmelding") {
		t.Errorf("correction with a foreign field: exit %d %q", code, errs)
	}

	// Each gemeente sees its own part; live equals replay. GM1942 was
	// handed the doelgroep at the verhuizing, so it receives its correction
	// too (not the verwijzer's: no snapshot holds it).
	eventually(t, "views of GM0402 and GM1942", func() bool {
		old, nw := viewJSON(t, addr, "GM0402", false), viewJSON(t, addr, "GM1942", false)
		return old["verwerkt"] == "6" && nw["verwerkt"] == "3"
	})
	// One definition: GM1942's caseload view, live and replayed, its
	// beleidsview and case show all say banenafspraak.
	for _, replay := range []bool{false, true} {
		dg, _ := json.Marshal(viewJSON(t, addr, "GM1942", replay)["per_doelgroep"])
		if !strings.Contains(string(dg), "DOELGROEP_BANENAFSPRAAK") || strings.Contains(string(dg), "DOELGROEP_BESCHUT_WERK") {
			t.Errorf("GM1942's caseload view (replay %v) counts the doelgroep as handed over, not as corrected: %s", replay, dg)
		}
	}
	if out := mustCLI(t, addr, "view", "GM1942", "--year", "2026", "--json"); !strings.Contains(out, `"banenafspraak"`) || strings.Contains(out, `"beschut-werk","aantal"`) {
		t.Errorf("GM1942's beleidsview does not count the corrected doelgroep:\n%s", out)
	}
	for _, gm := range []string{"GM0402", "GM1942"} {
		live, replay := viewJSON(t, addr, gm, false), viewJSON(t, addr, gm, true)
		delete(live, "bron")
		delete(replay, "bron")
		lb, _ := json.Marshal(live)
		rb, _ := json.Marshal(replay)
		if !bytes.Equal(lb, rb) {
			t.Errorf("%s live view %s differs from replay %s", gm, lb, rb)
		}
	}
	if v := viewJSON(t, addr, "GM0402", false); v["actief"] != "0" {
		t.Errorf("GM0402 still counts the case after the verhuizing: %v", v)
	}
	if v := viewJSON(t, addr, "GM1942", false); v["actief"] != "1" {
		t.Errorf("GM1942 does not count the case: %v", v)
	}
	if out := mustCLI(t, addr, "case", "list", "--gemeente", "GM1942"); !strings.Contains(out, caseID) || !strings.Contains(out, "vangnet") {
		t.Errorf("case list GM1942:\n%s", out)
	}
	if out := mustCLI(t, addr, "case", "list", "--gemeente", "GM0402"); strings.Contains(out, caseID) {
		t.Errorf("case list GM0402 still shows the moved case:\n%s", out)
	}
	if out := mustCLI(t, addr, "gemeenten"); !strings.Contains(out, "GM1696") || !strings.Contains(out, "2027-01-01") {
		t.Errorf("gemeenten does not show Wijdemeren's end date:\n%s", out)
	}
}

func TestCLIRefusesBadInput(t *testing.T) {
	addr := startServer(t, t.TempDir(), clock.NewManual(2026, time.November, 24))
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown gemeente", []string{"case", "aanmelden", "--gemeente", "GM9999", "--doelgroep", "wsw", "--verwijzer", "uwv", "--client-id", "R-x"}, exitFailed, "gemeente.deelnemer"},
		{"invalid bsn", []string{"case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "wsw", "--verwijzer", "uwv", "--bsn", "123456781"}, exitFailed, "elfproef"},
		{"unknown doelgroep", []string{"case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "iedereen", "--verwijzer", "uwv", "--client-id", "R-x"}, exitUsage, "kies uit wsw, beschut-werk"},
		{"future date", []string{"case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "wsw", "--verwijzer", "uwv", "--client-id", "R-x", "--datum", "2999-01-01"}, exitFailed, "datum.niet-in-toekomst"},
		{"bad date", []string{"case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "wsw", "--verwijzer", "uwv", "--client-id", "R-x", "--datum", "1-2-2026"}, exitUsage, "JJJJ-MM-DD"},
		{"a new Wsw indication after 2014", []string{"case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "wsw", "--verwijzer", "uwv", "--client-id", "R-x"}, exitFailed, "wsw.geen-nieuwe-instroom"},
		{"a Wsw indication dated 2015", []string{"case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "wsw", "--wsw-indicatie-sinds", "2015-03-01", "--verwijzer", "uwv", "--client-id", "R-x"}, exitFailed, "wsw.indicatie"},
		{"a terugkeergarantie without Wsw", []string{"case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "bijstand", "--terugkeergarantie", "--verwijzer", "uwv", "--client-id", "R-x"}, exitFailed, "wsw.indicatie"},
		{"unknown case", []string{"case", "intake", "6b3f1a52-8c55-4a5e-9a43-1f7f0d6c9e10", "--trede", "beschut"}, exitFailed, "zaak.onbekend"},
		{"not a case id", []string{"case", "show", "abc"}, exitFailed, "invoer.id"},
		{"view of unknown gemeente", []string{"view", "GM9999", "--caseload"}, exitFailed, "onbekende gemeente"},
		{"no subcommand", []string{"case"}, exitUsage, "geef een opdracht"},
		{"unknown command", []string{"zaak"}, exitUsage, "onbekende opdracht"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := cli(t, addr, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errs, tc.want)
			}
			if strings.Contains(errs, "111222333") || strings.Contains(errs, "123456781") {
				t.Errorf("a BSN appears in the error output")
			}
		})
	}
}

func TestHelpListsAllowedValues(t *testing.T) {
	cases := map[string][]string{
		"aanmelden": {"beschut-werk", "banenafspraak", "integrale-toegang", "--bsn", "--datum"},
		"plaatsen":  {"lks-baan", "detachering", "werkervaringsplek", "--reden-langer", "--einddatum"},
		"uitval":    {"ziekte", "werkgever-beeindigd"},
		"uitstroom": {"regulier-werk", "verhuizing-buiten-regio"},
		"intake":    {"direct-bemiddelbaar", "dagbesteding"},
	}
	for verb, wants := range cases {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"case", verb, "--help"}, &out, &errb); code != exitOK {
			t.Fatalf("%s --help: exit %d", verb, code)
		}
		for _, w := range wants {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("ledger case %s --help does not mention %q", verb, w)
			}
		}
	}
}

// TestAPIServesGRPCAndJSON: one handler answers a gRPC client and curl.
func TestAPIServesGRPCAndJSON(t *testing.T) {
	addr := startServer(t, t.TempDir(), clock.NewManual(2026, time.November, 24))
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	grpc := apiClientWith(t, addr, &http.Client{Transport: tr}, connect.WithGRPC())
	resp, err := grpc.ListGemeenten(context.Background(), connect.NewRequest(&ledgerv1.ListGemeentenRequest{}))
	if err != nil {
		t.Fatalf("gRPC: %v", err)
	}
	if len(resp.Msg.GetGemeenten()) < 8 {
		t.Errorf("gRPC: %d gemeenten", len(resp.Msg.GetGemeenten()))
	}
	_, err = grpc.GetCase(context.Background(), connect.NewRequest(&ledgerv1.GetCaseRequest{CaseId: "6b3f1a52-8c55-4a5e-9a43-1f7f0d6c9e10"}))
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("gRPC unknown case: %v", err)
	}

	// Plain HTTP/JSON, as curl sends it.
	body := `{"gemeente":"GM0402","datum":{"year":2026,"month":3,"day":2},"actor":"curl","aanmelding":{"resident_id":"R-curl","doelgroep":"DOELGROEP_WSW","wsw_indicatie_sinds":{"year":2009,"month":1,"day":1},"verwijzer":"VERWIJZER_SCHOOL"}}`
	r, err := postJSON(t, addr, "centrum", "/ledger.v1.LedgerService/Record", body)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var rec map[string]any
	if err := json.NewDecoder(r.Body).Decode(&rec); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("curl Record: %d %v %v", r.StatusCode, rec, err)
	}
	if rec["type"] != "aanmelding" || rec["revision"] != "0" || rec["toestand"] != "TOESTAND_AANGEMELD" {
		t.Errorf("curl Record answer %v", rec)
	}
	// A refusal over HTTP/JSON names the rule.
	body = `{"case_id":"` + rec["case_id"].(string) + `","datum":{"year":2026,"month":3,"day":3},"uitval":{"reden":"UITVAL_REDEN_ZIEKTE"}}`
	r2, err := postJSON(t, addr, "centrum", "/ledger.v1.LedgerService/Record", body)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Body.Close()
	b, _ := io.ReadAll(r2.Body)
	if r2.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "uitval.alleen-geplaatst") || !strings.Contains(string(b), "failed_precondition") {
		t.Errorf("curl refusal: %d %s", r2.StatusCode, b)
	}
}

// TestBeleidThroughTheCLI: a beleidsmedewerker's and a controller's commands,
// from policy to CSV export.
func TestBeleidThroughTheCLI(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0406", "--geldig-vanaf", "2026-01-01",
		"--product", "beschut-werk=12000", "--product", "jobcoaching=85.50",
		"--budget", "2026:integratie-uitkering-wsw-beschut=250000", "--lks-norm", "12")
	mustCLI(t, addr, "regio", "verdeelsleutel", "--jaar", "2026", "--methode", "inwoners")
	clk.Set(2026, time.March, 2)
	code, _, errs := cli(t, addr, "policy", "set", "--gemeente", "GM0406", "--geldig-vanaf", "2026-04-01", "--product", "zwembad=1")
	if code != exitUsage || !strings.Contains(errs, "onbekend product") {
		t.Errorf("unknown product: exit %d %q", code, errs)
	}

	c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0406", "--doelgroep", "beschut-werk", "--verwijzer", "werkcentrum", "--client-id", "R-huizen-1", "--datum", "2026-01-05")
	mustCLI(t, addr, "case", "intake", c, "--trede", "beschut", "--loonwaarde", "25", "--datum", "2026-01-06")
	code, _, errs = cli(t, addr, "case", "plaatsen", c, "--type", "lks-baan", "--datum", "2026-01-07")
	if code != exitFailed || !strings.Contains(errs, "plaatsing.product-ingekocht") {
		t.Errorf("product not bought: exit %d %q", code, errs)
	}
	mustCLI(t, addr, "case", "plaatsen", c, "--type", "beschut-werk", "--datum", "2026-01-07")
	// The placement is priced from 7 January on: a version from 1 February
	// would price those days again.
	code, _, errs = cli(t, addr, "policy", "set", "--gemeente", "GM0406", "--geldig-vanaf", "2026-02-01", "--product", "beschut-werk=13000")
	if code != exitFailed || !strings.Contains(errs, "beleid.geen-terugwerkende-kracht") {
		t.Errorf("retroactive policy over priced days: exit %d %q", code, errs)
	}
	mustCLI(t, addr, "case", "uren", c, "--product", "jobcoaching", "--van", "2026-01-07", "--tot", "2026-01-31", "--uren", "10")
	clk.Set(2026, time.April, 10)
	mustCLI(t, addr, "regio", "kosten", "--van", "2026-01-01", "--tot", "2026-03-31", "--bedrag", "1000.01", "--budgetstroom", "participatiebudget", "--omschrijving", "overhead Q1")

	// The export: January is 25 days of 12,000/365 per day and 10 hours at
	// 85.50; February 28 and March 31 days; then the Q1 share.
	var csvOut string
	eventually(t, "the regional model", func() bool {
		code, out, _ := cli(t, addr, "export", "costs", "--gemeente", "GM0406", "--year", "2026")
		csvOut = out
		return code == exitOK && strings.Contains(out, "gedeeld;")
	})
	lines := strings.Split(strings.TrimSpace(csvOut), "\n")
	if lines[0] != strings.Join(export.CostHeader, ";") {
		t.Fatalf("CSV header %q", lines[0])
	}
	want := map[string]string{
		"plaatsing;GM0406;2026-01": ";25;0;1200000;82192;821,92;",   // 1,200,000 × 25 / 365 = 82,191.78
		"plaatsing;GM0406;2026-02": ";28;0;1200000;92055;920,55;",   // × 28 / 365 = 92,054.79
		"plaatsing;GM0406;2026-03": ";31;0;1200000;101918;1019,18;", // × 31 / 365 = 101,917.81
		"uren;GM0406;2026-01":      ";0;600;8550;85500;855,00;",     // 600 min × 8,550 / 60
	}
	for prefix, frag := range want {
		found := false
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, prefix) {
				found = true
				if !strings.Contains(l, frag) {
					t.Errorf("line %q lacks %q", l, frag)
				}
			}
		}
		if !found {
			t.Errorf("no line %s", prefix)
		}
	}

	var view struct {
		View struct {
			Kosten []map[string]any `json:"kosten"`
			Totaal map[string]any   `json:"totaal"`
		} `json:"view"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, addr, "view", "GM0406", "--year", "2026", "--json")), &view); err != nil {
		t.Fatal(err)
	}
	if len(view.View.Kosten) == 0 || view.View.Totaal["caseload"] != "1" {
		t.Errorf("beleidsview: %+v", view.View)
	}
	if out := mustCLI(t, addr, "view", "GM0406", "--year", "2026", "--month", "2"); !strings.Contains(out, "2026-02") || !strings.Contains(out, "€ 920,55") {
		t.Errorf("month view:\n%s", out)
	}
	if out := mustCLI(t, addr, "export", "srg", "--gemeente", "GM0406", "--half", "2026H1"); !strings.Contains(out, "22;Beschut werk (art. 10b Participatiewet);1;0;1") {
		t.Errorf("srg export:\n%s", out)
	}
	code, _, errs = cli(t, addr, "export", "srg", "--gemeente", "GM0406", "--half", "2026H3")
	if code != exitFailed || errs == "" {
		t.Errorf("bad half: exit %d %q", code, errs)
	}
}

var testDirs sync.Map // test name → its directory for CLI state

// testDir is one directory per test, the same on every call.
func testDir(t *testing.T) string {
	if d, ok := testDirs.Load(t.Name()); ok {
		return d.(string)
	}
	d := t.TempDir()
	testDirs.Store(t.Name(), d)
	return d
}
