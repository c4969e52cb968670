package broker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/bus"
)

// permErrors collects the permission violations the server reports to a
// client asynchronously.
type permErrors struct {
	mu   sync.Mutex
	errs []string
	seen chan struct{}
}

func (p *permErrors) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	if errors.Is(err, nats.ErrPermissionViolation) || strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
		p.mu.Lock()
		p.errs = append(p.errs, err.Error())
		p.mu.Unlock()
		select {
		case p.seen <- struct{}{}:
		default:
		}
	}
}

func (p *permErrors) waitFor(t *testing.T, what string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		p.mu.Lock()
		for _, e := range p.errs {
			if strings.Contains(e, what) {
				p.mu.Unlock()
				return
			}
		}
		p.mu.Unlock()
		select {
		case <-p.seen:
		case <-deadline:
			t.Fatalf("no permissions violation for %q; seen %v", what, p.errs)
		}
	}
}

// TestGemeenteReadsOnlyItsOwnStream: the broker, not the client, keeps a
// gemeente to its own events.
func TestGemeenteReadsOnlyItsOwnStream(t *testing.T) {
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

	perm := &permErrors{seen: make(chan struct{}, 1)}
	nc, err := nats.Connect(srv.ClientURL(), append(broker.GemeenteOptions(hilversum), nats.ErrorHandler(perm.handler))...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)

	// Its own stream: a durable consumer of its own reads its own event.
	cons, err := js.CreateOrUpdateConsumer(ctx, bus.StreamName("GM0402"), jetstream.ConsumerConfig{Durable: "eigen-dashboard", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("Hilversum can not read its own stream: %v", err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if string(msg.Data()) != "event of GM0402" {
		t.Fatalf("read %q", msg.Data())
	}
	if err := msg.DoubleAck(ctx); err != nil {
		t.Fatalf("ack on its own stream: %v", err)
	}

	// Another gemeente's stream: refused.
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := js.CreateOrUpdateConsumer(short, bus.StreamName("GM1942"), jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy}); err == nil {
		t.Fatal("Hilversum created a consumer on Gooise Meren's stream")
	}
	perm.waitFor(t, "$JS.API.CONSUMER.CREATE."+bus.StreamName("GM1942"))

	// The ledger's own consumer on Hilversum's stream is not Hilversum's to
	// delete or to read from.
	if _, err := sjs.CreateOrUpdateConsumer(ctx, bus.StreamName("GM0402"), jetstream.ConsumerConfig{Durable: bus.LedgerConsumer("GM0402"), AckPolicy: jetstream.AckAllPolicy}); err != nil {
		t.Fatal(err)
	}
	short2, cancel2 := context.WithTimeout(ctx, 2*time.Second)
	defer cancel2()
	if err := js.DeleteConsumer(short2, bus.StreamName("GM0402"), bus.LedgerConsumer("GM0402")); err == nil {
		t.Fatal("Hilversum deleted the ledger's own consumer")
	}
	perm.waitFor(t, "$JS.API.CONSUMER.DELETE."+bus.StreamName("GM0402")+"."+bus.LedgerConsumer("GM0402"))

	// Core subscriptions to event subjects, its own or another's, and to
	// other inboxes are refused too; so is publishing an event.
	for _, subj := range []string{bus.Filter("GM1942"), "_INBOX.>", bus.Filter("GM0402")} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		perm.waitFor(t, subj)
	}
	if err := nc.Publish(bus.Subject("GM0402", "aanmelding"), []byte("forged")); err != nil {
		t.Fatal(err)
	}
	perm.waitFor(t, "Publish to \""+bus.Subject("GM0402", "aanmelding"))
	info, err := sjs.Stream(ctx, bus.StreamName("GM0402"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := info.Info(ctx); st.State.Msgs != 1 {
		t.Errorf("Hilversum's stream has %d messages after a forged publish, want 1", st.State.Msgs)
	}
}

// TestSuccessorKeepsTheArchive: after a herindeling the successor reads the
// ended gemeente's bus stream as its own; without the archive it can not,
// and another gemeente never can.
func TestSuccessorKeepsTheArchive(t *testing.T) {
	ctx := context.Background()
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
	srv := start()
	svc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	sjs, _ := jetstream.New(svc)
	if _, err := bus.EnsureStream(ctx, sjs, "GM1696", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := sjs.Publish(ctx, bus.Subject("GM1696", "aanmelding"), []byte("event of GM1696")); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	read := func(srv *broker.Server, u broker.User) error {
		nc, err := nats.Connect(srv.ClientURL(), broker.GemeenteOptions(u)...)
		if err != nil {
			return err
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		cons, err := js.CreateOrUpdateConsumer(short, bus.StreamName("GM1696"), jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy})
		if err != nil {
			return err
		}
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			return err
		}
		if string(msg.Data()) != "event of GM1696" {
			return fmt.Errorf("read %q", msg.Data())
		}
		return nil
	}
	if err := read(srv, hilversum); err == nil {
		t.Fatal("Hilversum read Wijdemeren's stream before the herindeling")
	}
	srv.Shutdown()
	srv = start("GM1696")
	t.Cleanup(srv.Shutdown)
	if err := read(srv, hilversum); err != nil {
		t.Fatalf("Hilversum can not read the archive it keeps: %v", err)
	}
	if err := read(srv, huizen); err == nil {
		t.Fatal("Huizen read Wijdemeren's stream")
	}
	if err := read(srv, wijdemeren); err != nil {
		t.Fatalf("Wijdemeren's own user lost its stream: %v", err)
	}
}
