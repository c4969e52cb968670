package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/gooi-vechtstreek/ledger/services/broker/disktest"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestDiskFull runs the real binary on a small disk of its own and fills
// it. Writes are refused as opslag.vol (UNAVAILABLE, a Dutch reason) while
// reads go on; once space is freed writes resume without a restart; a
// process killed while the disk is full does not start until there is room,
// and says so; nothing acknowledged is lost on the way.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary on a small disk")
	}
	bin := buildLedger(t)
	data := disktest.Small(t, 48<<20)
	today := event.YMD(2026, time.November, 24)
	flags := []string{"--nats", "127.0.0.1:0", "--min-free", "4MiB"}
	proc, addr, line := spawnWith(t, bin, data, today, flags...)
	c := apiClient(t, addr, 20*time.Second)
	ctx := context.Background()

	if _, err := c.RecordBeleid(ctx, connect.NewRequest(&ledgerv1.RecordBeleidRequest{Gemeente: "GM0402", Beleid: &ledgerv1.Beleid{
		GeldigVanaf: today, Producten: []*ledgerv1.ProductTarief{{Product: "beschut-werk", CentPerJaar: 12_000_00}},
	}})); err != nil {
		t.Fatal(err)
	}
	var cases []string
	aanmelden := func() (string, error) {
		r, err := c.Record(ctx, connect.NewRequest(&ledgerv1.RecordRequest{Gemeente: "GM0402", Datum: today, Actor: "schijf-test",
			Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: fmt.Sprintf("R-schijf-%d", len(cases)), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}))
		if err != nil {
			return "", err
		}
		cases = append(cases, r.Msg.GetCaseId())
		return r.Msg.GetCaseId(), nil
	}
	for range 20 {
		if _, err := aanmelden(); err != nil {
			t.Fatal(err)
		}
	}

	// Fill the disk to below the reserve: writes are refused, by name.
	junk := disktest.Fill(t, data, 3<<20)
	_, err := aanmelden()
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Fatalf("aanmelding on a full disk: %v; want UNAVAILABLE", err)
	}
	var cerr *connect.Error
	if !errors.As(err, &cerr) || !strings.Contains(cerr.Message(), "["+store.RuleOpslagVol+"]") || !strings.Contains(cerr.Message(), "maak ruimte vrij") {
		t.Fatalf("refusal on a full disk does not name the cause in Dutch: %v", err)
	}
	if rule := refusalRule(t, cerr); rule != store.RuleOpslagVol {
		t.Fatalf("refusal detail names rule %q, want %s", rule, store.RuleOpslagVol)
	}
	// Reads go on.
	if _, err := c.GetCase(ctx, connect.NewRequest(&ledgerv1.GetCaseRequest{CaseId: cases[0]})); err != nil {
		t.Fatalf("read on a full disk: %v", err)
	}
	if _, err := c.GetView(ctx, connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: "GM0402"})); err != nil {
		t.Fatalf("view on a full disk: %v", err)
	}

	// Space back: the very next write goes through, no restart.
	if err := os.Remove(junk); err != nil {
		t.Fatal(err)
	}
	if _, err := aanmelden(); err != nil {
		t.Fatalf("aanmelding after space was freed: %v", err)
	}
	if got, want := storeMessages(t, data, line), uint64(1+len(cases)); got != want {
		t.Fatalf("store holds %d events, want %d (the beleid and %d aanmeldingen)", got, want, len(cases))
	}

	// Killed while the disk is full: the next start refuses and says what
	// to do; with room again it starts and has every acknowledged case.
	junk = disktest.Fill(t, data, 3<<20)
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	out, err := exec.Command(bin, append([]string{"serve", "--data", data, "--http", "127.0.0.1:0", "--gemeenten", "../../deploy/gemeenten.json", "--srg", "../../deploy/srg.json", "--bewaartermijnen", "../../deploy/bewaartermijnen.json"}, flags...)...).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitFailed {
		t.Fatalf("start on a full disk: %v, want exit %d; output:\n%s", err, exitFailed, out)
	}
	for _, want := range []string{"maak ruimte vrij", "--min-free", data} {
		if !strings.Contains(string(out), want) {
			t.Errorf("start on a full disk does not say %q:\n%s", want, out)
		}
	}
	if err := os.Remove(junk); err != nil {
		t.Fatal(err)
	}
	_, addr, line = spawnWith(t, bin, data, today, flags...)
	c = apiClient(t, addr, 20*time.Second)
	for _, id := range cases {
		if _, err := c.GetCase(ctx, connect.NewRequest(&ledgerv1.GetCaseRequest{CaseId: id})); err != nil {
			t.Fatalf("acknowledged case %s after the full disk: %v", id, err)
		}
	}
	if got, want := storeMessages(t, data, line), uint64(1+len(cases)); got != want {
		t.Fatalf("after the restart the store holds %d events, want %d", got, want)
	}
	if _, err := aanmelden(); err != nil {
		t.Fatalf("aanmelding after the restart: %v", err)
	}
}

// refusalRule returns the rule of the Refusal detail of err, empty if none.
func refusalRule(t *testing.T, err *connect.Error) string {
	t.Helper()
	for _, d := range err.Details() {
		v, derr := d.Value()
		if derr != nil {
			t.Fatal(derr)
		}
		if r, ok := v.(*ledgerv1.Refusal); ok {
			return r.GetRule()
		}
	}
	return ""
}
