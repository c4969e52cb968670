// Package relay derives the bus from the store: it follows the store in
// global order from a durable checkpoint and publishes every event on the
// per-gemeente JetStream streams, so that nothing is ever written twice by
// hand ("dual write").
//
// Exactly once, across crashes of the relay and restarts of the server:
//
//   - The checkpoint (the store position of the last event known to be on
//     the bus) is saved in a JetStream key-value bucket, a little behind the
//     publishing.
//   - On start, the relay reads back the tail of each bus stream, down to the
//     checkpoint, and collects the ids of events already published after it.
//     It then resumes from the checkpoint and skips exactly those. This does
//     not depend on publish order or on a de-duplication window.
//   - Every message carries Nats-Msg-Id = event id, so a republish inside the
//     duplicate window is dropped by the server as a second guard.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/bus"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// Defaults.
const (
	CheckpointBucket = "LEDGER_RELAY"
	checkpointKey    = "checkpoint"
	QuarantineStream = "LEDGER_QUARANTINE"
	quarantinePrefix = "ledger.quarantine"
)

// publishOnStop bounds how long a batch begun before a stop may take to be
// published: a broker that does not answer does not hold the stop up.
const publishOnStop = 10 * time.Second

// Config configures a relay.
type Config struct {
	Store store.Store
	JS    jetstream.JetStream
	// Gemeenten whose bus streams are created up front. A stream for any
	// other gemeente an event names is created when first needed.
	Gemeenten []string
	Replicas  int
	// CheckpointEvery is how often the checkpoint is saved (default 250ms).
	CheckpointEvery time.Duration
	// Instance names this process among those that share the store and
	// the bus; only the one holding the lease publishes (lease.go). The
	// same name after a restart takes its lease back at once. Empty: a
	// name of its own for this run.
	Instance string
	// LeaseTTL is how long the lease lives without renewal
	// (DefaultLeaseTTL when zero).
	LeaseTTL time.Duration
	Logger   *slog.Logger
}

// Relay publishes the store's events on the bus.
type Relay struct {
	cfg     Config
	log     *slog.Logger
	kv      jetstream.KeyValue
	lease   jetstream.KeyValue
	mu      sync.Mutex
	streams map[string]bool
	// published is the position of the last event whose publication the
	// server acknowledged, in store order.
	published store.Position
	notify    chan struct{} // closed and replaced when published moves
	// holder is the lease's value while this relay holds it: its instance
	// and a token of this run (leaseValue).
	holder []byte
}

// New creates the checkpoint bucket, the quarantine stream and the bus
// streams of cfg.Gemeenten.
func New(ctx context.Context, cfg Config) (*Relay, error) {
	if cfg.Store == nil || cfg.JS == nil {
		return nil, errors.New("relay: store and JetStream are required")
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = 250 * time.Millisecond
	}
	if cfg.Replicas < 1 {
		cfg.Replicas = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Instance == "" {
		cfg.Instance = uuid.NewString()
	}
	r := &Relay{cfg: cfg, log: cfg.Logger.With("component", "relay"), streams: map[string]bool{}, notify: make(chan struct{}),
		holder: leaseValue(cfg.Instance, uuid.NewString())}
	kv, err := cfg.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      CheckpointBucket,
		Description: "Store position up to which the relay has published the bus.",
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		History:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: checkpoint bucket: %w", err)
	}
	r.kv = kv
	if r.lease, err = leaseBucket(ctx, cfg.JS, cfg.LeaseTTL, cfg.Replicas); err != nil {
		return nil, err
	}
	if _, err := cfg.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        QuarantineStream,
		Description: "Store events the relay could not decode; kept for inspection, never dropped.",
		Subjects:    []string{quarantinePrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		Duplicates:  bus.DuplicateWindow,
	}); err != nil {
		return nil, fmt.Errorf("relay: quarantine stream: %w", err)
	}
	for _, g := range cfg.Gemeenten {
		if err := r.ensureStream(ctx, g); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *Relay) ensureStream(ctx context.Context, gemeente string) error {
	r.mu.Lock()
	known := r.streams[gemeente]
	r.mu.Unlock()
	if known {
		return nil
	}
	if _, err := bus.EnsureStream(ctx, r.cfg.JS, gemeente, r.cfg.Replicas); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	r.mu.Lock()
	r.streams[gemeente] = true
	r.mu.Unlock()
	return nil
}

// Published returns the store position up to which every event is on the bus.
func (r *Relay) Published() store.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.published
}

// WaitFor blocks until every event up to p is on the bus, or ctx ends.
func (r *Relay) WaitFor(ctx context.Context, p store.Position) error {
	for {
		r.mu.Lock()
		done, ch := !r.published.Less(p), r.notify
		r.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (r *Relay) advance(p store.Position) {
	r.mu.Lock()
	if r.published.Less(p) {
		r.published = p
		close(r.notify)
		r.notify = make(chan struct{})
	}
	r.mu.Unlock()
}

// Run relays until ctx ends, while it holds the lease (lease.go); a relay
// without it stands by. After a failure (the server gone, a publish
// refused) it starts over from the checkpoint, with a growing pause.
func (r *Relay) Run(ctx context.Context) error {
	backoff := minPause
	for {
		from := r.Published()
		rev, err := r.acquire(ctx)
		if err == nil {
			held, lose := context.WithCancelCause(ctx)
			kept := make(chan struct{})
			last := rev // the lease's revision after keep's last renewal
			go func() { defer close(kept); last = r.keep(held, rev, func() { lose(errLeaseLost) }) }()
			err = r.runOnce(held)
			if cause := context.Cause(held); errors.Is(cause, errLeaseLost) {
				err = cause
			}
			lose(nil)
			<-kept
			if ctx.Err() != nil {
				// A clean stop: the standby need not wait for the lease
				// to expire.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				r.release(rctx, last)
				cancel()
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errLeaseLost) {
			r.log.Warn("relay lost its lease; it stands by", "err", err)
			continue
		}
		var wait time.Duration
		wait, backoff = pause(backoff, from.Less(r.Published()))
		r.log.Warn("relay interrupted; resuming from checkpoint", "err", err, "retry_in", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Pauses of the relay before it starts over after an interruption.
const (
	minPause = 50 * time.Millisecond
	maxPause = 6400 * time.Millisecond
)

// pause returns how long to wait after an interruption and the pause after
// the next one. It doubles while runs publish nothing (a broker that stays
// away is not asked again and again), and starts small again after a run
// that published: without that, the faults of an hour ago made the relay
// wait the longest pause after every later one (22 s behind the store
// after a partition healed, in TestLedgerOnClusterThroughFaults).
func pause(cur time.Duration, published bool) (wait, next time.Duration) {
	if published {
		cur = minPause
	}
	return cur, min(2*cur, maxPause)
}

func (r *Relay) runOnce(ctx context.Context) error {
	cp, err := r.loadCheckpoint(ctx)
	if err != nil {
		return err
	}
	already, err := r.reconcile(ctx, cp)
	if err != nil {
		return err
	}
	r.advance(cp)
	r.log.Info("relay following the store", "after", cp.String(), "already_on_bus", len(already))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	saved := make(chan struct{})
	go func() { defer close(saved); r.saveCheckpoints(ctx, cp) }()

	// The subscription reads ahead into recs; the loop below takes what has
	// arrived and publishes it per gemeente stream as one atomic batch, each
	// acknowledged before the next. If one fails, nothing after it is on
	// that gemeente's stream, so it never holds a case's events out of order.
	// An idle relay publishes each event as it comes, so live latency is
	// that of one publish; a backlog (an import) costs one fsync per batch
	// instead of one per event.
	sctx, stopSub := context.WithCancel(ctx)
	defer stopSub()
	recs := make(chan store.RecordedEvent, readAhead)
	subErr := make(chan error, 1)
	go func() {
		defer close(recs)
		subErr <- r.cfg.Store.Subscribe(sctx, cp, func(rec store.RecordedEvent) error {
			select {
			case recs <- rec:
				return nil
			case <-sctx.Done():
				return sctx.Err()
			}
		})
	}()
	batch := make([]store.RecordedEvent, 0, readAhead)
	for rec := range recs {
		batch = append(batch[:0], rec)
	more:
		for len(batch) < cap(batch) {
			select {
			case rec, ok := <-recs:
				if !ok {
					break more
				}
				batch = append(batch, rec)
			default:
				break more
			}
		}
		if ctx.Err() != nil {
			break // stopping: no new batch
		}
		// A batch once begun is published whole, also when the relay is
		// being stopped: a batch cut off half way would leave events of
		// some gemeenten on the bus after the checkpoint saved below, and
		// a clean stop is to save a checkpoint that says exactly what is on
		// the bus (ledger migrate moves it to another store).
		pctx, done := context.WithTimeout(context.WithoutCancel(ctx), publishOnStop)
		err = r.publish(pctx, batch, already)
		done()
		if err != nil {
			break
		}
		r.advance(batch[len(batch)-1].Position)
	}
	stopSub()
	for range recs {
		// Let the subscription see its context end.
	}
	if serr := <-subErr; err == nil {
		err = serr
	}
	cancel()
	<-saved
	// Save what was acknowledged, so a clean stop resumes exactly.
	saveCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer done()
	if serr := r.saveCheckpoint(saveCtx, r.Published()); serr != nil {
		r.log.Warn("relay could not save its checkpoint on stop", "err", serr)
	}
	return err
}

// publish sends store events, in store order, to every gemeente in each
// one's audience and waits for the acknowledgements.
func (r *Relay) publish(ctx context.Context, recs []store.RecordedEvent, already map[string]bool) error {
	// Per gemeente stream in the order of the first event for it; within a
	// stream, store order.
	var order []string
	out := map[string][]*nats.Msg{}
	for _, rec := range recs {
		ev, err := event.Decode(rec.Data)
		if err != nil {
			if err := r.quarantine(ctx, rec, err); err != nil {
				return err
			}
			continue
		}
		typ := event.Type(ev)
		for _, g := range event.Audience(ev, r.cfg.Gemeenten) {
			if already[g+"/"+rec.ID.String()] {
				continue
			}
			if _, ok := out[g]; !ok {
				order = append(order, g)
			}
			msg := nats.NewMsg(bus.Subject(g, typ))
			msg.Data = rec.Data
			msg.Header.Set(jetstream.MsgIDHeader, rec.ID.String())
			msg.Header.Set(bus.HeaderPosition, rec.Position.String())
			msg.Header.Set(bus.HeaderCaseID, ev.GetEnvelope().GetCaseId())
			msg.Header.Set(bus.HeaderType, typ)
			out[g] = append(out[g], msg)
		}
	}
	for _, g := range order {
		if err := r.ensureStream(ctx, g); err != nil {
			return err
		}
		msgs := out[g]
		for len(msgs) > 0 {
			n := min(len(msgs), maxBatch)
			if err := r.send(ctx, g, msgs[:n]); err != nil {
				return err
			}
			msgs = msgs[n:]
		}
	}
	return nil
}

// Batching bounds.
const (
	// readAhead is how many store events the relay takes at a time.
	readAhead = 4096
	// maxBatch is the server's default limit on an atomic batch.
	maxBatch = 1000
	// minBatch: below it the messages go one by one. The server stages an
	// atomic batch in a temporary file store, which costs more than a few
	// fsyncs.
	minBatch = 8
)

// send publishes msgs to the stream of gemeente g: as one atomic batch
// when there are enough of them, else one at a time. A batch the server
// refuses as such (a message id it holds already, a batch too large,
// atomic publish not enabled on the stream) stored nothing, so it is sent
// again one message at a time, where a duplicate is dropped by the server.
func (r *Relay) send(ctx context.Context, g string, msgs []*nats.Msg) error {
	if len(msgs) >= minBatch {
		err := r.sendBatch(ctx, g, msgs)
		var apiErr *jetstream.APIError
		if err == nil || !errors.As(err, &apiErr) {
			return err
		}
		r.log.Warn("bus refused an atomic batch; publishing its messages one by one", "gemeente", g, "messages", len(msgs), "err", err)
		for _, m := range msgs {
			for _, h := range []string{batchIDHeader, batchSeqHeader, batchCommitHeader} {
				m.Header.Del(h)
			}
		}
	}
	for _, m := range msgs {
		if _, err := r.cfg.JS.PublishMsg(ctx, m, jetstream.WithExpectStream(bus.StreamName(g))); err != nil {
			return fmt.Errorf("publish %s (store position %s) to %s: %w", m.Header.Get(jetstream.MsgIDHeader), m.Header.Get(bus.HeaderPosition), g, err)
		}
	}
	return nil
}

// Headers of a JetStream atomic batch.
const (
	batchIDHeader     = "Nats-Batch-Id"
	batchSeqHeader    = "Nats-Batch-Sequence"
	batchCommitHeader = "Nats-Batch-Commit"
)

func (r *Relay) sendBatch(ctx context.Context, g string, msgs []*nats.Msg) error {
	id := uuid.NewString()
	for i, m := range msgs {
		m.Header.Set(batchIDHeader, id)
		m.Header.Set(batchSeqHeader, strconv.Itoa(i+1))
	}
	last := msgs[len(msgs)-1]
	last.Header.Set(batchCommitHeader, "1")
	// The parts before the commit need no reply: the server answers the
	// commit for the whole batch and stores nothing without it.
	for _, m := range msgs[:len(msgs)-1] {
		if err := r.cfg.JS.Conn().PublishMsg(m); err != nil {
			return fmt.Errorf("publish batch of %d to %s: %w", len(msgs), g, err)
		}
	}
	if _, err := r.cfg.JS.PublishMsg(ctx, last, jetstream.WithExpectStream(bus.StreamName(g))); err != nil {
		return fmt.Errorf("publish batch of %d to %s (store positions %s to %s): %w", len(msgs), g,
			msgs[0].Header.Get(bus.HeaderPosition), last.Header.Get(bus.HeaderPosition), err)
	}
	return nil
}

// quarantine keeps an event the relay can not decode. Nothing is dropped:
// the raw bytes go to quarantine and the bus moves on, so one damaged event
// does not stop every gemeente.
func (r *Relay) quarantine(ctx context.Context, rec store.RecordedEvent, cause error) error {
	r.log.Error("store event can not be decoded; quarantined", "position", rec.Position.String(), "event_id", rec.ID, "stream", rec.Stream, "err", cause)
	msg := nats.NewMsg(quarantinePrefix + "." + rec.Stream)
	msg.Data = rec.Data
	msg.Header.Set(jetstream.MsgIDHeader, rec.ID.String())
	msg.Header.Set(bus.HeaderPosition, rec.Position.String())
	msg.Header.Set("Ledger-Error", cause.Error())
	if _, err := r.cfg.JS.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("quarantine %s: %w", rec.ID, err)
	}
	return nil
}

func (r *Relay) saveCheckpoints(ctx context.Context, saved store.Position) {
	t := time.NewTicker(r.cfg.CheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		if p := r.Published(); saved.Less(p) {
			if err := r.saveCheckpoint(ctx, p); err != nil {
				r.log.Warn("relay checkpoint not saved", "err", err)
				continue
			}
			saved = p
		}
	}
}

func (r *Relay) loadCheckpoint(ctx context.Context) (store.Position, error) {
	e, err := r.kv.Get(ctx, checkpointKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return store.Start, nil
	}
	if err != nil {
		return store.Start, fmt.Errorf("relay: load checkpoint: %w", err)
	}
	p, err := store.ParsePosition(string(e.Value()))
	if err != nil {
		return store.Start, fmt.Errorf("relay: checkpoint: %w", err)
	}
	return p, nil
}

func (r *Relay) saveCheckpoint(ctx context.Context, p store.Position) error {
	if _, err := r.kv.PutString(ctx, checkpointKey, p.String()); err != nil {
		return fmt.Errorf("relay: save checkpoint %s: %w", p, err)
	}
	return nil
}

// reconcile reads each bus stream back from its last message to the
// checkpoint and returns "gemeente/event id" of every event already there.
func (r *Relay) reconcile(ctx context.Context, cp store.Position) (map[string]bool, error) {
	already := map[string]bool{}
	names := r.cfg.JS.StreamNames(ctx, jetstream.WithStreamListSubject(bus.SubjectPrefix+".>"))
	for name := range names.Name() {
		g, ok := strings.CutPrefix(name, "LEDGER_EVENTS_")
		if !ok {
			continue
		}
		s, err := r.cfg.JS.Stream(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("relay: reconcile %s: %w", name, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("relay: reconcile %s: %w", name, err)
		}
		for seq := info.State.LastSeq; seq >= info.State.FirstSeq && seq > 0; seq-- {
			m, err := s.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("relay: reconcile %s seq %d: %w", name, seq, err)
			}
			pos, err := store.ParsePosition(m.Header.Get(bus.HeaderPosition))
			if err != nil {
				return nil, fmt.Errorf("relay: reconcile %s seq %d: %w", name, seq, err)
			}
			if !cp.Less(pos) {
				break
			}
			already[g+"/"+m.Header.Get(jetstream.MsgIDHeader)] = true
		}
		// Brought up to today's configuration, as New does for the
		// gemeenten it knows: a stream made on demand by an older relay
		// would refuse every atomic batch.
		if err := r.ensureStream(ctx, g); err != nil {
			return nil, err
		}
	}
	if err := names.Err(); err != nil {
		return nil, fmt.Errorf("relay: list bus streams: %w", err)
	}
	return already, nil
}
