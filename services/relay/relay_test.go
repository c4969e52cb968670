package relay_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/bus"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/relay"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

const gemeentenJSON = `{"gemeenten": [
  {"code": "GM0402", "naam": "Hilversum", "geldig_van": "2015-01-01"},
  {"code": "GM1942", "naam": "Gooise Meren", "geldig_van": "2016-01-01"},
  {"code": "GM0406", "naam": "Huizen", "geldig_van": "2015-01-01"}
]}`

// env is a broker reachable over TCP, so that it can be restarted under a
// connected client, with a store and a case handler on top.
type env struct {
	t      *testing.T
	dir    string
	listen string
	srv    *broker.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	store  *natsstore.Store
	cases  *caseflow.Handler
	reg    *gemeente.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	srv, err := broker.Start(broker.Config{Dir: e.dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	addr := srv.NATS().Addr().(*net.TCPAddr)
	e.listen = fmt.Sprintf("127.0.0.1:%d", addr.Port)
	e.nc, err = nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.nc.Close()
		e.srv.Shutdown()
	})
	if e.js, err = jetstream.New(e.nc); err != nil {
		t.Fatal(err)
	}
	if e.store, err = natsstore.New(context.Background(), e.js); err != nil {
		t.Fatal(err)
	}
	if e.reg, err = gemeente.Parse(strings.NewReader(gemeentenJSON)); err != nil {
		t.Fatal(err)
	}
	// The journeys are dated in March 2026: the handler's today is a fixed
	// day after them, never the day the test runs.
	e.cases = &caseflow.Handler{Store: e.store, Gemeenten: e.reg, Clock: clock.At(2026, time.April, 1)}
	return e
}

// restartServer stops the broker and starts it again on the same port and
// files, under the connected clients.
func (e *env) restartServer() {
	e.t.Helper()
	e.srv.Shutdown()
	srv, err := broker.Start(broker.Config{Dir: e.dir, Listen: e.listen})
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
}

func (e *env) newRelay(ctx context.Context) *relay.Relay {
	e.t.Helper()
	r, err := relay.New(ctx, relay.Config{
		Store: e.store, JS: e.js, Gemeenten: e.reg.Codes(),
		CheckpointEvery: 10 * time.Millisecond,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// run starts r and returns a function that stops it and waits.
func run(t *testing.T, ctx context.Context, r *relay.Relay) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("relay: %v", err)
		}
	}
}

func day(d int) *ledgerv1.Date { return event.YMD(2026, 3, d) }

// journeys records n short client journeys, some moving to Gooise Meren,
// and returns the position of the last event.
func (e *env) journeys(ctx context.Context, n int) store.Position {
	e.t.Helper()
	var last store.Position
	rec := func(cmd caseflow.Command) caseflow.Result {
		res, err := e.cases.Handle(ctx, cmd)
		if err != nil {
			e.t.Fatal(err)
		}
		if last.Less(res.Position) {
			last = res.Position
		}
		return res
	}
	for i := range n {
		gm := []string{"GM0402", "GM1942", "GM0406"}[i%3]
		res := rec(caseflow.Command{Gemeente: gm, Datum: day(1), Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
			ResidentId: fmt.Sprintf("R-%d", i), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV,
		}}}})
		rec(caseflow.Command{CaseID: res.CaseID, Datum: day(2), Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_BESCHUT}}}})
		if i%2 == 0 {
			naar := map[string]string{"GM0402": "GM1942", "GM1942": "GM0406", "GM0406": "GM0402"}[gm]
			rec(caseflow.Command{CaseID: res.CaseID, Datum: day(3), Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{NaarGemeente: naar}}}})
		}
	}
	return last
}

// expected lists, per gemeente, the event ids the store says belong there.
func (e *env) expected(ctx context.Context) map[string]map[string]bool {
	e.t.Helper()
	want := map[string]map[string]bool{}
	for rec, err := range e.store.ReadAll(ctx, store.Start) {
		if err != nil {
			e.t.Fatal(err)
		}
		ev, err := event.Decode(rec.Data)
		if err != nil {
			continue // quarantined, not on the bus
		}
		for _, g := range event.Audience(ev, e.reg.Codes()) {
			if want[g] == nil {
				want[g] = map[string]bool{}
			}
			want[g][rec.ID.String()] = true
		}
	}
	return want
}

// onBus counts every message id in each gemeente's bus stream.
func (e *env) onBus(ctx context.Context) map[string]map[string]int {
	e.t.Helper()
	got := map[string]map[string]int{}
	for _, g := range e.reg.Codes() {
		s, err := e.js.Stream(ctx, bus.StreamName(g))
		if err != nil {
			e.t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		got[g] = map[string]int{}
		for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if err != nil {
				e.t.Fatalf("%s seq %d: %v", g, seq, err)
			}
			if want := bus.Subject(g, m.Header.Get(bus.HeaderType)); m.Subject != want {
				e.t.Errorf("%s seq %d on subject %s, want %s", g, seq, m.Subject, want)
			}
			got[g][m.Header.Get(jetstream.MsgIDHeader)]++
		}
	}
	return got
}

// exactlyOnce checks that every gemeente's stream holds its events, each
// once, and nothing else.
func (e *env) exactlyOnce(ctx context.Context) {
	e.t.Helper()
	want, got := e.expected(ctx), e.onBus(ctx)
	for _, g := range e.reg.Codes() {
		for id := range want[g] {
			if got[g][id] != 1 {
				e.t.Errorf("%s: event %s on the bus %d times, want once", g, id, got[g][id])
			}
		}
		for id, n := range got[g] {
			if !want[g][id] {
				e.t.Errorf("%s: event %s on the bus %d times but not for this gemeente", g, id, n)
			}
		}
	}
}

func waitFor(t *testing.T, r *relay.Relay, p store.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, p); err != nil {
		t.Fatalf("relay did not reach %s (at %s): %v", p, r.Published(), err)
	}
}

func TestRelayPublishesEachEventOnceToItsGemeenten(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	last := e.journeys(ctx, 9)
	r := e.newRelay(ctx)
	stop := run(t, ctx, r)
	waitFor(t, r, last)
	// Events recorded while the relay runs are followed live.
	last = e.journeys(ctx, 3)
	waitFor(t, r, last)
	stop()
	e.exactlyOnce(ctx)

	// A verhuizing reaches both gemeenten, with the event id as message id.
	got := e.onBus(ctx)
	moved := 0
	for id := range got["GM0402"] {
		if got["GM1942"][id] == 1 {
			moved++
		}
	}
	if moved == 0 {
		t.Error("no verhuizing GM0402 → GM1942 reached both gemeenten")
	}
}

// TestRelayExactlyOnceAfterLostCheckpoint is the crash between publishing
// and saving the checkpoint, at its worst: the checkpoint is back at the
// start while everything is already on the bus. Nothing may be published
// twice, whatever the de-duplication window.
func TestRelayExactlyOnceAfterLostCheckpoint(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	last := e.journeys(ctx, 12)
	r := e.newRelay(ctx)
	stop := run(t, ctx, r)
	waitFor(t, r, last)
	stop()

	kv, err := e.js.KeyValue(ctx, relay.CheckpointBucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, back := range []string{"0/0", fmt.Sprintf("%d/%d", last.Commit/2, last.Commit/2)} {
		if _, err := kv.PutString(ctx, "checkpoint", back); err != nil {
			t.Fatal(err)
		}
		// Bypass the server's de-duplication as a guard: only the relay's own
		// reconciliation may prevent doubles here.
		for _, g := range e.reg.Codes() {
			s, _ := e.js.Stream(ctx, bus.StreamName(g))
			info, _ := s.Info(ctx)
			cfg := info.Config
			cfg.Duplicates = 100 * time.Millisecond
			if _, err := e.js.UpdateStream(ctx, cfg); err != nil {
				t.Fatal(err)
			}
		}
		r2 := e.newRelay(ctx)
		more := e.journeys(ctx, 2)
		stop2 := run(t, ctx, r2)
		waitFor(t, r2, more)
		stop2()
		e.exactlyOnce(ctx)
	}
}

// TestRelaySurvivesServerRestart restarts the NATS server under a running
// relay while cases keep being recorded.
func TestRelaySurvivesServerRestart(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.newRelay(ctx)
	stop := run(t, ctx, r)
	defer stop()
	waitFor(t, r, e.journeys(ctx, 6))

	e.restartServer()
	// The clients reconnect by themselves; record more once they have.
	var last store.Position
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		last, err = e.tryJourneys(ctx, 6)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording after restart: %v", err)
		}
		if !e.nc.IsConnected() {
			waitReconnect(t, e.nc)
		}
	}
	waitFor(t, r, last)
	e.exactlyOnce(ctx)
}

func (e *env) tryJourneys(ctx context.Context, n int) (last store.Position, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for i := range n {
		res, err := e.cases.Handle(ctx, caseflow.Command{Gemeente: "GM0402", Datum: day(1), Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
			ResidentId: fmt.Sprintf("R-after-%d", i), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_WSW, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_SCHOOL,
			Terugkeergarantie: true, WswIndicatieSinds: &ledgerv1.Date{Year: 2012, Month: 5, Day: 1},
		}}}})
		if err != nil {
			return last, err
		}
		last = res.Position
	}
	return last, nil
}

func waitReconnect(t *testing.T, nc *nats.Conn) {
	t.Helper()
	var once sync.Once
	ch := make(chan struct{})
	nc.SetReconnectHandler(func(*nats.Conn) { once.Do(func() { close(ch) }) })
	if nc.IsConnected() {
		return
	}
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatal("client did not reconnect within 20s")
	}
}

// TestRelayQuarantinesWhatItCannotDecode: a damaged event does not stop the
// bus, and is not dropped either.
func TestRelayQuarantinesWhatItCannotDecode(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	bad := uuid.New()
	if _, err := e.store.Append(ctx, "case-damaged", store.NoStream(), store.EventData{ID: bad, Type: "plaatsing", Data: []byte("not a protobuf event")}); err != nil {
		t.Fatal(err)
	}
	last := e.journeys(ctx, 3)
	r := e.newRelay(ctx)
	stop := run(t, ctx, r)
	waitFor(t, r, last)
	stop()
	e.exactlyOnce(ctx)

	s, err := e.js.Stream(ctx, relay.QuarantineStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, "ledger.quarantine.>")
	if err != nil {
		t.Fatalf("quarantine is empty: %v", err)
	}
	if m.Header.Get(jetstream.MsgIDHeader) != bad.String() || string(m.Data) != "not a protobuf event" {
		t.Errorf("quarantined message %q with id %s, want the damaged event", m.Data, m.Header.Get(jetstream.MsgIDHeader))
	}
}

// aanmeldingen records n aanmeldingen in gemeente gm and returns the
// position of the last.
func (e *env) aanmeldingen(ctx context.Context, gm string, n int) store.Position {
	e.t.Helper()
	var last store.Position
	for i := range n {
		res, err := e.cases.Handle(ctx, caseflow.Command{Gemeente: gm, Datum: day(1), Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
			ResidentId: fmt.Sprintf("B-%s-%d", gm, i), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV,
		}}}})
		if err != nil {
			e.t.Fatal(err)
		}
		last = res.Position
	}
	return last
}

// busOrder returns, per gemeente, the store positions of its bus stream in
// stream order, and how many of its messages came in an atomic batch.
func (e *env) busOrder(ctx context.Context) (positions map[string][]store.Position, batched map[string]int) {
	e.t.Helper()
	positions, batched = map[string][]store.Position{}, map[string]int{}
	for _, g := range e.reg.Codes() {
		s, err := e.js.Stream(ctx, bus.StreamName(g))
		if err != nil {
			e.t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if err != nil {
				e.t.Fatalf("%s seq %d: %v", g, seq, err)
			}
			p, err := store.ParsePosition(m.Header.Get(bus.HeaderPosition))
			if err != nil {
				e.t.Fatalf("%s seq %d: %v", g, seq, err)
			}
			positions[g] = append(positions[g], p)
			if m.Header.Get("Nats-Batch-Id") != "" {
				batched[g]++
			}
		}
	}
	return positions, batched
}

// TestRelayBacklogInBatches: a backlog larger than one atomic batch (an
// import) reaches every gemeente once, in store order, and in batches.
func TestRelayBacklogInBatches(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.aanmeldingen(ctx, "GM0402", 1300)
	last := e.journeys(ctx, 30)
	r := e.newRelay(ctx)
	stop := run(t, ctx, r)
	waitFor(t, r, last)
	stop()
	e.exactlyOnce(ctx)
	positions, batched := e.busOrder(ctx)
	for g, ps := range positions {
		for i := 1; i < len(ps); i++ {
			if !ps[i-1].Less(ps[i]) {
				t.Fatalf("%s: bus message %d at store position %s after %s: not in store order", g, i+1, ps[i], ps[i-1])
			}
		}
	}
	if n := len(positions["GM0402"]); n < 1300 || batched["GM0402"] < n/2 {
		t.Errorf("GM0402: %d of %d bus messages came in an atomic batch, want most of a backlog of 1300", batched["GM0402"], n)
	}
}

// TestRelayBatchRefusedGoesOneByOne: when the server refuses a batch as a
// whole (here: its ids are on the stream already, inside the duplicate
// window, behind a checkpoint set back and a stream tail reconcile can not
// see past), the relay publishes the messages one by one and the server
// drops the duplicates: nothing twice, nothing lost.
func TestRelayBatchRefusedGoesOneByOne(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	last := e.aanmeldingen(ctx, "GM0406", 40)
	r := e.newRelay(ctx)
	stop := run(t, ctx, r)
	waitFor(t, r, last)
	stop()

	// A message at the checkpoint's position as the stream's last: the
	// relay's reconcile stops at it and so knows of none of the 40.
	kv, err := e.js.KeyValue(ctx, relay.CheckpointBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.PutString(ctx, "checkpoint", "0/0"); err != nil {
		t.Fatal(err)
	}
	marker := nats.NewMsg(bus.Subject("GM0406", "marker"))
	marker.Header.Set(bus.HeaderPosition, "0/0")
	marker.Header.Set(bus.HeaderType, "marker")
	if _, err := e.js.PublishMsg(ctx, marker); err != nil {
		t.Fatal(err)
	}
	r2 := e.newRelay(ctx)
	more := e.aanmeldingen(ctx, "GM0406", 20)
	stop2 := run(t, ctx, r2)
	waitFor(t, r2, more)
	stop2()
	got := e.onBus(ctx)
	if got["GM0406"][""] != 1 {
		t.Errorf("marker on the bus %d times, want once", got["GM0406"][""])
	}
	delete(got["GM0406"], "")
	want := e.expected(ctx)
	for id := range want["GM0406"] {
		if got["GM0406"][id] != 1 {
			t.Errorf("event %s on the bus %d times, want once", id, got["GM0406"][id])
		}
	}
	if len(got["GM0406"]) != len(want["GM0406"]) {
		t.Errorf("%d events on the bus, want %d", len(got["GM0406"]), len(want["GM0406"]))
	}
}
