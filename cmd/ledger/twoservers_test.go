package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/broker/natscluster"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/presence"
	"github.com/gooi-vechtstreek/ledger/services/relay"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// TestTwoServersOneBroker runs two ledger processes against one NATS (its
// JetStream store and bus), with the same keys as a deployment mounts them
// into both: both take commands and answer reads that include each other's
// writes, a conflict between them is decided by the expected revision,
// exactly one relay publishes, and when its process stops the other's
// relay carries on. Every event is on the bus once.
func TestTwoServersOneBroker(t *testing.T) {
	nsrv, err := broker.Start(broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nsrv.Shutdown)
	twoServers(t, nsrv.ClientURL(), 1)
}

// TestSameInstanceRefused: a second process under the instance name of a
// live one (two containers with one host name) does not start: it would
// take half of every caseload view's events from the first. A name of its
// own starts.
func TestSameInstanceRefused(t *testing.T) {
	nsrv, err := broker.Start(broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nsrv.Shutdown)
	clk := clock.NewManual(2026, time.March, 2)
	on := func(name string) func(*serveConfig) {
		return func(c *serveConfig) { c.natsURL, c.instance = nsrv.ClientURL(), name }
	}
	startServerWith(t, t.TempDir(), clk, on("a"))
	cfg := serveConfig{data: t.TempDir(), http: "127.0.0.1:0", gemeenten: "../../deploy/gemeenten.json", srg: "../../deploy/srg.json",
		retention: "../../deploy/bewaartermijnen.json", store: "jetstream", replicas: 1, clock: clk.Clock()}
	on("a")(&cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = runServer(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if !errors.Is(err, presence.ErrInUse) || !strings.Contains(err.Error(), "--instance a is in gebruik") {
		t.Fatalf("a second process named a: %v, want refused naming --instance a", err)
	}
	startServerWith(t, t.TempDir(), clk, on("b"))
}

// TestTwoServersOnCluster is the same on a three-node cluster with R3
// streams, as two ledger processes run for real.
func TestTwoServersOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a three-node cluster takes a while")
	}
	twoServers(t, natscluster.Start(t).URL(), 3)
}

func twoServers(t *testing.T, url string, replicas int) {
	clk := clock.NewManual(2026, time.March, 2)
	on := func(name string) func(*serveConfig) {
		return func(c *serveConfig) { c.natsURL, c.instance, c.replicas = url, name, replicas }
	}
	dataA, dataB := t.TempDir(), t.TempDir()
	addrA, _, stopA := launchServer(t, dataA, clk, on("a"))
	if err := os.CopyFS(filepath.Join(dataB, "keys"), os.DirFS(filepath.Join(dataA, "keys"))); err != nil {
		t.Fatal(err)
	}
	addrB := startServerWith(t, dataB, clk, on("b"))
	apiA, apiB := apiClient(t, addrA, time.Minute), apiClient(t, addrB, time.Minute)

	record := func(c interface {
		Record(context.Context, *connect.Request[ledgerv1.RecordRequest]) (*connect.Response[ledgerv1.RecordResponse], error)
	}, req *ledgerv1.RecordRequest) (*ledgerv1.RecordResponse, error) {
		r, err := c.Record(context.Background(), connect.NewRequest(req))
		if err != nil {
			return nil, err
		}
		return r.Msg, nil
	}
	a, err := record(apiA, aanmeldingIn("GM0402", "R-twee-a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := record(apiB, aanmeldingIn("GM0402", "R-twee-b"))
	if err != nil {
		t.Fatal(err)
	}
	// Each process reads the other's write.
	for _, tc := range []struct {
		c   ledgerv1connectView
		pos string
	}{{apiA, b.GetPositie()}, {apiB, a.GetPositie()}} {
		v, err := tc.c.GetView(context.Background(), connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: "GM0402", NaPositie: tc.pos}))
		if err != nil {
			t.Fatalf("read after the other's write at %s: %v", tc.pos, err)
		}
		if v.Msg.GetView().GetActief() != 2 {
			t.Errorf("view holds %d cases, want 2", v.Msg.GetView().GetActief())
		}
	}
	// Both decide against revision 0 of one case: one gets in.
	intake := func() *ledgerv1.RecordRequest {
		zero := uint64(0)
		return &ledgerv1.RecordRequest{CaseId: a.GetCaseId(), Gemeente: "GM0402", ExpectedRevision: &zero,
			Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_ONTWIKKELBAAR, LoonwaardeProcent: 50}}}
	}
	_, errA := record(apiA, intake())
	_, errB := record(apiB, intake())
	if errA != nil || connect.CodeOf(errB) != connect.CodeAborted {
		t.Errorf("the same revision through both: %v / %v, want one in and one aborted", errA, errB)
	}

	js, holder := leaseOf(t, url)
	if h := holder(); h != "a" {
		t.Fatalf("the relay lease is held by %q, want a (it started first)", h)
	}

	// a stops; b's relay publishes what b records next.
	stopA()
	c, err := record(apiB, aanmeldingIn("GM0402", "R-twee-c"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := apiB.GetView(context.Background(), connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: "GM0402", NaPositie: c.GetPositie()}))
	if err != nil || v.Msg.GetView().GetActief() != 3 {
		t.Fatalf("b after a stopped: %v %v", v, err)
	}

	// On the bus: four events, each once.
	wantOnBusOnce(t, js, "GM0402", 4)
}

type ledgerv1connectView interface {
	GetView(context.Context, *connect.Request[ledgerv1.GetViewRequest]) (*connect.Response[ledgerv1.GetViewResponse], error)
}

// TestRelayHandoverWhenProcessDies: the process whose relay holds the lease
// is killed (SIGKILL: it releases nothing); the other process's relay takes
// the lease once it expires and publishes what was recorded meanwhile, from
// the dead one's checkpoint: every event on the bus once.
func TestRelayHandoverWhenProcessDies(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	nsrv, err := broker.Start(broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nsrv.Shutdown)
	url := nsrv.ClientURL()

	bin := buildLedger(t)
	dataA, dataB := t.TempDir(), t.TempDir()
	procA, addrA, _ := spawnWith(t, bin, dataA, event.YMD(2026, time.March, 2), "--nats-url", url, "--instance", "a")
	if err := os.CopyFS(filepath.Join(dataB, "keys"), os.DirFS(filepath.Join(dataA, "keys"))); err != nil {
		t.Fatal(err)
	}
	addrB := startServerWith(t, dataB, clock.NewManual(2026, time.March, 2), func(c *serveConfig) { c.natsURL, c.instance = url, "b" })
	apiA, apiB := apiClient(t, addrA, time.Minute), apiClient(t, addrB, time.Minute)
	first, err := apiA.Record(context.Background(), connect.NewRequest(aanmeldingIn("GM0402", "R-overdracht-1")))
	if err != nil {
		t.Fatal(err)
	}
	// b sees a's write through the bus a's relay published.
	if _, err := apiB.GetView(context.Background(), connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: "GM0402", NaPositie: first.Msg.GetPositie()})); err != nil {
		t.Fatalf("b reads a's write: %v", err)
	}
	js, holder := leaseOf(t, url)
	if h := holder(); h != "a" {
		t.Fatalf("the relay lease is held by %q, want a (it started first)", h)
	}

	if err := procA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = procA.Wait()
	killed := time.Now()
	// b takes commands at once; they reach the bus when b's relay holds
	// the lease.
	var last string
	for i := range 3 {
		r, err := apiB.Record(context.Background(), connect.NewRequest(aanmeldingIn("GM0402", fmt.Sprintf("R-overdracht-b-%d", i))))
		if err != nil {
			t.Fatal(err)
		}
		last = r.Msg.GetPositie()
	}
	eventually(t, "b's view of its own writes, through b's relay", func() bool {
		_, err := apiB.GetView(context.Background(), connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: "GM0402", NaPositie: last}))
		return err == nil
	})
	t.Logf("b's relay published %s after a was killed", time.Since(killed).Round(time.Millisecond))
	if h := holder(); h != "b" {
		t.Errorf("after a's death the lease is held by %q, want b", h)
	}
	wantOnBusOnce(t, js, "GM0402", 4)
}

// leaseOf connects to the NATS at url and returns its JetStream and a
// function that tells which instance holds the relay lease ("" when none).
func leaseOf(t *testing.T, url string) (jetstream.JetStream, func() string) {
	t.Helper()
	js := jetStreamAt(t, url)
	kv, err := js.KeyValue(context.Background(), relay.LeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	return js, func() string {
		h, err := kv.Get(context.Background(), "houder")
		if err != nil {
			return ""
		}
		return relay.Holder(h.Value())
	}
}

// jetStreamAt is JetStream on a connection of the test's own to url.
func jetStreamAt(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// aanmeldingIn is an aanmelding of resident in gemeente gm.
func aanmeldingIn(gm, resident string) *ledgerv1.RecordRequest {
	return &ledgerv1.RecordRequest{Gemeente: gm, Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
		ResidentId: resident, Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}
}

// wantOnBusOnce asserts that gemeente g's bus stream holds n events, each
// once.
func wantOnBusOnce(t *testing.T, js jetstream.JetStream, g string, n int) {
	t.Helper()
	seen := busMessages(t, js, g, store.Start)
	if len(seen) != n {
		t.Errorf("%d events on %s's bus stream, want %d", len(seen), g, n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("event %s on the bus %d times", id, k)
		}
	}
}
