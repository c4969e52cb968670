package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// syncBuffer collects a process's log while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPersonalDataNowhereInPlain runs the real binary through a scenario
// with BSNs, names, dates of birth and free text, then scans every byte it
// left: the data directory (store, bus, snapshots, log of processings,
// keys), its log and a cost export. None holds any of them in plain text.
// Then the resident is forgotten: the data no longer decrypts, the hash
// chain still verifies, and every view and cost line is unchanged.
func TestPersonalDataNowhereInPlain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildLedger(t)
	data := t.TempDir()
	today := event.YMD(2026, time.March, 2)
	logs := &syncBuffer{}
	_, addr, _ := spawnLogged(t, bin, data, today, logs, "--nats", "127.0.0.1:-1")
	ctx := context.Background()
	c := apiClient(t, addr, 30*time.Second)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-03-02", "--product", "beschut-werk=12000", "--product", "jobcoaching=85")

	// Made-up people; the BSNs pass the elfproef.
	secrets := []string{"123456782", "Anna Jansen-Pietersma", "1990-05-17", "wil werken bij de kinderboerderij in Loosdrecht",
		"overspannen na het overlijden van haar moeder", "100000009", "Bram de Wit-Oosterhout", "verhuist naar zijn zus in Breda"}
	rec := func(r *ledgerv1.RecordRequest) *ledgerv1.RecordResponse {
		t.Helper()
		resp, err := c.Record(ctx, connect.NewRequest(r))
		if err != nil {
			t.Fatal(err)
		}
		return resp.Msg
	}
	anna := rec(&ledgerv1.RecordRequest{Gemeente: "GM0402", Bsn: secrets[0], Naam: secrets[1], Geboortedatum: &ledgerv1.Date{Year: 1990, Month: 5, Day: 17},
		Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}).GetCaseId()
	rec(&ledgerv1.RecordRequest{CaseId: anna, Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_BESCHUT, LoonwaardeProcent: 30, Doel: secrets[3]}}})
	rec(&ledgerv1.RecordRequest{CaseId: anna, Transition: &ledgerv1.RecordRequest_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, Werkgever: "Tomin"}}})
	rec(&ledgerv1.RecordRequest{CaseId: anna, Transition: &ledgerv1.RecordRequest_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE, Toelichting: secrets[4]}}})
	bram := rec(&ledgerv1.RecordRequest{Gemeente: "GM0402", Bsn: secrets[5], Naam: secrets[6],
		Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}).GetCaseId()
	last := rec(&ledgerv1.RecordRequest{CaseId: bram, Transition: &ledgerv1.RecordRequest_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG, Toelichting: secrets[7]}}})

	// The klantmanager reads them, and finds Anna by her BSN.
	shown := mustCLI(t, addr, "case", "show", anna)
	for _, want := range []string{"bsn=" + secrets[0], secrets[1], secrets[3], secrets[4]} {
		if !strings.Contains(shown, want) {
			t.Fatalf("the klantmanager does not read %q:\n%s", want, shown)
		}
	}
	found, err := c.FindCases(ctx, connect.NewRequest(&ledgerv1.FindCasesRequest{Bsn: secrets[0], NaPositie: last.GetPositie()}))
	if err != nil || len(found.Msg.GetCases()) != 1 || found.Msg.GetCases()[0].GetCaseId() != anna {
		t.Fatalf("find by BSN: %v, %v", found, err)
	}
	figures := func() (*ledgerv1.CaseloadView, *ledgerv1.Beleidsview, []*ledgerv1.Kostenregel) {
		t.Helper()
		v, err := c.GetView(ctx, connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: "GM0402", NaPositie: last.GetPositie()}))
		if err != nil {
			t.Fatal(err)
		}
		bv, err := c.GetBeleidsview(ctx, connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: "GM0402", Jaar: 2026, NaPositie: last.GetPositie()}))
		if err != nil {
			t.Fatal(err)
		}
		k, err := c.ExportKosten(ctx, connect.NewRequest(&ledgerv1.ExportKostenRequest{Gemeente: "GM0402", Jaar: 2026, NaPositie: last.GetPositie()}))
		if err != nil {
			t.Fatal(err)
		}
		return v.Msg.GetView(), bv.Msg.GetView(), k.Msg.GetRegels()
	}
	viewBefore, bvBefore, costsBefore := figures()
	csv := mustCLI(t, addr, "export", "costs", "--gemeente", "GM0402", "--year", "2026")

	// The log of processings has Anna's: her aanmelding, the texts, the reads, the search.
	inzage := mustCLI(t, addr, "client", "inzage", secrets[0])
	for _, act := range []string{"VA-PW-01", "VA-PW-02", "VA-PW-03", "VA-PW-04"} {
		if !strings.Contains(inzage, act) {
			t.Errorf("inzage lacks activity %s:\n%s", act, inzage)
		}
	}

	scan := func(what string, b []byte) {
		t.Helper()
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q in plain text", what, s)
			}
		}
	}
	scanDir := func() {
		t.Helper()
		filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			scan(p, b)
			return nil
		})
	}
	scanDir()
	scan("the server's log", []byte(logs.String()))
	scan("the cost export", []byte(csv))

	// Forget Anna.
	if out := mustCLI(t, addr, "client", "vergeet", secrets[0]); !strings.Contains(out, "vergeten") {
		t.Fatalf("vergeet: %s", out)
	}
	resp, err := c.GetCase(ctx, connect.NewRequest(&ledgerv1.GetCaseRequest{CaseId: anna}))
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Msg.GetKetenIntact() {
		t.Error("the hash chain no longer verifies after forgetting")
	}
	for _, e := range resp.Msg.GetTimeline() {
		if e.GetPersoonsgegevens() == "ontsleuteld" || e.GetOntsleuteld() != nil {
			t.Errorf("revision %d still decrypts after forgetting: %v", e.GetRevision(), e.GetOntsleuteld())
		}
		switch e.GetType() {
		case "aanmelding", "intake", "uitval":
			if e.GetPersoonsgegevens() != "vergeten" {
				t.Errorf("revision %d (%s): persoonsgegevens %q, want vergeten", e.GetRevision(), e.GetType(), e.GetPersoonsgegevens())
			}
		}
	}
	if shown := mustCLI(t, addr, "case", "show", anna); strings.Contains(shown, secrets[1]) || !strings.Contains(shown, "vergeten") {
		t.Fatalf("after forgetting, case show:\n%s", shown)
	}
	// Bram is not forgotten.
	if shown := mustCLI(t, addr, "case", "show", bram); !strings.Contains(shown, secrets[6]) {
		t.Fatalf("another resident was forgotten too:\n%s", shown)
	}
	viewAfter, bvAfter, costsAfter := figures()
	// The figures are the same; only the store position they include moved
	// on, past the Vergeten event.
	viewBefore.Bron, viewAfter.Bron = "", ""
	bvBefore.BijgewerktTot, bvAfter.BijgewerktTot = "", ""
	if !proto.Equal(viewBefore, viewAfter) {
		t.Errorf("the caseload view changed by forgetting:\n%v\n%v", viewBefore, viewAfter)
	}
	if !proto.Equal(bvBefore, bvAfter) {
		t.Errorf("the beleidsview changed by forgetting:\n%v\n%v", bvBefore, bvAfter)
	}
	if len(costsBefore) != len(costsAfter) {
		t.Fatalf("cost lines %d before, %d after forgetting", len(costsBefore), len(costsAfter))
	}
	for i := range costsBefore {
		if !proto.Equal(costsBefore[i], costsAfter[i]) {
			t.Errorf("cost line %d changed by forgetting", i)
		}
	}
	scanDir()
	scan("the server's log", []byte(logs.String()))
}
