package natsstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			return open(t, startBroker(t, broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:-1"}))
		},
		Features: storetest.Features{
			MaxAppend:       broker.MaxBatch,
			Reopen:          func(t *testing.T, s store.Store) store.Store { return open(t, serverOf(t, s)) },
			InterruptAppend: interruptAppend,
		},
	})
}

// servers remembers the broker behind each store a test opened.
var servers sync.Map // *Store → *broker.Server

func startBroker(t testing.TB, cfg broker.Config) *broker.Server {
	t.Helper()
	srv, err := broker.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// open opens a store on its own in-process connection to srv, as ledger
// serve opens it on the embedded broker; opts come after that.
func open(t testing.TB, srv *broker.Server, opts ...Option) *Store {
	t.Helper()
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return openOn(t, nc, srv, opts...)
}

func openOn(t testing.TB, nc *nats.Conn, srv *broker.Server, opts ...Option) *Store {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), js, append([]Option{WithMaxAppend(broker.MaxBatch)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	servers.Store(s, srv)
	t.Cleanup(func() { servers.Delete(s) })
	return s
}

func serverOf(t *testing.T, s store.Store) *broker.Server {
	srv, ok := servers.Load(s)
	if !ok {
		t.Fatalf("store %p was not opened by this test", s)
	}
	return srv.(*broker.Server)
}

// interruptAppend publishes the first parts of the atomic batch Append
// would send, on a connection of its own, and closes that connection
// without the commit: a writer killed mid-append.
func interruptAppend(t *testing.T, st store.Store, stream string, expected store.Expected, events []store.EventData, after int) {
	t.Helper()
	nc, err := serverOf(t, st).Connect(nats.MaxReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	interruptAppendOn(t, nc, st.(*Store), stream, expected, events, after)
}

// interruptAppendOn is interruptAppend on the connection nc, which it
// closes.
func interruptAppendOn(t *testing.T, nc *nats.Conn, s *Store, stream string, expected store.Expected, events []store.EventData, after int) {
	t.Helper()
	defer nc.Close()
	subj := s.prefix + stream
	var next, seq uint64
	if !expected.IsNoStream() {
		last, ok, err := s.last(t.Context(), subj)
		if err != nil || !ok {
			t.Fatalf("interrupt append to %s: no last event: %v", stream, err)
		}
		next, seq = last.rev+1, last.seq
	}
	msgs := s.messages(subj, next, seq, events, uuid.NewString())
	for _, m := range msgs[:after] {
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	// The parts have reached the server once it answers a ping after them.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := nc.FlushWithContext(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestExpectedLastSubjectSequence pins the behaviour of nats-server issue
// #7361 on the server version in go.mod: Nats-Expected-Last-Subject-Sequence
// is compared with the last sequence of the subject, not of the stream. The
// store's concurrency control rests on it.
func TestExpectedLastSubjectSequence(t *testing.T) {
	ctx := t.Context()
	srv := startBroker(t, broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:-1"})
	s := open(t, srv)
	a, b := s.prefix+"probe-a", s.prefix+"probe-b"
	pub := func(subj string, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
		return s.js.Publish(ctx, subj, []byte("probe"), opts...)
	}
	var seqs []uint64
	for _, subj := range []string{a, b, a} {
		ack, err := pub(subj)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ack.Sequence)
	}
	streamLast, bLast := seqs[2], seqs[1]

	_, err := pub(b, jetstream.WithExpectLastSequencePerSubject(streamLast))
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != errWrongLastSeq ||
		!strings.Contains(apiErr.Description, fmt.Sprintf("wrong last sequence: %d", bLast)) {
		t.Fatalf("expecting the stream's last sequence %d on %s: %v; want error %d naming %d", streamLast, b, err, errWrongLastSeq, bLast)
	}
	ack, err := pub(b, jetstream.WithExpectLastSequencePerSubject(bLast))
	if err != nil {
		t.Fatalf("expecting %s's own last sequence %d: %v", b, bLast, err)
	}
	if ack.Sequence != streamLast+1 {
		t.Fatalf("stored at %d, want %d", ack.Sequence, streamLast+1)
	}

	// The same through the store, from a handle with nothing cached.
	mustAppend(t, s, "case-a", store.NoStream(), 1)
	mustAppend(t, s, "case-b", store.NoStream(), 1)
	mustAppend(t, s, "case-a", store.Exactly(0), 1)
	if res := mustAppend(t, open(t, srv), "case-b", store.Exactly(0), 1); res.Revision != 1 {
		t.Fatalf("case-b at revision %d, want 1", res.Revision)
	}
}

// TestRestart restarts the server under a store and a running
// subscription, with an interrupted batch pending: what was acknowledged is
// there afterwards, the interrupted batch is not, and the subscription goes
// on without skipping or repeating.
func TestRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	// broker.Config{Listen: "127.0.0.1:0"} does not listen at all (port 0
	// becomes the server's RANDOM_PORT, -1, which broker reads as "no
	// network"), so take a free port here.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := startBroker(t, broker.Config{Dir: dir, Listen: addr})
	reconnected := make(chan struct{}, 1)
	nc, err := nats.Connect(srv.ClientURL(),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(10*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) {
			select {
			case reconnected <- struct{}{}:
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s := openOn(t, nc, srv)

	var want []store.RecordedEvent
	appendN := func(stream string, exp store.Expected, n int) {
		t.Helper()
		evs := testEvents(n)
		res := mustAppendEvents(t, s, stream, exp, evs...)
		for i, ev := range evs {
			want = append(want, store.RecordedEvent{ID: ev.ID, Stream: stream, Revision: res.Revision - uint64(n-1-i)})
		}
	}
	appendN("case-1", store.NoStream(), 3)
	appendN("case-2", store.NoStream(), 1)
	appendN("case-1", store.Exactly(2), 1)

	got := make(chan store.RecordedEvent)
	subDone := make(chan error, 1)
	subCtx, stopSub := context.WithCancel(ctx)
	defer func() { stopSub(); <-subDone }()
	go func() {
		subDone <- s.Subscribe(subCtx, store.Start, func(r store.RecordedEvent) error {
			select {
			case got <- r:
				return nil
			case <-subCtx.Done():
				return subCtx.Err()
			}
		})
	}()
	next := func() store.RecordedEvent {
		t.Helper()
		select {
		case r := <-got:
			return r
		case err := <-subDone:
			subDone <- err
			t.Fatalf("subscription ended: %v", err)
		case <-ctx.Done():
			t.Fatalf("waiting for an event: %v", ctx.Err())
		}
		return store.RecordedEvent{}
	}
	check := func(from int) {
		t.Helper()
		for i := from; i < len(want); i++ {
			r := next()
			if r.ID != want[i].ID || r.Stream != want[i].Stream || r.Revision != want[i].Revision {
				t.Fatalf("event %d: got %s %s/%d, want %s %s/%d", i, r.ID, r.Stream, r.Revision, want[i].ID, want[i].Stream, want[i].Revision)
			}
		}
	}
	check(0)
	seen := len(want)

	pending := testEvents(3)
	interruptAppend(t, s, "case-2", store.Exactly(0), pending, 2)

	srv.Shutdown()
	srv = startBroker(t, broker.Config{Dir: dir, Listen: addr})
	servers.Store(s, srv)
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatal("client did not reconnect")
	}

	recs, err := s.ReadStream(ctx, "case-1")
	if err != nil || len(recs) != 4 {
		t.Fatalf("case-1 after restart: %d events, %v; want 4", len(recs), err)
	}
	if recs, err := s.ReadStream(ctx, "case-2"); err != nil || len(recs) != 1 {
		t.Fatalf("case-2 after restart: %d events, %v; want only the acknowledged 1", len(recs), err)
	}
	res := mustAppendEvents(t, s, "case-2", store.Exactly(0), pending...)
	for i, ev := range pending {
		want = append(want, store.RecordedEvent{ID: ev.ID, Stream: "case-2", Revision: res.Revision - uint64(len(pending)-1-i)})
	}
	appendN("case-3", store.NoStream(), 2)
	appendN("case-1", store.Exactly(3), 1)
	check(seen)

	var all []store.RecordedEvent
	for r, err := range s.ReadAll(ctx, store.Start) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	if len(all) != len(want) {
		t.Fatalf("ReadAll after restart: %d events, want %d", len(all), len(want))
	}
	for i := range all {
		if all[i].ID != want[i].ID {
			t.Fatalf("ReadAll event %d is %s, want %s", i, all[i].ID, want[i].ID)
		}
	}
}

func testEvents(n int) []store.EventData {
	evs := make([]store.EventData, n)
	for i := range evs {
		evs[i] = store.EventData{ID: uuid.New(), Type: "intake", Data: []byte(fmt.Sprintf("event %d", i))}
	}
	return evs
}

func mustAppend(t *testing.T, s *Store, stream string, exp store.Expected, n int) store.AppendResult {
	t.Helper()
	return mustAppendEvents(t, s, stream, exp, testEvents(n)...)
}

func mustAppendEvents(t *testing.T, s *Store, stream string, exp store.Expected, evs ...store.EventData) store.AppendResult {
	t.Helper()
	res, err := s.Append(t.Context(), stream, exp, evs...)
	if err != nil {
		t.Fatalf("append %d events to %s under %s: %v", len(evs), stream, exp, err)
	}
	return res
}

// TestSubscribeCancelWhileServerDown: a subscription whose server went
// away still ends when its context does.
func TestSubscribeCancelWhileServerDown(t *testing.T) {
	srv := startBroker(t, broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:-1"})
	s := open(t, srv)
	mustAppend(t, s, "case-1", store.NoStream(), 2)
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan struct{}, 2)
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(ctx, store.Start, func(store.RecordedEvent) error {
			got <- struct{}{}
			return nil
		})
	}()
	for range 2 {
		select {
		case <-got:
		case err := <-done:
			t.Fatalf("subscription ended: %v", err)
		}
	}
	srv.Shutdown()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Subscribe returned %v, want %v", err, context.Canceled)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Subscribe did not return after cancel while the server was down")
	}
}

// TestReadByCachedSequences: a store reads a case it wrote by the cached
// sequences of its events, and a case that another writer has appended to
// since (here a second store on the same stream) is read whole all the
// same: the cache is checked against the subject's last message.
func TestReadByCachedSequences(t *testing.T) {
	ctx := context.Background()
	srv := startBroker(t, broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:-1"})
	a, b := open(t, srv), open(t, srv)
	ev := func() store.EventData { return store.EventData{ID: uuid.New(), Type: "uren", Data: []byte("x")} }
	read := func(s *Store, stream string, want int) {
		t.Helper()
		recs, err := s.ReadStream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != want {
			t.Fatalf("read %d events of %s, want %d", len(recs), stream, want)
		}
		for i, r := range recs {
			if r.Revision != uint64(i) || i > 0 && r.Position.Commit <= recs[i-1].Position.Commit {
				t.Fatalf("event %d: revision %d at %s", i, r.Revision, r.Position)
			}
		}
	}
	// Other cases in between, so that the case's events are far apart.
	noise := func() {
		for range 20 {
			if _, err := a.Append(ctx, "case-"+uuid.NewString(), store.NoStream(), ev()); err != nil {
				t.Fatal(err)
			}
		}
	}
	x := "case-" + uuid.NewString()
	res, err := a.Append(ctx, x, store.NoStream(), ev(), ev())
	if err != nil {
		t.Fatal(err)
	}
	noise()
	if res, err = a.Append(ctx, x, store.Exactly(res.Revision), ev()); err != nil {
		t.Fatal(err)
	}
	if got := len(a.cachedSeqs(a.prefix + x)); got != 3 {
		t.Fatalf("%d sequences cached after three appended events", got)
	}
	read(a, x, 3)
	noise()
	// b appends behind a's back; a's cache is now one short.
	if _, err := b.Append(ctx, x, store.Exactly(res.Revision), ev(), ev()); err != nil {
		t.Fatal(err)
	}
	read(a, x, 5)
	if got := len(a.cachedSeqs(a.prefix + x)); got != 5 {
		t.Fatalf("%d sequences cached after reading five events", got)
	}
	read(b, x, 5)
}

// TestUnavailableMapping: the broker's answers that mean "not stored, try
// again" become store.ErrUnavailable with the rule that says why; one that
// leaves the outcome open (the same id still in process, a connection lost
// after sending) is store.ErrOutcomeUnknown, not unavailable, whose reason
// says nothing was stored.
func TestUnavailableMapping(t *testing.T) {
	for _, tc := range []struct {
		code jetstream.ErrorCode
		desc string
		rule string // "" for passed on unchanged
	}{
		{10023, "insufficient resources", store.RuleOpslagVol},
		{10047, "insufficient storage resources available", store.RuleOpslagVol},
		{10077, "no space left on device", store.RuleOpslagVol},
		{10077, "error storing message", store.RuleOpslagWeg},
		{10076, "jetstream not enabled", store.RuleOpslagWeg},
		{10008, "JetStream system temporarily unavailable", store.RuleOpslagWeg},
		{10176, "atomic publish batch is incomplete", store.RuleOpslagWeg},
		{10158, "duplicate message id is in process", "?"},
		{10071, "wrong last sequence: 3", ""},
		{0, "nats: server is disconnected", "?"},
	} {
		err := unavailable(fmt.Errorf("append: %w", &jetstream.APIError{ErrorCode: tc.code, Description: tc.desc}))
		if tc.code == 0 {
			err = unavailable(fmt.Errorf("append: %w", nats.ErrDisconnected))
		}
		var u *store.UnavailableError
		switch {
		case tc.rule == "?":
			if !errors.Is(err, store.ErrOutcomeUnknown) || errors.Is(err, store.ErrUnavailable) {
				t.Errorf("%d %s: %v, want outcome unknown", tc.code, tc.desc, err)
			}
		case tc.rule == "" && errors.Is(err, store.ErrUnavailable):
			t.Errorf("%d %s: called unavailable: %v", tc.code, tc.desc, err)
		case tc.rule != "" && (!errors.As(err, &u) || u.Rule != tc.rule):
			t.Errorf("%d %s: %v, want rule %s", tc.code, tc.desc, err, tc.rule)
		}
	}
}

// TestRefusedAtExpectedPauses: an append the server refuses while the
// leader's answer puts the stream where expected (a subject with an append
// still in process, an answer behind) is asked again after a growing
// pause, not in a tight loop against a leader that is busy already.
func TestRefusedAtExpectedPauses(t *testing.T) {
	srv := startBroker(t, broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:-1"})
	a, b := open(t, srv), open(t, srv)
	ctx := context.Background()
	first, err := a.Append(ctx, "case-1", store.NoStream(), testEvents(1)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, "case-1", store.Exactly(0), testEvents(1)...); err != nil {
		t.Fatal(err)
	}
	// a's leader answers, forever, that the stream ends at revision 0.
	var asked atomic.Int64
	a.testHookLeaderLast = func(string, tip, bool) (tip, bool) {
		asked.Add(1)
		return tip{0, first.Position.Commit}, true
	}
	actx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := a.Append(actx, "case-1", store.Exactly(0), testEvents(1)...); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("append against an answer that never catches up: %v, want the deadline", err)
	}
	if n := asked.Load(); n == 0 || n > 30 {
		t.Fatalf("the leader was asked %d times in 300 ms; want a few, with pauses between", n)
	}
}

// TestSettleReadsOnlyTheTail: a handle that retries an append which landed
// (its answer lost) settles it by reading the append's own events, not
// the whole stream. In the store chaos run a stream of 5,600 events made
// every settle read 5,600 messages one by one; under load that outlasted
// each attempt's 3 s, so the writer retried forever.
func TestSettleReadsOnlyTheTail(t *testing.T) {
	srv := startBroker(t, broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:-1"})
	a := open(t, srv)
	ctx := context.Background()
	const long = 2000
	var res store.AppendResult
	for k := 0; k < long; k += DefaultMaxAppend {
		exp := store.NoStream()
		if k > 0 {
			exp = store.Exactly(res.Revision)
		}
		res = mustAppend(t, a, "case-long", exp, min(DefaultMaxAppend, long-k))
	}
	for _, tc := range []struct {
		name     string
		n        int
		other    bool // the retry carries other events than landed
		self     bool // the handle that appended retries, with the sequences it cached
		conflict bool
	}{
		{"one event", 1, false, false, false},
		{"a batch of three", 3, false, false, false},
		{"other events", 2, true, false, true},
		{"the same handle, a batch of two", 2, false, true, false},
		{"the same handle, other events", 1, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expected := store.Exactly(res.Revision)
			evs := testEvents(tc.n)
			landed := mustAppendEvents(t, a, "case-long", expected, evs...)
			res = landed
			// b is a fresh handle: it knows nothing of the stream, as a
			// process that took over, or one whose cache was cleared.
			b := open(t, srv)
			if tc.self {
				b = a
				defer func() { a.testHookLeaderGet = nil }()
			}
			var gets atomic.Int64
			b.testHookLeaderGet = func(msgGet) { gets.Add(1) }
			retry := evs
			if tc.other {
				retry = testEvents(tc.n)
			}
			got, err := b.Append(ctx, "case-long", expected, retry...)
			switch {
			case tc.conflict && !errors.Is(err, store.ErrConflict):
				t.Fatalf("retry with other events: %v, want a conflict", err)
			case !tc.conflict && err != nil:
				t.Fatalf("retry of an append that landed: %v", err)
			case !tc.conflict && got != landed:
				t.Fatalf("retry answered %+v, the append landed as %+v", got, landed)
			}
			// The leader's last, then the append's own events.
			if n := gets.Load(); n > int64(1+tc.n) {
				t.Fatalf("settle asked the leader for %d messages of a %d-event stream; want at most %d", n, landed.Revision+1, 1+tc.n)
			}
		})
	}
}

// TestReadAllPastAStalledConsumer: a consumer that stops delivering while
// it still sends its heartbeats (on a cluster, one placed on a replica that
// is catching up) does not hold a read up: ReadAll opens a new consumer
// after the last event it delivered and reads on to the end, each event
// once. The first consumer is paused for an hour here, which is what such
// a replica looks like to the reader.
func TestReadAllPastAStalledConsumer(t *testing.T) {
	s := open(t, startBroker(t, broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:-1"}))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const streams, perStream = 20, 100
	for i := range streams {
		evs := make([]store.EventData, perStream)
		for j := range evs {
			evs[j] = store.EventData{ID: uuid.New(), Type: "aanmelding", Data: []byte{byte(j)}}
		}
		if _, err := s.Append(ctx, fmt.Sprintf("case-%d", i), store.NoStream(), evs...); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[uuid.UUID]int{}
	paused := false
	var last store.Position
	for rec, err := range s.ReadAll(ctx, store.Start) {
		if err != nil {
			t.Fatalf("after %d events: %v", len(seen), err)
		}
		if !last.Less(rec.Position) {
			t.Fatalf("event at %s after %s", rec.Position, last)
		}
		last = rec.Position
		seen[rec.ID]++
		if paused {
			continue
		}
		names := s.stream.ConsumerNames(ctx)
		for name := range names.Name() {
			if _, err := s.js.PauseConsumer(ctx, s.name, name, time.Now().Add(time.Hour)); err != nil {
				t.Fatalf("pause consumer %s: %v", name, err)
			}
			paused = true
		}
		if err := names.Err(); err != nil || !paused {
			t.Fatalf("no consumer to pause: %v", err)
		}
	}
	if len(seen) != streams*perStream {
		t.Fatalf("read %d events, want %d", len(seen), streams*perStream)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("event %s read %d times", id, n)
		}
	}
}

// TestAppendAboveServerLimit: a store told it may append more than the
// server takes in one atomic batch gets the server's refusal as
// store.ErrTooManyEvents, and nothing of the append is stored, neither
// of one case nor of several in one step.
func TestAppendAboveServerLimit(t *testing.T) {
	s := open(t, startBroker(t, broker.Config{Dir: t.TempDir(), Listen: "127.0.0.1:-1"}), WithMaxAppend(broker.MaxBatch+1))
	ctx := context.Background()
	if _, err := s.Append(ctx, "case-1", store.NoStream(), testEvents(broker.MaxBatch+1)...); !errors.Is(err, store.ErrTooManyEvents) {
		t.Fatalf("append of %d events: %v, want %v", broker.MaxBatch+1, err, store.ErrTooManyEvents)
	}
	evs := testEvents(broker.MaxBatch + 1)
	writes := []store.Write{
		{Stream: "case-2", Expected: store.NoStream(), Events: evs[:1]},
		{Stream: "case-3", Expected: store.NoStream(), Events: evs[1:]},
	}
	if _, err := s.AppendMulti(ctx, writes); !errors.Is(err, store.ErrTooManyEvents) {
		t.Fatalf("append multi of %d events: %v, want %v", len(evs), err, store.ErrTooManyEvents)
	}
	if head, err := s.Head(ctx); err != nil || head.Commit != 0 {
		t.Fatalf("head after refused appends: %v, %v; want nothing stored", head, err)
	}
	// The limit itself goes through in one step.
	res, err := s.AppendMulti(ctx, []store.Write{{Stream: "case-2", Expected: store.NoStream(), Events: evs[1:]}})
	if err != nil || len(res) != 1 || res[0].Position.Commit != broker.MaxBatch {
		t.Fatalf("append multi of %d events: %v, %v", broker.MaxBatch, res, err)
	}
}
