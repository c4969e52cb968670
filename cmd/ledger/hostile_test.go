package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore"
)

// TestHostileInput sends every kind of bad request to a real server, as a
// careless or hostile client would over plain HTTP: each is refused with a
// code a client can act on and, where it is the ledger's own rule, the
// rule's name; and the store holds exactly what it held before.
func TestHostileInput(t *testing.T) {
	data := t.TempDir()
	clk := clock.NewManual(2026, time.March, 2)
	addr, start := startServerLine(t, data, clk, func(c *serveConfig) { c.natsAddr = "127.0.0.1:0" })
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-03-02",
		"--product", "beschut-werk=12000", "--product", "jobcoaching=85")
	caseID := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "integrale-toegang", "--client-id", "R-hostile-1")
	mustCLI(t, addr, "case", "intake", caseID, "--trede", "beschut", "--loonwaarde", "30")
	other := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "integrale-toegang", "--client-id", "R-hostile-2")

	// An intake recorded with a chosen event id, to resend with other
	// content and to reuse on the other case.
	const intakeID = "0b7e1f3a-6c2d-4e8f-9a1b-3c5d7e9f1a2b"
	record := func(body string) (int, map[string]any) {
		return post(t, addr, "Record", "application/json", nil, []byte(body))
	}
	if code, out := record(`{"case_id":"` + other + `","event_id":"` + intakeID + `","intake":{"trede":"TREDE_BESCHUT","loonwaarde_procent":30}}`); code != 200 {
		t.Fatalf("intake with an event id: %d %v", code, out)
	}
	if code, out := record(`{"case_id":"` + other + `","event_id":"` + intakeID + `","intake":{"trede":"TREDE_BESCHUT","loonwaarde_procent":30}}`); code != 200 {
		t.Fatalf("the same intake again, a retry: %d %v", code, out)
	}

	before := storeMessages(t, data, start)
	big := strings.Repeat("x", 1<<20)
	plaatsing := func(fields string) string {
		return `{"case_id":"` + caseID + `","plaatsing":{"type":"PLAATSING_TYPE_BESCHUT_WERK",` + fields + `}}`
	}
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write([]byte(`{"case_id":"` + caseID + `","plaatsing":{"werkgever":"`))
	zw.Write(bytes.Repeat([]byte("x"), 256<<20))
	zw.Close()

	for _, tc := range []struct {
		name     string
		method   string
		ctype    string
		header   map[string]string
		body     []byte
		status   int    // HTTP status
		code     string // Connect code
		contains string // in the message: the rule, or the reason
	}{
		{"minutes beyond a week", "Record", "", nil, []byte(plaatsing(`"minuten_per_week":20000`)), 400, "invalid_argument", "[invoer.buiten-bereik] plaatsing.minuten_per_week"},
		{"the largest uint32 of minutes", "Record", "", nil, []byte(plaatsing(`"minuten_per_week":4294967295`)), 400, "invalid_argument", "invoer.buiten-bereik"},
		{"hours of 4294967295 minutes", "Record", "", nil, []byte(`{"case_id":"` + caseID + `","uren":{"product":"jobcoaching","van":{"year":2026,"month":3,"day":2},"minuten":4294967295}}`), 400, "invalid_argument", "[invoer.buiten-bereik] uren.minuten"},
		{"a werkgever of 1 MB", "Record", "", nil, []byte(plaatsing(`"werkgever":"` + big + `"`)), 400, "invalid_argument", "[invoer.te-lang] plaatsing.werkgever"},
		{"an actor of 1 MB", "Record", "", nil, []byte(`{"case_id":"` + caseID + `","actor":"` + big + `","uitval":{}}`), 400, "invalid_argument", "[invoer.te-lang] actor"},
		{"a doel of 900 KB", "Record", "", nil, []byte(`{"case_id":"` + caseID + `","intake":{"doel":"` + big[:900<<10] + `"}}`), 400, "invalid_argument", "[invoer.te-lang] intake.doel"},
		{"a resident id of 1 MB", "Record", "", nil, []byte(`{"gemeente":"GM0402","aanmelding":{"resident_id":"` + big + `"}}`), 400, "invalid_argument", "[invoer.te-lang] aanmelding.resident_id"},
		{"a body of 20 MB", "Record", "", nil, []byte(`{"actor":"` + strings.Repeat("y", 20<<20) + `"}`), 413, "", "invoer.te-groot"},
		{"a gzip body that inflates to 256 MB", "Record", "", map[string]string{"Content-Encoding": "gzip"}, bomb.Bytes(), 429, "resource_exhausted", ""},
		{"an unknown field", "Record", "", nil, []byte(`{"case_id":"` + caseID + `","intake":{"loonwaarde":90}}`), 400, "invalid_argument", "unknown field"},
		{"an uppercase case id", "Record", "", nil, []byte(`{"case_id":"` + strings.ToUpper(caseID) + `","uitval":{}}`), 400, "invalid_argument", "[invoer.id] case_id"},
		{"a urn case id", "Record", "", nil, []byte(`{"case_id":"urn:uuid:` + caseID + `","uitval":{}}`), 400, "invalid_argument", "[invoer.id] case_id"},
		{"a braced case id", "GetCase", "", nil, []byte(`{"case_id":"{` + caseID + `}"}`), 400, "invalid_argument", "[invoer.id] case_id"},
		{"NUL in a toelichting", "Record", "", nil, []byte(`{"case_id":"` + caseID + `","uitval":{"toelichting":"ziek\u0000"}}`), 400, "invalid_argument", "[invoer.teken] uitval.toelichting"},
		{"ESC in a werkgever", "Record", "", nil, []byte(plaatsing(`"werkgever":"\u001b[2J"`)), 400, "invalid_argument", "[invoer.teken] plaatsing.werkgever"},
		{"a newline in a doel", "Record", "", nil, []byte(`{"case_id":"` + caseID + `","intake":{"doel":"a\nb"}}`), 400, "invalid_argument", "[invoer.teken] intake.doel"},
		{"a backdated aanmelding for Weesp", "Record", "", nil, []byte(`{"gemeente":"GM0457","datum":{"year":2020,"month":3,"day":2},"aanmelding":{"resident_id":"R-weesp","doelgroep":"DOELGROEP_WSW","verwijzer":"VERWIJZER_SCHOOL"}}`), 400, "failed_precondition", "[gemeente.deelnemer]"},
		{"an intake resent with other content", "Record", "", nil, []byte(`{"case_id":"` + other + `","event_id":"` + intakeID + `","intake":{"trede":"TREDE_BESCHUT","loonwaarde_procent":90}}`), 400, "failed_precondition", "[event-id.hergebruikt]"},
		{"an event id reused on another case", "Record", "", nil, []byte(`{"case_id":"` + caseID + `","event_id":"` + intakeID + `","uitstroom":{"reden":"UITSTROOM_REDEN_REGULIER_WERK"}}`), 400, "failed_precondition", "[event-id.hergebruikt]"},
		{"a loonwaarde of 101", "Record", "", nil, []byte(`{"case_id":"` + caseID + `","intake":{"loonwaarde_procent":101}}`), 400, "invalid_argument", "[invoer.buiten-bereik] intake.loonwaarde_procent"},
		{"31 February", "Record", "", nil, []byte(`{"case_id":"` + caseID + `","datum":{"year":2026,"month":2,"day":31},"uitval":{}}`), 400, "invalid_argument", "[invoer.datum] datum"},
		{"an unknown enum number", "Record", "", nil, []byte(`{"case_id":"` + caseID + `","plaatsing":{"type":55}}`), 400, "invalid_argument", "[invoer.onbekende-waarde] plaatsing.type"},
		{"a gemeente by name", "GetView", "", nil, []byte(`{"gemeente":"Hilversum"}`), 400, "invalid_argument", "[invoer.id] gemeente"},
		{"a tariff of 2^62 cents", "RecordBeleid", "", nil, []byte(`{"gemeente":"GM0402","beleid":{"geldig_vanaf":{"year":2026,"month":3,"day":3},"producten":[{"product":"beschut-werk","cent_per_jaar":"4611686018427387904"}]}}`), 400, "invalid_argument", "[invoer.buiten-bereik] beleid.producten[0].cent_per_jaar"},
		{"shared costs with a control character", "RecordRegio", "", nil, []byte(`{"datum":{"year":2026,"month":2,"day":28},"gedeelde_kosten":{"van":{"year":2026,"month":2,"day":1},"cent":100,"budgetstroom":"BUDGETSTROOM_BUIG","omschrijving":"\u001b]0;x\u0007"}}`), 400, "invalid_argument", "[invoer.teken] gedeelde_kosten.omschrijving"},
		{"a month 13 view", "GetBeleidsview", "", nil, []byte(`{"gemeente":"GM0402","jaar":2026,"maand":13}`), 400, "invalid_argument", "[invoer.buiten-bereik] maand"},
		{"malformed JSON", "Record", "", nil, []byte(`{"case_id":`), 400, "invalid_argument", ""},
		{"malformed protobuf", "Record", "application/proto", nil, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, 400, "invalid_argument", ""},
		{"brotli, which the server does not speak", "Record", "", map[string]string{"Content-Encoding": "br"}, []byte(`{}`), 501, "unimplemented", ""},
		{"a gRPC frame claiming 4 GB", "Record", "application/grpc", nil, grpcFrame(0, 0xffffffff, nil), 200, "grpc:8", ""},
		{"a compressed gRPC frame without an encoding", "Record", "application/grpc", nil, grpcFrame(1, 2, []byte{1, 2}), 200, "grpc:3", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctype := tc.ctype
			if ctype == "" {
				ctype = "application/json"
			}
			status, out := post(t, addr, tc.method, ctype, tc.header, tc.body)
			if status != tc.status {
				t.Errorf("HTTP %d, want %d: %v", status, tc.status, out)
			}
			if got, _ := out["code"].(string); tc.code != "" && got != tc.code {
				t.Errorf("code %q, want %q: %v", got, tc.code, out)
			}
			msg, _ := out["message"].(string)
			if !strings.Contains(msg, tc.contains) {
				t.Errorf("message %q does not name %q", msg, tc.contains)
			}
			if len(msg) > 1000 {
				t.Errorf("a refusal of %d bytes: it repeats what it refuses", len(msg))
			}
		})
	}
	if after := storeMessages(t, data, start); after != before {
		t.Errorf("the store went from %d to %d events on refused requests", before, after)
	}
	// ListCases shows the store's revisions: the first case has an
	// aanmelding and an intake (revision 1), the other its aanmelding and
	// the intake recorded once (revision 1, not 2 after the retry).
	eventually(t, "real revisions in the case list", func() bool {
		var list struct {
			Cases []struct {
				CaseID   string `json:"case_id"`
				Revision string `json:"revision"`
			} `json:"cases"`
		}
		if err := json.Unmarshal([]byte(mustCLI(t, addr, "case", "list", "--gemeente", "GM0402", "--json")), &list); err != nil {
			t.Fatal(err)
		}
		revs := map[string]string{}
		for _, c := range list.Cases {
			revs[c.CaseID] = c.Revision
		}
		return len(revs) == 2 && revs[caseID] == "1" && revs[other] == "1"
	})
	// The refused resend did not change the intake: loonwaarde 30 stands.
	if out := mustCLI(t, addr, "case", "show", other, "--json"); !strings.Contains(out, `"loonwaarde_procent":30`) || strings.Contains(out, `"loonwaarde_procent":90`) {
		t.Errorf("the intake changed:\n%s", out)
	}
}

// post sends body to a method of the API as a plain HTTP client does and
// returns the status and the decoded JSON answer (for gRPC: its status as
// "code": "grpc:N" and grpc-message as "message").
func post(t *testing.T, addr, method, ctype string, header map[string]string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+"/ledger.v1.LedgerService/"+method, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	var named struct{ Gemeente string }
	_ = json.Unmarshal(body, &named) // a hostile body may not be JSON at all
	req.Header.Set("Authorization", "Bearer "+tokenFor(t, addr, whoFor("/ledger.v1.LedgerService/"+method, named.Gemeente)))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := http.DefaultClient
	if strings.HasPrefix(ctype, "application/grpc") {
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		client = &http.Client{Transport: tr}
		req.Header.Set("TE", "trailers")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if strings.HasPrefix(ctype, "application/grpc") {
		out["code"] = "grpc:" + resp.Trailer.Get("Grpc-Status") + resp.Header.Get("Grpc-Status")
		out["message"] = resp.Trailer.Get("Grpc-Message") + resp.Header.Get("Grpc-Message")
		return resp.StatusCode, out
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		out["message"] = string(raw)
	}
	return resp.StatusCode, out
}

// grpcFrame is a gRPC length-prefixed message header with a flag and a
// claimed length, followed by data.
func grpcFrame(flag byte, length uint32, data []byte) []byte {
	b := []byte{flag, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], length)
	return append(b, data...)
}

// storeMessages counts the events in the running server's store, through
// its NATS port as the ledger's own user.
func storeMessages(t *testing.T, data, start string) uint64 {
	t.Helper()
	i := strings.Index(start, "nats://")
	if i < 0 {
		t.Fatalf("no NATS address in %q", start)
	}
	url := strings.TrimRight(strings.Fields(start[i:])[0], "),")
	pw, err := os.ReadFile(filepath.Join(data, "keys", "nats-ledger.pass"))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, broker.GemeenteOptions(broker.User{Name: "ledger", Password: strings.TrimSpace(string(pw))})...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(context.Background(), natsstore.DefaultStreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}
