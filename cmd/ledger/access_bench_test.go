package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/gooi-vechtstreek/ledger/services/clock"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

// BenchmarkAccessCost measures what authentication, encryption and the
// logboek cost a command: two servers side by side in one run, one as in
// production (a bearer token on every call, personal data and free text
// encrypted, each processing logged) and one without them, fed the same
// journeys in turns so that the machine's noise hits both alike. Every
// command carries free text; the aanmelding also a BSN and a name on the
// production server (the other can not store them at all). Reported: time
// per command on each, and the ratio (target: under 1.10).
func BenchmarkAccessCost(b *testing.B) {
	clk := clock.NewManual(2026, time.March, 2)
	type side struct {
		c       ledgerv1connect.LedgerServiceClient
		bsn     bool
		elapsed time.Duration
		cmds    int
	}
	start := func(open bool) *side {
		addr, _, stop := launchServer(b, b.TempDir(), clk, func(c *serveConfig) { c.benchNoAccess = open })
		b.Cleanup(stop)
		s := &side{bsn: !open}
		if open {
			s.c = ledgerv1connect.NewLedgerServiceClient(&http.Client{Timeout: time.Minute}, "http://"+addr)
		} else {
			s.c = apiClient(b, addr, time.Minute)
		}
		return s
	}
	with, without := start(false), start(true)
	// Policies first, as each gemeente (with) or anyone (without).
	beleid := &ledgerv1.RecordBeleidRequest{Gemeente: "GM0402", Beleid: &ledgerv1.Beleid{GeldigVanaf: &ledgerv1.Date{Year: 2026, Month: 3, Day: 2},
		Producten: []*ledgerv1.ProductTarief{{Product: "beschut-werk", CentPerJaar: 12_000_00}}}}
	for _, s := range []*side{with, without} {
		if _, err := s.c.RecordBeleid(context.Background(), connect.NewRequest(beleid)); err != nil {
			b.Fatal(err)
		}
	}
	journey := func(s *side, i int) {
		ctx := context.Background()
		t0 := time.Now()
		req := &ledgerv1.RecordRequest{Gemeente: "GM0402", Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
			ResidentId: fmt.Sprintf("R-bench-%d", i), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}
		if s.bsn {
			req.Transition.(*ledgerv1.RecordRequest_Aanmelding).Aanmelding.ResidentId = ""
			req.Bsn, req.Naam = elfproef(100_000_000+i), "Voornaam Achternaam"
		}
		r, err := s.c.Record(ctx, connect.NewRequest(req))
		if err != nil {
			b.Fatal(err)
		}
		id := r.Msg.GetCaseId()
		for _, step := range []*ledgerv1.RecordRequest{
			{CaseId: id, Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_BESCHUT, LoonwaardeProcent: 30, Doel: "werken in de groenvoorziening, vier dagen per week"}}},
			{CaseId: id, Transition: &ledgerv1.RecordRequest_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, Werkgever: "Tomin"}}},
			{CaseId: id, Transition: &ledgerv1.RecordRequest_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE, Toelichting: "langdurig ziek, terugkeer onzeker"}}},
			{CaseId: id, Transition: &ledgerv1.RecordRequest_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG, Toelichting: "verhuist buiten de regio"}}},
		} {
			if _, err := s.c.Record(ctx, connect.NewRequest(step)); err != nil {
				b.Fatal(err)
			}
		}
		s.elapsed += time.Since(t0)
		s.cmds += 5
	}
	b.ResetTimer()
	for i := range b.N {
		// In turns, the order swapped every journey.
		if i%2 == 0 {
			journey(with, i)
			journey(without, i)
		} else {
			journey(without, i)
			journey(with, i)
		}
	}
	b.StopTimer()
	per := func(s *side) float64 { return float64(s.elapsed.Microseconds()) / float64(s.cmds) }
	b.ReportMetric(per(with), "µs/cmd-met")
	b.ReportMetric(per(without), "µs/cmd-zonder")
	b.ReportMetric(per(with)/per(without), "ratio")
}

// elfproef returns a nine-digit number near n that passes the BSN check.
func elfproef(n int) string {
	for ; ; n++ {
		s := fmt.Sprintf("%09d", n)
		sum := 0
		for i := range 8 {
			sum += (9 - i) * int(s[i]-'0')
		}
		if (sum-int(s[8]-'0'))%11 == 0 {
			return s
		}
	}
}
