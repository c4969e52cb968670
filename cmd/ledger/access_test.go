package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gooi-vechtstreek/ledger/services/clock"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// call posts body to a method of the real server as who ("": no token) and
// returns the HTTP status and the decoded answer.
func call(t *testing.T, addr, token, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func refusalRuleJSON(out map[string]any) string {
	ds, _ := out["details"].([]any)
	for _, d := range ds {
		if m, ok := d.(map[string]any); ok {
			if dbg, ok := m["debug"].(map[string]any); ok {
				if r, ok := dbg["rule"].(string); ok {
					return r
				}
			}
		}
	}
	return ""
}

// TestAccessByRole calls every method of the API as every kind of caller,
// against the real server over real HTTP, and checks who is let through
// and who is refused, with which rule, and that a refused write writes
// nothing.
func TestAccessByRole(t *testing.T) {
	data := t.TempDir()
	clk := clock.NewManual(2026, time.March, 2)
	addr, start := startServerLine(t, data, clk, func(c *serveConfig) { c.natsAddr = "127.0.0.1:0" })
	for _, gm := range []string{"GM0402", "GM1942"} {
		mustCLI(t, addr, "policy", "set", "--gemeente", gm, "--geldig-vanaf", "2026-03-02", "--product", "beschut-werk=12000")
	}
	caseID := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-toegang-1")

	revokedTok := tokenFor(t, addr, "GM0417")
	ids := map[string]string{}
	for _, who := range []string{"centrum", "GM0402", "GM1942", "auditor", "beheer"} {
		_, out := call(t, addr, tokenFor(t, addr, who), "/ledger.v1.AccessService/WhoAmI", `{}`)
		ids[who], _ = out["credential_id"].(string)
	}
	_, list := call(t, addr, tokenFor(t, addr, "beheer"), "/ledger.v1.AccessService/ListCredentials", `{}`)
	for _, c := range list["credentials"].([]any) {
		if cm := c.(map[string]any); cm["gemeente"] == "GM0417" {
			if code, out := call(t, addr, tokenFor(t, addr, "beheer"), "/ledger.v1.AccessService/RevokeCredential", `{"id":"`+cm["id"].(string)+`"}`); code != 200 {
				t.Fatalf("revoke: %d %v", code, out)
			}
		}
	}

	today := `{"year":2026,"month":3,"day":2}`
	const L, A = "/ledger.v1.LedgerService/", "/ledger.v1.AccessService/"
	readers := []string{"centrum", "auditor", "GM0402"}
	cases := []struct {
		path  string
		body  string
		may   []string // who is let through; any other is refused
		write bool     // refused, nothing may be written
	}{
		{L + "Record", `{"gemeente":"GM0402","datum":` + today + `,"actor":"iemand anders","aanmelding":{"resident_id":"R-toegang-rec","doelgroep":"DOELGROEP_WSW","wsw_indicatie_sinds":{"year":2009,"month":1,"day":1},"verwijzer":"VERWIJZER_UWV"}}`, []string{"centrum"}, true},
		{L + "Import", `{"systeem":"toegang-test","regels":[]}`, []string{"centrum"}, true},
		{L + "RecordRegio", `{"datum":` + today + `}`, []string{"centrum"}, true},
		{L + "RecordBeleid", `{"gemeente":"GM0402","beleid":{"geldig_vanaf":` + today + `,"producten":[{"product":"vangnet","cent_per_jaar":"900000"}]}}`, []string{"GM0402"}, true},
		{L + "GetCase", `{"case_id":"` + caseID + `"}`, []string{"centrum", "auditor", "GM0402", "GM1942"}, false},
		{L + "ListCases", `{"gemeente":"GM0402"}`, readers, false},
		{L + "GetView", `{"gemeente":"GM0402"}`, readers, false},
		{L + "GetBeleid", `{"gemeente":"GM0402"}`, readers, false},
		{L + "GetRegio", `{}`, []string{"centrum", "auditor", "GM0402", "GM1942"}, false},
		{L + "GetBeleidsview", `{"gemeente":"GM0402","jaar":2026}`, readers, false},
		{L + "ExportKosten", `{"gemeente":"GM0402","jaar":2026}`, readers, false},
		{L + "ExportSrg", `{"gemeente":"GM0402","half":"2026H1"}`, readers, false},
		{L + "FindCases", `{"resident_id":"R-toegang-1"}`, []string{"centrum", "auditor", "GM0402", "GM1942"}, false},
		{L + "ForgetResident", `{"resident_id":"R-toegang-niemand"}`, []string{"centrum"}, true},
		{L + "Inzage", `{"resident_id":"R-toegang-1"}`, []string{"centrum", "auditor"}, false},
		{L + "RunRetention", `{"droog":true}`, []string{"centrum"}, true},
		{L + "ReadEvents", `{"gemeente":"GM0402","max":1}`, readers, false},
		{L + "RecordRapportage", `{"gemeente":"GM0402","rapportage":{"soort":"kosten","jaar":2026,"positie":"1/1","peildatum":` + today + `,"sha256":"` + strings.Repeat("A", 43) + `="}}`, []string{"centrum"}, true},
		{L + "ListGemeenten", `{}`, []string{"centrum", "auditor", "GM0402", "GM1942", "beheer"}, false},
		{A + "IssueCredential", `{"gebruiker":"x","organisatie":"y","rol":"auditor"}`, []string{"beheer"}, true},
		{A + "RevokeCredential", `{"id":"` + ids["auditor"] + `"}`, []string{"beheer"}, true},
		{A + "ListCredentials", `{}`, []string{"beheer"}, false},
		{A + "WhoAmI", `{}`, []string{"centrum", "auditor", "GM0402", "GM1942", "beheer"}, false},
	}
	// Every method of both services is in the table.
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.path] = true
	}
	for _, sd := range []protoreflect.ServiceDescriptor{ledgerv1.File_ledger_v1_api_proto.Services().Get(0), ledgerv1.File_ledger_v1_access_proto.Services().Get(0)} {
		for i := range sd.Methods().Len() {
			if p := "/" + string(sd.FullName()) + "/" + string(sd.Methods().Get(i).Name()); !covered[p] {
				t.Errorf("%s is not in the access table", p)
			}
		}
	}

	callers := []string{"", "revoked", "GM1942", "GM0402", "auditor", "beheer", "centrum"}
	for _, c := range cases {
		for _, who := range callers {
			// Let the revocation of the auditor come last.
			if c.path == A+"RevokeCredential" && who == "beheer" {
				continue
			}
			t.Run(c.path[strings.LastIndex(c.path, "/")+1:]+"/"+who, func(t *testing.T) {
				tok := ""
				switch who {
				case "":
				case "revoked":
					tok = revokedTok
				default:
					tok = tokenFor(t, addr, who)
				}
				before, creds := storeMessages(t, data, start), len(listCredentials(t, addr))
				code, out := call(t, addr, tok, c.path, c.body)
				rule := refusalRuleJSON(out)
				switch {
				case slices.Contains(c.may, who):
					if code == http.StatusUnauthorized || code == http.StatusForbidden {
						t.Fatalf("%s refused for %s: %d %v", c.path, who, code, out)
					}
					return
				case who == "":
					if code != http.StatusUnauthorized || rule != "toegang.niet-aangemeld" {
						t.Fatalf("without a token: %d %v", code, out)
					}
				case who == "revoked":
					if code != http.StatusUnauthorized || rule != "toegang.ingetrokken" {
						t.Fatalf("with a revoked token: %d %v", code, out)
					}
				default:
					if code != http.StatusForbidden || (rule != "toegang.rol" && rule != "toegang.eigen-gemeente") {
						t.Fatalf("%s for %s: %d %v; want permission_denied with a toegang rule", c.path, who, code, out)
					}
					if msg, _ := out["message"].(string); !strings.Contains(msg, "mag geen") {
						t.Errorf("refusal does not say which right is missing: %q", msg)
					}
				}
				if c.write {
					if after := storeMessages(t, data, start); after != before {
						t.Errorf("refused %s wrote %d events", c.path, after-before)
					}
					if n := len(listCredentials(t, addr)); n != creds {
						t.Errorf("refused %s changed the credentials: %d, was %d", c.path, n, creds)
					}
				}
			})
		}
	}
	// The revocation by beheer, and at once the auditor is refused.
	if code, out := call(t, addr, tokenFor(t, addr, "auditor"), L+"GetView", `{"gemeente":"GM0402"}`); code != 200 {
		t.Fatalf("auditor before revocation: %d %v", code, out)
	}
	if code, out := call(t, addr, tokenFor(t, addr, "beheer"), A+"RevokeCredential", `{"id":"`+ids["auditor"]+`"}`); code != 200 {
		t.Fatalf("revoke the auditor: %d %v", code, out)
	}
	if code, out := call(t, addr, tokenFor(t, addr, "auditor"), L+"GetView", `{"gemeente":"GM0402"}`); code != http.StatusUnauthorized || refusalRuleJSON(out) != "toegang.ingetrokken" {
		t.Fatalf("auditor right after revocation: %d %v", code, out)
	}
}

func listCredentials(t *testing.T, addr string) []any {
	t.Helper()
	code, out := call(t, addr, tokenFor(t, addr, "beheer"), "/ledger.v1.AccessService/ListCredentials", `{}`)
	if code != 200 {
		t.Fatalf("list credentials: %d %v", code, out)
	}
	l, _ := out["credentials"].([]any)
	return l
}

// TestGemeenteSeesItsOwnHistory: after a verhuizing each gemeente sees of
// the case exactly the events of its own history (what its bus stream
// holds), a gemeente without any sees no case at all, and the actor of
// every event is the authenticated user, whatever the request said.
func TestGemeenteSeesItsOwnHistory(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	for _, gm := range []string{"GM0402", "GM1942"} {
		mustCLI(t, addr, "policy", "set", "--gemeente", gm, "--geldig-vanaf", "2026-03-02", "--product", "beschut-werk=12000")
	}
	id := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-eigen-1")
	mustCLI(t, addr, "case", "intake", id, "--trede", "beschut", "--loonwaarde", "30")
	mustCLI(t, addr, "case", "verhuizen", id, "--naar", "GM1942")
	if code, out := call(t, addr, tokenFor(t, addr, "centrum"), "/ledger.v1.LedgerService/Record",
		`{"case_id":"`+id+`","actor":"iemand anders","plaatsing":{"type":"PLAATSING_TYPE_BESCHUT_WERK","werkgever":"Tomin"}}`); code != 200 {
		t.Fatalf("plaatsing: %d %v", code, out)
	}
	for _, tc := range []struct {
		who       string
		revisions []float64
		gemeente  string
	}{
		{"centrum", []float64{0, 1, 2, 3}, "GM1942"},
		{"auditor", []float64{0, 1, 2, 3}, "GM1942"},
		{"GM0402", []float64{0, 1, 2}, "GM1942"},
		{"GM1942", []float64{2, 3}, "GM1942"},
		{"GM0406", nil, ""},
	} {
		t.Run(tc.who, func(t *testing.T) {
			code, out := call(t, addr, tokenFor(t, addr, tc.who), "/ledger.v1.LedgerService/GetCase", `{"case_id":"`+id+`"}`)
			if tc.revisions == nil {
				if code != http.StatusNotFound {
					t.Fatalf("a gemeente without history of the case: %d %v", code, out)
				}
				return
			}
			if code != 200 {
				t.Fatalf("%d %v", code, out)
			}
			var got []float64
			tl, _ := out["timeline"].([]any)
			for _, e := range tl {
				em := e.(map[string]any)
				var rev float64
				json.Unmarshal([]byte(strings.Trim(em["revision"].(string), `"`)), &rev)
				got = append(got, rev)
				env := em["event"].(map[string]any)["envelope"].(map[string]any)
				if a := env["actor"]; a != "test-centrum (Gemeente Hilversum)" {
					t.Errorf("revision %v: actor %q, want the authenticated user", rev, a)
				}
			}
			if !slices.Equal(got, tc.revisions) {
				t.Fatalf("%s sees revisions %v, want %v", tc.who, got, tc.revisions)
			}
		})
	}
}
