package broker_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/broker/disktest"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore"
)

type disk struct {
	srv *broker.Server
	st  *natsstore.Store
}

// openOn starts a broker on dir and a store on it; with guard, the store
// checks the reserve before each append, as `ledger serve` has it.
func openOn(t *testing.T, dir string, minFree int64, guard bool) disk {
	t.Helper()
	srv, err := broker.Start(broker.Config{Dir: dir, Listen: "127.0.0.1:-1", MinFree: minFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var opts []natsstore.Option
	if guard {
		opts = append(opts, natsstore.WithSpaceCheck(srv.CheckSpace))
	}
	st, err := natsstore.New(context.Background(), js, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return disk{srv, st}
}

// acked appends one event per case and keeps those the store acknowledged.
type acked map[string]uuid.UUID

func (a acked) append(ctx context.Context, st store.Store, n int) error {
	for range n {
		stream := "case-" + uuid.NewString()
		ev := store.EventData{ID: uuid.New(), Type: "aanmelding", Data: make([]byte, 2048)}
		if _, err := st.Append(ctx, stream, store.NoStream(), ev); err != nil {
			return err
		}
		a[stream] = ev.ID
	}
	return nil
}

func (a acked) check(t *testing.T, ctx context.Context, st store.Store) {
	t.Helper()
	for stream, id := range a {
		recs, err := st.ReadStream(ctx, stream)
		if err != nil || len(recs) != 1 || recs[0].ID != id {
			t.Fatalf("acknowledged %s lost: %d events, %v", stream, len(recs), err)
		}
	}
}

func until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 20s: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReserveRefusesAndResumes: with the reserve, a filling disk stops the
// store's writes with opslag.vol while JetStream stays on, and freeing space
// lets the next write through at once.
func TestReserveRefusesAndResumes(t *testing.T) {
	dir := disktest.Small(t, 16<<20)
	ctx := context.Background()
	d := openOn(t, dir, 4<<20, true)
	got := acked{}
	if err := got.append(ctx, d.st, 50); err != nil {
		t.Fatal(err)
	}
	junk := disktest.Fill(t, dir, 3<<20)
	err := got.append(ctx, d.st, 1)
	var u *store.UnavailableError
	if !errors.As(err, &u) || u.Rule != store.RuleOpslagVol || !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, broker.ErrNoSpace) {
		t.Fatalf("append on a disk short of its reserve: %v; want opslag.vol", err)
	}
	if !d.srv.NATS().JetStreamEnabled() {
		t.Fatal("JetStream switched off although the reserve kept the disk from filling")
	}
	got.check(t, ctx, d.st) // reads go on
	if err := os.Remove(junk); err != nil {
		t.Fatal(err)
	}
	if err := got.append(ctx, d.st, 10); err != nil {
		t.Fatalf("append after space came back: %v", err)
	}
	got.check(t, ctx, d.st)
}

// TestFullDiskSwitchesBackOn: without the reserve (or when another process
// takes the last byte) JetStream runs into the full disk and switches
// itself off; once space is back the broker switches it on again, on the
// same files, with every acknowledged event there.
func TestFullDiskSwitchesBackOn(t *testing.T) {
	dir := disktest.Small(t, 16<<20)
	ctx := context.Background()
	d := openOn(t, dir, 1, false)
	got := acked{}
	if err := got.append(ctx, d.st, 50); err != nil {
		t.Fatal(err)
	}
	// A subscriber, like the relay, reads on across JetStream's restart.
	seen := make(chan uuid.UUID, 2000)
	subCtx, stopSub := context.WithCancel(ctx)
	defer stopSub()
	go func() {
		_ = d.st.Subscribe(subCtx, store.Position{}, func(r store.RecordedEvent) error {
			seen <- r.ID
			return nil
		})
	}()
	junk := disktest.Fill(t, dir, 0)
	// Write until the disk refuses. The write that meets the full disk gets
	// no answer (JetStream keeps the write error and answers nothing), so
	// whether it was stored is unknown: its retry, by its event id, decides.
	var (
		err    error
		stream string
		ev     store.EventData
	)
	for i := 0; err == nil && i < 1000; i++ {
		stream = "case-" + uuid.NewString()
		ev = store.EventData{ID: uuid.New(), Type: "aanmelding", Data: make([]byte, 2048)}
		if _, err = d.st.Append(ctx, stream, store.NoStream(), ev); err == nil {
			got[stream] = ev.ID
		}
	}
	if err == nil {
		t.Fatal("a full disk took 1000 more events")
	}
	t.Logf("on a full disk: %v", err)
	if err := os.Remove(junk); err != nil {
		t.Fatal(err)
	}
	until(t, "writes resume after space is freed", func() bool {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := d.st.Append(ctx, stream, store.NoStream(), ev)
		return err == nil
	})
	got[stream] = ev.ID
	if err := got.append(ctx, d.st, 10); err != nil {
		t.Fatal(err)
	}
	if !d.srv.NATS().JetStreamEnabled() {
		t.Fatal("JetStream off although writes resumed")
	}
	got.check(t, ctx, d.st)
	want := map[uuid.UUID]bool{}
	for _, id := range got {
		want[id] = true
	}
	timeout := time.After(20 * time.Second)
	for len(want) > 0 {
		select {
		case id := <-seen:
			delete(want, id)
		case <-timeout:
			t.Fatalf("the subscriber did not read on after the restart: %d acknowledged events not delivered", len(want))
		}
	}
}

// TestStartOnFullDisk: a start without the reserve says what to do.
func TestStartOnFullDisk(t *testing.T) {
	dir := disktest.Small(t, 8<<20)
	disktest.Fill(t, dir, 1<<20)
	_, err := broker.Start(broker.Config{Dir: dir, Listen: "127.0.0.1:-1", MinFree: 2 << 20})
	var se *broker.SpaceError
	if !errors.As(err, &se) || !errors.Is(err, broker.ErrNoSpace) {
		t.Fatalf("start on a full disk: %v; want a SpaceError", err)
	}
	for _, want := range []string{dir, "maak ruimte vrij", "--min-free"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestJetStreamOffIsUnavailable: while JetStream is off (as after a write
// it could not make) an append is refused as opslag.niet-beschikbaar, at
// once and without being stored; the broker switches JetStream back on by
// itself and the same append then goes through. Needs no small disk.
func TestJetStreamOffIsUnavailable(t *testing.T) {
	ctx := context.Background()
	d := openOn(t, t.TempDir(), 1, true)
	got := acked{}
	if err := got.append(ctx, d.st, 5); err != nil {
		t.Fatal(err)
	}
	if err := d.srv.NATS().ShutdownJetStream(); err != nil {
		t.Fatal(err)
	}
	stream, ev := "case-"+uuid.NewString(), store.EventData{ID: uuid.New(), Type: "aanmelding", Data: []byte("x")}
	_, err := d.st.Append(ctx, stream, store.NoStream(), ev)
	var u *store.UnavailableError
	if !errors.As(err, &u) || u.Rule != store.RuleOpslagWeg || !strings.Contains(u.Reden, "opnieuw") {
		// The keeper may have been quicker: then the append went through.
		if err != nil {
			t.Fatalf("append while JetStream is off: %v; want opslag.niet-beschikbaar", err)
		}
	} else {
		until(t, "JetStream back on", func() bool {
			_, err := d.st.Append(ctx, stream, store.NoStream(), ev)
			return err == nil
		})
	}
	got[stream] = ev.ID
	got.check(t, ctx, d.st)
}
