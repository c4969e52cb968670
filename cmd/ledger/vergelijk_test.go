package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestAuditVergelijk: on a ledger with placements, a verhuizing and an
// uitval, every projection of every gemeente equals its rebuild from the
// store, at one position; a gemeente may not run the comparison.
func TestAuditVergelijk(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=12000")
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM1942", "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=11000")
	a := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-vergelijk-a", "--datum", "2026-02-02")
	mustCLI(t, addr, "case", "intake", a, "--trede", "beschut", "--loonwaarde", "30", "--datum", "2026-02-03")
	mustCLI(t, addr, "case", "plaatsen", a, "--type", "beschut-werk", "--werkgever", "Tomin", "--uren", "28", "--datum", "2026-02-09")
	b := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-vergelijk-b", "--datum", "2026-02-10")
	mustCLI(t, addr, "case", "intake", b, "--trede", "beschut", "--loonwaarde", "40", "--datum", "2026-02-11")
	mustCLI(t, addr, "case", "verhuizen", b, "--naar", "GM1942", "--datum", "2026-02-20")
	mustCLI(t, addr, "case", "uitval", a, "--reden", "ziekte", "--datum", "2026-02-25")

	code, out, errs := auditCLI(t, addr, "auditor", "audit", "vergelijk", "--jaar", "2026", "--json", "--gemeenten", "../../deploy/gemeenten.json")
	if code != exitOK {
		t.Fatalf("audit vergelijk: exit %d: %s%s", code, out, errs)
	}
	var got []vergelijking
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	seen := map[string]bool{}
	for _, v := range got {
		if !v.Gelijk || len(v.Verschillen) > 0 {
			t.Errorf("%s %s: live differs from its rebuild: %v", v.Projectie, v.Gemeente, v.Verschillen)
		}
		if (v.Positie == "" && (v.Projectie != "caseload" || v.Gemeente == "GM0402" || v.Gemeente == "GM1942")) || v.Fout != "" {
			t.Errorf("%s %s: compared at no position", v.Projectie, v.Gemeente)
		}
		seen[v.Projectie+" "+v.Gemeente] = true
	}
	for _, want := range []string{"caseload GM0402", "caseload GM1942", "beleidsview GM0402", "beleidsview GM1942", "kosten GM0402", "kosten GM1942", "kosten GM0406"} {
		if !seen[want] {
			t.Errorf("%s not compared; compared %v", want, seen)
		}
	}

	// Without --jaar: the server's year, for the cost export too.
	code, out, errs = auditCLI(t, addr, "auditor", "audit", "vergelijk", "--gemeente", "GM1942", "--gemeenten", "../../deploy/gemeenten.json")
	if code != exitOK || strings.Count(out, "gelijk ") != 3 || strings.Contains(out, "GM0402") {
		t.Errorf("one gemeente: exit %d, want its three projections equal:\n%s%s", code, out, errs)
	}
	// While the ledger moves: klantmanagers record as the auditor compares.
	// Every live figure is compared with the rebuild up to its own
	// position, so nothing differs and nothing is refused.
	writer := clientAs(t, addr, "centrum") // here: it may fail the test
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 12 {
			// Through the API, not the CLI helpers: those set the
			// environment and fail the test, both the test goroutine's.
			r, err := writer.Record(context.Background(), connect.NewRequest(&ledgerv1.RecordRequest{
				Gemeente: []string{"GM0402", "GM1942"}[i%2], Datum: event.YMD(2026, 2, 26),
				Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
					ResidentId: fmt.Sprintf("R-beweegt-%d", i), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}))
			if err == nil {
				_, err = writer.Record(context.Background(), connect.NewRequest(&ledgerv1.RecordRequest{
					CaseId: r.Msg.GetCaseId(), Datum: event.YMD(2026, 2, 27),
					Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_ONTWIKKELBAAR}}}))
			}
			if err != nil {
				t.Errorf("recording while comparing: %v", err)
				return
			}
		}
	}()
	code, out, errs = auditCLI(t, addr, "auditor", "audit", "vergelijk", "--jaar", "2026", "--gemeenten", "../../deploy/gemeenten.json")
	<-done
	if code != exitOK || strings.Contains(out, "VERSCHIL") || strings.Contains(out, "FOUT") {
		t.Errorf("comparing while the ledger moves: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := auditCLI(t, addr, "GM0402", "audit", "vergelijk", "--gemeente", "GM1942", "--gemeenten", "../../deploy/gemeenten.json"); code == exitOK || !strings.Contains(errs, "toegang") {
		t.Errorf("a gemeente compared another's projections: exit %d: %s", code, errs)
	}
}

// TestProtoDiff: every kind of field that can differ is named by its path
// with both values; the fields skipped do not count.
func TestProtoDiff(t *testing.T) {
	base := func() *ledgerv1.CaseloadView {
		return &ledgerv1.CaseloadView{Gemeente: "GM0402", Actief: 3, Bron: "live",
			PerMaand: []*ledgerv1.MaandStroom{{Maand: "2026-01", Instroom: 2}, {Maand: "2026-02", Instroom: 1}}}
	}
	cases := []struct {
		name   string
		change func(v *ledgerv1.CaseloadView)
		want   []string
	}{
		{"equal", func(*ledgerv1.CaseloadView) {}, nil},
		{"skipped field only", func(v *ledgerv1.CaseloadView) { v.Bron = "replay" }, nil},
		{"scalar", func(v *ledgerv1.CaseloadView) { v.Actief = 4 }, []string{"actief: live 3, herbouwd 4"}},
		{"in a list", func(v *ledgerv1.CaseloadView) { v.PerMaand[1].Instroom = 5 }, []string{"per_maand[1].instroom: live 1, herbouwd 5"}},
		{"list shorter", func(v *ledgerv1.CaseloadView) { v.PerMaand = v.PerMaand[:1] }, []string{"per_maand[1]: alleen live"}},
		{"list longer", func(v *ledgerv1.CaseloadView) {
			v.PerMaand = append(v.PerMaand, &ledgerv1.MaandStroom{Maand: "2026-03"})
		}, []string{"per_maand[2]: alleen in de herbouw"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			replay := proto.Clone(base()).(*ledgerv1.CaseloadView)
			c.change(replay)
			got := protoDiff(base(), replay, map[string]bool{"bron": true})
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	many := base()
	for i := range 30 {
		many.PerMaand = append(many.PerMaand, &ledgerv1.MaandStroom{Instroom: int64(i)})
	}
	if got := protoDiff(base(), many, nil); len(got) != maxVerschillen+1 || !strings.Contains(got[maxVerschillen], "nog") {
		t.Errorf("30 differences reported as %d lines, want %d and a count of the rest", len(got), maxVerschillen+1)
	}
}

// TestCaseloadCertificate: the live caseload view says the store position
// of its last event; the auditor's own replay up to there makes the same
// view, also after other gemeenten's events came in behind it.
func TestCaseloadCertificate(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	a := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM1942", "--doelgroep", "bijstand", "--verwijzer", "uwv", "--client-id", "R-cert-a", "--datum", "2026-02-02")
	mustCLI(t, addr, "case", "intake", a, "--trede", "ontwikkelbaar", "--loonwaarde", "30", "--datum", "2026-02-03")
	b := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "wsw", "--terugkeergarantie", "--wsw-indicatie-sinds", "2012-05-01", "--verwijzer", "uwv", "--client-id", "R-cert-b", "--datum", "2026-02-04")
	mustCLI(t, addr, "case", "verhuizen", b, "--naar", "GM1942", "--datum", "2026-02-20")
	// Behind it, events GM1942 does not receive.
	c := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "uwv", "--verwijzer", "uwv", "--client-id", "R-cert-c", "--datum", "2026-02-21")
	mustCLI(t, addr, "case", "intake", c, "--trede", "beschut", "--datum", "2026-02-22")

	type viewResp struct {
		View        map[string]any `json:"view"`
		Certificaat map[string]any `json:"certificaat"`
	}
	var live viewResp
	eventually(t, "GM1942's view of its three events", func() bool {
		if err := json.Unmarshal([]byte(mustCLI(t, addr, "view", "GM1942", "--caseload", "--json")), &live); err != nil {
			t.Fatal(err)
		}
		return live.View["verwerkt"] == "3"
	})
	at, _ := live.Certificaat["positie"].(string)
	if at == "" || at != live.View["bijgewerkt_tot"] || live.Certificaat["peildatum"] == nil {
		t.Fatalf("live certificate %v, view bijgewerkt_tot %v", live.Certificaat, live.View["bijgewerkt_tot"])
	}
	// The verhuizing is GM1942's last event: the store holds two more.
	var head viewResp
	if err := json.Unmarshal([]byte(mustCLI(t, addr, "view", "GM0402", "--caseload", "--json")), &head); err != nil {
		t.Fatal(err)
	}
	if head.View["bijgewerkt_tot"] == at {
		t.Fatalf("GM0402's last event is at %v too; the scenario should put it later", at)
	}
	code, out, errs := auditCLI(t, addr, "auditor", "audit", "replay", "--caseload", "--gemeente", "GM1942", "--tot", at, "--peildatum", "2026-03-02", "--json", "--gemeenten", "../../deploy/gemeenten.json")
	if code != exitOK {
		t.Fatalf("audit replay --caseload: exit %d: %s", code, errs)
	}
	var replayed viewResp
	if err := json.Unmarshal([]byte(out), &replayed); err != nil {
		t.Fatal(err)
	}
	delete(live.View, "bron")
	delete(replayed.View, "bron")
	lb, _ := json.Marshal(live.View)
	rb, _ := json.Marshal(replayed.View)
	if string(lb) != string(rb) {
		t.Errorf("live view at %s:\n%s\nreplayed up to there:\n%s", at, lb, rb)
	}
	if replayed.Certificaat["positie"] != at || replayed.Certificaat["digest"] == nil || replayed.Certificaat["gebeurtenissen"] != "4" {
		t.Errorf("replay certificate %v, want the four stored events up to %s with their digest", replayed.Certificaat, at)
	}
	if out := mustCLI(t, addr, "view", "GM1942", "--caseload"); !strings.Contains(out, "Certificaat: de opslag tot en met positie "+at) {
		t.Errorf("the caseload view does not say what it is of:\n%s", out)
	}
}
