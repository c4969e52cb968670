package broker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/bus"
)

// canCopy reports whether a gemeente's connection can reach the consumer
// API of the ledger's bus stream of gemeente g: the one door of its account
// into the ledger's. Without an import nobody answers.
func canCopy(t *testing.T, nc *nats.Conn, g string) bool {
	t.Helper()
	_, err := nc.Request(broker.APIPrefix+".CONSUMER.CREATE."+bus.StreamName(g), []byte(`{}`), 2*time.Second)
	if errors.Is(err, nats.ErrNoResponders) {
		return false
	}
	if err != nil {
		t.Fatalf("consumer API of %s: %v", g, err)
	}
	return true
}

// TestGemeenteCopiesOnlyItsOwnStream: a gemeente's account takes a copy of
// its own bus stream into a stream of its own, by sourcing through the one
// export the ledger's account gives it; another gemeente's stream it can
// not reach, the ledger's account it can not see, and what it publishes
// stays in its own account.
func TestGemeenteCopiesOnlyItsOwnStream(t *testing.T) {
	ctx := context.Background()
	hilversum := broker.User{Name: "GM0402", Password: "pw-hilversum"}
	gooiseMeren := broker.User{Name: "GM1942", Password: "pw-gooise-meren"}
	srv, err := broker.Start(broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", Auth: &broker.Auth{
		Service:   broker.User{Name: "ledger", Password: "pw-ledger"},
		Gemeenten: []broker.User{hilversum, gooiseMeren},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	// The ledger itself creates both streams and publishes one event each.
	svc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	sjs, _ := jetstream.New(svc)
	for _, g := range []string{"GM0402", "GM1942"} {
		if _, err := bus.EnsureStream(ctx, sjs, g, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := sjs.Publish(ctx, bus.Subject(g, "aanmelding"), []byte("event of "+g)); err != nil {
			t.Fatal(err)
		}
	}

	// Without credentials nobody gets in.
	if nc, err := nats.Connect(srv.ClientURL()); err == nil {
		nc.Close()
		t.Fatal("anonymous connection accepted")
	}

	nc, err := nats.Connect(srv.ClientURL(), broker.GemeenteOptions(hilversum)...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)

	// Its own copy, in its own account, sourced from its own bus stream.
	own, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EIGEN_GM0402", Sources: []*jetstream.StreamSource{{
		Name: bus.StreamName("GM0402"), External: &jetstream.ExternalStream{APIPrefix: broker.APIPrefix, DeliverPrefix: broker.DeliverPrefix("GM0402")},
	}}})
	if err != nil {
		t.Fatalf("Hilversum can not make its own copy: %v", err)
	}
	cons, err := own.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil {
		t.Fatalf("Hilversum's copy holds nothing: %v", err)
	}
	if string(msg.Data()) != "event of GM0402" || msg.Subject() != bus.Subject("GM0402", "aanmelding") {
		t.Fatalf("Hilversum's copy holds %q on %s", msg.Data(), msg.Subject())
	}

	// Another gemeente's stream is not reachable; the ledger's account is
	// not visible.
	if !canCopy(t, nc, "GM0402") || canCopy(t, nc, "GM1942") {
		t.Fatal("Hilversum's door into the ledger's account is not exactly its own stream")
	}
	if _, err := js.Stream(ctx, bus.StreamName("GM0402")); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("Hilversum sees the ledger's own stream: %v", err)
	}

	// What it publishes on a ledger subject stays in its own account.
	if err := nc.Publish(bus.Subject("GM0402", "aanmelding"), []byte("forged")); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	info, err := sjs.Stream(ctx, bus.StreamName("GM0402"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := info.Info(ctx); st.State.Msgs != 1 {
		t.Errorf("the ledger's stream of Hilversum has %d messages after a forged publish, want 1", st.State.Msgs)
	}
}

// TestSuccessorKeepsTheArchive: after a herindeling the successor may copy
// the ended gemeente's bus stream as it copies its own; without the
// archive it can not, and another gemeente never can.
func TestSuccessorKeepsTheArchive(t *testing.T) {
	hilversum := broker.User{Name: "GM0402", Password: "pw-hilversum"}
	huizen := broker.User{Name: "GM0406", Password: "pw-huizen"}
	wijdemeren := broker.User{Name: "GM1696", Password: "pw-wijdemeren"}
	dir := t.TempDir()
	start := func(archieven ...string) *broker.Server {
		h := hilversum
		h.Archieven = archieven
		srv, err := broker.Start(broker.Config{Dir: dir, Listen: "127.0.0.1:0", Auth: &broker.Auth{
			Service:   broker.User{Name: "ledger", Password: "pw-ledger"},
			Gemeenten: []broker.User{h, huizen, wijdemeren},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	reaches := func(srv *broker.Server, u broker.User) bool {
		nc, err := nats.Connect(srv.ClientURL(), broker.GemeenteOptions(u)...)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		return canCopy(t, nc, "GM1696")
	}
	srv := start()
	if reaches(srv, hilversum) {
		t.Fatal("Hilversum reaches Wijdemeren's stream before the herindeling")
	}
	srv.Shutdown()
	srv = start("GM1696")
	t.Cleanup(srv.Shutdown)
	if !reaches(srv, hilversum) {
		t.Fatal("Hilversum can not copy the archive it keeps")
	}
	if reaches(srv, huizen) {
		t.Fatal("Huizen reaches Wijdemeren's stream")
	}
	if !reaches(srv, wijdemeren) {
		t.Fatal("Wijdemeren's own user lost its stream")
	}
}

// TestMigratesGlobalAccount: a ledger that ran before accounts kept its
// streams in the global account; the first start with accounts moves them
// into the ledger's account, with every message.
func TestMigratesGlobalAccount(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, err := broker.Start(broker.Config{Dir: dir, Listen: "127.0.0.1:-1"})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := old.Connect()
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if _, err := bus.EnsureStream(ctx, js, "GM0402", 1); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := js.Publish(ctx, bus.Subject("GM0402", "aanmelding"), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	nc.Close()
	old.Shutdown()

	srv, err := broker.Start(broker.Config{Dir: dir, Listen: "127.0.0.1:-1", Auth: &broker.Auth{
		Service: broker.User{Name: "ledger", Password: "pw"}, Gemeenten: []broker.User{{Name: "GM0402", Password: "pw2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err = srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ = jetstream.New(nc)
	st, err := js.Stream(ctx, bus.StreamName("GM0402"))
	if err != nil {
		t.Fatalf("the stream did not move into the ledger's account: %v", err)
	}
	if info, _ := st.Info(ctx); info.State.Msgs != 3 {
		t.Fatalf("%d messages after the move, want 3", info.State.Msgs)
	}
}

// TestStartSaysWhyJetStreamFailed: when JetStream can not start inside the
// server, the error says what the server said, not only that it failed.
func TestStartSaysWhyJetStreamFailed(t *testing.T) {
	dir := t.TempDir()
	// A file where JetStream wants its directory.
	if err := os.WriteFile(filepath.Join(dir, "jetstream"), []byte("geen map"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := broker.Start(broker.Config{Dir: dir, Listen: "127.0.0.1:-1"})
	if err == nil {
		t.Fatal("started on a store directory that is a file")
	}
	if !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("the error does not say why: %v", err)
	}
	t.Logf("%v", err)
}
