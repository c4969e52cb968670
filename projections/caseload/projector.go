package caseload

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/bus"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Defaults of Config.
const (
	DefaultBatchSize = 1000
	DefaultAckWait   = 30 * time.Second
)

// DefaultFlushEvery is how often, at most, a quiet bus makes a view write
// its snapshot.
const DefaultFlushEvery = time.Second

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
)

// A follower's pull requests expire after pullExpiry and ask for a
// heartbeat every pullHeartbeat while the bus is quiet. Two missed
// heartbeats are how a lost pull request is noticed: on a cluster a
// consumer just created can lose its first one (the store's reader has
// the same, see natsstore), and with the client's defaults (30 s, 15 s)
// the view then stood still for 30 s with messages waiting on its stream.
const (
	pullExpiry    = 10 * time.Second
	pullHeartbeat = time.Second
)

// Config configures a Projector.
type Config struct {
	// JS is the bus.
	JS jetstream.JetStream
	// Gemeenten to keep a view of, every one on file (also those that no
	// longer take part: their history stays): one bus stream, one durable
	// consumer and one snapshot file each.
	Gemeenten *gemeente.Registry
	// Today is the day the views are read as of: the herindelingen in force
	// that day join the views of the ended gemeente and its successor (see
	// Compose). Nil reads every view on its own.
	Today func() *ledgerv1.Date
	// Dir holds the snapshot and journal files; it is created when
	// missing. Deleting a snapshot makes its view rebuild from the start of
	// its bus stream.
	Dir string
	// BatchSize: what was taken is written (journal.go), and the messages
	// acknowledged, after this many messages, or as soon as the consumer has
	// nothing more pending. Default DefaultBatchSize.
	BatchSize int
	// AckWait is how long the broker waits for an acknowledgement before it
	// redelivers. Default DefaultAckWait.
	AckWait time.Duration
	// FlushEvery bounds how often a trickle of events makes the view write
	// (an fsync each), and so how long an applied message may wait for its
	// acknowledgement when the bus goes quiet. Default DefaultFlushEvery.
	FlushEvery time.Duration
	// Replicas of the bus streams, passed to bus.EnsureStream; default 1.
	Replicas int
	// Instance names this process when several ledger processes read one
	// bus: each keeps its own views, so each needs its own durable
	// consumers (a shared one would hand each process half the messages).
	// Empty: the one process, with the consumer names of before.
	Instance string
	// Logger; slog.Default() when nil.
	Logger *slog.Logger

	// compactMin overrides minCompact (tests).
	compactMin int64
	// journalOnStop leaves the journal as it is on a stop, as a crash
	// would (tests of the journal).
	journalOnStop bool
}

// Projector keeps each gemeente's View up to date from the bus: the live
// side of the caseload projection.
//
// Per gemeente G it reads the bus stream LEDGER_EVENTS_<G> through the
// durable pull consumer "caseload-<G>", filtered to G's subjects only,
// applies each message to G's View, and writes what it applied, with the
// stream sequence of each message, to disk: a base snapshot and a journal
// after it (journal.go). A message is acknowledged (ack policy "all") only
// once it is on disk, so a crash loses nothing and a restart resumes from
// there; messages that come again at or below the view's sequence are
// skipped.
//
// A message that can not be decoded is not dropped silently, nor does it
// stall the view: it is counted in the view's Anomalies (with the last
// error), logged, and acknowledged with its batch. The bus is derived from
// the store, so the remedy is to repair the relay and rebuild the view;
// Replay from the store, by contrast, fails on a malformed event.
//
// The views are safe to read while the projector runs.
type Projector struct {
	followers map[string]*follower
	codes     []string
	reg       *gemeente.Registry
	today     func() *ledgerv1.Date
	running   atomic.Bool
}

// Progress is how far a gemeente's view is along its bus stream, in stream
// sequences.
type Progress struct {
	// Applied: last message taken into the view (served by View).
	Applied uint64
	// Persisted: last message in the snapshot on disk.
	Persisted uint64
	// Acked: the consumer's ack floor as this projector last knew it.
	Acked uint64
	// Redelivered counts messages skipped because the view already held
	// them.
	Redelivered uint64
}

// NewProjector checks cfg and loads the snapshots on disk, so that the
// views serve their last known figures before Run has caught up.
func NewProjector(cfg Config) (*Projector, error) {
	if cfg.JS == nil {
		return nil, errors.New("caseload projector: no JetStream")
	}
	if cfg.Dir == "" {
		return nil, errors.New("caseload projector: no snapshot directory")
	}
	if cfg.Gemeenten == nil || len(cfg.Gemeenten.All()) == 0 {
		return nil, errors.New("caseload projector: no gemeenten")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.Replicas < 1 {
		cfg.Replicas = 1
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = DefaultFlushEvery
	}
	if cfg.compactMin <= 0 {
		cfg.compactMin = minCompact
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("caseload projector: %w", err)
	}
	all := cfg.Gemeenten.All()
	p := &Projector{followers: make(map[string]*follower, len(all)), reg: cfg.Gemeenten, today: cfg.Today}
	for _, g := range all {
		f := &follower{
			js:          cfg.JS,
			code:        g.Code,
			naam:        g.Naam,
			instance:    cfg.Instance,
			path:        snapshotPath(cfg.Dir, g.Code),
			oldPath:     oldSnapshotPath(cfg.Dir, g.Code),
			journalPath: journalPath(cfg.Dir, g.Code),
			compactMin:  cfg.compactMin,
			baseOnStop:  !cfg.journalOnStop,
			batch:       cfg.BatchSize,
			ackWait:     cfg.AckWait,
			every:       cfg.FlushEvery,
			replicas:    cfg.Replicas,
			log:         log.With("projection", "caseload", "gemeente", g.Code),
		}
		p.followers[g.Code] = f
		p.codes = append(p.codes, g.Code)
	}
	// The snapshots are independent files, and decoding them is most of a
	// start: load them side by side.
	errs := make([]error, len(p.codes))
	var wg sync.WaitGroup
	for i, code := range p.codes {
		wg.Go(func() { errs[i] = p.followers[code].load() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// Gemeenten returns the codes the projector keeps views of.
func (p *Projector) Gemeenten() []string { return append([]string(nil), p.codes...) }

// Run follows every gemeente's bus stream until ctx ends, then writes what
// it applied and returns ctx.Err(). Errors of one gemeente (the broker gone,
// a consumer deleted) are logged and retried with backoff; they do not stop
// the others.
func (p *Projector) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("caseload projector: already running")
	}
	defer p.running.Store(false)
	var wg sync.WaitGroup
	for _, code := range p.codes {
		f := p.followers[code]
		wg.Go(func() { f.run(ctx) })
	}
	wg.Wait()
	return ctx.Err()
}

// View returns the live caseload of a gemeente, as of today.
func (p *Projector) View(code string) (*ledgerv1.CaseloadView, bool) {
	var out *ledgerv1.CaseloadView
	ok := p.composed(code, func(c *Composed) { out = c.Proto(BronLive) })
	return out, ok
}

// Cases lists a gemeente's cases from its live view; see Composed.Cases.
func (p *Projector) Cases(code string, includeClosed bool) ([]*ledgerv1.CaseSummary, bool) {
	var out []*ledgerv1.CaseSummary
	ok := p.composed(code, func(c *Composed) { out = c.Cases(includeClosed) })
	return out, ok
}

// Anomalies returns what a gemeente's live view could not use.
func (p *Projector) Anomalies(code string) (Anomalies, bool) {
	var out Anomalies
	ok := p.composed(code, func(c *Composed) { out = c.Anomalies() })
	return out, ok
}

// composed runs fn with the view of code composed as of today, holding the
// locks of every view involved (in code order, so that two readers can not
// deadlock).
func (p *Projector) composed(code string, fn func(*Composed)) bool {
	if _, ok := p.followers[code]; !ok {
		return false
	}
	var today *ledgerv1.Date
	involved := []string{code}
	if p.today != nil && p.reg != nil {
		today = p.today()
		for _, h := range p.reg.Betrokken(code, today) {
			involved = append(involved, h.Van, h.Naar)
		}
	}
	slices.Sort(involved)
	involved = slices.Compact(involved)
	for _, g := range involved {
		if f := p.followers[g]; f != nil {
			f.mu.Lock()
			defer f.mu.Unlock()
		}
	}
	fn(Compose(code, func(g string) *View {
		if f := p.followers[g]; f != nil {
			return f.view
		}
		return nil
	}, p.reg, today))
	return true
}

// Progress returns how far a gemeente's view is.
func (p *Projector) Progress(code string) (Progress, bool) {
	f, ok := p.followers[code]
	if !ok {
		return Progress{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.progress, true
}

// Wait blocks until cond holds for a gemeente's progress, or ctx ends.
func (p *Projector) Wait(ctx context.Context, code string, cond func(Progress) bool) error {
	f, ok := p.followers[code]
	if !ok {
		return fmt.Errorf("caseload projector: no view of %s", code)
	}
	for {
		f.mu.Lock()
		if cond(f.progress) {
			f.mu.Unlock()
			return nil
		}
		if f.notify == nil {
			f.notify = make(chan struct{})
		}
		ch, pr := f.notify, f.progress
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("caseload projector: wait for %s (applied %d, persisted %d, acked %d): %w",
				code, pr.Applied, pr.Persisted, pr.Acked, ctx.Err())
		}
	}
}

// WaitApplied blocks until a gemeente's view holds bus stream sequence seq.
func (p *Projector) WaitApplied(ctx context.Context, code string, seq uint64) error {
	return p.Wait(ctx, code, func(pr Progress) bool { return pr.Applied >= seq })
}

// follower keeps one gemeente's view. Only its run goroutine changes the
// fields below mu, and only while holding mu; other goroutines read them
// holding mu. The run goroutine reads its own writes without the lock.
type follower struct {
	js       jetstream.JetStream
	code     string
	instance string // Config.Instance
	naam     string
	path     string
	batch    int
	ackWait  time.Duration
	every    time.Duration
	replicas int
	log      *slog.Logger
	// lastFlush is when the view was last written; only the run goroutine
	// uses it.
	lastFlush time.Time
	// The view on disk (journal.go): the base snapshot's size, the open
	// journal that extends it, and the encoded records of what was taken
	// since the last flush. needBase: the next flush writes a new base
	// (there is none, the view was rebuilt, or the journal's end is
	// unknown after a failed write). Only the run goroutine uses them
	// (and load, before it runs).
	journalPath string
	oldPath     string // the snapshot of an older format, removed on load
	compactMin  int64
	baseOnStop  bool
	bases       int // base snapshots written (tests)
	baseSize    int64
	journal     *journal
	recs        []byte
	needBase    bool

	mu   sync.Mutex
	view *View
	// viewStream is the creation time of the bus stream the view's
	// sequences belong to.
	viewStream  time.Time
	snapshotErr error // the snapshot could not be read; for the next plan
	outOfOrder  bool  // a message arrived out of order; for the next plan
	progress    Progress
	notify      chan struct{} // closed on every progress change, if anyone waits
}

func (f *follower) durable() string {
	if f.instance != "" {
		return bus.LedgerConsumer(f.code) + "-" + f.instance
	}
	return bus.LedgerConsumer(f.code)
}

// changed wakes waiters; call with mu held.
func (f *follower) changed() {
	if f.notify != nil {
		close(f.notify)
		f.notify = nil
	}
}

// load reads the snapshot, if any. An unreadable one is not an error here:
// the view starts empty and the plan rebuilds it.
func (f *follower) load() error {
	f.view = NewView(f.code, f.naam)
	if err := removeTemps(f.path); err != nil {
		return fmt.Errorf("caseload projector %s: %w", f.code, err)
	}
	if f.oldPath != "" {
		// A snapshot of format 2 (JSON): not read, the view is rebuilt
		// from the bus, and the file goes so that it is not left behind.
		if err := os.Remove(f.oldPath); err == nil {
			f.log.Info("caseload snapshot of an older format removed; the view will be rebuilt", "path", f.oldPath)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("caseload projector %s: %w", f.code, err)
		}
	}
	snap, err := readSnapshot(f.path, f.code)
	switch {
	case err != nil:
		f.snapshotErr = err
		f.log.Warn("caseload snapshot unreadable; the view will be rebuilt", "err", err)
	case snap != nil:
		f.view = snap.View
		f.view.naam = f.naam // the data file, not the snapshot, names the gemeente
		f.viewStream = snap.StreamCreated
		f.progress.Applied, f.progress.Persisted = snap.Seq, snap.Seq
		if fi, err := os.Stat(f.path); err == nil {
			f.baseSize = fi.Size()
		}
		return f.loadJournal(snap)
	}
	f.needBase = true
	return nil
}

// loadJournal applies the journal that extends the base snapshot snap, and
// opens it for the next flush. A journal that does not extend snap, or its
// damaged end, is left out: the bus hands the rest over again.
func (f *follower) loadJournal(snap *snapshot) error {
	jr, err := readJournal(f.journalPath)
	if err != nil {
		f.log.Warn("caseload journal unreadable; the view goes on from its base snapshot", "err", err)
		jr = nil
	}
	if jr == nil || !jr.header.extends(snap) {
		if jr != nil {
			f.log.Info("caseload journal belongs to another base snapshot; left out", "journal_base_seq", jr.header.BaseSeq, "base_seq", snap.Seq)
		}
		j, err := createJournal(f.journalPath, f.header(snap.Seq))
		if err != nil {
			return fmt.Errorf("caseload projector %s: %w", f.code, err)
		}
		f.journal = j
		return nil
	}
	end, damage := jr.headerEnd, jr.damage
	for _, rec := range jr.records {
		if why := f.replay(rec); why != "" {
			damage = why
			break
		}
		f.progress.Applied, f.progress.Persisted = rec.seq, rec.seq
		end = rec.end
	}
	if damage != "" {
		f.log.Warn("caseload journal damaged; the view goes on from before the damage and the bus hands the rest over again",
			"damage", damage, "seq", f.progress.Applied)
	}
	j, err := openJournal(f.journalPath, jr.headerEnd, end)
	if err != nil {
		return fmt.Errorf("caseload projector %s: %w", f.code, err)
	}
	f.journal = j
	return nil
}

// replay applies one journal record to the view, as take did when it was
// written, or says why it can not.
func (f *follower) replay(rec journalRecord) string {
	if rec.seq <= f.progress.Applied {
		return fmt.Sprintf("record of sequence %d at or below the view's %d", rec.seq, f.progress.Applied)
	}
	switch rec.kind {
	case recEvent:
		ev, data, err := decodeKept(rec.data)
		if err != nil {
			return fmt.Sprintf("event of sequence %d: %v", rec.seq, err)
		}
		f.view.apply(ev, data)
	case recEventAt:
		if len(rec.data) < 16 {
			return fmt.Sprintf("event of sequence %d: too short for its position", rec.seq)
		}
		ev, data, err := decodeKept(rec.data[16:])
		if err != nil {
			return fmt.Sprintf("event of sequence %d: %v", rec.seq, err)
		}
		f.view.apply(ev, data)
		f.view.noteAt(positionOf(rec.data))
	case recMalformed:
		f.view.recordMalformed(string(rec.data))
	default:
		return fmt.Sprintf("record of sequence %d has unknown kind %d", rec.seq, rec.kind)
	}
	return ""
}

func (f *follower) header(baseSeq uint64) journalHeader {
	return journalHeader{Format: journalFormat, Gemeente: f.code, StreamCreated: f.viewStream, BaseSeq: baseSeq}
}

// run follows the bus until ctx ends, starting over after errors.
func (f *follower) run(ctx context.Context) {
	// The journal is open only while the view is followed; a later Run
	// starts with a new base.
	defer func() {
		f.baseAtStop()
		f.journal.close()
		f.journal = nil
	}()
	backoff := minBackoff
	for {
		before := f.progress.Applied
		err := f.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		if f.progress.Applied != before {
			backoff = minBackoff
		}
		level := slog.LevelError
		if errors.Is(err, jetstream.ErrNoHeartbeat) {
			// A lost pull request (see pullHeartbeat): routine on a
			// cluster, and a new one is all it takes.
			level = slog.LevelWarn
		}
		f.log.Log(ctx, level, "caseload projection interrupted; starting over", "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

var errOutOfOrder = errors.New("bus message out of order")

// pending is what has been taken from the bus since the last flush.
type pending struct {
	last jetstream.Msg // acknowledging it acknowledges all before it
	seq  uint64
	n    int
}

// follow opens the consumer and applies messages until ctx ends or an
// error occurs.
func (f *follower) follow(ctx context.Context) (err error) {
	stream, cons, err := f.open(ctx)
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullExpiry(pullExpiry), jetstream.PullHeartbeat(pullHeartbeat))
	if err != nil {
		return fmt.Errorf("read bus %s: %w", bus.StreamName(f.code), err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()

	var pend pending
	defer func() {
		// Keep what was applied: write it and, best effort, acknowledge it,
		// also when ctx has ended.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if ferr := f.flush(fctx, &pend); ferr != nil {
			if err == nil {
				err = ferr
			} else {
				f.log.Warn("caseload projection could not write or acknowledge on stop", "err", ferr)
			}
		}
	}()
	for {
		var msg jetstream.Msg
		if pend.last != nil {
			msg, err = it.Next(jetstream.NextMaxWait(f.every))
		} else {
			msg, err = it.Next()
		}
		if errors.Is(err, nats.ErrTimeout) {
			if time.Since(f.lastFlush) < f.quiet() {
				continue
			}
			if err := f.flush(ctx, &pend); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read bus %s: %w", bus.StreamName(f.code), err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("read bus %s: %w", bus.StreamName(f.code), err)
		}
		if err := f.take(ctx, stream, msg, meta.Sequence.Stream); err != nil {
			return err
		}
		pend.last, pend.seq, pend.n = msg, meta.Sequence.Stream, pend.n+1
		// A flush costs an fsync, so a trickle of single events must not
		// make one each: flush a full batch at once, a quiet bus at most
		// once per FlushEvery (the timeout above catches the rest).
		if pend.n >= f.flushAt() || (meta.NumPending == 0 && time.Since(f.lastFlush) >= f.quiet()) {
			if err := f.flush(ctx, &pend); err != nil {
				return err
			}
		}
	}
}

// maxBatch is what MaxAckPending leaves room for: a larger BatchSize is
// cut to it.
const maxBatch = 65536

// flushAt is how many taken messages make a flush.
func (f *follower) flushAt() int { return min(f.batch, maxBatch) }

// quiet is how long after its last flush a quiet bus makes the view flush
// again: FlushEvery, never longer than half the ack wait, so that nothing
// taken is redelivered.
func (f *follower) quiet() time.Duration { return min(f.every, f.ackWait/2) }

// open makes sure the stream and the durable consumer exist and are where
// the view is, as planRebuild decides.
func (f *follower) open(ctx context.Context) (jetstream.Stream, jetstream.Consumer, error) {
	stream, err := bus.EnsureStream(ctx, f.js, f.code, f.replicas)
	if err != nil {
		return nil, nil, err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("bus stream %s: %w", bus.StreamName(f.code), err)
	}
	facts := startFacts{
		Applied:     f.progress.Applied,
		ViewStream:  f.viewStream,
		SnapshotErr: f.snapshotErr,
		Stream:      info.Created,
		First:       info.State.FirstSeq,
		Last:        info.State.LastSeq,
		Msgs:        info.State.Msgs,
		OutOfOrder:  f.outOfOrder,
	}
	cons, err := stream.Consumer(ctx, f.durable())
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		cons = nil
	case err != nil:
		return nil, nil, fmt.Errorf("consumer %s on %s: %w", f.durable(), bus.StreamName(f.code), err)
	default:
		ci := cons.CachedInfo()
		facts.Consumer = &consumerFacts{
			AckFloor:  ci.AckFloor.Stream,
			Delivered: ci.Delivered.Stream,
			ConfigOK:  f.configOK(ci.Config),
		}
	}

	plan, err := planRebuild(facts)
	if err != nil {
		return nil, nil, fmt.Errorf("caseload %s: %w", f.code, err)
	}
	level := slog.LevelInfo
	if plan.Rebuild || plan.Consumer == recreateConsumer {
		level = slog.LevelWarn
	}
	f.log.Log(ctx, level, "caseload projection starting", "rebuild", plan.Rebuild, "consumer", plan.Consumer.String(),
		"start_seq", plan.StartSeq, "why", plan.Why)

	if plan.Consumer != keepConsumer {
		if plan.Consumer == recreateConsumer {
			if err := stream.DeleteConsumer(ctx, f.durable()); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
				return nil, nil, fmt.Errorf("delete consumer %s: %w", f.durable(), err)
			}
		}
		if cons, err = stream.CreateConsumer(ctx, f.consumerConfig(plan.StartSeq)); err != nil {
			return nil, nil, fmt.Errorf("create consumer %s at %d: %w", f.durable(), plan.StartSeq, err)
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if plan.Rebuild {
		f.view = NewView(f.code, f.naam)
		f.progress.Applied, f.progress.Persisted = 0, 0
		// Until the rebuilt view has a base of its own, the files on disk
		// are the discarded view's, and a restart discards them again.
		f.recs, f.needBase = f.recs[:0], true
	}
	if f.progress.Applied == 0 {
		f.viewStream = info.Created
	}
	f.snapshotErr, f.outOfOrder = nil, false
	if plan.Consumer == keepConsumer {
		f.progress.Acked = facts.Consumer.AckFloor
	} else {
		f.progress.Acked = plan.StartSeq - 1
	}
	f.changed()
	return stream, cons, nil
}

func (f *follower) consumerConfig(start uint64) jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:       f.durable(),
		Description:   "Caseload projection of gemeente " + f.code + "; acknowledged once in its snapshot.",
		FilterSubject: bus.Filter(f.code),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       f.ackWait,
		// Room for a whole batch (flushAt) and a redelivered one: the view
		// acknowledges only after its snapshot, so it holds up to a batch
		// unacknowledged.
		MaxAckPending: 2 * max(f.batch, maxBatch),
	}
	if start > 1 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = start
	}
	return cfg
}

func (f *follower) configOK(c jetstream.ConsumerConfig) bool {
	want := f.consumerConfig(1)
	return c.FilterSubject == want.FilterSubject && len(c.FilterSubjects) == 0 &&
		c.AckPolicy == want.AckPolicy && c.AckWait == want.AckWait && c.MaxAckPending == want.MaxAckPending
}

// take applies one message, or skips it when the view already holds it.
func (f *follower) take(ctx context.Context, stream jetstream.Stream, msg jetstream.Msg, seq uint64) error {
	applied := f.progress.Applied
	if seq <= applied {
		f.mu.Lock()
		f.progress.Redelivered++
		f.changed()
		f.mu.Unlock()
		return nil
	}
	if seq > applied+1 {
		hole, err := f.isHole(ctx, stream, applied+1, seq)
		if err != nil {
			return err
		}
		if !hole {
			// The missing messages exist: they would come back only after
			// the ack wait, behind this one. Start again from the view.
			f.mu.Lock()
			f.outOfOrder = true
			f.mu.Unlock()
			return fmt.Errorf("%w: got sequence %d, the view needs %d", errOutOfOrder, seq, applied+1)
		}
		f.log.Warn("bus stream has no messages before this one", "from_seq", applied+1, "to_seq", seq-1)
	}
	ev, decErr := event.Decode(msg.Data())
	// The journal gets what the view keeps, so that loading it applies the
	// same (see replay).
	var rec journalRecord
	var keptData []byte
	if decErr != nil {
		rec = journalRecord{kind: recMalformed, seq: seq, data: []byte(fmt.Sprintf("stream sequence %d (%s): %v", seq, msg.Subject(), decErr))}
	} else {
		ev = strip(ev)
		rec = journalRecord{kind: recEvent, seq: seq}
		at, perr := store.ParsePosition(msg.Headers().Get(bus.HeaderPosition))
		if perr == nil && event.IsCaseEvent(ev) {
			rec.kind, rec.data = recEventAt, positionBytes(at)
		}
		// Encoded on its own, in a slice of its exact size, because the
		// view keeps these bytes; the journal copies the record.
		data, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
		if err != nil {
			return fmt.Errorf("caseload %s: journal record of sequence %d: %w", f.code, seq, err)
		}
		rec.data, keptData = append(rec.data, data...), data
	}
	f.recs = appendRecord(f.recs, rec)
	f.mu.Lock()
	if decErr != nil {
		f.view.recordMalformed(string(rec.data))
	} else {
		f.view.apply(ev, keptData)
		if rec.kind == recEventAt {
			f.view.noteAt(positionOf(rec.data))
		}
	}
	f.progress.Applied = seq
	f.changed()
	f.mu.Unlock()
	if decErr != nil {
		f.log.Error("undecodable bus message counted and passed over", "stream_seq", seq, "subject", msg.Subject(), "err", decErr)
	}
	return nil
}

// isHole reports whether stream sequences [from, to) are all absent from
// the stream (deleted), rather than merely not delivered.
func (f *follower) isHole(ctx context.Context, stream jetstream.Stream, from, to uint64) (bool, error) {
	info, err := stream.Info(ctx, jetstream.WithDeletedDetails(true))
	if err != nil {
		return false, fmt.Errorf("bus stream %s: %w", bus.StreamName(f.code), err)
	}
	deleted := make(map[uint64]bool, len(info.State.Deleted))
	for _, s := range info.State.Deleted {
		deleted[s] = true
	}
	for s := from; s < to; s++ {
		if s >= info.State.FirstSeq && !deleted[s] {
			return false, nil
		}
	}
	return true, nil
}

// flush writes the snapshot if the view moved, then acknowledges every
// message taken so far: never the other way round.
func (f *follower) flush(ctx context.Context, p *pending) error {
	if p.last == nil {
		return nil
	}
	if f.progress.Applied > f.progress.Persisted {
		if err := f.persist(); err != nil {
			return err
		}
	}
	if err := p.last.DoubleAck(ctx); err != nil {
		return fmt.Errorf("acknowledge %s up to %d: %w", bus.StreamName(f.code), p.seq, err)
	}
	f.lastFlush = time.Now()
	f.mu.Lock()
	f.progress.Acked = max(f.progress.Acked, p.seq)
	f.changed()
	f.mu.Unlock()
	*p = pending{}
	return nil
}

// persist makes what the view took in durable: appended to the journal,
// or, when the journal has grown to compactGrowth times the base (or there
// is no usable journal), as a new base snapshot with a fresh journal. Only
// the run goroutine changes the view, and it is here, so the view is read
// without the lock; readers only read.
func (f *follower) persist() error {
	seq := f.progress.Applied
	if f.needBase || f.journal == nil {
		return f.writeBase(seq)
	}
	if err := f.journal.append(f.recs); err != nil {
		f.journal.close()
		f.journal, f.needBase = nil, true
		return fmt.Errorf("caseload %s: %w", f.code, err)
	}
	f.recs = f.recs[:0]
	f.persisted(seq)
	if f.journal.size > max(f.compactMin, f.baseSize*compactGrowth) {
		return f.writeBase(seq)
	}
	return nil
}

// writeBase writes the whole view at seq as the base snapshot, then starts
// an empty journal on it. A crash between the two leaves the old journal,
// which names the old base and is left out on load; the new base holds all
// of it.
func (f *follower) writeBase(seq uint64) error {
	// The new base holds the old one and what the journal added since.
	hint := f.baseSize
	if f.journal != nil {
		hint += f.journal.size
	}
	data, err := appendSnapshot(make([]byte, 0, hint+hint/8), &snapshot{
		Format:        snapshotFormat,
		Gemeente:      f.code,
		Stream:        bus.StreamName(f.code),
		StreamCreated: f.viewStream,
		Seq:           seq,
		View:          f.view,
	})
	if err != nil {
		return fmt.Errorf("caseload snapshot %s: %w", f.code, err)
	}
	if err := writeFileAtomic(f.path, data); err != nil {
		return fmt.Errorf("caseload snapshot %s: %w", f.code, err)
	}
	f.baseSize, f.recs = int64(len(data)), f.recs[:0]
	f.bases++
	f.persisted(seq)
	f.journal.close()
	f.journal, f.needBase = nil, true
	j, err := createJournal(f.journalPath, f.header(seq))
	if err != nil {
		return fmt.Errorf("caseload %s: %w", f.code, err)
	}
	f.journal, f.needBase = j, false
	return nil
}

// baseAtStop folds the journal into a new base when the view stops with
// all it applied on disk: the next start then reads the base alone instead
// of replaying the journal (at a million events, a third of a start's
// CPU). A crash skips it and the journal carries the view as before.
func (f *follower) baseAtStop() {
	if !f.baseOnStop || !f.journal.records() || f.progress.Persisted != f.progress.Applied {
		return
	}
	began := time.Now()
	if err := f.writeBase(f.progress.Applied); err != nil {
		f.log.Warn("caseload base snapshot not written on stop; the next start replays the journal", "err", err)
		return
	}
	f.log.Info("caseload base snapshot written on stop", "seq", f.progress.Applied, "took", time.Since(began).Round(time.Millisecond))
}

func (f *follower) persisted(seq uint64) {
	f.mu.Lock()
	f.progress.Persisted = seq
	f.changed()
	f.mu.Unlock()
}
