package relay_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/bus"
	"github.com/gooi-vechtstreek/ledger/services/relay"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore"
)

// relayOn is a relay of its own process: its own connection to the broker,
// named instance.
func (e *env) relayOn(ctx context.Context, instance string) (*relay.Relay, *nats.Conn) {
	e.t.Helper()
	return e.relayWith(ctx, instance, time.Second)
}

// relayWith is relayOn with a lease that lives ttl.
func (e *env) relayWith(ctx context.Context, instance string, ttl time.Duration) (*relay.Relay, *nats.Conn) {
	e.t.Helper()
	nc, err := nats.Connect(e.srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := natsstore.New(ctx, js)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := relay.New(ctx, relay.Config{
		Store: st, JS: js, Gemeenten: e.reg.Codes(), CheckpointEvery: 10 * time.Millisecond,
		Instance: instance, LeaseTTL: ttl,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return r, nc
}

func holder(t *testing.T, e *env) string {
	t.Helper()
	kv, err := e.js.KeyValue(context.Background(), relay.LeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	v, err := kv.Get(context.Background(), "houder")
	if err != nil {
		return ""
	}
	return relay.Holder(v.Value())
}

// TestOneRelayPublishesAtATime: two processes' relays on one store and one
// bus. One holds the lease and publishes; the other stands by and still
// knows how far the bus is (read-your-writes on either process). A clean
// stop hands over at once; a process that dies without a word hands over
// when its lease expires. Every event is on the bus exactly once.
func TestOneRelayPublishesAtATime(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a, _ := e.relayOn(ctx, "proces-a")
	stopA := run(t, ctx, a)
	last := e.journeys(ctx, 6)
	waitFor(t, a, last)
	if h := holder(t, e); h != "proces-a" {
		t.Fatalf("lease held by %q, want proces-a", h)
	}
	b, _ := e.relayOn(ctx, "proces-b")
	stopB := run(t, ctx, b)
	last = e.journeys(ctx, 3)
	waitFor(t, a, last)
	waitFor(t, b, last) // the standby follows the checkpoint
	if h := holder(t, e); h != "proces-a" {
		t.Fatalf("lease moved to %q while proces-a runs", h)
	}
	e.exactlyOnce(ctx)

	// A clean stop gives the lease up: b publishes what comes next.
	stopA()
	last = e.journeys(ctx, 3)
	waitFor(t, b, last)
	if h := holder(t, e); h != "proces-b" {
		t.Fatalf("after a's clean stop the lease is %q", h)
	}
	e.exactlyOnce(ctx)

	// A process that dies: its connection gone, no release. The lease
	// expires and the standby takes over.
	d, dnc := e.relayOn(ctx, "proces-d")
	stopB()
	stopD := run(t, ctx, d)
	last = e.journeys(ctx, 2)
	waitFor(t, d, last)
	if h := holder(t, e); h != "proces-d" {
		t.Fatalf("after b's clean stop the lease is %q, want proces-d", h)
	}
	c, _ := e.relayOn(ctx, "proces-c")
	stopC := run(t, ctx, c)
	defer stopC()
	dnc.Close()
	stopD()
	last = e.journeys(ctx, 3)
	waitFor(t, c, last)
	if h := holder(t, e); h != "proces-c" {
		t.Fatalf("after d died the lease is %q", h)
	}
	e.exactlyOnce(ctx)
}

// TestCleanStopSavesExactCheckpoint: a relay stopped in the middle of a
// backlog finishes the batch it began, so the checkpoint it saves says
// exactly what is on the bus: nothing of any gemeente after it.
func TestCleanStopSavesExactCheckpoint(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var kv jetstream.KeyValue // made by the first relay
	for round := range 5 {
		first := e.journeys(ctx, 1)
		e.journeys(ctx, 60)
		r := e.newRelay(ctx)
		stop := run(t, ctx, r)
		waitFor(t, r, first)
		stop()
		if kv == nil {
			var err error
			if kv, err = e.js.KeyValue(ctx, relay.CheckpointBucket); err != nil {
				t.Fatal(err)
			}
		}
		cp, err := kv.Get(ctx, "checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		checkpoint, err := store.ParsePosition(string(cp.Value()))
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range e.reg.Codes() {
			s, err := e.js.Stream(ctx, bus.StreamName(g))
			if err != nil {
				t.Fatal(err)
			}
			info, err := s.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Msgs == 0 {
				continue
			}
			m, err := s.GetMsg(ctx, info.State.LastSeq)
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := store.ParsePosition(m.Header.Get(bus.HeaderPosition)); checkpoint.Less(p) {
				t.Fatalf("round %d: %s holds %s after the saved checkpoint %s", round, g, p, checkpoint)
			}
		}
	}
	// A relay that runs to the end publishes the rest, each once.
	last := e.journeys(ctx, 1)
	r := e.newRelay(ctx)
	stop := run(t, ctx, r)
	waitFor(t, r, last)
	stop()
	e.exactlyOnce(ctx)
}

// TestCleanStopAfterRenewalGivesUpLease: a relay that renewed its lease
// gives it up on a clean stop all the same. The release named the
// revision the lease was created with, which a renewal had moved on: the
// store refused it and a standby waited for the lease to expire.
func TestCleanStopAfterRenewalGivesUpLease(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a, _ := e.relayOn(ctx, "proces-a")
	stop := run(t, ctx, a)
	waitFor(t, a, e.journeys(ctx, 1))
	kv, err := e.js.KeyValue(ctx, relay.LeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	first, err := kv.Get(ctx, "houder")
	if err != nil {
		t.Fatal(err)
	}
	// Renewed every third of its second: wait for one.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); ; {
		cur, err := kv.Get(ctx, "houder")
		if err == nil && cur.Revision() > first.Revision() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lease was not renewed within 10 s (revision %d, %v)", first.Revision(), err)
		}
		<-tick.C
	}
	stop()
	if h := holder(t, e); h != "" {
		t.Fatalf("after a clean stop the lease is still held by %q", h)
	}
}

// TestCleanStopLeavesAnotherRunsLease: a second process under the same
// instance name (two containers with one host name) took the lease back.
// The first one's clean stop must not give up that lease: it is not its
// own run's, though it names the same instance.
func TestCleanStopLeavesAnotherRunsLease(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	// A lease of a minute is renewed every 20 s: never during this test.
	a, _ := e.relayWith(ctx, "proces-a", time.Minute)
	stop := run(t, ctx, a)
	waitFor(t, a, e.journeys(ctx, 1))
	kv, err := e.js.KeyValue(ctx, relay.LeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	other := []byte("proces-a een-andere-run")
	if _, err := kv.Put(ctx, "houder", other); err != nil {
		t.Fatal(err)
	}
	stop()
	got, err := kv.Get(ctx, "houder")
	if err != nil || string(got.Value()) != string(other) {
		t.Fatalf("after the first run's clean stop the lease is %v (%v), want the other run's %q", got, err, other)
	}
}
