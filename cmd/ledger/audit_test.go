package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// auditCLI runs the CLI with who's token.
func auditCLI(t *testing.T, addr, who string, args ...string) (int, string, string) {
	t.Helper()
	return cli(t, addr, append(args, "--token", tokenFor(t, addr, who))...)
}

func verifyJSON(t *testing.T, addr, who string, args ...string) auditReportJSON {
	t.Helper()
	code, out, errs := auditCLI(t, addr, who, append([]string{"audit", "verify", "--json"}, args...)...)
	if code != exitOK {
		t.Fatalf("audit verify %v as %s: exit %d: %s", args, who, code, errs)
	}
	var rep auditReportJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit verify --json: %v: %s", err, out)
	}
	return rep
}

// python runs the README's independent check (testdata/verify_export.py).
func python(t *testing.T, args ...string) (int, string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on this machine: the independent check can not run")
	}
	cmd := exec.Command(py, append([]string{"testdata/verify_export.py"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

// TestAuditVerify: an auditor checks the whole history through the real
// server, a digest pins the history up to a position while it grows, a
// gemeente checks its own part and proves one event in it, and a short
// Python program that knows only the README's description agrees with
// every digest and finds a forged event in an export.
func TestAuditVerify(t *testing.T) {
	addr := startServer(t, t.TempDir(), clock.NewManual(2026, time.March, 2))
	for _, gm := range []string{"GM0402", "GM1942"} {
		mustCLI(t, addr, "policy", "set", "--gemeente", gm, "--geldig-vanaf", "2026-03-02", "--product", "beschut-werk=12000")
	}
	var cases []string
	for i, gm := range []string{"GM0402", "GM1942", "GM0402"} {
		id := mustCLI(t, addr, "case", "aanmelden", "--gemeente", gm, "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-audit-"+string(rune('a'+i)))
		mustCLI(t, addr, "case", "intake", id, "--trede", "beschut", "--loonwaarde", "30")
		cases = append(cases, id)
	}
	mustCLI(t, addr, "case", "verhuizen", cases[0], "--naar", "GM1942")
	// A resident forgotten twice: the vergeten stream chains like any.
	mustCLI(t, addr, "client", "vergeet", "R-audit-c")
	mustCLI(t, addr, "client", "vergeet", "R-audit-c")
	// The regional stream chains too.
	mustCLI(t, addr, "regio", "verdeelsleutel", "--jaar", "2026", "--methode", "inwoners")
	for _, bedrag := range []string{"1000.01", "250.00"} {
		mustCLI(t, addr, "regio", "kosten", "--van", "2026-01-01", "--tot", "2026-02-28", "--bedrag", bedrag, "--budgetstroom", "participatiebudget", "--omschrijving", "overhead")
	}

	rep := verifyJSON(t, addr, "auditor")
	if !rep.Heel || rep.Gebeurtenissen != 14 || !strings.HasPrefix(rep.Digest, "sha256:") || len(rep.Gemeenten) != 9 {
		t.Fatalf("verify: %+v", rep)
	}
	// Every figure names the history it is of; the auditor's check of that
	// position gives the same digest, and the replay from the store the
	// same certificate.
	for _, replay := range []bool{false, true} {
		bv, err := clientAs(t, addr, "auditor").GetBeleidsview(context.Background(), connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: "GM0402", Jaar: 2026, Replay: replay}))
		if err != nil {
			t.Fatal(err)
		}
		if c := bv.Msg.GetCertificaat(); c.GetPositie() != rep.Tot || c.GetDigest() != rep.Digest || c.GetGebeurtenissen() != rep.Gebeurtenissen {
			t.Errorf("beleidsview (replay %v) certificate %v; verify says %d events up to %s, %s", replay, c, rep.Gebeurtenissen, rep.Tot, rep.Digest)
		}
	}
	if out := mustCLI(t, addr, "view", "GM0402", "--year", "2026"); !strings.Contains(out, "--tot "+rep.Tot+" --digest "+rep.Digest) {
		t.Errorf("ledger view does not say how to check its figures:\n%s", out)
	}
	// The digest proves the history up to its position, also after more
	// was recorded; another digest is refused by name.
	mustCLI(t, addr, "case", "intake", cases[1], "--trede", "beschut", "--loonwaarde", "35")
	if code, _, errs := auditCLI(t, addr, "auditor", "audit", "verify", "--digest", rep.Digest, "--tot", rep.Tot); code != exitOK {
		t.Fatalf("the history up to %s no longer has its digest: %s", rep.Tot, errs)
	}
	wrong := "sha256:" + strings.Repeat("0", 64)
	if code, _, errs := auditCLI(t, addr, "auditor", "audit", "verify", "--digest", wrong, "--tot", rep.Tot); code != exitBevinding || !strings.Contains(errs, audit.RuleDigest) {
		t.Fatalf("a wrong digest: exit %d: %s", code, errs)
	}
	now := verifyJSON(t, addr, "auditor")
	if now.Gebeurtenissen != 15 || now.Digest == rep.Digest {
		t.Fatalf("after one more event: %d events, digest %s (was %s)", now.Gebeurtenissen, now.Digest, rep.Digest)
	}

	// The independent check over the export agrees, and catches a forgery.
	dir := t.TempDir()
	export := filepath.Join(dir, "alles.jsonl")
	if code, _, errs := auditCLI(t, addr, "auditor", "audit", "export", "-o", export); code != exitOK {
		t.Fatal(errs)
	}
	if code, out := python(t, export); code != 0 || strings.TrimSpace(out) != "digest "+now.Digest {
		t.Fatalf("python check: exit %d, %q; verify says %s", code, out, now.Digest)
	}
	lines := strings.Split(strings.TrimSpace(string(mustRead(t, export))), "\n")
	var e exportLine
	if err := json.Unmarshal([]byte(lines[4]), &e); err != nil { // an intake, followed by the verhuizing of its case
		t.Fatal(err)
	}
	data, _ := base64.StdEncoding.DecodeString(e.Data)
	data[len(data)-1] ^= 1
	e.Data = base64.StdEncoding.EncodeToString(data)
	forged, _ := json.Marshal(e)
	lines[4] = string(forged)
	if err := os.WriteFile(export, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := python(t, export); code != 1 || !strings.Contains(out, "breuk") {
		t.Fatalf("python check over a forged export: exit %d, %q", code, out)
	}

	// A gemeente checks its own part: the same root, from its own events.
	for _, g := range now.Gemeenten {
		if g.Gemeente != "GM0402" && g.Gemeente != "GM1942" {
			continue
		}
		own := verifyJSON(t, addr, g.Gemeente, "--gemeente", g.Gemeente)
		if !own.Heel || len(own.Gemeenten) != 1 || own.Gemeenten[0].MerkleWortel != g.MerkleWortel || own.Gemeenten[0].Gebeurtenissen != g.Gebeurtenissen {
			t.Errorf("%s's own check: %+v; the auditor's: %+v", g.Gemeente, own, g)
		}
		part := filepath.Join(dir, g.Gemeente+".jsonl")
		if code, _, errs := auditCLI(t, addr, g.Gemeente, "audit", "export", "--gemeente", g.Gemeente, "-o", part); code != exitOK {
			t.Fatal(errs)
		}
		if code, out := python(t, "--merkle", part); code != 0 || strings.TrimSpace(out) != "merkle "+g.MerkleWortel {
			t.Errorf("%s: python root %q, verify's %s", g.Gemeente, out, g.MerkleWortel)
		}
	}
	if code, _, errs := auditCLI(t, addr, "GM0402", "audit", "verify", "--gemeente", "GM1942"); code != exitFailed || !strings.Contains(errs, "toegang.eigen-gemeente") {
		t.Errorf("GM0402 reading GM1942's events: exit %d: %s", code, errs)
	}

	// The verhuizing is in both gemeenten's trees; its proof holds in each.
	var verhuizing exportLine
	if err := json.Unmarshal([]byte(lines[8]), &verhuizing); err != nil || verhuizing.Type != "verhuizing" {
		t.Fatalf("line 9 of the export is %q (%v), want the verhuizing", verhuizing.Type, err)
	}
	proven := verifyJSON(t, addr, "auditor", "--bewijs", verhuizing.EventID)
	for _, g := range proven.Gemeenten {
		if g.Gemeente != "GM0402" && g.Gemeente != "GM1942" {
			if g.Inclusiebewijs != nil {
				t.Errorf("%s holds a proof of a verhuizing it never received", g.Gemeente)
			}
			continue
		}
		p := g.Inclusiebewijs
		if p == nil {
			t.Fatalf("%s: no inclusion proof of the verhuizing", g.Gemeente)
		}
		leaf, root := unhex(t, p.BladHash), unhex(t, strings.TrimPrefix(g.MerkleWortel, "sha256:"))
		var path []audit.Hash
		for _, h := range p.Pad {
			path = append(path, unhex(t, h))
		}
		if err := audit.VerifyPath(leaf, p.Blad, p.Grootte, path, root); err != nil {
			t.Errorf("%s: %v", g.Gemeente, err)
		}
	}
}

func unhex(t *testing.T, s string) audit.Hash {
	t.Helper()
	var h audit.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		t.Fatalf("hash %q: %v", s, err)
	}
	copy(h[:], b)
	return h
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAuditReplay: figures made again from the store in the auditor's own
// process equal the figures the ledger gave at the time: an export byte
// for byte from its certificate's position and peildatum, a beleidsview
// field for field; and "known on" leaves out what was recorded later,
// also when it happened earlier.
func TestAuditReplay(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=12000")
	a := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-replay-a", "--datum", "2026-02-02")
	mustCLI(t, addr, "case", "intake", a, "--trede", "beschut", "--loonwaarde", "30", "--datum", "2026-02-03")
	mustCLI(t, addr, "case", "plaatsen", a, "--type", "beschut-werk", "--werkgever", "Tomin", "--uren", "28", "--datum", "2026-02-09")

	type moment struct {
		csv  string
		view *ledgerv1.Beleidsview
		cert *ledgerv1.Certificaat
	}
	capture := func() moment {
		t.Helper()
		code, csv, errs := cli(t, addr, "export", "costs", "--gemeente", "GM0402", "--year", "2026")
		if code != exitOK {
			t.Fatal(errs)
		}
		c := clientAs(t, addr, "auditor")
		k, err := c.ExportKosten(context.Background(), connect.NewRequest(&ledgerv1.ExportKostenRequest{Gemeente: "GM0402", Jaar: 2026}))
		if err != nil {
			t.Fatal(err)
		}
		bv, err := c.GetBeleidsview(context.Background(), connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: "GM0402", Jaar: 2026}))
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(k.Msg.GetCertificaat(), bv.Msg.GetCertificaat()) {
			t.Fatalf("export and view of one moment name other histories: %v, %v", k.Msg.GetCertificaat(), bv.Msg.GetCertificaat())
		}
		return moment{csv: csv, view: bv.Msg.GetView(), cert: k.Msg.GetCertificaat()}
	}
	first := capture()

	// Six weeks later: a second resident, whose placement started in
	// February, before the first moment, and is recorded only now.
	clk.Set(2026, time.April, 15)
	b := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-replay-b", "--datum", "2026-02-16")
	mustCLI(t, addr, "case", "intake", b, "--trede", "beschut", "--loonwaarde", "40", "--datum", "2026-02-17")
	mustCLI(t, addr, "case", "plaatsen", b, "--type", "beschut-werk", "--werkgever", "Tomin", "--uren", "32", "--datum", "2026-02-23")
	second := capture()
	if first.csv == second.csv || strings.Contains(first.csv, b) {
		t.Fatal("the late-recorded placement does not change the export: the test proves nothing")
	}
	clk.Set(2026, time.June, 1)
	mustCLI(t, addr, "case", "uitval", a, "--reden", "ziekte", "--datum", "2026-05-29")

	replay := func(args ...string) string {
		t.Helper()
		code, out, errs := auditCLI(t, addr, "auditor", append([]string{"audit", "replay", "--gemeente", "GM0402", "--gemeenten", "../../deploy/gemeenten.json"}, args...)...)
		if code != exitOK {
			t.Fatalf("audit replay %v: exit %d: %s", args, code, errs)
		}
		return out
	}
	for i, at := range []moment{first, second} {
		pos, peil := at.cert.GetPositie(), event.FormatDate(at.cert.GetPeildatum())
		if got := replay("--kosten", "--tot", pos, "--peildatum", peil); got != at.csv {
			t.Errorf("moment %d: the export made again differs:\n%s\nwant\n%s", i, got, at.csv)
		}
		var resp ledgerv1.GetBeleidsviewResponse
		if err := protojson.Unmarshal([]byte(replay("--json", "--tot", pos, "--peildatum", peil)), &resp); err != nil {
			t.Fatal(err)
		}
		got, want := resp.GetView(), proto.Clone(at.view).(*ledgerv1.Beleidsview)
		got.Bron, want.Bron = "", ""
		if !proto.Equal(got, want) {
			t.Errorf("moment %d: the beleidsview made again differs:\n%v\nwant\n%v", i, got, want)
		}
		if !proto.Equal(resp.GetCertificaat(), at.cert) {
			t.Errorf("moment %d: certificate %v, want %v", i, resp.GetCertificaat(), at.cert)
		}
	}
	// Known on the day of the second moment is the second moment.
	if got := replay("--kosten", "--bekend-op", "2026-04-15"); got != second.csv {
		t.Errorf("known on 2026-04-15:\n%s\nwant\n%s", got, second.csv)
	}
	// What was known about March on 2 March lacks b's placement; what was
	// known about it on 15 April has it.
	early := replay("--kosten", "--bekend-op", "2026-03-02", "--peildatum", "2026-03-31")
	late := replay("--kosten", "--bekend-op", "2026-04-15", "--peildatum", "2026-03-31")
	if strings.Contains(early, b) || !strings.Contains(late, b) || !strings.Contains(early, a) {
		t.Errorf("March as known on 2 March names b: %v; as known on 15 April: %v", strings.Contains(early, b), strings.Contains(late, b))
	}
}
