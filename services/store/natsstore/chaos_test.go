package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker/natscluster"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// chaosCyclesEnv sets how many fault cycles TestAppendThroughFaults runs
// (`make chaos` sets it to 20).
const chaosCyclesEnv = "LEDGER_CHAOS_CYCLES"

// TestAppendThroughFaults appends continuously to an R3 store on a
// three-node cluster while nodes die, come back and are cut off, and checks
// after every fault, once the cluster is healthy again, that every
// acknowledged append is in the store exactly once, where its
// acknowledgement said, and that no event is there twice.
//
// Each writer is a client as the store's contract has it: it appends to
// streams of its own with the expected revision, and when an append gets
// no answer or the store says it is unavailable it sends the same events,
// with the same ids, again, until one attempt is acknowledged. A retry of
// an append that had landed must then be recognised, not written again.
//
// One cycle is three faults: a follower killed and restarted, the stream's
// leader killed and restarted, and a node partitioned and healed (the
// leader in odd cycles, a follower in even ones).
//
// make test runs two cycles (a leader partitioned, then a follower); make
// chaos twenty. The leader's partition once showed a retry of an append
// that had landed called a conflict after the heal ("expected revision
// 372, stream is at revision 372 ... its event ids are stored already":
// the server held the ids, the leader's answer was from before them);
// settle now looks up where the ids are (TestSettleOnOldLeaderAnswer).
func TestAppendThroughFaults(t *testing.T) {
	cycles := 2
	if v := os.Getenv(chaosCyclesEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a number of cycles", chaosCyclesEnv, v)
		}
		cycles = n
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	c := natscluster.Start(t)
	check := openCluster(t, c, DefaultStreamName)
	read := &chaosRead{}
	l := &chaosLog{}
	const writers, streamsEach = 6, 3
	stop := make(chan struct{})
	var wg sync.WaitGroup
	handles := make([]*Store, writers)
	for w := range writers {
		// A connection and a store handle of its own, like a process of
		// its own, spread over the nodes: writer w tries node w%3 first.
		// (A client stays where it is until its node goes away, so they
		// drift together as nodes are killed; see where() below.)
		urls := c.URLs()
		urls = append(urls[w%natscluster.Size:], urls[:w%natscluster.Size]...)
		s := openClusterVia(t, c, DefaultStreamName, strings.Join(urls, ","), nats.DontRandomize())
		handles[w] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			runWriter(ctx, s, w, streamsEach, stop, l)
		}()
	}
	// In the end the writers stop after their current append; a test that
	// fails on the way cancels them.
	stopWriters := sync.OnceFunc(func() {
		close(stop)
		wg.Wait()
	})
	defer func() {
		cancel()
		stopWriters()
	}()

	// where says which node each writer is connected to.
	where := func() []string {
		at := make([]string, writers)
		for w, s := range handles {
			at[w] = s.nc.ConnectedServerName()
			if at[w] == "" {
				at[w] = "-"
			}
		}
		return at
	}
	// spread moves each writer back to its own node w%3 (a client stays
	// where it is until its node goes away, so after a few kills they
	// would all be on one node), so that a partition has writers on both
	// sides. Each move is a reconnect, which may lose the answer to an
	// append on the way: one more fault.
	spread := func() {
		t.Helper()
		if err := natscluster.Eventually(natscluster.Timeout, func() error {
			at := where()
			moved := 0
			for w, s := range handles {
				if at[w] != c.NodeName(w%natscluster.Size) {
					moved++
					if s.nc.IsConnected() {
						s.nc.ForceReconnect()
					}
				}
			}
			if moved > 0 {
				return fmt.Errorf("writers connected to %v", at)
			}
			return nil
		}); err != nil {
			t.Fatalf("spread the writers over the nodes: %v", err)
		}
	}
	// progress waits until the writers have n more acknowledged appends.
	progress := func(what string, n int) {
		t.Helper()
		from := l.acked()
		if err := natscluster.Eventually(natscluster.Timeout, func() error {
			if err := l.failure(); err != nil {
				return err
			}
			if got := l.acked() - from; got < n {
				return fmt.Errorf("%d of %d appends acknowledged", got, n)
			}
			return nil
		}); err != nil {
			if stream := l.failedStream(); stream != "" {
				t.Logf("%s: %s", stream, lastOnEachNode(t, c, check, stream))
			}
			t.Fatalf("%s: %v; writers connected to %v; %s\nstreams being retried:\n%s\n%s", what, err, where(), l.summary(), l.stalled(), c.Describe())
		}
	}
	leader := func() int {
		t.Helper()
		var i int
		if err := natscluster.Eventually(natscluster.Timeout, func() error {
			var ok bool
			if i, ok = c.StreamLeader(DefaultStreamName); !ok {
				return errors.New("no leader")
			}
			return nil
		}); err != nil {
			t.Fatalf("leader of %s: %v", DefaultStreamName, err)
		}
		return i
	}

	progress("before the first fault", 50)
	faults, minority := 0, 0
	start := time.Now()
	for cycle := range cycles {
		begin := time.Now()
		lead := leader()
		follower := (lead + 1 + cycle%2) % natscluster.Size
		c.Kill(follower)
		progress(fmt.Sprintf("cycle %d: with follower %s killed", cycle, c.NodeName(follower)), 20)
		c.Restart(follower)
		faults++
		verifyChaos(t, ctx, check, l, read, false)

		lead = leader()
		c.Kill(lead)
		progress(fmt.Sprintf("cycle %d: with leader %s killed", cycle, c.NodeName(lead)), 20)
		c.Restart(lead)
		faults++
		verifyChaos(t, ctx, check, l, read, false)

		cut := leader()
		if cycle%2 == 0 {
			cut = (cut + 1) % natscluster.Size
		}
		spread()
		c.Partition(cut)
		// Writers connected to the cut-off node wait for the partition
		// to end (their connection is fine, only nothing commits); the
		// others go on, when there are any.
		at := where()
		stuck := 0
		for _, name := range at {
			if name == c.NodeName(cut) {
				stuck++
			}
		}
		minority += stuck
		if stuck < writers {
			progress(fmt.Sprintf("cycle %d: with %s cut off", cycle, c.NodeName(cut)), 20)
		} else {
			t.Logf("cycle %d: every writer is connected to %s, which is cut off", cycle, c.NodeName(cut))
		}
		c.Heal(cut)
		faults++
		progress(fmt.Sprintf("cycle %d: after healing %s", cycle, c.NodeName(cut)), 20)
		verifyChaos(t, ctx, check, l, read, false)
		t.Logf("cycle %d: 3 faults in %s; %d of %d writers were on the cut-off side; %s", cycle, time.Since(begin).Round(time.Millisecond), stuck, writers, l.summary())
	}
	stopWriters()
	if err := l.failure(); err != nil {
		t.Fatal(err)
	}
	found, dups := verifyChaos(t, ctx, check, l, read, true)
	// The replicas agree with each other, not only the leader with the
	// writers.
	if err := natscluster.Eventually(natscluster.Timeout, func() error {
		var states []string
		for i := range natscluster.Size {
			st, err := c.StreamState(i, DefaultStreamName)
			if err != nil {
				return err
			}
			states = append(states, fmt.Sprintf("%s: %d messages, %d..%d", c.NodeName(i), st.Msgs, st.FirstSeq, st.LastSeq))
			if st.Msgs != uint64(found) || st.LastSeq != uint64(found) {
				return fmt.Errorf("replicas differ from the %d events read: %v", found, states)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("%d faults in %d cycles, %s per cycle; %s; found %d events, %d duplicated; %d writer-partitions on the minority side",
		faults, cycles, (elapsed / time.Duration(cycles)).Round(time.Millisecond), l.summary(), found, dups, minority)
}

// ack is an acknowledged event: where the store said it put it.
type ack struct {
	stream   string
	revision uint64
	position uint64
}

// chaosLog is what the writers report.
type chaosLog struct {
	mu         sync.Mutex
	acks       map[uuid.UUID]ack
	appends    int
	retries    int
	errs       map[string]int
	failed     error
	failStream string
	// last is each stream's latest retried error, with when it came and
	// how many came in a row: what a stall report names.
	last map[string]lastErr
}

type lastErr struct {
	err       string
	retriedAt time.Time
	count     int
}

func (l *chaosLog) acked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appends
}

func (l *chaosLog) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

func (l *chaosLog) fail(stream string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed == nil {
		l.failed, l.failStream = err, stream
	}
}

func (l *chaosLog) failedStream() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failStream
}

// lastOnEachNode says what the stream's leader and each node's replica
// hold as the last event of a stream: the message get API is answered by
// the leader, a direct get by the replica of the node asked, when it
// serves direct gets.
func lastOnEachNode(t *testing.T, c *natscluster.Cluster, s *Store, stream string) string {
	subj := s.prefix + stream
	var out []string
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if m, err := s.stream.GetLastMsgForSubject(ctx, subj); err == nil {
		out = append(out, fmt.Sprintf("direct get from any replica: revision %s at %d", m.Header.Get(hdrRevision), m.Sequence))
	}
	req, _ := json.Marshal(map[string]string{"last_by_subj": subj})
	if m, err := s.nc.RequestWithContext(ctx, apiPrefix(s.js.Options())+"STREAM.MSG.GET."+s.name, req); err == nil {
		out = append(out, "leader: "+string(m.Data))
	}
	for i := range natscluster.Size {
		if c.Server(i) == nil {
			continue
		}
		nc := c.ConnectTo(i)
		m, err := nc.RequestWithContext(ctx, s.direct+"."+subj, nil)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", c.NodeName(i), err))
			continue
		}
		out = append(out, fmt.Sprintf("%s: revision %s at %s (%s)", c.NodeName(i), m.Header.Get(hdrRevision), m.Header.Get(jetstream.SequenceHeader), m.Header.Get("Status")))
		nc.Close()
	}
	return strings.Join(out, "; ")
}

func (l *chaosLog) retry(stream string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = map[string]lastErr{}
	}
	e := l.last[stream]
	e.err, e.count = err.Error(), e.count+1
	e.retriedAt = time.Now()
	l.last[stream] = e
	l.retries++
	if l.errs == nil {
		l.errs = make(map[string]int)
	}
	l.errs[errKind(err)]++
}

func (l *chaosLog) record(stream string, evs []store.EventData, res store.AppendResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.acks == nil {
		l.acks = make(map[uuid.UUID]ack)
	}
	n := uint64(len(evs))
	for i, ev := range evs {
		back := n - 1 - uint64(i)
		// One append is one atomic batch: its events are adjacent.
		l.acks[ev.ID] = ack{stream: stream, revision: res.Revision - back, position: res.Position.Commit - back}
	}
	l.appends++
	delete(l.last, stream)
}

// stalled names, per stream that is being retried now, its latest error.
func (l *chaosLog) stalled() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for stream, e := range l.last {
		out = append(out, fmt.Sprintf("%s: %d retries in a row, the last %s ago: %s", stream, e.count, time.Since(e.retriedAt).Round(time.Millisecond), e.err))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// snapshot copies the acknowledgements so far.
func (l *chaosLog) snapshot() map[uuid.UUID]ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[uuid.UUID]ack, len(l.acks))
	for id, a := range l.acks {
		m[id] = a
	}
	return m
}

func (l *chaosLog) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	kinds := make([]string, 0, len(l.errs))
	for k, n := range l.errs {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(kinds)
	return fmt.Sprintf("%d appends (%d events) acknowledged, %d retries %v", l.appends, len(l.acks), l.retries, kinds)
}

// errKind names an append error for the counts.
func errKind(err error) string {
	var u *store.UnavailableError
	var apiErr *jetstream.APIError
	switch {
	case errors.As(err, &u):
		return "unavailable:" + u.Rule
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return "no answer in time"
	case errors.As(err, &apiErr):
		return fmt.Sprintf("JetStream error %d", apiErr.ErrorCode)
	}
	// Without numbers, so that errors of one kind are counted together.
	return "other: " + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, err.Error())
}

// writerPace is the least time between two appends of one writer.
const writerPace = 20 * time.Millisecond

// runWriter appends to its own streams until stop is closed, then ends
// after its current append is acknowledged, so that in the end every event
// in the store is an acknowledged one.
func runWriter(ctx context.Context, s *Store, w, streams int, stop <-chan struct{}, l *chaosLog) {
	next := make([]int64, streams) // per stream the revision the next event gets
	// Paced: what matters is that appends are under way when a fault
	// strikes, not how many.
	pace := time.NewTicker(writerPace)
	defer pace.Stop()
	for k := 0; ; k++ {
		select {
		case <-stop:
			return
		case <-pace.C:
		}
		i := k % streams
		stream := fmt.Sprintf("chaos-w%d-s%d", w, i)
		// Every fourth append is an atomic batch of three.
		n := 1
		if k%4 == 3 {
			n = 3
		}
		evs := make([]store.EventData, n)
		for j := range evs {
			evs[j] = store.EventData{ID: uuid.New(), Type: "uren", Data: fmt.Appendf(nil, "writer %d stream %d revision %d", w, i, next[i]+int64(j))}
		}
		exp := store.NoStream()
		if next[i] > 0 {
			exp = store.Exactly(uint64(next[i] - 1))
		}
		res, err := appendUntilAcknowledged(ctx, s, stream, exp, evs, l)
		if err != nil {
			l.fail(stream, fmt.Errorf("writer %d, %s under %s: %w", w, stream, exp, err))
			return
		}
		if want := uint64(next[i]) + uint64(n) - 1; res.Revision != want {
			l.fail(stream, fmt.Errorf("writer %d, %s under %s: acknowledged at revision %d, want %d", w, stream, exp, res.Revision, want))
			return
		}
		l.record(stream, evs, res)
		next[i] += int64(n)
	}
}

// appendUntilAcknowledged sends the same append until it is acknowledged.
// An error that no retry can change (a conflict: the writer owns the
// stream, so none is possible; an invalid event) ends it.
func appendUntilAcknowledged(ctx context.Context, s *Store, stream string, exp store.Expected, evs []store.EventData, l *chaosLog) (store.AppendResult, error) {
	wait := 10 * time.Millisecond
	for {
		// An election takes seconds; an attempt that gets no answer in
		// this time is retried rather than waited for.
		actx, cancel := context.WithTimeout(ctx, 3*time.Second)
		res, err := s.Append(actx, stream, exp, evs...)
		cancel()
		switch {
		case err == nil:
			return res, nil
		case ctx.Err() != nil:
			return res, ctx.Err()
		case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrInvalidEvent), errors.Is(err, store.ErrInvalidStream):
			return res, err
		}
		l.retry(stream, err)
		// Pace the retries while a leader is being elected, so that
		// the writers do not keep both cores busy doing nothing.
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return res, ctx.Err()
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// chaosRead is what the checks have read of the store so far: a check
// reads only what came after (the store only grows), and holds it to what
// came before, so that twenty cycles do not read hundreds of thousands of
// events sixty times over (with -race, a read of the whole store at 300,000
// events outlasted its 20 s).
type chaosRead struct {
	upTo    store.Position
	n       int
	seen    map[uuid.UUID]int
	at      map[uuid.UUID]store.RecordedEvent // where each id was first found
	nextRev map[string]uint64
	dups    int
}

// verifyChaos checks, after a fault, that every event acknowledged so far
// is in the store once, at the stream, revision and position its
// acknowledgement said, that no event is stored twice, and that the store's
// order agrees with every stream's revisions; final also asks that nothing
// is stored that was never acknowledged. It returns the events found and
// how many are stored twice.
func verifyChaos(t *testing.T, ctx context.Context, s *Store, l *chaosLog, st *chaosRead, final bool) (found, dups int) {
	t.Helper()
	if st.seen == nil {
		st.seen, st.at, st.nextRev = map[uuid.UUID]int{}, map[uuid.UUID]store.RecordedEvent{}, map[string]uint64{}
	}
	// Taken before the read: everything acknowledged by now is in what the
	// read sees, since ReadAll ends at the store's end when it is called.
	acks := l.snapshot()
	var tail []store.RecordedEvent
	err := natscluster.Eventually(natscluster.Timeout, func() error {
		tail = tail[:0]
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		for r, err := range s.ReadAll(rctx, st.upTo) {
			if err != nil {
				return err
			}
			tail = append(tail, r)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read the store after %s: %v", st.upTo, err)
	}
	var problems []string
	report := func(format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	for _, r := range tail {
		st.n++
		st.seen[r.ID]++
		if st.seen[r.ID] == 2 {
			st.dups++
			report("event %s is stored twice (again at %s)", r.ID, r.Position)
		} else {
			st.at[r.ID] = r
		}
		if !st.upTo.Less(r.Position) {
			report("event %s at %s comes after %s", r.ID, r.Position, st.upTo)
		}
		st.upTo = r.Position
		if want := st.nextRev[r.Stream]; r.Revision != want {
			report("event %s of %s has revision %d where the stream's next is %d", r.ID, r.Stream, r.Revision, want)
		}
		st.nextRev[r.Stream] = r.Revision + 1
	}
	missing := 0
	for id, a := range acks {
		r, ok := st.at[id]
		switch {
		case !ok:
			missing++
			report("acknowledged event %s (%s/%d) is not in the store", id, a.stream, a.revision)
		case a.stream != r.Stream || a.revision != r.Revision || a.position != r.Position.Commit:
			report("event %s was acknowledged at %s/%d position %d, is stored at %s/%d position %s", id, a.stream, a.revision, a.position, r.Stream, r.Revision, r.Position)
		}
	}
	if final {
		for id, r := range st.at {
			if _, ok := acks[id]; !ok {
				report("event %s (%s/%d) is stored but was never acknowledged", id, r.Stream, r.Revision)
			}
		}
	}
	if len(problems) > 0 {
		t.Fatalf("after %s: %d events read, %d acknowledged, %d missing, %d duplicated:\n%s", l.summary(), st.n, len(acks), missing, st.dups, fmt.Sprintln(problems))
	}
	return st.n, st.dups
}
