package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/api"
	"github.com/gooi-vechtstreek/ledger/services/clock"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var (
	rapportageID = regexp.MustCompile(`vastgelegd als rapportage ([0-9a-f-]{36}) \(sha256 ([0-9a-f]{64})\)`)
	recordedID   = regexp.MustCompile(`, event ([0-9a-f-]{36})\n`)
)

// deliver runs `ledger export costs --aanleveren` of 2026 and returns the
// CSV and the rapportage id, after checking that the digest it names is
// the digest of what it wrote; with export, that export instead.
func deliver(t *testing.T, addr, gm string, export ...string) (csv, id string) {
	t.Helper()
	if export == nil {
		export = []string{"costs", "--year", "2026"}
	}
	args := append(append([]string{"export"}, export...), "--gemeente", gm, "--aanleveren")
	code, out, errs := cli(t, addr, args...)
	if code != exitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	m := rapportageID.FindStringSubmatch(errs)
	if m == nil {
		t.Fatalf("export costs --aanleveren names no rapportage:\n%s", errs)
	}
	if sum := sha256.Sum256([]byte(out)); hex.EncodeToString(sum[:]) != m[2] {
		t.Fatalf("the recorded sha256 %s is not the sha256 of the file written, %x", m[2], sum)
	}
	if !strings.Contains(errs, "ledger audit verschil "+m[1]) {
		t.Errorf("no hint how to compare the report later:\n%s", errs)
	}
	return out, m[1]
}

func listRapportages(t *testing.T, addr, who string, args ...string) []rapportageJSON {
	t.Helper()
	code, out, errs := auditCLI(t, addr, who, append([]string{"audit", "rapportages", "--json"}, args...)...)
	if code != exitOK {
		t.Fatalf("audit rapportages %v as %s: exit %d: %s", args, who, code, errs)
	}
	var list []rapportageJSON
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("audit rapportages --json: %v: %s", err, out)
	}
	return list
}

func verschil(t *testing.T, addr string, id string) verschilJSON {
	t.Helper()
	code, out, errs := auditCLI(t, addr, "auditor", "audit", "verschil", id, "--json", "--gemeenten", "../../deploy/gemeenten.json", "--srg", "../../deploy/srg.json")
	if code != exitOK {
		t.Fatalf("audit verschil %s: exit %d: %s", id, code, errs)
	}
	var v verschilJSON
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("audit verschil --json: %v: %s", err, out)
	}
	return v
}

// TestRapportageVerschil: a cost export delivered with --aanleveren is
// recorded with its digest; the auditor and the gemeente itself list it,
// another gemeente does not; made again right after, it has no
// difference; after an uitval recorded late, dated in a month already
// reported, the comparison names exactly the lines that changed and by
// how much; and a report that this history cannot produce is a finding.
func TestRapportageVerschil(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	for _, gm := range []string{"GM0402", "GM1942"} {
		mustCLI(t, addr, "policy", "set", "--gemeente", gm, "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=12000")
	}
	cases := map[string]string{}
	for _, gm := range []string{"GM0402", "GM1942"} {
		id := mustCLI(t, addr, "case", "aanmelden", "--gemeente", gm, "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-rap-"+gm, "--datum", "2026-01-05")
		mustCLI(t, addr, "case", "intake", id, "--trede", "beschut", "--loonwaarde", "30", "--datum", "2026-01-06")
		mustCLI(t, addr, "case", "plaatsen", id, "--type", "beschut-werk", "--werkgever", "Tomin", "--uren", "28", "--datum", "2026-01-12")
		cases[gm] = id
	}
	clk.Set(2026, time.April, 1)
	csv, hilversum := deliver(t, addr, "GM0402")
	_, gooiseMeren := deliver(t, addr, "GM1942")
	srgCSV, srg := deliver(t, addr, "GM0402", "srg", "--half", "2026H1")
	if !strings.Contains(srgCSV, "22;Beschut werk (art. 10b Participatiewet);1;0;1") {
		t.Fatalf("the delivered SRG count:\n%s", srgCSV)
	}
	// The file delivered is the export as it is without --aanleveren.
	if plain := mustCLI(t, addr, "export", "costs", "--gemeente", "GM0402", "--year", "2026"); plain != strings.TrimSpace(csv) {
		t.Fatalf("the delivered file differs from the export:\n%s\nwant\n%s", csv, plain)
	}
	// Jan, Feb, Mar and 1 April of one placement.
	if lines := strings.Count(csv, "\n") - 1; lines != 4 {
		t.Fatalf("the delivered export has %d lines, want 4:\n%s", lines, csv)
	}

	t.Run("list", func(t *testing.T) {
		all := listRapportages(t, addr, "auditor")
		if len(all) != 3 {
			t.Fatalf("the auditor lists %d reports, want 3: %+v", len(all), all)
		}
		if s := all[2]; s.Rapportage != srg || s.Soort != api.RapportageSRG || s.Jaar != 2026 || s.Half != 1 || s.Gemeente != "GM0402" {
			t.Errorf("the listed SRG count: %+v", s)
		}
		r := all[0]
		sum := sha256.Sum256([]byte(csv))
		if r.Rapportage != hilversum || r.Gemeente != "GM0402" || r.Soort != api.RapportageKosten || r.Jaar != 2026 || r.Peildatum != "2026-04-01" ||
			r.Regels != 4 || r.SHA256 != hex.EncodeToString(sum[:]) || !strings.HasPrefix(r.AangeleverdOp, "2026-04-01T") || r.Positie == "" || r.VastgelegdOp == "" {
			t.Errorf("the listed report: %+v", r)
		}
		for _, tc := range []struct {
			who  string
			args []string
			want []string // rapportage ids; nil with refused
			code int
		}{
			{"auditor", nil, []string{hilversum, gooiseMeren, srg}, exitOK},
			{"auditor", []string{"--gemeente", "GM1942"}, []string{gooiseMeren}, exitOK},
			{"centrum", nil, []string{hilversum, gooiseMeren, srg}, exitOK},
			{"GM0402", nil, []string{hilversum, srg}, exitOK},
			{"GM0402", []string{"--gemeente", "GM0402"}, []string{hilversum, srg}, exitOK},
			{"GM1942", nil, []string{gooiseMeren}, exitOK},
			{"GM0406", nil, []string{}, exitOK},
			{"GM0402", []string{"--gemeente", "GM1942"}, nil, exitFailed},
		} {
			code, out, errs := auditCLI(t, addr, tc.who, append([]string{"audit", "rapportages", "--json"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("%s %v: exit %d, want %d: %s", tc.who, tc.args, code, tc.code, errs)
				continue
			}
			if tc.want == nil {
				if !strings.Contains(errs, "toegang.eigen-gemeente") || strings.Contains(out, hilversum) || strings.Contains(out, gooiseMeren) {
					t.Errorf("%s %v: refused without the rule, or with reports: %s %s", tc.who, tc.args, out, errs)
				}
				continue
			}
			var list []rapportageJSON
			if err := json.Unmarshal([]byte(out), &list); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range list {
				ids = append(ids, r.Rapportage)
			}
			if !slices.Equal(ids, tc.want) && (len(ids) > 0 || len(tc.want) > 0) {
				t.Errorf("%s %v lists %v, want %v", tc.who, tc.args, ids, tc.want)
			}
		}
		// The table names what an auditor needs to find the report.
		code, out, errs := auditCLI(t, addr, "auditor", "audit", "rapportages", "--gemeente", "GM0402")
		if code != exitOK {
			t.Fatal(errs)
		}
		for _, want := range []string{"RAPPORTAGE", "PERIODE", "2026H1", "AANGELEVERD OP", "PEILDATUM", "SHA256", hilversum, r.SHA256, "2026-04-01", r.Positie} {
			if !strings.Contains(out, want) {
				t.Errorf("the table lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, gooiseMeren) || strings.Contains(out, "R-rap-") {
			t.Errorf("the table of GM0402 shows another gemeente's report or a client id:\n%s", out)
		}
	})

	t.Run("no difference right after", func(t *testing.T) {
		v := verschil(t, addr, hilversum)
		if !v.Reproduceerbaar || len(v.Verschillen) != 0 || v.VerschilCent != 0 || v.AangeleverdCent != v.VandaagCent || v.AangeleverdRegels != 4 {
			t.Errorf("right after delivery: %+v", v)
		}
		code, out, errs := auditCLI(t, addr, "auditor", "audit", "verschil", hilversum, "--gemeenten", "../../deploy/gemeenten.json")
		if code != exitOK || !strings.Contains(out, "Geen verschil") || !strings.Contains(out, "dezelfde sha256") {
			t.Errorf("exit %d:\n%s%s", code, out, errs)
		}
	})

	// A month later an uitval is recorded that happened on 15 February,
	// inside the months already reported.
	clk.Set(2026, time.May, 4)
	code, _, errs := cli(t, addr, "case", "uitval", cases["GM0402"], "--reden", "ziekte", "--datum", "2026-02-15")
	if code != exitOK {
		t.Fatal(errs)
	}
	uitval := recordedID.FindStringSubmatch(errs)[1]

	t.Run("late uitval", func(t *testing.T) {
		v := verschil(t, addr, hilversum)
		if !v.Reproduceerbaar {
			t.Fatalf("the report is no longer reproducible after a later event: %+v", v)
		}
		// € 12.000 a year over 365 days, per month: January unchanged;
		// February 28 → 14 days (the placement ends on the day of the
		// uitval: the 15th is no longer charged); March and 1 April gone.
		type want struct {
			wat, maand string
			was, nu    int64
		}
		got := []want{}
		for _, d := range v.Verschillen {
			if d.Sleutel.Plaatsing == "" || d.Sleutel.Zaak != cases["GM0402"] || d.Sleutel.Soort != "plaatsing" || d.Sleutel.Gemeente != "GM0402" {
				t.Errorf("a difference of another line: %+v", d)
			}
			if d.VerschilCent != d.NuCent-d.WasCent {
				t.Errorf("%+v: difference is not nu − was", d)
			}
			got = append(got, want{d.Wat, d.Sleutel.Maand, d.WasCent, d.NuCent})
		}
		feb := days(t, 14)
		expect := []want{
			{diffChanged, "2026-02", days(t, 28), feb},
			{diffRemoved, "2026-03", days(t, 31), 0},
			{diffRemoved, "2026-04", days(t, 1), 0},
		}
		if !slices.Equal(got, expect) {
			t.Fatalf("differences %+v, want %+v", got, expect)
		}
		total := feb - days(t, 28) - days(t, 31) - days(t, 1)
		if v.VerschilCent != total || v.VandaagCent-v.AangeleverdCent != total || v.VandaagRegels != 2 || v.AangeleverdRegels != 4 {
			t.Errorf("total difference %d (%d → %d, %d → %d lines), want %d", v.VerschilCent, v.AangeleverdCent, v.VandaagCent, v.AangeleverdRegels, v.VandaagRegels, total)
		}
		cols := map[string]columnChange{}
		for _, c := range v.Verschillen[0].Kolommen {
			cols[c.Kolom] = c
		}
		if cols["dagen"] != (columnChange{"dagen", "28", "14"}) || cols["tot_en_met"] != (columnChange{"tot_en_met", "2026-02-28", "2026-02-14"}) ||
			!strings.Contains(cols["events"].Nu, uitval) || strings.Contains(cols["events"].Was, uitval) {
			t.Errorf("the changed columns of February: %+v", v.Verschillen[0].Kolommen)
		}
		// The SRG count of the first half: the placement now ended in it.
		sv := verschil(t, addr, srg)
		if !sv.Reproduceerbaar || len(sv.Verschillen) != 0 || len(sv.Tellingen) != 1 {
			t.Fatalf("the SRG count after the late uitval: %+v", sv)
		}
		if d := sv.Tellingen[0]; d.Wat != diffChanged || d.Code != "22" ||
			!slices.Equal(d.Kolommen, []columnChange{{"beeindigd", "0", "1"}, {"lopend", "1", "0"}}) {
			t.Errorf("the SRG difference: %+v", d)
		}
		// The other gemeente's report is untouched by GM0402's uitval.
		if o := verschil(t, addr, gooiseMeren); !o.Reproduceerbaar || len(o.Verschillen) != 0 {
			t.Errorf("GM1942's report: %+v", o)
		}
		// The text says the same for a person.
		code, out, errs := auditCLI(t, addr, "auditor", "audit", "verschil", hilversum, "--gemeenten", "../../deploy/gemeenten.json")
		if code != exitOK {
			t.Fatal(errs)
		}
		for _, w := range []string{"3 regel(s) anders", diffChanged, diffRemoved, "dagen 28→14", "events +" + uitval, "verschil " + euro(total)} {
			if !strings.Contains(out, w) {
				t.Errorf("the comparison lacks %q:\n%s", w, out)
			}
		}
		if strings.Contains(out, "R-rap-") {
			t.Errorf("the comparison shows a client id:\n%s", out)
		}
	})

	t.Run("not reproducible, unknown, not a report", func(t *testing.T) {
		// A report whose digest no making of these figures has: recorded
		// as a centrum could, but not of this history.
		head := verschil(t, addr, hilversum).VandaagTot
		forged := sha256.Sum256([]byte("een ander bestand"))
		resp, err := clientAs(t, addr, "centrum").RecordRapportage(context.Background(), connect.NewRequest(&ledgerv1.RecordRapportageRequest{Gemeente: "GM0402",
			Rapportage: &ledgerv1.Rapportage{Soort: api.RapportageKosten, Jaar: 2026, Positie: head, Peildatum: &ledgerv1.Date{Year: 2026, Month: 5, Day: 4}, Sha256: forged[:], Regels: 2}}))
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, id string
			code     int
			says     string
		}{
			{"digest of no making", resp.Msg.GetEventId(), exitBevinding, "niet uit deze geschiedenis te maken"},
			{"unknown id", uuid.NewString(), exitFailed, "staat niet in de opslag"},
			{"an event that is no report", uitval, exitFailed, "is geen rapportage maar een uitval"},
			{"no id at all", "rapportage-1; drop table", exitUsage, "is geen rapportage-id"},
		} {
			code, out, errs := auditCLI(t, addr, "auditor", "audit", "verschil", tc.id, "--gemeenten", "../../deploy/gemeenten.json")
			if code != tc.code || !strings.Contains(errs, tc.says) || strings.Contains(out, "Geen verschil") {
				t.Errorf("%s: exit %d (want %d), stdout %q, stderr %q; want it to say %q", tc.name, code, tc.code, out, errs, tc.says)
			}
		}
		// A gemeente cannot make the regional figures again from its own
		// events alone: refused, not answered from a part.
		if code, _, errs := auditCLI(t, addr, "GM0402", "audit", "verschil", hilversum, "--gemeenten", "../../deploy/gemeenten.json"); code != exitFailed || !strings.Contains(errs, "toegang.eigen-gemeente") {
			t.Errorf("GM0402 comparing: exit %d: %s", code, errs)
		}
	})
}

// days is the price in cents of that many days of a € 12.000 place in 2026,
// rounded half to even as the cost rules do, computed here on its own.
func days(t *testing.T, n int64) int64 {
	t.Helper()
	num, den := 1_200_000*n, int64(365)
	q, r := num/den, num%den
	if 2*r > den || 2*r == den && q%2 == 1 {
		q++
	}
	return q
}

// TestRecordRapportageRefuses: a report that does not say what it is of is
// refused by rule, and a retry with the same event id writes nothing twice.
func TestRecordRapportageRefuses(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-rap-x")
	c := clientAs(t, addr, "centrum")
	ctx := context.Background()
	head, err := c.ReadEvents(ctx, connect.NewRequest(&ledgerv1.ReadEventsRequest{Max: 1}))
	if err != nil {
		t.Fatal(err)
	}
	kop := head.Msg.GetKop()
	sum := sha256.Sum256([]byte("bestand"))
	good := func() *ledgerv1.Rapportage {
		return &ledgerv1.Rapportage{Soort: api.RapportageKosten, Jaar: 2026, Positie: kop, Peildatum: &ledgerv1.Date{Year: 2026, Month: 3, Day: 2}, Sha256: sum[:], Regels: 1}
	}
	for _, tc := range []struct {
		name   string
		change func(*ledgerv1.Rapportage)
	}{
		{"position past the head", func(r *ledgerv1.Rapportage) { r.Positie = "999999/999999" }},
		{"no position", func(r *ledgerv1.Rapportage) { r.Positie = "" }},
		{"no sha256", func(r *ledgerv1.Rapportage) { r.Sha256 = nil }},
		{"a short sha256", func(r *ledgerv1.Rapportage) { r.Sha256 = sum[:31] }},
		{"no peildatum", func(r *ledgerv1.Rapportage) { r.Peildatum = nil }},
		{"no year", func(r *ledgerv1.Rapportage) { r.Jaar = 0 }},
		{"a soort it does not know", func(r *ledgerv1.Rapportage) { r.Soort = "jaarverslag" }},
		{"a cost export of a half year", func(r *ledgerv1.Rapportage) { r.Half = 1 }},
		{"an SRG count of no half year", func(r *ledgerv1.Rapportage) { r.Soort = api.RapportageSRG }},
	} {
		r := good()
		tc.change(r)
		_, err := c.RecordRapportage(ctx, connect.NewRequest(&ledgerv1.RecordRapportageRequest{Gemeente: "GM0402", Rapportage: r}))
		var cerr *connect.Error
		if !errors.As(err, &cerr) || refusalRule(t, cerr) != api.RuleRapportage {
			t.Errorf("%s: %v, want refused by %s", tc.name, err, api.RuleRapportage)
		}
	}
	after, err := c.ReadEvents(ctx, connect.NewRequest(&ledgerv1.ReadEventsRequest{Max: 1}))
	if err != nil || after.Msg.GetKop() != kop {
		t.Fatalf("refused reports wrote something: head %s, was %s (%v)", after.Msg.GetKop(), kop, err)
	}

	// A retry with the same event id: the first answer again, nothing
	// written twice.
	id := uuid.NewString()
	var first *ledgerv1.RecordRapportageResponse
	for i := range 3 {
		resp, err := c.RecordRapportage(ctx, connect.NewRequest(&ledgerv1.RecordRapportageRequest{Gemeente: "GM0402", EventId: id, Rapportage: good()}))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = resp.Msg
			if first.GetAlAanwezig() || first.GetEventId() != id {
				t.Fatalf("first: %v", first)
			}
			continue
		}
		if !resp.Msg.GetAlAanwezig() || resp.Msg.GetEventId() != id || resp.Msg.GetPositie() != first.GetPositie() {
			t.Errorf("retry %d: %v, first %v", i, resp.Msg, first)
		}
	}
	if list := listRapportages(t, addr, "auditor"); len(list) != 1 || list[0].Rapportage != id {
		t.Errorf("after three tries: %+v", list)
	}
	// Nor may a gemeente or the auditor record a report.
	for _, who := range []string{"GM0402", "auditor"} {
		_, err := clientAs(t, addr, who).RecordRapportage(ctx, connect.NewRequest(&ledgerv1.RecordRapportageRequest{Gemeente: "GM0402", Rapportage: good()}))
		if connect.CodeOf(err) != connect.CodePermissionDenied {
			t.Errorf("%s records a report: %v", who, err)
		}
	}
}

// TestDiffCosts: lines pair by what they price, not by what pricing found.
func TestDiffCosts(t *testing.T) {
	line := func(soort, maand, plaatsing string, cents int64, ev ...string) *ledgerv1.Kostenregel {
		return &ledgerv1.Kostenregel{Soort: soort, Gemeente: "GM0402", Maand: maand, Zaak: "Z", Plaatsing: plaatsing, Product: "beschut-werk", BedragCent: cents, Events: ev}
	}
	withPolicy := func(l *ledgerv1.Kostenregel, v string) *ledgerv1.Kostenregel { l.Beleidsversie = v; return l }
	for _, tc := range []struct {
		name    string
		was, nu []*ledgerv1.Kostenregel
		want    []string // wat maand verschil
	}{
		{"the same", []*ledgerv1.Kostenregel{line("plaatsing", "2026-01", "P", 100)}, []*ledgerv1.Kostenregel{line("plaatsing", "2026-01", "P", 100)}, nil},
		{"an amount", []*ledgerv1.Kostenregel{line("plaatsing", "2026-01", "P", 100)}, []*ledgerv1.Kostenregel{line("plaatsing", "2026-01", "P", 60)}, []string{"gewijzigd 2026-01 -40"}},
		{"only the events", []*ledgerv1.Kostenregel{line("plaatsing", "2026-01", "P", 100, "a")}, []*ledgerv1.Kostenregel{line("plaatsing", "2026-01", "P", 100, "a", "b")}, []string{"gewijzigd 2026-01 0"}},
		{"added and removed in month order",
			[]*ledgerv1.Kostenregel{line("plaatsing", "2026-01", "P", 100), line("plaatsing", "2026-03", "P", 100)},
			[]*ledgerv1.Kostenregel{line("plaatsing", "2026-01", "P", 100), line("plaatsing", "2026-02", "Q", 70)},
			[]string{"toegevoegd 2026-02 70", "vervallen 2026-03 -100"}},
		{"a month split by a late policy version",
			[]*ledgerv1.Kostenregel{withPolicy(line("plaatsing", "2026-01", "P", 100), "GM0402/v1")},
			[]*ledgerv1.Kostenregel{withPolicy(line("plaatsing", "2026-01", "P", 40), "GM0402/v1"), withPolicy(line("plaatsing", "2026-01", "P", 80), "GM0402/v2")},
			[]string{"gewijzigd 2026-01 -60", "toegevoegd 2026-01 80"}},
		{"hours lines by their event",
			[]*ledgerv1.Kostenregel{line("uren", "2026-01", "", 10, "u1"), line("uren", "2026-01", "", 20, "u2")},
			[]*ledgerv1.Kostenregel{line("uren", "2026-01", "", 20, "u2")},
			[]string{"vervallen 2026-01 -10"}},
	} {
		var got []string
		for _, d := range diffCosts(tc.was, tc.nu) {
			got = append(got, d.Wat+" "+d.Sleutel.Maand+" "+strconv.FormatInt(d.VerschilCent, 10))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRecordRapportageAtOnce: reports of one gemeente delivered at the
// same time are all recorded, each once, in one unbroken chain.
func TestRecordRapportageAtOnce(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-rap-y")
	c := clientAs(t, addr, "centrum")
	ctx := context.Background()
	head, err := c.ReadEvents(ctx, connect.NewRequest(&ledgerv1.ReadEventsRequest{Max: 1}))
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	errs := make(chan error, n)
	for i := range n {
		go func() {
			sum := sha256.Sum256([]byte{byte(i)})
			_, err := c.RecordRapportage(ctx, connect.NewRequest(&ledgerv1.RecordRapportageRequest{Gemeente: "GM0402", Rapportage: &ledgerv1.Rapportage{
				Soort: api.RapportageKosten, Jaar: 2026, Positie: head.Msg.GetKop(), Peildatum: &ledgerv1.Date{Year: 2026, Month: 3, Day: 2}, Sha256: sum[:], Regels: 1}}))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if list := listRapportages(t, addr, "auditor"); len(list) != n {
		t.Errorf("%d reports recorded, want %d", len(list), n)
	}
	if rep := verifyJSON(t, addr, "auditor"); !rep.Heel {
		t.Errorf("the chain of the reports: %+v", rep)
	}
}
