package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/gooi-vechtstreek/ledger/services/clock"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestRetention: a history imported with old dates; the retention run
// forgets the resident whose only case closed past its period, keeps the
// one whose period runs and the one with an open case, reports each, and a
// second run forgets nothing again.
func TestRetention(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	d := func(y, m, day int32) *ledgerv1.Date { return &ledgerv1.Date{Year: y, Month: m, Day: day} }
	rec := func(bron, zaak string, r *ledgerv1.RecordRequest) *ledgerv1.ImportRegel {
		return &ledgerv1.ImportRegel{Bron: bron, Zaak: zaak, Verzoek: &ledgerv1.ImportRegel_Record{Record: r}}
	}
	aanmelding := func(bsn string) *ledgerv1.RecordRequest_Aanmelding {
		return &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}
	}
	out := &ledgerv1.RecordRequest_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG, Toelichting: "vertrokken"}}
	const anna, bram, cas = "123456782", "100000009", "123456708"
	lines := []*ledgerv1.ImportRegel{
		{Bron: "B1", Verzoek: &ledgerv1.ImportRegel_Beleid{Beleid: &ledgerv1.RecordBeleidRequest{Gemeente: "GM0402", Beleid: &ledgerv1.Beleid{GeldigVanaf: d(2015, 1, 1), Producten: []*ledgerv1.ProductTarief{{Product: "beschut-werk", CentPerJaar: 12_000_00}}}}}},
		// Anna: placed in 2015, out mid 2015: 10 years, due 2025-06-01.
		rec("A1", "A", &ledgerv1.RecordRequest{Gemeente: "GM0402", Datum: d(2015, 2, 1), Bsn: anna, Naam: "Anna Oud", Transition: aanmelding(anna)}),
		rec("A2", "A", &ledgerv1.RecordRequest{Datum: d(2015, 2, 15), Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_BESCHUT, LoonwaardeProcent: 30, Doel: "groen"}}}),
		rec("A3", "A", &ledgerv1.RecordRequest{Datum: d(2015, 3, 1), Transition: &ledgerv1.RecordRequest_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}}),
		rec("A4", "A", &ledgerv1.RecordRequest{Datum: d(2015, 6, 1), Transition: out}),
		// Bram: out before his intake in 2024: 5 years, due 2029.
		rec("BR1", "B", &ledgerv1.RecordRequest{Gemeente: "GM0402", Datum: d(2024, 1, 5), Bsn: bram, Transition: aanmelding(bram)}),
		rec("BR2", "B", &ledgerv1.RecordRequest{Datum: d(2024, 2, 1), Transition: out}),
		// Cas: an old case long due, and an open one.
		rec("C1", "C1", &ledgerv1.RecordRequest{Gemeente: "GM0402", Datum: d(2015, 2, 1), Bsn: cas, Transition: aanmelding(cas)}),
		rec("C2", "C1", &ledgerv1.RecordRequest{Datum: d(2015, 3, 1), Transition: out}),
		rec("C3", "C2", &ledgerv1.RecordRequest{Gemeente: "GM0402", Datum: d(2025, 9, 1), Bsn: cas, Transition: aanmelding(cas)}),
	}
	mustCLI(t, addr, "import", writeImportFile(t, lines))

	run := func(args ...string) map[string]string {
		t.Helper()
		var resp struct {
			Besluiten []struct {
				ResidentID string `json:"resident_id"`
				Actie      string `json:"actie"`
				Datum      struct {
					Year, Month, Day int
				} `json:"archiefactiedatum"`
			} `json:"besluiten"`
		}
		// The views follow the import; the run reads closed cases from them.
		eventually(t, "the views to hold the imported cases", func() bool {
			_, o, _ := cli(t, addr, "case", "zoek", bram, "--json")
			return strings.Contains(o, "case_id")
		})
		if err := json.Unmarshal([]byte(mustCLI(t, addr, append([]string{"bewaartermijn", "uitvoeren", "--json"}, args...)...)), &resp); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, b := range resp.Besluiten {
			got[b.ResidentID] = b.Actie
		}
		return got
	}
	c := apiClient(t, addr, time.Minute)
	rid := func(bsn string) string {
		r, err := c.FindCases(context.Background(), connect.NewRequest(&ledgerv1.FindCasesRequest{Bsn: bsn}))
		if err != nil {
			t.Fatal(err)
		}
		return r.Msg.GetResidentId()
	}
	want := func(got map[string]string, bsn, actie string) {
		t.Helper()
		if got[rid(bsn)] != actie {
			t.Errorf("resident %s: %q, want %q (all: %v)", rid(bsn), got[rid(bsn)], actie, got)
		}
	}
	dry := run("--droog")
	want(dry, anna, "te vergeten")
	want(dry, bram, "bewaard: termijn loopt")
	want(dry, cas, "bewaard: open zaak")
	annaCase := func() *ledgerv1.GetCaseResponse {
		r, err := c.FindCases(context.Background(), connect.NewRequest(&ledgerv1.FindCasesRequest{Bsn: anna}))
		if err != nil || len(r.Msg.GetCases()) != 1 {
			t.Fatalf("Anna's cases: %v, %v", r, err)
		}
		g, err := c.GetCase(context.Background(), connect.NewRequest(&ledgerv1.GetCaseRequest{CaseId: r.Msg.GetCases()[0].GetCaseId()}))
		if err != nil {
			t.Fatal(err)
		}
		return g.Msg
	}
	if a := annaCase(); a.GetTimeline()[0].GetPersoonsgegevens() != "ontsleuteld" || a.GetCase().GetBewaarresultaat() != "verstrekt-en-beeindigd" ||
		a.GetCase().GetArchiefactiedatum().GetYear() != 2025 || a.GetCase().GetArchiefactiedatum().GetMonth() != 6 {
		t.Fatalf("before the run: %v, %v", a.GetTimeline()[0].GetPersoonsgegevens(), a.GetCase())
	}

	first := run()
	want(first, anna, "vergeten")
	want(first, bram, "bewaard: termijn loopt")
	want(first, cas, "bewaard: open zaak")
	if a := annaCase(); a.GetTimeline()[0].GetPersoonsgegevens() != "vergeten" || !a.GetKetenIntact() {
		t.Fatalf("after the run Anna's aanmelding: %q, chain %v", a.GetTimeline()[0].GetPersoonsgegevens(), a.GetKetenIntact())
	}
	want(run(), anna, "al vergeten")
}
