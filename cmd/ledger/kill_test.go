package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

// The binary that tests spawn is built once per test run, with the build
// tag that lets a test set its "today" (LEDGER_TEST_TODAY): the process must
// not run on the day the test happens to run. It is otherwise the binary
// `go build` makes.
var ledgerBinary = struct {
	once sync.Once
	dir  string
	path string
	err  error
}{}

func buildLedger(t *testing.T) string {
	t.Helper()
	ledgerBinary.once.Do(func() {
		ledgerBinary.dir, ledgerBinary.err = os.MkdirTemp("", "ledger-bin-")
		if ledgerBinary.err != nil {
			return
		}
		ledgerBinary.path = filepath.Join(ledgerBinary.dir, "ledger")
		cmd := exec.Command("go", "build", "-tags", "ledger_testclock", "-o", ledgerBinary.path, ".")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			ledgerBinary.err = fmt.Errorf("go build: %w", err)
		}
	})
	if ledgerBinary.err != nil {
		t.Fatal(ledgerBinary.err)
	}
	return ledgerBinary.path
}

func TestMain(m *testing.M) {
	// No test remembers positions in the user's cache; cli() gives each
	// test a file of its own.
	os.Setenv("LEDGER_POSITIES", "off")
	code := m.Run()
	if ledgerBinary.dir != "" {
		os.RemoveAll(ledgerBinary.dir)
	}
	os.Exit(code)
}

// spawn starts `ledger serve` as its own process, on 09:00 of today (a
// date the test chooses), and returns it with its API address.
func spawn(t *testing.T, bin, data string, today *ledgerv1.Date) (*exec.Cmd, string) {
	t.Helper()
	cmd, addr, _ := spawnWith(t, bin, data, today, "--nats", "127.0.0.1:-1")
	return cmd, addr
}

// spawnWith is spawn with more flags; it also returns the start line.
func spawnWith(t *testing.T, bin, data string, today *ledgerv1.Date, flags ...string) (*exec.Cmd, string, string) {
	t.Helper()
	return spawnLogged(t, bin, data, today, nil, flags...)
}

// spawnLogged is spawnWith that writes the server's log to logs.
func spawnLogged(t *testing.T, bin, data string, today *ledgerv1.Date, logs io.Writer, flags ...string) (*exec.Cmd, string, string) {
	t.Helper()
	args := append([]string{"serve", "--data", data, "--http", "127.0.0.1:0", "--gemeenten", "../../deploy/gemeenten.json", "--srg", "../../deploy/srg.json", "--bewaartermijnen", "../../deploy/bewaartermijnen.json"}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logs
	cmd.Env = append(os.Environ(), "LEDGER_TEST_TODAY="+event.FormatDate(today))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("ledger serve did not start: %v", err)
	}
	f := strings.Fields(line)
	if len(f) < 4 {
		t.Fatalf("unexpected start line %q", line)
	}
	addr := strings.TrimPrefix(f[3], "http://")
	registerServer(addr, data)
	return cmd, addr, line
}

type acked struct {
	caseID, eventID string
	revision        uint64
}

// TestKillMidStream kills `ledger serve` with SIGKILL while commands stream
// in. After a restart every acknowledged command is there, at its revision,
// nothing is half-written (every case decodes and its hash chain holds),
// and the live projections agree with a replay of the store.
func TestKillMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildLedger(t)
	data := t.TempDir()
	// The server's today: policies start on it and every transition is
	// dated on it.
	today := event.YMD(2026, time.November, 24)
	proc, addr := spawn(t, bin, data, today)
	client := apiClient(t, addr, 10*time.Second)

	var mu sync.Mutex
	var acks []acked
	ack := func(r *ledgerv1.RecordResponse) {
		mu.Lock()
		acks = append(acks, acked{r.GetCaseId(), r.GetEventId(), r.GetRevision()})
		mu.Unlock()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }

	// Writers walk residents through the journey until the server dies.
	gemeenten := []string{"GM0402", "GM1942", "GM0406", "GM0376", "GM0417", "GM1696", "GM0317", "GM0034"}
	for _, gm := range gemeenten {
		_, err := client.RecordBeleid(context.Background(), connect.NewRequest(&ledgerv1.RecordBeleidRequest{Gemeente: gm, Beleid: &ledgerv1.Beleid{
			GeldigVanaf: today,
			Producten:   []*ledgerv1.ProductTarief{{Product: "lks-baan", CentPerJaar: 20_000_00}, {Product: "vangnet", CentPerJaar: 9_000_00}},
		}}))
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, stopWriters := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				if err := journey(ctx, client, today, gemeenten[(w+i)%len(gemeenten)], gemeenten[(w+i+1)%len(gemeenten)], ack); err != nil {
					return
				}
			}
		}()
	}
	// Kill once a good number of commands went through, mid-stream.
	deadline := time.Now().Add(60 * time.Second)
	for count() < 300 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	stopWriters()
	wg.Wait()
	if count() < 50 {
		t.Fatalf("only %d commands acknowledged before the kill", count())
	}
	t.Logf("%d commands acknowledged before SIGKILL", count())

	_, addr = spawn(t, bin, data, today)
	client = apiClient(t, addr, 30*time.Second)
	bg := context.Background()

	// Answered at once after the restart, while the views may still be
	// catching up: each answer says how far behind it is, and when it says
	// "not behind" its figures are the replay's.
	behind := 0
	defer func() { t.Logf("right after the restart %d of %d views said they were behind", behind, len(gemeenten)) }()
	for _, gm := range gemeenten {
		l, err := client.GetView(bg, connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: gm}))
		if connect.CodeOf(err) == connect.CodeUnavailable {
			continue // not loaded yet: says so, shows nothing stale
		}
		if err != nil {
			t.Fatal(err)
		}
		a := l.Msg.GetAchterstand()
		if a.GetStorePositie() == "" || a.GetBijgewerktTot() == "" {
			t.Fatalf("%s: view right after the restart does not say how far behind it is: %v", gm, a)
		}
		head, err := store.ParsePosition(a.GetStorePositie())
		if err != nil {
			t.Fatal(err)
		}
		at, err := store.ParsePosition(a.GetBijgewerktTot())
		if err != nil {
			t.Fatal(err)
		}
		if a.GetGebeurtenissen() == 0 {
			r, err := client.GetView(bg, connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: gm, Replay: true}))
			if err != nil {
				t.Fatal(err)
			}
			live, replay := l.Msg.GetView(), r.Msg.GetView()
			live.Bron, replay.Bron = "", ""
			if !proto.Equal(live, replay) {
				t.Errorf("%s: view says it is not behind, yet differs from the replay:\nlive   %v\nreplay %v", gm, live, replay)
			}
		} else if behind++; !at.Less(head) {
			t.Errorf("%s: %d events behind, yet up to date with the store (%s, %s)", gm, a.GetGebeurtenissen(), at, head)
		}
	}

	// Read your writes: the view asked after a command's position shows it.
	for _, gm := range gemeenten {
		r, err := client.Record(bg, connect.NewRequest(&ledgerv1.RecordRequest{Gemeente: gm, Datum: today,
			Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: "R-kill-ryw-" + gm, Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_WERKCENTRUM}}}))
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, acked{r.Msg.GetCaseId(), r.Msg.GetEventId(), r.Msg.GetRevision()})
		l, err := client.GetView(bg, connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: gm, NaPositie: r.Msg.GetPositie()}))
		if err != nil {
			t.Fatalf("%s: view after position %s: %v", gm, r.Msg.GetPositie(), err)
		}
		want, _ := store.ParsePosition(r.Msg.GetPositie())
		got, err := store.ParsePosition(l.Msg.GetAchterstand().GetBijgewerktTot())
		if err != nil || got.Less(want) {
			t.Fatalf("%s: view after position %s is only up to %s (%v)", gm, want, got, err)
		}
	}

	byCase := map[string][]acked{}
	for _, a := range acks {
		byCase[a.caseID] = append(byCase[a.caseID], a)
	}
	for caseID, as := range byCase {
		resp, err := client.GetCase(bg, connect.NewRequest(&ledgerv1.GetCaseRequest{CaseId: caseID}))
		if err != nil {
			t.Fatalf("acknowledged case %s lost: %v", caseID, err)
		}
		if !resp.Msg.GetKetenIntact() {
			t.Errorf("case %s: hash chain broken after the kill", caseID)
		}
		tl := resp.Msg.GetTimeline()
		for i, e := range tl {
			if e.GetRevision() != uint64(i) {
				t.Errorf("case %s: revision %d at place %d", caseID, e.GetRevision(), i)
			}
		}
		for _, a := range as {
			if a.revision >= uint64(len(tl)) || tl[a.revision].GetEvent().GetEnvelope().GetEventId() != a.eventID {
				t.Errorf("case %s: acknowledged event %s at revision %d is missing", caseID, a.eventID, a.revision)
			}
		}
	}

	// The projections catch up and then equal the auditor's replay.
	for _, gm := range gemeenten {
		var live, replay *ledgerv1.CaseloadView
		ok := false
		for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			l, err := client.GetView(bg, connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: gm}))
			if err != nil {
				continue
			}
			r, err := client.GetView(bg, connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: gm, Replay: true}))
			if err != nil {
				t.Fatal(err)
			}
			live, replay = l.Msg.GetView(), r.Msg.GetView()
			live.Bron, replay.Bron = "", ""
			if proto.Equal(live, replay) {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("%s: live view never equalled the replay:\nlive   %v\nreplay %v", gm, live, replay)
		}
	}
}

// journey records one resident's path: aanmelding, intake, plaatsing, a
// verhuizing, uitval, terugval op vangnet, uitstroom. It stops at the first
// error, which is the server going away.
func journey(ctx context.Context, c ledgerv1connect.LedgerServiceClient, today *ledgerv1.Date, gm, naar string, ack func(*ledgerv1.RecordResponse)) error {
	d := func(int) *ledgerv1.Date { return today }
	r, err := c.Record(ctx, connect.NewRequest(&ledgerv1.RecordRequest{Gemeente: gm, Datum: d(1),
		Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: fmt.Sprintf("R-kill-%d", time.Now().UnixNano()), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_WERKCENTRUM}}}))
	if err != nil {
		return err
	}
	ack(r.Msg)
	id := r.Msg.GetCaseId()
	steps := []*ledgerv1.RecordRequest{
		{Datum: d(2), Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_ONTWIKKELBAAR, LoonwaardeProcent: 50}}},
		{Datum: d(3), Transition: &ledgerv1.RecordRequest_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN, LksCentPerMaand: 95000}}},
		{Datum: d(10), Transition: &ledgerv1.RecordRequest_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{NaarGemeente: naar}}},
		{Datum: d(11), Transition: &ledgerv1.RecordRequest_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE}}},
		{Datum: d(12), Transition: &ledgerv1.RecordRequest_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{VangnetType: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}},
		{Datum: d(20), Transition: &ledgerv1.RecordRequest_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK}}},
	}
	for _, s := range steps {
		s.CaseId, s.Actor = id, "kill-test"
		r, err := c.Record(ctx, connect.NewRequest(s))
		if err != nil {
			return err
		}
		ack(r.Msg)
	}
	return nil
}
