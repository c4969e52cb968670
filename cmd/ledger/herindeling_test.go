package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/bus"
	"github.com/gooi-vechtstreek/ledger/services/clock"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestHerindelingWijdemeren carries Wijdemeren into Hilversum on 1 January
// 2027 with the real server and the deploy data file: cases open on both
// sides of the date, their costs by day at each gemeente's tariff, both
// views, the 2027 verdeelsleutel, a refused Wijdemeren aanmelding on
// 2 January, the archive on the broker, and live equal to replay.
func TestHerindelingWijdemeren(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	data := t.TempDir()
	addr := startServer(t, data, clk)
	api := apiClient(t, addr, time.Minute)

	mustCLI(t, addr, "policy", "set", "--gemeente", "GM1696", "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=12000", "--product", "jobcoaching=85")
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=12500", "--product", "begeleiding=70")

	clk.Set(2026, time.June, 1)
	mustCLI(t, addr, "regio", "verdeelsleutel", "--jaar", "2027", "--methode", "inwoners")
	// Placed across the date; in traject across the date; closed before.
	placed := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM1696", "--doelgroep", "beschut-werk", "--verwijzer", "werkcentrum", "--client-id", "W-1", "--datum", "2026-06-01")
	mustCLI(t, addr, "case", "intake", placed, "--trede", "beschut", "--loonwaarde", "30", "--datum", "2026-06-01")
	mustCLI(t, addr, "case", "plaatsen", placed, "--type", "beschut-werk", "--datum", "2026-06-01")
	traject := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM1696", "--doelgroep", "bijstand", "--verwijzer", "werkcentrum", "--client-id", "W-2", "--datum", "2026-06-01")
	mustCLI(t, addr, "case", "intake", traject, "--trede", "ontwikkelbaar", "--loonwaarde", "50", "--datum", "2026-06-01")
	closed := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM1696", "--doelgroep", "bijstand", "--verwijzer", "werkcentrum", "--client-id", "W-3", "--datum", "2026-06-01")
	mustCLI(t, addr, "case", "uitstroom", closed, "--reden", "regulier-werk", "--datum", "2026-06-01")

	clk.Set(2027, time.January, 2)
	code, _, errs := cli(t, addr, "case", "aanmelden", "--gemeente", "GM1696", "--doelgroep", "bijstand", "--verwijzer", "werkcentrum", "--client-id", "W-4", "--datum", "2027-01-02")
	if code != exitFailed || !strings.Contains(errs, "gemeente.herindeling") || !strings.Contains(errs, "GM0402") {
		t.Errorf("aanmelding for Wijdemeren on 2 January: exit %d %q, want the herindeling rule naming Hilversum", code, errs)
	}
	// Hours over January on a carried case: Hilversum's, at its policy.
	mustCLI(t, addr, "case", "uren", placed, "--product", "begeleiding", "--van", "2027-01-01", "--tot", "2027-01-02", "--uren", "2")
	code, _, errs = cli(t, addr, "case", "uren", placed, "--product", "jobcoaching", "--van", "2027-01-01", "--tot", "2027-01-02", "--uren", "2")
	if code != exitFailed || !strings.Contains(errs, "GM0402") {
		t.Errorf("hours of a product Hilversum does not buy: exit %d %q", code, errs)
	}
	clk.Set(2027, time.February, 1)
	mustCLI(t, addr, "case", "uitstroom", traject, "--reden", "regulier-werk", "--datum", "2027-01-20")
	mustCLI(t, addr, "regio", "kosten", "--van", "2027-01-01", "--tot", "2027-01-31", "--bedrag", "1000", "--budgetstroom", "participatiebudget", "--omschrijving", "overhead januari")

	// Both beleidsviews, once the model has everything.
	var w26, h27 *ledgerv1.Beleidsview
	eventually(t, "the beleidsviews", func() bool {
		w26, h27 = getView(t, api, "GM1696", 2026, false), getView(t, api, "GM0402", 2027, false)
		return len(costLines(t, api, "GM0402", 2027)) >= 3 && h27.GetTotaal().GetUitstroom() == 1
	})
	tellingen := func(ts []*ledgerv1.Telling) map[string]int64 {
		out := map[string]int64{}
		for _, c := range ts {
			out[c.GetSleutel()] = c.GetAantal()
		}
		return out
	}
	if got := tellingen(w26.GetTotaal().GetUitstroomPerReden()); got["herindeling"] != 2 || got["regulier-werk"] != 1 {
		t.Errorf("Wijdemeren 2026 uitstroom %v, want 2 herindeling and 1 regulier-werk", got)
	}
	if got := tellingen(h27.GetTotaal().GetInstroomPerReden()); got["herindeling"] != 2 {
		t.Errorf("Hilversum 2027 instroom %v, want 2 herindeling", got)
	}
	if got := h27.GetPerMaand()[0]; got.GetCaseload() != 1 || tellingen(got.GetUitstroomPerReden())["regulier-werk"] != 1 {
		t.Errorf("Hilversum January 2027: caseload %d, uitstroom %v; want the placed case and the traject's uitstroom", got.GetCaseload(), got.GetUitstroomPerReden())
	}
	if len(w26.GetHerindelingen()) != 1 || len(h27.GetHerindelingen()) != 1 || !strings.Contains(h27.GetHerindelingen()[0].GetToelichting(), "Archiefwet") {
		t.Errorf("the views do not say so: %v / %v", w26.GetHerindelingen(), h27.GetHerindelingen())
	}

	// Costs by day: December at Wijdemeren's 12,000 a year, January at
	// Hilversum's 12,500; hours at Hilversum's tariff; the shared costs of
	// 2027 by 2027 inhabitants, Hilversum with Wijdemeren's, Wijdemeren
	// with none.
	has := func(lines []string, parts ...string) bool {
		return slices.ContainsFunc(lines, func(l string) bool {
			for _, p := range parts {
				if !strings.Contains(l, p) {
					return false
				}
			}
			return true
		})
	}
	w := costLines(t, api, "GM1696", 2026)
	if !has(w, "plaatsing GM1696 2026-12 beschut-werk", "2026-12-01 2026-12-31 31 0 1200000 101918") {
		t.Errorf("Wijdemeren December 2026:\n%s", strings.Join(w, "\n"))
	}
	h := costLines(t, api, "GM0402", 2027)
	if !has(h, "plaatsing GM0402 2027-01 beschut-werk", "2027-01-01 2027-01-31 31 0 1250000 106164") {
		t.Errorf("Hilversum January 2027, the carried placement:\n%s", strings.Join(h, "\n"))
	}
	if !has(h, "uren GM0402 2027-01 begeleiding", " 0 120 7000 14000") {
		t.Errorf("Hilversum's hours on the carried case:\n%s", strings.Join(h, "\n"))
	}
	if !has(h, "gedeeld GM0402 2027-01", " 118300 486750") {
		t.Errorf("Hilversum's share of the 2027 shared costs:\n%s", strings.Join(h, "\n"))
	}
	if w27 := costLines(t, api, "GM1696", 2027); len(w27) != 0 {
		t.Errorf("Wijdemeren has cost lines in 2027:\n%s", strings.Join(w27, "\n"))
	}

	// The caseload views: Hilversum carries both from January, and the
	// traject flowed out under Hilversum; Wijdemeren has none open.
	flows := func(v *ledgerv1.CaseloadView, maand string) (in, uit map[string]int64) {
		in, uit = map[string]int64{}, map[string]int64{}
		for _, m := range v.GetPerMaand() {
			if m.GetMaand() == maand {
				for _, r := range m.GetInstroomPerReden() {
					in[r.GetReden()] = r.GetAantal()
				}
				for _, r := range m.GetUitstroomPerReden() {
					uit[r.GetReden()] = r.GetAantal()
				}
			}
		}
		return in, uit
	}
	// The live views are applied behind the store and pass through states
	// that look settled (one case carried, none flowed out yet: actief 1),
	// so wait for the whole expected picture, not one count of it.
	var hil, wij *ledgerv1.CaseloadView
	settled := func() bool {
		hil, wij = getCaseload(t, api, "GM0402", false), getCaseload(t, api, "GM1696", false)
		in, uit := flows(hil, "2027-01")
		_, wuit := flows(wij, "2026-12")
		return hil.GetActief() == 1 && wij.GetActief() == 0 &&
			in["herindeling"] == 2 && uit["regulier-werk"] == 1 && wuit["herindeling"] == 2
	}
	eventually(t, "the caseload views", settled)
	if in, uit := flows(hil, "2027-01"); in["herindeling"] != 2 || uit["regulier-werk"] != 1 {
		t.Errorf("Hilversum's caseload in January 2027: in %v, uit %v", in, uit)
	}
	if _, uit := flows(wij, "2026-12"); uit["herindeling"] != 2 {
		t.Errorf("Wijdemeren's caseload in December 2026: uit %v", uit)
	}
	if len(hil.GetHerindelingen()) != 1 || hil.GetHerindelingen()[0].GetVan() != "GM1696" {
		t.Errorf("Hilversum's caseload does not say it keeps Wijdemeren's history: %v", hil.GetHerindelingen())
	}

	// Live equals replay, for every view involved.
	for _, gm := range []string{"GM0402", "GM1696"} {
		live, replay := getCaseload(t, api, gm, false), getCaseload(t, api, gm, true)
		live.Bron, replay.Bron = "", ""
		if !proto.Equal(live, replay) {
			t.Errorf("%s caseload: live %v\nreplay %v", gm, live, replay)
		}
		// The regional model behind the beleidsview is fed apart from the
		// caseload view, so it may still be a few events behind the store.
		for _, year := range []int{2026, 2027} {
			var a, b *ledgerv1.Beleidsview
			eventually(t, fmt.Sprintf("live beleidsview %s %d at the store's position", gm, year), func() bool {
				a, b = getView(t, api, gm, year, false), getView(t, api, gm, year, true)
				return a.GetBijgewerktTot() == b.GetBijgewerktTot()
			})
			a.Bron, b.Bron = "", ""
			if !proto.Equal(a, b) {
				t.Errorf("%s %d beleidsview: live and replay differ", gm, year)
			}
		}
	}

	// The auditor's comparison of views composed over the herindeling,
	// right after a write: Hilversum's view is made of both streams.
	mustCLI(t, addr, "case", "uren", placed, "--product", "begeleiding", "--van", "2027-01-03", "--tot", "2027-01-04", "--uren", "1")
	for _, gm := range []string{"GM0402", "GM1696"} {
		code, out, errs := auditCLI(t, addr, "auditor", "audit", "vergelijk", "--gemeente", gm, "--jaar", "2027", "--gemeenten", "../../deploy/gemeenten.json")
		if code != exitOK || !strings.Contains(out, "gelijk     caseload") {
			t.Errorf("audit vergelijk %s: exit %d\n%s\n%s", gm, code, out, errs)
		}
	}

	// The case itself says who carries it, though nothing but hours was
	// recorded on it since.
	cr, err := api.GetCase(context.Background(), connect.NewRequest(&ledgerv1.GetCaseRequest{CaseId: placed}))
	if err != nil {
		t.Fatal(err)
	}
	if g := cr.Msg.GetCase().GetGemeente(); g != "GM0402" {
		t.Errorf("the carried case shows %s", g)
	}

	// The broker: a server that starts on or after the day gives
	// Hilversum's own user Wijdemeren's bus stream; before it, not.
	for _, tc := range []struct {
		day  *clock.Manual
		want bool
	}{{clock.NewManual(2026, time.December, 31), false}, {clock.NewManual(2027, time.January, 1), true}} {
		data := t.TempDir()
		_, start := startServerLine(t, data, tc.day, func(c *serveConfig) { c.natsAddr = "127.0.0.1:0" })
		pw, err := os.ReadFile(filepath.Join(data, "keys", "nats-GM0402.pass"))
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(start, "nats://")
		if i < 0 {
			t.Fatalf("no NATS address in %q", start)
		}
		nc, err := nats.Connect(strings.TrimRight(strings.Fields(start[i:])[0], "),"), broker.GemeenteOptions(broker.User{Name: "GM0402", Password: strings.TrimSpace(string(pw))})...)
		if err != nil {
			t.Fatal(err)
		}
		reaches := false
		_, err = nc.Request(broker.APIPrefix+".CONSUMER.CREATE."+bus.StreamName("GM1696"), []byte(`{}`), 2*time.Second)
		switch {
		case err == nil:
			reaches = true
		case !errors.Is(err, nats.ErrNoResponders):
			t.Fatal(err)
		}
		nc.Close()
		if reaches != tc.want {
			t.Errorf("server started on %s: Hilversum reaches Wijdemeren's stream: %v, want %v", tc.day.Clock().Today(), reaches, tc.want)
		}
	}
}

func getCaseload(t *testing.T, c ledgerv1connect.LedgerServiceClient, gm string, replay bool) *ledgerv1.CaseloadView {
	t.Helper()
	r, err := c.GetView(context.Background(), connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: gm, Replay: replay}))
	if err != nil {
		t.Fatalf("caseload %s: %v", gm, err)
	}
	return r.Msg.GetView()
}
