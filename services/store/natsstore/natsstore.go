// Package natsstore is the default event store: one JetStream stream on
// file storage, one subject per ledger stream.
//
// Every event is one message on <prefix>.<stream id>. Its revision is a
// header, and every append is conditional on the subject's last stream
// sequence (Nats-Expected-Last-Subject-Sequence), so the revision headers can
// never disagree with the stream: a writer that saw an older revision is
// refused by the server. An append of several events is one JetStream atomic
// batch, so it lands whole or not at all. The stream sequence is the global
// position.
package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/store"
)

const (
	// DefaultStreamName is the JetStream stream that holds the events.
	DefaultStreamName = "LEDGER_STORE"
	// DefaultSubjectPrefix is put before a ledger stream id to make its subject.
	DefaultSubjectPrefix = "ledger.store"
	// DefaultMaxAppend is the most events one Append takes unless
	// WithMaxAppend says otherwise: the NATS server's default limit on an
	// atomic batch (jetstream { limits { batch { max_msgs } } }).
	DefaultMaxAppend = 1000
)

// Headers the store writes next to Nats-Msg-Id (the event id).
const (
	hdrType     = "Ledger-Type"
	hdrRevision = "Ledger-Revision"

	hdrBatchID     = "Nats-Batch-Id"
	hdrBatchSeq    = "Nats-Batch-Sequence"
	hdrBatchCommit = "Nats-Batch-Commit"
)

// JetStream API error codes the append path tells apart.
const (
	errWrongLastSeq     jetstream.ErrorCode = 10071 // expected subject sequence is stale
	errWrongLastSeqR    jetstream.ErrorCode = 10164 // the same, on a replicated stream
	errBatchDuplicateID jetstream.ErrorCode = 10201 // an id of the batch is stored already
	errBatchTooLarge    jetstream.ErrorCode = 10199 // the server allows smaller batches
	errBatchIncomplete  jetstream.ErrorCode = 10176 // the leader missed a part of the batch
)

// incompleteRetries bounds how often an append sends a batch again that
// the server found incomplete. On a cluster a part sent before the commit
// can be lost on the way (it has no answer to wait for): right after a
// stream is created, a node may pass a publish on before it has learnt
// where the new leader's interest is, and a part sent to a leader that
// has just lost its place goes nowhere. The server then stores nothing of
// the batch, and once it has answered the commit the way to the leader is
// known, so sending the batch again, under a new batch id, goes through.
const incompleteRetries = 3

// tooLarge reports whether err is the server's "atomic publish batch is
// too large": a store opened with a larger WithMaxAppend than the server
// allows. Nothing of the batch was stored.
func tooLarge(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errBatchTooLarge
}

// incomplete reports whether err is the server's "atomic publish batch is
// incomplete": nothing of the batch was stored.
func incomplete(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errBatchIncomplete
}

// tipsMax bounds the cache of stream tips; past it the cache starts over.
const tipsMax = 100_000

// seqsMax bounds the sequences cached (8 bytes each); past it the cache
// starts over.
const seqsMax = 4_000_000

// Option configures a Store.
type Option func(*options) error

type options struct {
	stream    string
	prefix    string
	replicas  int
	maxAppend int
	space     func() error
}

// WithMaxAppend sets the most events one append takes (default
// DefaultMaxAppend); it must not exceed the server's limit on an atomic
// batch. A larger step means fewer batches, each of which the server
// stages in a file store of its own before it commits it with one fsync.
func WithMaxAppend(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("invalid max append %d", n)
		}
		o.maxAppend = n
		return nil
	}
}

// WithSpaceCheck has every append call check first; an error refuses the
// append as store.RuleOpslagVol, with the error's text as the reason. The
// embedded broker's CheckSpace keeps a reserve on the disk this way, so that
// JetStream never runs into a full disk itself (it then switches off).
func WithSpaceCheck(check func() error) Option {
	return func(o *options) error {
		o.space = check
		return nil
	}
}

// WithStreamName sets the JetStream stream name (default DefaultStreamName).
func WithStreamName(name string) Option {
	return func(o *options) error {
		if name == "" || strings.ContainsAny(name, ".*> \t\r\n") {
			return fmt.Errorf("invalid stream name %q", name)
		}
		o.stream = name
		return nil
	}
}

// WithSubjectPrefix sets the subject prefix (default DefaultSubjectPrefix).
// The stream captures <prefix>.>, so no other publisher may use it.
func WithSubjectPrefix(prefix string) Option {
	return func(o *options) error {
		for tok := range strings.SplitSeq(prefix, ".") {
			if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
				return fmt.Errorf("invalid subject prefix %q", prefix)
			}
		}
		o.prefix = prefix
		return nil
	}
}

// WithReplicas sets the stream's replicas: 1 on a single server, 3 on a
// cluster.
func WithReplicas(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 5 {
			return fmt.Errorf("invalid replicas %d", n)
		}
		o.replicas = n
		return nil
	}
}

// Store is a store.Store on NATS JetStream. It is safe for concurrent use.
type Store struct {
	js     jetstream.JetStream
	nc     *nats.Conn
	stream jetstream.Stream
	name   string
	prefix string // with the trailing dot
	direct string // direct get API subject of the stream
	msgGet string // message get API subject of the stream (its leader answers)
	space  func() error
	// maxAppend is the most events one append takes.
	maxAppend int

	mu sync.Mutex
	// tips caches the last known (revision, sequence) per subject, to save
	// a lookup before an append. A revision's sequence never changes, so an
	// entry is never wrong, only maybe old; the server's expected-sequence
	// check refuses an append based on an old one.
	tips map[string]tip
	// seqs caches, per subject, the sequence of each revision from 0, so
	// that a read of a known case fetches its messages by sequence (found
	// through the block index) instead of asking for the subject's next
	// message again and again, which makes the server walk every block
	// between a case's events: on a large store, time in proportion to the
	// history. It is never trusted alone: a read first checks that the
	// subject's last message is the cached last one, then each message's
	// subject and revision.
	seqs  map[string][]uint64
	nseqs int

	// testHookLeaderLast, when set, replaces what the leader answers for
	// a subject's last event: tests make it an old answer, as a leader
	// that has not yet applied its successor's writes gives.
	testHookLeaderLast func(subj string, t tip, ok bool) (tip, bool)
	// testHookLeaderGet, when set, is called for every message get from
	// the leader: tests bound what a settle reads.
	testHookLeaderGet func(msgGet)
}

type tip struct{ rev, seq uint64 }

var (
	_ store.Store         = (*Store)(nil)
	_ store.MultiAppender = (*Store)(nil)
)

// New returns a Store on js, creating the JetStream stream or updating its
// configuration.
func New(ctx context.Context, js jetstream.JetStream, opts ...Option) (*Store, error) {
	o := options{stream: DefaultStreamName, prefix: DefaultSubjectPrefix, replicas: 1, maxAppend: DefaultMaxAppend}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("natsstore: %w", err)
		}
	}
	cfg := jetstream.StreamConfig{
		Name:        o.stream,
		Description: "ledger event store",
		Subjects:    []string{o.prefix + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    o.replicas,
		Retention:   jetstream.LimitsPolicy,
		// Should anyone set limits, refuse new events rather than drop old ones.
		Discard:            jetstream.DiscardNew,
		AllowAtomicPublish: true,
		// Events are immutable; the revision headers rely on it.
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
	}
	st, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("natsstore: stream %s: %w", o.stream, err)
	}
	return &Store{
		js:     js,
		nc:     js.Conn(),
		stream: st,
		name:   o.stream,
		prefix: o.prefix + ".",
		direct: apiPrefix(js.Options()) + "DIRECT.GET." + o.stream,
		msgGet: apiPrefix(js.Options()) + "STREAM.MSG.GET." + o.stream,
		space:  o.space,
		tips:   make(map[string]tip),
		seqs:   make(map[string][]uint64),

		maxAppend: o.maxAppend,
	}, nil
}

// MaxAppend is the most events one Append or AppendMulti takes.
func (s *Store) MaxAppend() int { return s.maxAppend }

func apiPrefix(o jetstream.JetStreamOptions) string {
	switch {
	case o.APIPrefix != "":
		return strings.TrimSuffix(o.APIPrefix, ".") + "."
	case o.Domain != "":
		return "$JS." + o.Domain + ".API."
	}
	return jetstream.DefaultAPIPrefix
}

// Append implements store.Store. Under store.Any a retry is recognised as
// such only while the server remembers the event ids (the stream's
// duplicate window, two minutes by default); under NoStream and Exactly
// always.
func (s *Store) Append(ctx context.Context, stream string, expected store.Expected, events ...store.EventData) (store.AppendResult, error) {
	res, err := s.append(ctx, stream, expected, events)
	return res, unavailable(err)
}

func (s *Store) append(ctx context.Context, stream string, expected store.Expected, events []store.EventData) (store.AppendResult, error) {
	if err := store.ValidStreamID(stream); err != nil {
		return store.AppendResult{}, fmt.Errorf("append: %w", err)
	}
	if err := store.CheckEvents(events); err != nil {
		return store.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	if len(events) > s.maxAppend {
		return store.AppendResult{}, fmt.Errorf("append to %s: %d events, at most %d: %w", stream, len(events), s.maxAppend, store.ErrTooManyEvents)
	}
	if err := s.checkSpace(); err != nil {
		return store.AppendResult{}, err
	}
	subj := s.prefix + stream
	resent := 0
	busy := 2 * time.Millisecond
	for {
		if err := ctx.Err(); err != nil {
			return store.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
		}
		// next is the revision the first event gets; after is the sequence
		// of the event before it (0: none), which the server must still
		// find as the subject's last.
		var next, after uint64
		placed := true
		if !expected.IsNoStream() {
			t, ok := s.tip(subj)
			want, exact := expected.Revision()
			if !ok || exact && t.rev != want {
				var err error
				if t, ok, err = s.last(ctx, subj); err != nil {
					return store.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
				}
			}
			if ok {
				next, after = t.rev+1, t.seq
			}
			// Not where expected says: a conflict, or a retry of an append
			// that succeeded.
			placed = !exact || ok && t.rev == want
		}
		dup, dupSeq, refused := false, uint64(0), false
		if placed {
			res, err := s.publish(ctx, subj, next, after, events)
			if err == nil {
				s.setTip(subj, tip{res.Revision, res.Position.Commit})
				// One append is one atomic batch: consecutive sequences.
				s.noteSeqs(subj, next, res.Position.Commit+1-uint64(len(events)), len(events))
				return res, nil
			}
			refused, dup = classify(err)
			if d := (*duplicate)(nil); errors.As(err, &d) {
				dupSeq = d.seq
			}
			switch {
			case incomplete(err) && resent < incompleteRetries:
				resent++
				continue
			case !refused && !dup:
				if tooLarge(err) {
					err = fmt.Errorf("%w: %w", store.ErrTooManyEvents, err)
				}
				return store.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
			case refused && expected.IsAny():
				// Someone else appended first; Any takes the new end.
				s.forget(subj)
				continue
			}
		} else {
			// t is another revision than expected; the expected one's
			// sequence is known when this handle wrote or read it. Without
			// it settle reads the stream from its start.
			after = 0
			if want, exact := expected.Revision(); exact {
				if c := s.cachedSeqs(subj); uint64(len(c)) > want {
					after = c[want]
				}
			}
		}
		res, retry, err := s.settle(ctx, stream, expected, after, dupAt{dup, dupSeq}, events)
		if !retry {
			return res, err
		}
		if refused {
			// Refused, while the leader says the stream is where expected:
			// the subject has an append still in process (10164, a retry
			// of one whose answer was lost), or the answer is behind. Pause
			// before asking again rather than loop against a leader that
			// is busy already.
			if err := pause(ctx, &busy, 100*time.Millisecond); err != nil {
				return store.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
			}
		}
	}
}

// errDuplicate: the server already holds the id of a single event.
var errDuplicate = errors.New("duplicate event id")

// duplicate is errDuplicate with the sequence the server stored the id at,
// as its acknowledgement of a duplicate says.
type duplicate struct{ seq uint64 }

func (d *duplicate) Error() string {
	return fmt.Sprintf("duplicate event id, stored at sequence %d", d.seq)
}
func (d *duplicate) Is(target error) bool { return target == errDuplicate }

// classify tells a refused expected sequence and a duplicate event id from
// other errors of a publish.
func classify(err error) (refused, dup bool) {
	if errors.Is(err, errDuplicate) {
		return false, true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case errWrongLastSeq, errWrongLastSeqR:
			return true, false
		case errBatchDuplicateID:
			return false, true
		}
	}
	return false, false
}

// settle decides an append the server did not take: it is an idempotent
// retry when the stream holds exactly these events where expected puts
// them, a conflict otherwise. after is the sequence of the event before the
// expected place when known, else 0; dup says whether the server refused the
// append as holding its ids already. retry reports that the stream is at
// the expected revision after all, so the append should be tried again.
//
// A stale read here would call an append that landed a conflict (and a
// caller told so may decide again and append a second, different event),
// so settle reads from the stream's leader, never by direct get: on a
// cluster any replica answers a direct get, a lagging one too (a node that
// rejoins serves them from 90% caught up). Even the leader's answer can be
// stale: a leader cut off from the others goes on answering as one until
// it notices it lost its quorum (up to 10 s), and after a short partition
// it may answer before it learns of its successor. So an answer that is
// provably old — behind what this handle has seen acknowledged, or short
// of events the stream's last revision says are there — is asked again,
// for up to staleWait.
func (s *Store) settle(ctx context.Context, stream string, expected store.Expected, after uint64, dup dupAt, events []store.EventData) (store.AppendResult, bool, error) {
	known, haveKnown := s.tip(s.prefix + stream)
	deadline := time.Now().Add(staleWait)
	wait := 5 * time.Millisecond
	for {
		res, retry, err := s.settleOnce(ctx, stream, expected, after, dup, events, known, haveKnown)
		if !errors.Is(err, errStale) {
			return res, retry, err
		}
		if !time.Now().Before(deadline) {
			return res, false, &store.UnavailableError{Rule: store.RuleOpslagWeg, Err: fmt.Errorf("append to %s: %w", stream, err),
				Reden: "de opslag geeft een verouderde stand van de zaak terug (een knooppunt van het cluster loopt achter); probeer het over enkele seconden opnieuw met dezelfde event-id's"}
		}
		if err := pause(ctx, &wait, 200*time.Millisecond); err != nil {
			return res, false, fmt.Errorf("append to %s: %w", stream, err)
		}
	}
}

// pause waits *d, or until ctx ends, and doubles *d up to most for the
// next time.
func pause(ctx context.Context, d *time.Duration, most time.Duration) error {
	timer := time.NewTimer(*d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	*d = min(2**d, most)
	return nil
}

// staleWait bounds how long settle asks again for an answer that is
// provably old: longer than a cut-off leader takes to step down.
const staleWait = 15 * time.Second

// errStale: an answer older than what is known to be stored.
var errStale = errors.New("stale read")

// settleOnce is one attempt of settle; it returns errStale when what it
// read is provably old. known is the handle's last known tip of the stream
// before the append, when haveKnown.
func (s *Store) settleOnce(ctx context.Context, stream string, expected store.Expected, after uint64, dup dupAt, events []store.EventData, known tip, haveKnown bool) (res store.AppendResult, retry bool, err error) {
	subj := s.prefix + stream
	t, ok, err := s.leaderLast(ctx, subj)
	if err != nil {
		return res, false, fmt.Errorf("append to %s: %w", stream, err)
	}
	// Revisions are never removed: a last revision behind one this handle
	// saw is an old answer.
	if haveKnown && (!ok || t.rev < known.rev) {
		return res, false, fmt.Errorf("stream %s is at revision %d, but revision %d was seen: %w", stream, actual(t, ok), known.rev, errStale)
	}
	conflict := &store.ConflictError{Stream: stream, Expected: expected, Actual: -1}
	if ok {
		conflict.Actual = int64(t.rev)
	}
	n := uint64(len(events))
	next, exact := expected.Next()
	if !exact {
		// Any: the ids are stored somewhere; find them.
		recs, err := s.leaderRead(ctx, subj, 1, 0)
		if err != nil {
			return res, false, fmt.Errorf("append to %s: %w", stream, err)
		}
		if ok && uint64(len(recs)) < t.rev+1 {
			return res, false, fmt.Errorf("read %d events of %s, whose last revision is %d: %w", len(recs), stream, t.rev, errStale)
		}
		for i := range recs {
			if recs[i].ID == events[0].ID {
				if res, ok := matches(recs[i:], recs[i].Revision, events); ok {
					return res, false, nil
				}
				break
			}
		}
		return res, false, fmt.Errorf("%w; its events are stored elsewhere", conflict)
	}
	if ok && t.rev >= next+n-1 {
		recs, err := s.readPlaced(ctx, subj, t, next, n, after)
		if err != nil {
			return res, false, fmt.Errorf("append to %s: %w", stream, err)
		}
		if res, ok := matches(recs, next, events); ok {
			return res, false, nil
		}
	}
	atExpected := !ok && next == 0 || ok && t.rev+1 == next
	switch {
	case atExpected && !dup.is:
		return res, true, nil
	case atExpected:
		// The server holds the ids, and the stream ends where they would
		// go: either they are stored in another stream, or the answer
		// about this one is old (a leader that has not yet applied what
		// its successor committed). Where the first id is says which.
		return s.settleDuplicate(ctx, stream, next, dup, events, conflict)
	case dup.is:
		return res, false, fmt.Errorf("%w; its event ids are stored already", conflict)
	}
	return res, false, conflict
}

// readPlaced reads from the leader the n events at revisions next.. of
// subj, whose last event t is at least at next+n-1; after is the sequence
// of revision next-1 when known, else 0. A read short of events t says are
// there is an old answer (errStale).
func (s *Store) readPlaced(ctx context.Context, subj string, t tip, next, n, after uint64) ([]store.RecordedEvent, error) {
	if after == 0 && t.rev == next+n-1 && t.seq >= n {
		// Revisions next.. are the stream's last, so if they are one
		// append they are the n sequences up to t (an append is one
		// atomic batch). Reading those first keeps a retry's settle short:
		// the whole stream grows with it and can outlast every attempt's
		// deadline.
		recs, err := s.leaderRead(ctx, subj, t.seq-n+1, int(n))
		if err != nil {
			return nil, err
		}
		if uint64(len(recs)) == n && recs[0].Revision == next {
			return recs, nil
		}
	}
	if after > 0 {
		recs, err := s.leaderRead(ctx, subj, after+1, int(n))
		if err != nil {
			return nil, err
		}
		if uint64(len(recs)) < n {
			return nil, fmt.Errorf("read %d of %d events after sequence %d, whose last revision is %d: %w", len(recs), n, after, t.rev, errStale)
		}
		return recs, nil
	}
	recs, err := s.leaderRead(ctx, subj, 1, int(next+n))
	if err != nil {
		return nil, err
	}
	if uint64(len(recs)) < next+n {
		return nil, fmt.Errorf("read %d of %d events, whose last revision is %d: %w", len(recs), next+n, t.rev, errStale)
	}
	return recs[next:], nil
}

// dupAt says whether the server refused an append as a duplicate, and
// where it stored the id when its answer said so (0: not said).
type dupAt struct {
	is  bool
	seq uint64
}

// settleDuplicate settles an append the server refused as a duplicate
// while the stream ends at the expected place, by looking up where the
// first event's id is stored: these events at the expected revisions is an
// idempotent retry, anything else there a conflict. What the leader does
// not show yet is an old answer.
func (s *Store) settleDuplicate(ctx context.Context, stream string, next uint64, dup dupAt, events []store.EventData, conflict *store.ConflictError) (store.AppendResult, bool, error) {
	subj := s.prefix + stream
	seq := dup.seq
	if seq == 0 {
		var err error
		if seq, err = s.probe(ctx, subj, next, events[0]); err != nil {
			return store.AppendResult{}, false, fmt.Errorf("append to %s: %w", stream, err)
		}
	}
	if seq == 0 {
		// The first id is not stored: another one of the batch is, elsewhere.
		return store.AppendResult{}, false, fmt.Errorf("%w; its event ids are stored already", conflict)
	}
	first, found, err := s.leaderGet(ctx, msgGet{Seq: seq})
	switch {
	case err != nil:
		return store.AppendResult{}, false, fmt.Errorf("append to %s: %w", stream, err)
	case !found:
		return store.AppendResult{}, false, fmt.Errorf("event %s is stored at sequence %d, which the leader does not show: %w", events[0].ID, seq, errStale)
	case first.Stream != stream || first.Revision != next || first.ID != events[0].ID:
		return store.AppendResult{}, false, fmt.Errorf("%w; its event ids are stored already, the first at %s revision %d", conflict, first.Stream, first.Revision)
	}
	recs, err := s.leaderRead(ctx, subj, seq, len(events))
	if err != nil {
		return store.AppendResult{}, false, fmt.Errorf("append to %s: %w", stream, err)
	}
	if len(recs) < len(events) {
		return store.AppendResult{}, false, fmt.Errorf("read %d of the %d events of %s from sequence %d: %w", len(recs), len(events), stream, seq, errStale)
	}
	if res, ok := matches(recs, next, events); ok {
		return res, false, nil
	}
	return store.AppendResult{}, false, fmt.Errorf("%w; its event ids are stored already, from revision %d on but not as this append", conflict, next)
}

// probe asks the server where it stores the id of ev, without any chance
// of storing it: ev is sent alone, on condition that the subject's last
// sequence is one no stream reaches. A cluster's leader looks the id up
// before it checks the condition, and answers a duplicate with the
// sequence; a single server checks the condition first, and then the
// answer (0) says nothing — but a single server has no old answers, so
// nothing is lost there.
func (s *Store) probe(ctx context.Context, subj string, rev uint64, ev store.EventData) (uint64, error) {
	m := &nats.Msg{Subject: subj, Data: ev.Data, Header: nats.Header{
		jetstream.MsgIDHeader:               {ev.ID.String()},
		hdrType:                             {ev.Type},
		hdrRevision:                         {strconv.FormatUint(rev, 10)},
		jetstream.ExpectedLastSubjSeqHeader: {strconv.FormatUint(math.MaxUint64, 10)},
	}}
	ack, err := s.js.PublishMsg(ctx, m)
	if err != nil {
		if refused, _ := classify(err); refused {
			return 0, nil
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == errInProcess {
			return 0, fmt.Errorf("event %s is still being stored: %w", ev.ID, errStale)
		}
		return 0, fmt.Errorf("look up event %s: %w", ev.ID, err)
	}
	if !ack.Duplicate {
		// Can not happen: no subject's last sequence is the largest.
		return 0, fmt.Errorf("look up event %s: the server stored it at sequence %d", ev.ID, ack.Sequence)
	}
	return ack.Sequence, nil
}

// matches reports whether recs start with events at revisions from next on.
func matches(recs []store.RecordedEvent, next uint64, events []store.EventData) (store.AppendResult, bool) {
	if len(recs) < len(events) {
		return store.AppendResult{}, false
	}
	for i, ev := range events {
		if recs[i].ID != ev.ID || recs[i].Revision != next+uint64(i) {
			return store.AppendResult{}, false
		}
	}
	last := recs[len(events)-1]
	return store.AppendResult{Revision: last.Revision, Position: last.Position}, true
}

// publish writes events at revisions from next on, on condition that the
// subject's last sequence is after.
func (s *Store) publish(ctx context.Context, subj string, next, after uint64, events []store.EventData) (store.AppendResult, error) {
	batch := ""
	if len(events) > 1 {
		batch = uuid.NewString()
	}
	msgs := s.messages(subj, next, after, events, batch)
	// Parts before the commit need no reply: the server answers the commit
	// for the whole batch, and stores nothing without it.
	for _, m := range msgs[:len(msgs)-1] {
		if err := s.nc.PublishMsg(m); err != nil {
			return store.AppendResult{}, err
		}
	}
	ack, err := s.js.PublishMsg(ctx, msgs[len(msgs)-1])
	if err != nil {
		return store.AppendResult{}, err
	}
	if ack.Duplicate {
		return store.AppendResult{}, &duplicate{ack.Sequence}
	}
	last := next + uint64(len(events)) - 1
	return store.AppendResult{Revision: last, Position: store.Position{Commit: ack.Sequence, Prepare: ack.Sequence}}, nil
}

// messages builds the messages of one append; with a batch id they form an
// atomic batch. Only the first carries the expected sequence: the server
// refuses expectations on a subject the batch already wrote.
func (s *Store) messages(subj string, next, after uint64, events []store.EventData, batch string) []*nats.Msg {
	msgs := make([]*nats.Msg, len(events))
	for i, ev := range events {
		h := nats.Header{
			jetstream.MsgIDHeader: {ev.ID.String()},
			hdrType:               {ev.Type},
			hdrRevision:           {strconv.FormatUint(next+uint64(i), 10)},
		}
		if i == 0 {
			h[jetstream.ExpectedLastSubjSeqHeader] = []string{strconv.FormatUint(after, 10)}
		}
		if batch != "" {
			h[hdrBatchID] = []string{batch}
			h[hdrBatchSeq] = []string{strconv.Itoa(i + 1)}
			if i == len(events)-1 {
				h[hdrBatchCommit] = []string{"1"}
			}
		}
		msgs[i] = &nats.Msg{Subject: subj, Header: h, Data: ev.Data}
	}
	return msgs
}

func (s *Store) tip(subj string) (tip, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tips[subj]
	return t, ok
}

func (s *Store) setTip(subj string, t tip) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.tips[subj]; ok && old.rev > t.rev {
		return
	}
	if len(s.tips) >= tipsMax {
		clear(s.tips)
	}
	s.tips[subj] = t
}

func (s *Store) forget(subj string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tips, subj)
	s.dropSeqs(subj)
}

// dropSeqs forgets the cached sequences of subj; s.mu must be held.
func (s *Store) dropSeqs(subj string) {
	s.nseqs -= len(s.seqs[subj])
	delete(s.seqs, subj)
}

// noteSeqs records that revisions next.. of subj are at the n consecutive
// sequences from first. Revisions that do not continue the cached ones
// from 0 drop the subject's entry.
func (s *Store) noteSeqs(subj string, next, first uint64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.seqs[subj]
	if uint64(len(cur)) != next {
		s.dropSeqs(subj)
		if next != 0 {
			return
		}
		cur = nil
	}
	if s.nseqs+n > seqsMax {
		clear(s.seqs)
		s.nseqs = 0
		cur = nil
		if next != 0 {
			return
		}
	}
	for i := range n {
		cur = append(cur, first+uint64(i))
	}
	s.seqs[subj] = cur
	s.nseqs += n
}

func (s *Store) cachedSeqs(subj string) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.seqs[subj]
	return c[:len(c):len(c)]
}

// last looks up the subject's last event.
func (s *Store) last(ctx context.Context, subj string) (tip, bool, error) {
	m, err := s.stream.GetLastMsgForSubject(ctx, subj)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return tip{}, false, nil
	}
	if err != nil {
		return tip{}, false, fmt.Errorf("last event: %w", err)
	}
	rev, err := strconv.ParseUint(m.Header.Get(hdrRevision), 10, 64)
	if err != nil {
		return tip{}, false, fmt.Errorf("last event at %d: bad %s header: %w", m.Sequence, hdrRevision, err)
	}
	t := tip{rev, m.Sequence}
	s.setTip(subj, t)
	return t, true, nil
}

// msgGet is a request of the JetStream API's message get, which only the
// stream's leader answers (on a single server: the server).
type msgGet struct {
	Seq     uint64 `json:"seq,omitempty"`
	LastFor string `json:"last_by_subj,omitempty"`
	NextFor string `json:"next_by_subj,omitempty"`
}

type msgGetReply struct {
	Error   *jetstream.APIError `json:"error,omitempty"`
	Message *struct {
		Subject string    `json:"subject"`
		Seq     uint64    `json:"seq"`
		Header  []byte    `json:"hdrs,omitempty"`
		Data    []byte    `json:"data,omitempty"`
		Time    time.Time `json:"time"`
	} `json:"message,omitempty"`
}

// leaderWait bounds one message get from the leader when the caller's
// context has no deadline of its own.
const leaderWait = 5 * time.Second

// leaderGet asks the stream's leader for a message; found is false when
// there is none.
func (s *Store) leaderGet(ctx context.Context, req msgGet) (r store.RecordedEvent, found bool, err error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, leaderWait)
		defer cancel()
	}
	if s.testHookLeaderGet != nil {
		s.testHookLeaderGet(req)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return r, false, err
	}
	m, err := s.nc.RequestWithContext(ctx, s.msgGet, body)
	if err != nil {
		return r, false, fmt.Errorf("message get: %w", err)
	}
	var reply msgGetReply
	if err := json.Unmarshal(m.Data, &reply); err != nil {
		return r, false, fmt.Errorf("message get: %w", err)
	}
	switch {
	case reply.Error != nil && reply.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return r, false, nil
	case reply.Error != nil:
		return r, false, fmt.Errorf("message get: %w", reply.Error)
	case reply.Message == nil:
		return r, false, fmt.Errorf("message get: no message in the reply")
	}
	h, err := nats.DecodeHeadersMsg(reply.Message.Header)
	if err != nil {
		return r, false, fmt.Errorf("message get %d: %w", reply.Message.Seq, err)
	}
	r, err = s.decode(reply.Message.Subject, reply.Message.Seq, reply.Message.Time, h, reply.Message.Data)
	return r, err == nil, err
}

// leaderLast is last as the stream's leader sees it.
func (s *Store) leaderLast(ctx context.Context, subj string) (tip, bool, error) {
	r, found, err := s.leaderGet(ctx, msgGet{LastFor: subj})
	if err != nil {
		return tip{}, false, err
	}
	t := tip{r.Revision, r.Position.Commit}
	if s.testHookLeaderLast != nil {
		t, found = s.testHookLeaderLast(subj, t, found)
	}
	if !found {
		return tip{}, false, nil
	}
	s.setTip(subj, t)
	return t, true, nil
}

// leaderRead is readSubject from the stream's leader, one message at a
// time: it reads the few events an append settles.
func (s *Store) leaderRead(ctx context.Context, subj string, from uint64, max int) ([]store.RecordedEvent, error) {
	var recs []store.RecordedEvent
	for max == 0 || len(recs) < max {
		r, found, err := s.leaderGet(ctx, msgGet{Seq: from, NextFor: subj})
		if err != nil {
			return nil, err
		}
		if !found {
			break
		}
		recs = append(recs, r)
		from = r.Position.Commit + 1
	}
	return recs, nil
}

// ReadStream implements store.Store. On a replicated stream a direct get
// may be answered by a replica that lags the leader by a moment, so a
// stream read right after an append elsewhere can miss it; an append based
// on such a read is refused and reports the stream's real revision.
func (s *Store) ReadStream(ctx context.Context, stream string) ([]store.RecordedEvent, error) {
	recs, err := s.readStream(ctx, stream)
	return recs, unavailable(err)
}

func (s *Store) readStream(ctx context.Context, stream string) ([]store.RecordedEvent, error) {
	if err := store.ValidStreamID(stream); err != nil {
		return nil, fmt.Errorf("read stream: %w", err)
	}
	subj := s.prefix + stream
	if cached := s.cachedSeqs(subj); len(cached) > 0 {
		t, exists, err := s.last(ctx, subj)
		if err != nil {
			return nil, fmt.Errorf("read stream %s: %w", stream, err)
		}
		if exists && t.rev == uint64(len(cached)-1) && t.seq == cached[len(cached)-1] {
			if recs, err := s.readSeqs(ctx, subj, cached); err == nil {
				return recs, nil
			}
		}
		// Not what the cache says: read it the long way, which caches it
		// again.
		s.mu.Lock()
		s.dropSeqs(subj)
		s.mu.Unlock()
	} else if _, known := s.tip(subj); !known {
		// The server finds a subject's last message through its subject
		// index, while a read from the start of a subject it does not hold
		// walks the stored blocks: on a large store an aanmelding (a new
		// case) would cost time in proportion to the whole history.
		if _, exists, err := s.last(ctx, subj); err != nil {
			return nil, fmt.Errorf("read stream %s: %w", stream, err)
		} else if !exists {
			return nil, fmt.Errorf("read stream %s: %w", stream, store.ErrStreamNotFound)
		}
	}
	recs, err := s.readSubject(ctx, subj, 1, 0)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("read stream %s: %w", stream, store.ErrStreamNotFound)
	}
	for i, r := range recs {
		if r.Revision != uint64(i) {
			return nil, fmt.Errorf("read stream %s: event %s at sequence %d has revision %d, want %d", stream, r.ID, r.Position.Commit, r.Revision, i)
		}
	}
	last := recs[len(recs)-1]
	s.setTip(subj, tip{last.Revision, last.Position.Commit})
	seqs := make([]uint64, len(recs))
	for i, r := range recs {
		seqs[i] = r.Position.Commit
	}
	s.mu.Lock()
	s.dropSeqs(subj)
	if s.nseqs+len(seqs) <= seqsMax {
		s.seqs[subj] = seqs
		s.nseqs += len(seqs)
	}
	s.mu.Unlock()
	return recs, nil
}

// replyWait bounds the wait for one reply of a direct get, which the
// server answers at once: longer means the connection lost it.
const replyWait = 30 * time.Second

// replies subscribes to a new inbox with room for n replies; the caller
// never has more than n outstanding, so none is dropped. A synchronous
// subscription would allocate the client's default pending buffer (65,536
// message slots) on every read: a tenth of an import's time went there.
func (s *Store) replies(n int) (inbox string, next func(context.Context) (*nats.Msg, error), stop func(), err error) {
	inbox = s.nc.NewInbox()
	ch := make(chan *nats.Msg, n)
	sub, err := s.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return "", nil, nil, err
	}
	next = func(ctx context.Context) (*nats.Msg, error) {
		t := time.NewTimer(replyWait)
		defer t.Stop()
		select {
		case m := <-ch:
			return m, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
			return nil, fmt.Errorf("direct get: no reply within %s", replyWait)
		}
	}
	return inbox, next, func() { sub.Unsubscribe() }, nil
}

// readSeqs reads the messages of subj at seqs, revision i at seqs[i], with
// one direct get per message, all sent before the first answer is read.
func (s *Store) readSeqs(ctx context.Context, subj string, seqs []uint64) ([]store.RecordedEvent, error) {
	inbox, next, stop, err := s.replies(len(seqs))
	if err != nil {
		return nil, err
	}
	defer stop()
	for _, q := range seqs {
		if err := s.nc.PublishRequest(s.direct, inbox, []byte(`{"seq":`+strconv.FormatUint(q, 10)+`}`)); err != nil {
			return nil, err
		}
	}
	recs := make([]store.RecordedEvent, len(seqs))
	got := 0
	for range seqs {
		m, err := next(ctx)
		if err != nil {
			return nil, err
		}
		if status := m.Header.Get("Status"); status != "" {
			return nil, fmt.Errorf("direct get: %s %s", status, m.Header.Get("Description"))
		}
		r, err := s.decodeDirect(m)
		if err != nil {
			return nil, err
		}
		seq := r.Position.Commit
		i, found := slices.BinarySearch(seqs, seq)
		if !found || m.Header.Get(jetstream.SubjectHeader) != subj {
			return nil, fmt.Errorf("direct get: message %d is not one of %s's", seq, subj)
		}
		if r.Revision != uint64(i) || recs[i].Position.Commit != 0 {
			return nil, fmt.Errorf("direct get: message %d has revision %d, want %d", seq, r.Revision, i)
		}
		recs[i] = r
		got++
	}
	if got != len(seqs) {
		return nil, fmt.Errorf("direct get: %d of %d messages", got, len(seqs))
	}
	return recs, nil
}

// directBatch is the direct get request for several messages of a subject.
type directBatch struct {
	Seq     uint64 `json:"seq"`
	NextFor string `json:"next_by_subj"`
	Batch   int    `json:"batch"`
}

// readSubject reads up to max events (0: all) of subj from sequence from on
// with batched direct gets: no consumer to create, and the server reads in
// isolation from atomic batch commits, so a batch is seen whole or not at all.
func (s *Store) readSubject(ctx context.Context, subj string, from uint64, max int) ([]store.RecordedEvent, error) {
	const page = 256
	// A page is at most page messages and one status.
	inbox, next, stop, err := s.replies(page + 1)
	if err != nil {
		return nil, err
	}
	defer stop()
	var recs []store.RecordedEvent
	for max == 0 || len(recs) < max {
		n := page
		if max > 0 {
			n = min(n, max-len(recs))
		}
		req, _ := json.Marshal(directBatch{Seq: from, NextFor: subj, Batch: n})
		if err := s.nc.PublishRequest(s.direct, inbox, req); err != nil {
			return nil, err
		}
		more := false
	page:
		for {
			m, err := next(ctx)
			if err != nil {
				return nil, err
			}
			switch status := m.Header.Get("Status"); status {
			case "":
				r, err := s.decodeDirect(m)
				if err != nil {
					return nil, err
				}
				recs = append(recs, r)
				from = r.Position.Commit + 1
			case "404":
				break page
			case "204": // end of batch
				more = m.Header.Get("Nats-Num-Pending") != "0"
				break page
			default:
				return nil, fmt.Errorf("direct get: %s %s", status, m.Header.Get("Description"))
			}
		}
		if !more {
			break
		}
	}
	return recs, nil
}

func (s *Store) decode(subj string, seq uint64, ts time.Time, h nats.Header, data []byte) (store.RecordedEvent, error) {
	stream, ok := strings.CutPrefix(subj, s.prefix)
	if !ok {
		return store.RecordedEvent{}, fmt.Errorf("message %d: subject %q is not in the store", seq, subj)
	}
	id, err := uuid.Parse(h.Get(jetstream.MsgIDHeader))
	if err != nil {
		return store.RecordedEvent{}, fmt.Errorf("message %d: bad event id: %w", seq, err)
	}
	rev, err := strconv.ParseUint(h.Get(hdrRevision), 10, 64)
	if err != nil {
		return store.RecordedEvent{}, fmt.Errorf("message %d: bad %s header: %w", seq, hdrRevision, err)
	}
	return store.RecordedEvent{
		ID:       id,
		Stream:   stream,
		Type:     h.Get(hdrType),
		Revision: rev,
		Position: store.Position{Commit: seq, Prepare: seq},
		Recorded: ts,
		Data:     data,
	}, nil
}

// decodeDirect decodes a direct get reply, whose sequence, time and
// subject are in headers.
func (s *Store) decodeDirect(m *nats.Msg) (store.RecordedEvent, error) {
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return store.RecordedEvent{}, fmt.Errorf("direct get: bad sequence header: %w", err)
	}
	ts, err := time.Parse(time.RFC3339Nano, m.Header.Get(jetstream.TimeStampHeaer))
	if err != nil {
		return store.RecordedEvent{}, fmt.Errorf("direct get: bad time stamp header: %w", err)
	}
	return s.decode(m.Header.Get(jetstream.SubjectHeader), seq, ts, m.Header, m.Data)
}

func (s *Store) decodeMsg(m jetstream.Msg) (store.RecordedEvent, error) {
	md, err := m.Metadata()
	if err != nil {
		return store.RecordedEvent{}, err
	}
	return s.decode(m.Subject(), md.Sequence.Stream, md.Timestamp, m.Headers(), m.Data())
}

// A reader's pull requests expire after pullExpiry and ask the server for
// a heartbeat every pullHeartbeat while there is nothing to deliver; two
// missed heartbeats make the ordered consumer start over where it was.
// That is how a lost pull request is noticed: on a cluster the consumer's
// leader may answer its creation before the node the reader is connected
// to has learnt the consumer's interest, and that node then drops the
// first pull request (on the three-node test cluster: one or two of the
// sixteen reads of the conformance suite's Resume case, each stalled for
// the two heartbeats). The client's default for an ordered consumer, 5 s,
// made such a read wait 10 s, three of them the case's 30 s.
const (
	pullExpiry    = 10 * time.Second
	pullHeartbeat = time.Second
)

// consume opens an ordered consumer from the event after the position. An
// ordered consumer recreates itself after a server restart or a lost
// connection, resuming after the last message it delivered.
func (s *Store) consume(ctx context.Context, after store.Position) (jetstream.Consumer, jetstream.MessagesContext, func() bool, error) {
	cons, err := s.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   after.Commit + 1,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	it, err := cons.Messages(jetstream.PullExpiry(pullExpiry), jetstream.PullHeartbeat(pullHeartbeat))
	if err != nil {
		return nil, nil, nil, err
	}
	// While the server is away the iterator keeps recreating its consumer
	// and ignores the context of Next; stopping it ends that.
	return cons, it, context.AfterFunc(ctx, it.Stop), nil
}

// release stops the iterator and deletes the consumer now rather than
// leaving it to the server's inactivity timer.
func (s *Store) release(ctx context.Context, cons jetstream.Consumer, it jetstream.MessagesContext, stop func() bool) {
	stop()
	it.Stop()
	info := cons.CachedInfo()
	if info == nil || !s.nc.IsConnected() {
		return // the server drops it once inactive
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = s.js.DeleteConsumer(ctx, s.name, info.Name)
}

// readStall is how long ReadAll waits for the next event, while the
// stream's end it was asked for is not reached, before it opens its
// consumer again after the last event it delivered. On a cluster the
// server may place a reader's consumer on a replica that is still
// catching up after a restart: that replica sends its heartbeats, so the
// ordered consumer never starts over by itself, and holds back every
// event it does not have yet (on the three-node test cluster a replay
// after the stream leader's restart waited more than the client's 30 s).
// A new consumer is placed anew, preferably on a peer that is current.
const readStall = 3 * time.Second

// ReadAll implements store.Store.
func (s *Store) ReadAll(ctx context.Context, after store.Position) iter.Seq2[store.RecordedEvent, error] {
	// The end is fixed now, when the call is made, not when iteration starts.
	info, infoErr := s.stream.Info(ctx)
	return func(yield func(store.RecordedEvent, error) bool) {
		fail := func(err error) { yield(store.RecordedEvent{}, fmt.Errorf("read all after %s: %w", after, err)) }
		if infoErr != nil {
			fail(infoErr)
			return
		}
		last := info.State.LastSeq
		from := after
		for from.Commit < last {
			stalled, err := s.readUntil(ctx, from, last, &from, yield)
			if err != nil {
				fail(err)
				return
			}
			if !stalled {
				return
			}
		}
	}
}

// readUntil reads events after from up to the stream sequence last,
// setting *at to each one delivered. It reports stalled when no event
// came for readStall, so that the caller opens the consumer again after
// *at; it ends without error when yield asked to stop or last was read.
func (s *Store) readUntil(ctx context.Context, from store.Position, last uint64, at *store.Position, yield func(store.RecordedEvent, error) bool) (stalled bool, err error) {
	cons, it, stop, err := s.consume(ctx, from)
	if err != nil {
		return false, err
	}
	defer s.release(ctx, cons, it, stop)
	// A watchdog rather than a deadline per message: a timer per event
	// would cost a read at broker speed a good part of its rate. It fires
	// only while the reader waits in Next, never while yield works.
	var delivered atomic.Uint64
	var waiting, stuck atomic.Bool
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(readStall / 3)
		defer tick.Stop()
		seen, idle := delivered.Load(), 0
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			n := delivered.Load()
			if n != seen || !waiting.Load() {
				seen, idle = n, 0
				continue
			}
			if idle++; idle >= 3 {
				stuck.Store(true)
				it.Stop()
				return
			}
		}
	}()
	for {
		waiting.Store(true)
		m, err := it.Next(jetstream.NextContext(ctx))
		waiting.Store(false)
		delivered.Add(1)
		if err != nil {
			if stuck.Load() && ctx.Err() == nil {
				return true, nil
			}
			return false, err
		}
		r, err := s.decodeMsg(m)
		if err != nil {
			return false, err
		}
		if r.Position.Commit > last {
			return false, nil
		}
		*at = r.Position
		if !yield(r, nil) || r.Position.Commit == last {
			return false, nil
		}
	}
}

// Subscribe implements store.Store.
func (s *Store) Subscribe(ctx context.Context, after store.Position, fn func(store.RecordedEvent) error) error {
	cons, it, stop, err := s.consume(ctx, after)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("subscribe after %s: %w", after, err)
	}
	defer s.release(ctx, cons, it, stop)
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("subscribe after %s: %w", after, err)
		}
		r, err := s.decodeMsg(m)
		if err != nil {
			return fmt.Errorf("subscribe after %s: %w", after, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
}

// ErrNoEvent: the store holds no event at the position asked.
var ErrNoEvent = errors.New("no event at this position")

// EventAt returns the event at position p, ErrNoEvent (wrapped) when there
// is none: what a projection's snapshot is checked against.
func (s *Store) EventAt(ctx context.Context, p store.Position) (store.RecordedEvent, error) {
	m, err := s.stream.GetMsg(ctx, p.Commit)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return store.RecordedEvent{}, fmt.Errorf("event at %s: %w", p, ErrNoEvent)
	}
	if err != nil {
		return store.RecordedEvent{}, fmt.Errorf("event at %s: %w", p, err)
	}
	return s.decode(m.Subject, m.Sequence, m.Time, m.Header, m.Data)
}

// EventsBetween counts the events after from up to and including to: a
// position is the event's stream sequence, and the stream holds nothing
// but events.
func (s *Store) EventsBetween(_ context.Context, from, to store.Position) (uint64, error) {
	if to.Commit <= from.Commit {
		return 0, nil
	}
	return to.Commit - from.Commit, nil
}

// EventAfter returns the first event after p.
func (s *Store) EventAfter(ctx context.Context, p store.Position) (store.RecordedEvent, error) {
	return s.EventAt(ctx, store.Position{Commit: p.Commit + 1, Prepare: p.Commit + 1})
}

// Head returns the position of the last event in the store (Start when it
// is empty): a reader that has applied up to Head has seen every event
// acknowledged before the call.
func (s *Store) Head(ctx context.Context) (store.Position, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return store.Position{}, fmt.Errorf("store head: %w", err)
	}
	seq := info.State.LastSeq
	return store.Position{Commit: seq, Prepare: seq}, nil
}

// AppendMulti implements store.MultiAppender with one JetStream atomic
// batch over all the writes' subjects: the server checks each subject's
// expected last sequence and, with fsync on every write, commits the whole
// batch with one fsync. At most MaxAppend events in all.
func (s *Store) AppendMulti(ctx context.Context, writes []store.Write) ([]store.AppendResult, error) {
	res, err := s.appendMulti(ctx, writes)
	return res, unavailable(err)
}

func (s *Store) appendMulti(ctx context.Context, writes []store.Write) ([]store.AppendResult, error) {
	total := 0
	seen := make(map[string]bool, len(writes))
	for _, w := range writes {
		if err := store.ValidStreamID(w.Stream); err != nil {
			return nil, fmt.Errorf("append multi: %w", err)
		}
		if err := store.CheckEvents(w.Events); err != nil {
			return nil, fmt.Errorf("append multi to %s: %w", w.Stream, err)
		}
		if seen[w.Stream] {
			return nil, fmt.Errorf("append multi: %w: stream %s written twice", store.ErrInvalidEvent, w.Stream)
		}
		if w.Expected.IsAny() {
			return nil, fmt.Errorf("append multi to %s: %w: a multi-stream append needs an exact expectation", w.Stream, store.ErrInvalidEvent)
		}
		seen[w.Stream] = true
		total += len(w.Events)
	}
	if total == 0 {
		return nil, nil
	}
	if total > s.maxAppend {
		return nil, fmt.Errorf("append multi: %d events, at most %d: %w", total, s.maxAppend, store.ErrTooManyEvents)
	}
	if err := s.checkSpace(); err != nil {
		return nil, err
	}
	batch := ""
	if total > 1 {
		batch = uuid.NewString()
	}
	var msgs []*nats.Msg
	nexts := make([]uint64, len(writes))
	for i, w := range writes {
		subj := s.prefix + w.Stream
		var next, after uint64
		if rev, ok := w.Expected.Revision(); ok {
			t, known := s.tip(subj)
			if !known || t.rev != rev {
				var err error
				if t, known, err = s.last(ctx, subj); err != nil {
					return nil, fmt.Errorf("append multi to %s: %w", w.Stream, err)
				}
			}
			if !known || t.rev != rev {
				// The direct get may have come from a lagging replica;
				// only the leader's answer makes a conflict.
				var err error
				if t, known, err = s.leaderLast(ctx, subj); err != nil {
					return nil, fmt.Errorf("append multi to %s: %w", w.Stream, err)
				}
			}
			if !known || t.rev != rev {
				return nil, &store.ConflictError{Stream: w.Stream, Expected: w.Expected, Actual: actual(t, known)}
			}
			next, after = rev+1, t.seq
		}
		nexts[i] = next
		part := s.messages(subj, next, after, w.Events, batch)
		if batch != "" {
			for j, m := range part {
				m.Header[hdrBatchSeq] = []string{strconv.Itoa(len(msgs) + j + 1)}
				if len(msgs)+j+1 != total {
					m.Header.Del(hdrBatchCommit)
				} else {
					m.Header[hdrBatchCommit] = []string{"1"}
				}
			}
		}
		msgs = append(msgs, part...)
	}
	ack, err := s.publishMulti(ctx, msgs, batch)
	if err == nil && ack.Duplicate {
		err = errDuplicate
	}
	if err != nil {
		for _, w := range writes {
			s.forget(s.prefix + w.Stream)
		}
		if refused, dup := classify(err); refused || dup {
			return nil, fmt.Errorf("append multi: refused (an expectation failed or an id is stored already): %w: %w", store.ErrConflict, err)
		}
		if tooLarge(err) {
			err = fmt.Errorf("%w: %w", store.ErrTooManyEvents, err)
		}
		return nil, fmt.Errorf("append multi: %w", err)
	}
	// A batch is committed in one piece: its messages have consecutive
	// sequences ending at the acknowledged one.
	seq := ack.Sequence - uint64(total)
	res := make([]store.AppendResult, len(writes))
	for i, w := range writes {
		seq += uint64(len(w.Events))
		last := nexts[i] + uint64(len(w.Events)) - 1
		res[i] = store.AppendResult{Revision: last, Position: store.Position{Commit: seq, Prepare: seq}}
		s.setTip(s.prefix+w.Stream, tip{last, seq})
		s.noteSeqs(s.prefix+w.Stream, nexts[i], seq+1-uint64(len(w.Events)), len(w.Events))
	}
	return res, nil
}

// publishMulti sends the messages of an AppendMulti, and sends them again
// under a new batch id while the server finds the batch incomplete (see
// incompleteRetries).
func (s *Store) publishMulti(ctx context.Context, msgs []*nats.Msg, batch string) (*jetstream.PubAck, error) {
	for resent := 0; ; resent++ {
		for _, m := range msgs[:len(msgs)-1] {
			if err := s.nc.PublishMsg(m); err != nil {
				return nil, err
			}
		}
		ack, err := s.js.PublishMsg(ctx, msgs[len(msgs)-1])
		if batch == "" || !incomplete(err) || resent == incompleteRetries {
			return ack, err
		}
		batch = uuid.NewString()
		for _, m := range msgs {
			m.Header[hdrBatchID] = []string{batch}
		}
	}
}

// checkSpace refuses an append while the disk is short of its reserve.
func (s *Store) checkSpace() error {
	if s.space == nil {
		return nil
	}
	if err := s.space(); err != nil {
		return &store.UnavailableError{Rule: store.RuleOpslagVol, Err: err,
			Reden: err.Error() + "; er is niets vastgelegd, en schrijven gaat vanzelf weer door zodra er ruimte is"}
	}
	return nil
}

// JetStream error codes of a store that can not take writes for now.
const (
	errInsufficient   jetstream.ErrorCode = 10023 // insufficient resources
	errStorageLimit   jetstream.ErrorCode = 10047 // insufficient storage resources
	errStoreFailed    jetstream.ErrorCode = 10077 // storing a message failed
	errNotEnabled     jetstream.ErrorCode = 10076 // JetStream not enabled
	errNotEnabledAcct jetstream.ErrorCode = 10039 // JetStream not enabled for the account
	errClusterBusy    jetstream.ErrorCode = 10008 // JetStream system temporarily unavailable (a cluster between leaders)
	errInProcess      jetstream.ErrorCode = 10158 // the same message id is still in process (a cluster)
)

// unavailable turns the errors of a broker that can not take a write now
// into a *store.UnavailableError naming the cause; others pass unchanged.
// Each of these means the write was not stored: the server answered no, or
// nobody answered at all. A timeout is left alone, since then the write may
// have been stored.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	var u *store.UnavailableError
	if errors.As(err, &u) {
		return err
	}
	vol := &store.UnavailableError{Rule: store.RuleOpslagVol, Err: err,
		Reden: "de opslag van de broker is vol: maak ruimte vrij op de schijf onder de opslag; schrijven gaat daarna vanzelf weer door, er is niets vastgelegd"}
	weg := &store.UnavailableError{Rule: store.RuleOpslagWeg, Err: err,
		Reden: "de opslag neemt nu niets aan (JetStream staat uit, bijvoorbeeld na een volle schijf, of de broker is onbereikbaar); er is niets vastgelegd: probeer het over enkele seconden opnieuw met dezelfde event-id's"}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case errInsufficient, errStorageLimit:
			return vol
		case errStoreFailed:
			if strings.Contains(apiErr.Description, "no space") {
				return vol
			}
			return weg
		case errNotEnabled, errNotEnabledAcct, errBatchIncomplete, errClusterBusy:
			return weg
		}
	}
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, nats.ErrConnectionClosed) {
		return weg
	}
	// Sent, but no answer that says whether it was stored.
	if errors.As(err, &apiErr) && apiErr.ErrorCode == errInProcess || errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrConnectionReconnecting) {
		return fmt.Errorf("%w: %w", store.ErrOutcomeUnknown, err)
	}
	return err
}

func actual(t tip, known bool) int64 {
	if !known {
		return -1
	}
	return int64(t.rev)
}
