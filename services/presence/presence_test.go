package presence_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/presence"
)

// ttl is short, so that telling a dead holder from a live one (half of it)
// takes half a second.
const ttl = time.Second

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// process is a ledger process's own connection to one real broker.
func process(t *testing.T, url string) jetstream.JetStream {
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

func startBroker(t *testing.T) string {
	t.Helper()
	srv, err := broker.Start(broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv.ClientURL()
}

// TestOneLiveProcessPerName: a second live process under a name is
// refused while the first renews its claim; other names are free; after a
// clean stop the name is free at once.
func TestOneLiveProcessPerName(t *testing.T) {
	ctx := context.Background()
	url := startBroker(t)
	a, err := presence.Acquire(ctx, process(t, url), "a", ttl, 1, quiet)
	if err != nil {
		t.Fatal(err)
	}
	// Twice the claim's lifetime: a live claim is renewed throughout.
	if _, err := presence.Acquire(ctx, process(t, url), "a", ttl, 1, quiet); !errors.Is(err, presence.ErrInUse) {
		t.Fatalf("a second process named a: %v, want ErrInUse", err)
	}
	if _, err := presence.Acquire(ctx, process(t, url), "a", ttl, 1, quiet); !errors.Is(err, presence.ErrInUse) {
		t.Fatalf("a third try, a whole lifetime later: %v, want ErrInUse", err)
	}
	b, err := presence.Acquire(ctx, process(t, url), "b", ttl, 1, quiet)
	if err != nil {
		t.Fatalf("another name: %v", err)
	}
	defer b.Release(ctx)
	a.Release(ctx)
	// Given up, the name is free: claimed at once, not taken over from a
	// holder that stopped renewing (which says so in the log).
	var logged strings.Builder
	again, err := presence.Acquire(ctx, process(t, url), "a", ttl, 1, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatalf("after a clean stop: %v", err)
	}
	defer again.Release(ctx)
	if strings.Contains(logged.String(), "took over") {
		t.Errorf("after a clean stop the name was still claimed: %s", logged.String())
	}
}

// TestDeadHolderIsTakenOver: a process killed without giving up its claim
// leaves it lying still; a restart under the name takes it over without
// waiting for it to expire.
func TestDeadHolderIsTakenOver(t *testing.T) {
	ctx := context.Background()
	url := startBroker(t)
	js := process(t, url)
	// A claim as a dead process leaves it: created, never renewed.
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: presence.Bucket, History: 1, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "a", []byte("a run-of-a-dead-process")); err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	c, err := presence.Acquire(ctx, process(t, url), "a", ttl, 1, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatalf("a restart after a crash: %v", err)
	}
	if !strings.Contains(logged.String(), "took over") {
		t.Errorf("the dead process's claim was not taken over but gone: %s", logged.String())
	}
	defer c.Release(ctx)
	e, err := kv.Get(ctx, "a")
	if err != nil || string(e.Value()) == "a run-of-a-dead-process" {
		t.Fatalf("the claim is %v (%v), want the new process's", e, err)
	}
}
