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
	"strings"
	"sync"
	"time"

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
	Logger          *slog.Logger
}

// Relay publishes the store's events on the bus.
type Relay struct {
	cfg     Config
	log     *slog.Logger
	kv      jetstream.KeyValue
	mu      sync.Mutex
	streams map[string]bool
	// published is the position of the last event whose publication the
	// server acknowledged, in store order.
	published store.Position
	notify    chan struct{} // closed and replaced when published moves
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
	r := &Relay{cfg: cfg, log: cfg.Logger.With("component", "relay"), streams: map[string]bool{}, notify: make(chan struct{})}
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

// Run relays until ctx ends. After a failure (the server gone, a publish
// refused) it starts over from the checkpoint, with a growing pause.
func (r *Relay) Run(ctx context.Context) error {
	backoff := 50 * time.Millisecond
	for {
		err := r.runOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.Warn("relay interrupted; resuming from checkpoint", "err", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
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

	// One publication at a time, each acknowledged before the next: if one
	// fails, nothing after it is on the bus, so a gemeente's stream never
	// holds a case's events out of order.
	err = r.cfg.Store.Subscribe(ctx, cp, func(rec store.RecordedEvent) error {
		if err := r.publish(ctx, rec, already); err != nil {
			return err
		}
		r.advance(rec.Position)
		return nil
	})
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

// publish sends one store event to every gemeente in its audience and
// waits for each acknowledgement.
func (r *Relay) publish(ctx context.Context, rec store.RecordedEvent, already map[string]bool) error {
	ev, err := event.Decode(rec.Data)
	if err != nil {
		// Nothing is dropped: the raw bytes go to quarantine and the bus
		// moves on, so one damaged event does not stop every gemeente.
		r.log.Error("store event can not be decoded; quarantined", "position", rec.Position.String(), "event_id", rec.ID, "stream", rec.Stream, "err", err)
		msg := nats.NewMsg(quarantinePrefix + "." + rec.Stream)
		msg.Data = rec.Data
		msg.Header.Set(jetstream.MsgIDHeader, rec.ID.String())
		msg.Header.Set(bus.HeaderPosition, rec.Position.String())
		msg.Header.Set("Ledger-Error", err.Error())
		if _, err := r.cfg.JS.PublishMsg(ctx, msg); err != nil {
			return fmt.Errorf("quarantine %s: %w", rec.ID, err)
		}
		return nil
	}
	typ := event.Type(ev)
	for _, g := range event.Audience(ev, r.cfg.Gemeenten) {
		if already[g+"/"+rec.ID.String()] {
			continue
		}
		if err := r.ensureStream(ctx, g); err != nil {
			return err
		}
		msg := nats.NewMsg(bus.Subject(g, typ))
		msg.Data = rec.Data
		msg.Header.Set(jetstream.MsgIDHeader, rec.ID.String())
		msg.Header.Set(bus.HeaderPosition, rec.Position.String())
		msg.Header.Set(bus.HeaderCaseID, ev.GetEnvelope().GetCaseId())
		msg.Header.Set(bus.HeaderType, typ)
		if _, err := r.cfg.JS.PublishMsg(ctx, msg, jetstream.WithExpectStream(bus.StreamName(g))); err != nil {
			return fmt.Errorf("publish %s (store position %s) to %s: %w", rec.ID, rec.Position, g, err)
		}
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
		r.mu.Lock()
		r.streams[g] = true
		r.mu.Unlock()
	}
	if err := names.Err(); err != nil {
		return nil, fmt.Errorf("relay: list bus streams: %w", err)
	}
	return already, nil
}
