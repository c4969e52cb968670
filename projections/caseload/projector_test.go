package caseload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/bus"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/relay"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var twoGemeenten = []string{hilversum, huizen}

// testbed is a real embedded broker with the bus streams of two gemeenten.
type testbed struct {
	t   *testing.T
	srv *broker.Server
	nc  *nats.Conn
	js  jetstream.JetStream
	reg *gemeente.Registry
	dir string // snapshots
	// onBus lists, per gemeente, the events in its bus stream: the event at
	// index i has stream sequence i+1.
	onBus map[string][]*ledgerv1.Event
	// posOnBus is the store position each of them carries.
	posOnBus map[string][]store.Position
}

func newTestbed(t *testing.T) *testbed {
	t.Helper()
	srv, err := broker.Start(broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:-1"})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := srv.Connect()
	if err != nil {
		srv.Shutdown()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nc.Close()
		srv.Shutdown()
	})
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var list []gemeente.Gemeente
	for _, c := range twoGemeenten {
		list = append(list, gemeente.Gemeente{Code: c, Naam: testNamen[c]})
	}
	reg, err := gemeente.New(list)
	if err != nil {
		t.Fatal(err)
	}
	return &testbed{t: t, srv: srv, nc: nc, js: js, reg: reg, dir: t.TempDir(), onBus: map[string][]*ledgerv1.Event{}, posOnBus: map[string][]store.Position{}}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// publish puts events on the bus as the relay does: to every gemeente of
// their audience, Nats-Msg-Id the event id, with the store position header.
func (tb *testbed) publish(h *history, events []*ledgerv1.Event) {
	tb.t.Helper()
	ctx := testContext(tb.t)
	for _, c := range twoGemeenten {
		if _, err := bus.EnsureStream(ctx, tb.js, c, 1); err != nil {
			tb.t.Fatal(err)
		}
	}
	for _, ev := range events {
		pos := slices.Index(h.events, ev) + 1
		for _, g := range event.Audience(ev, nil) {
			msg := nats.NewMsg(bus.Subject(g, event.Type(ev)))
			msg.Data = h.raw[ev.GetEnvelope().GetEventId()]
			msg.Header.Set(jetstream.MsgIDHeader, ev.GetEnvelope().GetEventId())
			msg.Header.Set(bus.HeaderPosition, fmt.Sprintf("%d/%d", pos, pos))
			msg.Header.Set(bus.HeaderCaseID, ev.GetEnvelope().GetCaseId())
			msg.Header.Set(bus.HeaderType, event.Type(ev))
			ack, err := tb.js.PublishMsg(ctx, msg)
			if err != nil {
				tb.t.Fatalf("publish: %v", err)
			}
			tb.onBus[g] = append(tb.onBus[g], ev)
			tb.posOnBus[g] = append(tb.posOnBus[g], store.Position{Commit: uint64(pos), Prepare: uint64(pos)})
			if want := uint64(len(tb.onBus[g])); ack.Sequence != want {
				tb.t.Fatalf("%s: published at sequence %d, want %d", g, ack.Sequence, want)
			}
		}
	}
}

// expected is the view of g built by applying what is on its bus directly.
func (tb *testbed) expected(g string, upTo int) *View {
	v := NewView(g, testNamen[g])
	for i, ev := range tb.onBus[g][:upTo] {
		if ev != nil {
			v.Apply(ev)
			v.noteAt(tb.posOnBus[g][i])
		}
	}
	return v
}

type running struct {
	p    *Projector
	stop func()
}

// start runs a projector on the testbed's snapshot directory until stop.
func (tb *testbed) start(cfg Config) *running {
	tb.t.Helper()
	cfg.JS, cfg.Gemeenten, cfg.Dir = tb.js, tb.reg, tb.dir
	if cfg.FlushEvery == 0 {
		cfg.FlushEvery = 10 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(tb.t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	p, err := NewProjector(cfg)
	if err != nil {
		tb.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				tb.t.Errorf("Run returned %v, want context.Canceled", err)
			}
		})
	}
	tb.t.Cleanup(stop)
	return &running{p: p, stop: stop}
}

// waitAcked waits until every gemeente's view holds, has written and has
// acknowledged all that is on its bus.
func (tb *testbed) waitAcked(r *running) {
	tb.t.Helper()
	ctx := testContext(tb.t)
	for _, g := range twoGemeenten {
		last := uint64(len(tb.onBus[g]))
		if err := r.p.Wait(ctx, g, func(pr Progress) bool { return pr.Acked >= last && pr.Persisted >= last }); err != nil {
			tb.t.Fatal(err)
		}
	}
}

// checkViews compares the live views with views built directly from what
// is on the bus, figures, case lists and snapshot form alike.
func (tb *testbed) checkViews(r *running) {
	tb.t.Helper()
	for _, g := range twoGemeenten {
		want := tb.expected(g, len(tb.onBus[g]))
		got, ok := r.p.View(g)
		if !ok || !proto.Equal(got, want.Proto(BronLive)) {
			tb.t.Errorf("%s: live view\n got  %v\n want %v", g, got, want.Proto(BronLive))
		}
		cases, _ := r.p.Cases(g, true)
		if wc := want.Cases(true); len(cases) != len(wc) || !slices.EqualFunc(cases, wc, func(a, b *ledgerv1.CaseSummary) bool { return proto.Equal(a, b) }) {
			tb.t.Errorf("%s: live case list differs (%d cases, want %d)", g, len(cases), len(wc))
		}
		f := r.p.followers[g]
		f.mu.Lock()
		gotJSON, err := json.Marshal(f.view)
		f.mu.Unlock()
		if err != nil {
			tb.t.Fatal(err)
		}
		if wantJSON, _ := json.Marshal(want); !bytes.Equal(gotJSON, wantJSON) {
			tb.t.Errorf("%s: live view's snapshot form differs from the direct one", g)
		}
	}
}

// onDisk loads g's view from the files a projector left, as a start does.
func (tb *testbed) onDisk(g string) *follower {
	tb.t.Helper()
	f := &follower{code: g, naam: testNamen[g], path: snapshotPath(tb.dir, g), journalPath: journalPath(tb.dir, g),
		log: slog.New(slog.NewTextHandler(tb.t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if err := f.load(); err != nil {
		tb.t.Fatal(err)
	}
	f.journal.close()
	return f
}

// checkOnDisk checks that g's files hold exactly the first upTo messages of
// its bus.
func (tb *testbed) checkOnDisk(g string, upTo int) {
	tb.t.Helper()
	f := tb.onDisk(g)
	if f.snapshotErr != nil || f.progress.Applied != uint64(upTo) {
		tb.t.Errorf("%s on disk: at sequence %d (%v), want %d", g, f.progress.Applied, f.snapshotErr, upTo)
	}
	got, err := json.Marshal(f.view)
	if err != nil {
		tb.t.Fatal(err)
	}
	if want, _ := json.Marshal(tb.expected(g, upTo)); !bytes.Equal(got, want) {
		tb.t.Errorf("%s: the view on disk differs from the direct one", g)
	}
}

func (tb *testbed) generated(n int) *history {
	h := generate(tb.t, 3, n, twoGemeenten)
	return h
}

// TestProjectorMatchesDirectApplication: the live views of two gemeenten
// equal views built by applying the same events directly, and each holds
// only its own cases.
func TestProjectorMatchesDirectApplication(t *testing.T) {
	tb := newTestbed(t)
	h := tb.generated(400)
	tb.publish(h, h.events)
	r := tb.start(Config{BatchSize: 64})
	tb.waitAcked(r)
	tb.checkViews(r)

	ctx := testContext(t)
	for _, g := range twoGemeenten {
		// Only cases that the gemeente received an event of.
		mine := map[string]bool{}
		for _, ev := range tb.onBus[g] {
			mine[ev.GetEnvelope().GetCaseId()] = true
		}
		cases, _ := r.p.Cases(g, true)
		if len(cases) == 0 {
			t.Fatalf("%s has no cases", g)
		}
		for _, cs := range cases {
			if !mine[cs.GetCaseId()] {
				t.Errorf("%s lists case %s it never received", g, cs.GetCaseId())
			}
		}
		active, _ := r.p.Cases(g, false)
		for _, cs := range active {
			if cs.GetGemeente() != g {
				t.Errorf("%s counts case %s of %s as active", g, cs.GetCaseId(), cs.GetGemeente())
			}
		}
		// The durable consumer reads only g's subjects and its ack floor is
		// the end of the stream.
		cons, err := tb.js.Consumer(ctx, bus.StreamName(g), "caseload-"+g)
		if err != nil {
			t.Fatal(err)
		}
		ci := cons.CachedInfo()
		if ci.Config.FilterSubject != bus.Filter(g) || ci.Config.Durable == "" || ci.AckFloor.Stream != uint64(len(tb.onBus[g])) {
			t.Errorf("%s consumer: filter %q durable %q ack floor %d, want %q, durable, %d",
				g, ci.Config.FilterSubject, ci.Config.Durable, ci.AckFloor.Stream, bus.Filter(g), len(tb.onBus[g]))
		}
		// What is on disk (base and journal) is the whole view.
		tb.checkOnDisk(g, len(tb.onBus[g]))
	}
}

// TestProjectorRestart: a new projector on the same directory serves the
// snapshot at once and resumes after it, counting nothing twice.
func TestProjectorRestart(t *testing.T) {
	tb := newTestbed(t)
	h := tb.generated(400)
	half := len(h.events) / 2
	tb.publish(h, h.events[:half])
	r := tb.start(Config{BatchSize: 50})
	tb.waitAcked(r)
	r.stop()
	firstHalf := map[string]int{}
	for _, g := range twoGemeenten {
		firstHalf[g] = len(tb.onBus[g])
	}

	tb.publish(h, h.events[half:])
	r = tb.start(Config{BatchSize: 50})
	// Before it caught up, it serves what it wrote.
	for _, g := range twoGemeenten {
		pr, _ := r.p.Progress(g)
		if pr.Applied < uint64(firstHalf[g]) {
			t.Errorf("%s: restarted at %d, want at least the snapshot's %d", g, pr.Applied, firstHalf[g])
		}
	}
	tb.waitAcked(r)
	tb.checkViews(r)
	for _, g := range twoGemeenten {
		pr, _ := r.p.Progress(g)
		a, _ := r.p.Anomalies(g)
		if pr.Redelivered != 0 || a.Duplicates != 0 {
			t.Errorf("%s: %d redelivered, %d duplicates after a clean restart, want none", g, pr.Redelivered, a.Duplicates)
		}
	}
}

// TestProjectorRebuildsDamagedSnapshot: a view whose snapshot is gone,
// torn, or from an earlier incarnation of its bus stream (the bus was
// rebuilt from the store) is rebuilt from the start of its stream; the
// durable consumer, whose ack floor is ahead, is recreated. The other
// gemeente just resumes.
func TestProjectorRebuildsDamagedSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"deleted", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{"torn", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil {
				t.Fatal(err)
			}
			// A crash mid-write leaves a temporary file; it is cleared.
			if err := os.WriteFile(path+".tmp-123", data[:10], 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"older format", func(t *testing.T, path string) {
			// Format 2 was JSON beside where the base is now.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			old := oldSnapshotPath(filepath.Dir(path), hilversum)
			if err := os.WriteFile(old, []byte(`{"format":2,"gemeente":"`+hilversum+`","seq":1,"view":{}}`), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if _, err := os.Stat(old); err == nil {
					t.Error("the snapshot of the older format is still there")
				}
			})
		}},
		{"other stream", func(t *testing.T, path string) {
			snap, err := readSnapshot(path, hilversum)
			if err != nil || snap == nil {
				t.Fatal(snap, err)
			}
			snap.StreamCreated = snap.StreamCreated.Add(-time.Hour)
			data, err := encodeSnapshot(snap)
			if err != nil {
				t.Fatal(err)
			}
			if err := writeFileAtomic(path, data); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTestbed(t)
			h := tb.generated(300)
			tb.publish(h, h.events)
			r := tb.start(Config{})
			tb.waitAcked(r)
			r.stop()

			path := snapshotPath(tb.dir, hilversum)
			tc.damage(t, path)
			old := len(h.events)
			c := h.aanmelden(hilversum, d(2030, 1, 2), bijstand)
			h.record(c, d(2030, 1, 3), intake(trede3, 20))
			tb.publish(h, h.events[old:])

			r = tb.start(Config{})
			tb.waitAcked(r)
			tb.checkViews(r)
			pr, _ := r.p.Progress(hilversum)
			if pr.Applied != uint64(len(tb.onBus[hilversum])) || pr.Redelivered != 0 {
				t.Errorf("hilversum progress %+v after rebuild", pr)
			}
			if pr, _ := r.p.Progress(huizen); pr.Redelivered != 0 {
				t.Errorf("huizen progress %+v, want a plain resume", pr)
			}
			if temps, _ := filepath.Glob(path + ".tmp-*"); len(temps) != 0 {
				t.Errorf("temporary files left: %v", temps)
			}
		})
	}
}

// TestIsHole tells messages deleted from a stream from messages merely not
// delivered (a plain stream here: bus streams deny deletes).
func TestIsHole(t *testing.T) {
	tb := newTestbed(t)
	ctx := testContext(t)
	stream, err := tb.js.CreateStream(ctx, jetstream.StreamConfig{Name: "HOLES", Subjects: []string{"holes.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if _, err := tb.js.Publish(ctx, "holes.x", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, seq := range []uint64{1, 3, 4} {
		if err := stream.DeleteMsg(ctx, seq); err != nil {
			t.Fatal(err)
		}
	}
	f := &follower{code: "GM0000"}
	for _, tc := range []struct {
		from, to uint64
		want     bool
	}{
		{1, 2, true},  // before the first message
		{3, 5, true},  // 3 and 4 deleted
		{2, 5, false}, // 2 is there
		{5, 6, false},
	} {
		got, err := f.isHole(ctx, stream, tc.from, tc.to)
		if err != nil || got != tc.want {
			t.Errorf("isHole(%d, %d) = %v, %v; want %v", tc.from, tc.to, got, err, tc.want)
		}
	}
}

// crashAfterDelivery makes the state a projector leaves when it dies after
// its consumer handed out every message of g but before it acknowledged
// them: the durable consumer with all of them pending, and a snapshot at
// sequence snapAt written from a view built directly.
func (tb *testbed) crashAfterDelivery(g string, cfg Config, snapAt int) {
	tb.t.Helper()
	ctx := testContext(tb.t)
	stream, err := tb.js.Stream(ctx, bus.StreamName(g))
	if err != nil {
		tb.t.Fatal(err)
	}
	f := &follower{code: g, batch: cfg.BatchSize, ackWait: cfg.AckWait}
	cons, err := stream.CreateConsumer(ctx, f.consumerConfig(1))
	if err != nil {
		tb.t.Fatal(err)
	}
	n := len(tb.onBus[g])
	batch, err := cons.FetchNoWait(n)
	if err != nil {
		tb.t.Fatal(err)
	}
	got := 0
	for range batch.Messages() {
		got++ // taken, never acknowledged
	}
	if got != n || batch.Error() != nil {
		tb.t.Fatalf("fetched %d of %d: %v", got, n, batch.Error())
	}
	data, err := encodeSnapshot(&snapshot{
		Format: snapshotFormat, Gemeente: g, Stream: bus.StreamName(g),
		StreamCreated: stream.CachedInfo().Created, Seq: uint64(snapAt), View: tb.expected(g, snapAt),
	})
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := writeFileAtomic(snapshotPath(tb.dir, g), data); err != nil {
		tb.t.Fatal(err)
	}
}

// TestProjectorRedeliveryNotDoubleCounted: the projector died after its
// snapshot held every message but before it acknowledged them. The broker
// redelivers them after the ack wait; they are skipped, acknowledged, and
// counted once.
func TestProjectorRedeliveryNotDoubleCounted(t *testing.T) {
	tb := newTestbed(t)
	h := tb.generated(200)
	tb.publish(h, h.events)
	cfg := Config{BatchSize: 100, AckWait: 200 * time.Millisecond}
	n := len(tb.onBus[hilversum])
	tb.crashAfterDelivery(hilversum, cfg, n)

	r := tb.start(cfg)
	tb.waitAcked(r)
	tb.checkViews(r)
	pr, _ := r.p.Progress(hilversum)
	if pr.Redelivered < uint64(n) {
		t.Errorf("hilversum: %d redelivered messages skipped, want %d", pr.Redelivered, n)
	}
	if v, _ := r.p.View(hilversum); v.GetVerwerkt() != uint64(n) {
		t.Errorf("hilversum verwerkt %d, want %d", v.GetVerwerkt(), n)
	}
}

// TestProjectorCrashBeforeSnapshot: the projector died after its consumer
// handed out messages its snapshot does not hold. The consumer is recreated
// at the snapshot's next sequence, so nothing waits for the ack wait and
// nothing is counted twice or lost.
func TestProjectorCrashBeforeSnapshot(t *testing.T) {
	tb := newTestbed(t)
	h := tb.generated(200)
	tb.publish(h, h.events)
	cfg := Config{BatchSize: 100, AckWait: time.Hour} // a redelivery would time the test out
	n := len(tb.onBus[hilversum])
	tb.crashAfterDelivery(hilversum, cfg, n/3)

	r := tb.start(cfg)
	tb.waitAcked(r)
	tb.checkViews(r)
	if pr, _ := r.p.Progress(hilversum); pr.Redelivered != 0 {
		t.Errorf("hilversum progress %+v, want no redelivery", pr)
	}
}

// TestProjectorMalformedMessage: an undecodable message is counted with its
// error and passed over; the view does not stall.
func TestProjectorMalformedMessage(t *testing.T) {
	tb := newTestbed(t)
	h := tb.generated(100)
	tb.publish(h, h.events[:50])
	msg := nats.NewMsg(bus.Subject(hilversum, event.TypeIntake))
	msg.Data = []byte("not a protobuf event")
	msg.Header.Set(jetstream.MsgIDHeader, uuid.NewString())
	ack, err := tb.js.PublishMsg(testContext(t), msg)
	if err != nil {
		t.Fatal(err)
	}
	badSeq := ack.Sequence
	tb.onBus[hilversum] = append(tb.onBus[hilversum], nil) // keeps sequences aligned
	tb.posOnBus[hilversum] = append(tb.posOnBus[hilversum], store.Start)
	tb.publish(h, h.events[50:])

	var logs syncBuffer
	r := tb.start(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := testContext(t)
	last := uint64(len(tb.onBus[hilversum]))
	if err := r.p.Wait(ctx, hilversum, func(pr Progress) bool { return pr.Acked >= last }); err != nil {
		t.Fatal(err)
	}
	a, _ := r.p.Anomalies(hilversum)
	if a.Malformed != 1 || !strings.Contains(a.LastMalformed, fmt.Sprintf("stream sequence %d", badSeq)) {
		t.Errorf("anomalies %+v, want the malformed message at %d", a, badSeq)
	}
	if !strings.Contains(logs.String(), "undecodable bus message") {
		t.Errorf("the malformed message was not logged:\n%s", logs.String())
	}
	want := tb.expected(hilversum, len(tb.onBus[hilversum]))
	if got, _ := r.p.View(hilversum); !proto.Equal(got, want.Proto(BronLive)) {
		t.Errorf("figures around a malformed message differ:\n got  %v\n want %v", got, want.Proto(BronLive))
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLiveEqualsReplay is the design's promise end to end: events appended
// to the store, relayed to the bus and projected live give the same figures
// as the auditor's replay from the store.
func TestLiveEqualsReplay(t *testing.T) {
	tb := newTestbed(t)
	ctx := testContext(t)
	st, err := natsstore.New(ctx, tb.js)
	if err != nil {
		t.Fatal(err)
	}
	h := tb.generated(300)
	appendAll(t, st, h)

	rl, err := relay.New(ctx, relay.Config{Store: st, JS: tb.js, Gemeenten: twoGemeenten,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	relayDone := make(chan error, 1)
	go func() { relayDone <- rl.Run(rctx) }()
	defer func() { cancel(); <-relayDone }()
	if err := rl.WaitFor(ctx, store.Position{Commit: uint64(len(h.events)), Prepare: uint64(len(h.events))}); err != nil {
		t.Fatal(err)
	}

	rp, err := Replay(ctx, st, tb.reg)
	if err != nil {
		t.Fatal(err)
	}
	views := rp.Views
	// The certificate names what was read: every stored event, up to the
	// last position, with the digest the auditor's verify computes.
	var want audit.Hash
	var last store.Position
	for rec, err := range st.ReadAll(ctx, store.Start) {
		if err != nil {
			t.Fatal(err)
		}
		want, last = audit.Chain(want, rec.Data), rec.Position
	}
	if c := rp.Certificate(); c.GetGebeurtenissen() != uint64(len(h.events)) || c.GetPositie() != last.String() || c.GetDigest() != audit.DigestOf(want) {
		t.Errorf("replay certificate %v, want %d events up to %s, digest %s", c, len(h.events), last, audit.DigestOf(want))
	}
	r := tb.start(Config{})
	for _, g := range twoGemeenten {
		info, err := tb.js.Stream(ctx, bus.StreamName(g))
		if err != nil {
			t.Fatal(err)
		}
		last := info.CachedInfo().State.LastSeq
		if err := r.p.WaitApplied(ctx, g, last); err != nil {
			t.Fatal(err)
		}
		live, _ := r.p.View(g)
		replayed := views[g].Proto(BronReplay)
		replayed.Bron = BronLive
		if !proto.Equal(live, replayed) {
			t.Errorf("%s: live and replay differ\n live   %v\n replay %v", g, live, replayed)
		}
		if views[g].Verwerkt() == 0 {
			t.Errorf("%s: replay saw nothing", g)
		}
	}
}

func appendAll(t *testing.T, st store.Store, h *history) {
	t.Helper()
	ctx := testContext(t)
	for _, ev := range h.events {
		id := uuid.MustParse(ev.GetEnvelope().GetEventId())
		caseID := uuid.MustParse(ev.GetEnvelope().GetCaseId())
		if _, err := st.Append(ctx, event.Stream(caseID), store.Any(),
			store.EventData{ID: id, Type: event.Type(ev), Data: h.raw[id.String()]}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReplayRefusesMalformedEvent: a damaged event in the store stops the
// replay with its position, instead of being skipped.
func TestReplayRefusesMalformedEvent(t *testing.T) {
	tb := newTestbed(t)
	ctx := testContext(t)
	st, err := natsstore.New(ctx, tb.js)
	if err != nil {
		t.Fatal(err)
	}
	h := tb.generated(20)
	appendAll(t, st, h)
	bad := uuid.New()
	res, err := st.Append(ctx, "case-"+uuid.NewString(), store.NoStream(), store.EventData{ID: bad, Type: "intake", Data: []byte("kapot")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Replay(ctx, st, tb.reg)
	if !errors.Is(err, event.ErrMalformed) || !strings.Contains(err.Error(), res.Position.String()) || !strings.Contains(err.Error(), bad.String()) {
		t.Errorf("Replay: %v, want ErrMalformed naming position %s and event %s", err, res.Position, bad)
	}
}
