// Package kurrentdb is the event store on KurrentDB (EventStoreDB), the
// production store the design names: one KurrentDB stream per case,
// appended with the expected revision, read back per stream and in the
// commit order of $all, followed with a catch-up subscription to $all.
//
// How the ledger's events look in KurrentDB, so that its own UI shows
// sensible names:
//
//   - stream: the case's stream id ("case-<uuid>");
//   - event type: the transition ("aanmelding", "plaatsing", ...);
//   - content type application/octet-stream, data: the ledger.v1.Event in
//     protobuf, the event as the ledger reads it back (authoritative);
//   - metadata: a JSON copy of the envelope (Config.Metadata, see
//     event.KurrentMetadata) for the reader of KurrentDB's UI; the ledger
//     never reads it.
//
// KurrentDB recognises a retried append only at the revision where it was
// first written, and would write the same event ids again elsewhere. The
// ledger's contract (package store) says a stored id is never written
// twice, so an append first reads its (short) case stream: a retry is
// answered from what is stored, an id stored elsewhere is a conflict, and
// the append itself is sent with the exact revision read, so that of two
// writers of the same ids only one gets in.
package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/store"
)

// Config says how to reach KurrentDB.
type Config struct {
	// URL is the connection string: kurrentdb://host:2113 (one node),
	// kurrentdb+discover://host:2113 (a cluster found by gossip) or
	// kurrentdb://a:2113,b:2113,c:2113 (gossip seeds); esdb:// and
	// esdb+discover:// are the same. TLS is on unless ?tls=false; a CA file
	// is ?tlsCAFile=PATH; user:password@ in the URL authenticates.
	URL string
	// Username and Password, when set, replace those of the URL (so that a
	// password need not be in a command line).
	Username, Password string
	// Prefix, when set, is put before every stream id, so that several
	// ledgers (or a test) share one KurrentDB: reads of $all and the
	// subscription see only streams with it (the subscription filters on
	// the server by it). Without it they see every stream that is not
	// KurrentDB's own.
	Prefix string
	// Metadata makes the event metadata written beside an event's data;
	// nil writes none.
	Metadata func(data []byte) []byte
	// OnSubscription, when set, hears what happens to a subscription:
	// "dropped" (it is made again), "fell-behind".
	OnSubscription func(what string)
	Logger         *slog.Logger
}

// Store is a store.Store on KurrentDB.
type Store struct {
	cfg  Config
	conf esdb.Configuration
	log  *slog.Logger

	mu     sync.Mutex
	client *esdb.Client

	fellBehind atomic.Uint64
	dropped    atomic.Uint64
}

var _ store.Store = (*Store)(nil)

// attempts bounds the retries of a call after "not leader" (the client has
// reconnected to the leader named) or a client that closed itself.
const attempts = 4

// anyAttempts bounds an append under store.Any that keeps losing the race
// for the stream's next revision to other writers.
const anyAttempts = 64

// Open connects to KurrentDB and checks that it answers, within ctx.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	conf, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Username != "" {
		conf.Username, conf.Password = cfg.Username, cfg.Password
	}
	s := &Store{cfg: cfg, conf: *conf, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// The client's own log goes to the store's logger, at debug: the
	// store reports what matters (a dropped subscription, a lost leader)
	// itself, with the ledger's context.
	s.conf.Logger = func(level esdb.LogLevel, format string, args ...any) {
		s.log.Debug("kurrentdb client: "+fmt.Sprintf(format, args...), "level", string(level))
	}
	if _, err := s.current(); err != nil {
		return nil, err
	}
	// One read of $all: the server answers, and the ledger's user may read
	// $all (KurrentDB lets only $admins and $ops by default).
	if _, err := s.Head(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("kurrentdb at %s: %w", redact(cfg.URL), err)
	}
	return s, nil
}

// parseURL accepts KurrentDB's scheme names for the client's esdb ones.
func parseURL(raw string) (*esdb.Configuration, error) {
	if raw == "" {
		return nil, errors.New("kurrentdb: no URL (--kurrentdb-url or LEDGER_KURRENTDB_URL)")
	}
	u := raw
	for _, p := range [][2]string{{"kurrentdb+discover://", "esdb+discover://"}, {"kurrentdb://", "esdb://"}, {"kdb+discover://", "esdb+discover://"}, {"kdb://", "esdb://"}} {
		if rest, ok := strings.CutPrefix(u, p[0]); ok {
			u = p[1] + rest
			break
		}
	}
	conf, err := esdb.ParseConnectionString(u)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb URL %s: %w", redact(raw), err)
	}
	return conf, nil
}

// redact hides a password in a URL for a message.
func redact(u string) string {
	i := strings.Index(u, "://")
	j := strings.LastIndex(u, "@")
	if i < 0 || j < i {
		return u
	}
	return u[:i+3] + "***@" + u[j+1:]
}

// Close closes the connection.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		_ = s.client.Close()
		s.client = nil
	}
}

// FellBehind is how often a subscription reported that it fell behind the
// log (KurrentDB then serves it from disk again, more slowly); Dropped how
// often one was dropped and made again.
func (s *Store) FellBehind() uint64 { return s.fellBehind.Load() }

// Dropped is how often a subscription was dropped and made again.
func (s *Store) Dropped() uint64 { return s.dropped.Load() }

func (s *Store) current() (*esdb.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		conf := s.conf
		c, err := esdb.NewClient(&conf)
		if err != nil {
			return nil, fmt.Errorf("kurrentdb client: %w", err)
		}
		s.client = c
	}
	return s.client, nil
}

// renew replaces a client that closed itself (it does so for good when it
// could not find a node): the next call makes a new one.
func (s *Store) renew(c *esdb.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == c {
		_ = c.Close()
		s.client = nil
	}
}

// do runs one call, again after "not leader" or a closed client: neither
// reached a leader, so nothing was done.
func (s *Store) do(ctx context.Context, fn func(*esdb.Client) error) error {
	var err error
	for range attempts {
		var c *esdb.Client
		if c, err = s.current(); err != nil {
			return err
		}
		err = fn(c)
		if err == nil {
			return nil
		}
		var e *esdb.Error
		if !errors.As(err, &e) {
			return err
		}
		switch e.Code() {
		case esdb.ErrorCodeNotLeader:
			s.log.Info("kurrentdb: not the leader, again on the leader it named")
			continue
		case esdb.ErrorCodeConnectionClosed:
			s.renew(c)
			if ctx.Err() != nil {
				return err
			}
			continue
		}
		return err
	}
	return err
}

// mapErr gives the store's sentinels to the client's errors.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var e *esdb.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case esdb.ErrorCodeResourceNotFound:
			return fmt.Errorf("%w: %w", store.ErrStreamNotFound, err)
		case esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeAccessDenied:
			return fmt.Errorf("KurrentDB weigert de gebruiker van de ledger (LEDGER_KURRENTDB_USERNAME en _PASSWORD, en lezen van $all): %w", err)
		case esdb.ErrorUnavailable, esdb.ErrorCodeConnectionClosed, esdb.ErrorCodeNotLeader, esdb.ErrorAborted:
			return &store.UnavailableError{Rule: store.RuleOpslagWeg, Reden: "KurrentDB antwoordt niet; de opdracht is niet bevestigd en kan met dezelfde event-id's opnieuw worden gegeven", Err: err}
		case esdb.ErrorCodeDeadlineExceeded:
			// Sent, and no answer in time: it may be stored.
			return fmt.Errorf("%w: %w", store.ErrOutcomeUnknown, err)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", store.ErrOutcomeUnknown, err)
	}
	return err
}

// Append appends events to a stream if it is at the expected revision
// (see the package comment for how retries are recognised).
func (s *Store) Append(ctx context.Context, stream string, expected store.Expected, events ...store.EventData) (store.AppendResult, error) {
	if err := store.ValidStreamID(stream); err != nil {
		return store.AppendResult{}, fmt.Errorf("append: %w", err)
	}
	if err := store.CheckEvents(events); err != nil {
		return store.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	data := make([]esdb.EventData, len(events))
	for i, ev := range events {
		data[i] = esdb.EventData{EventID: ev.ID, EventType: ev.Type, ContentType: esdb.ContentTypeBinary, Data: ev.Data}
		if s.cfg.Metadata != nil {
			data[i].Metadata = s.cfg.Metadata(ev.Data)
		}
	}
	tries := attempts
	if expected.IsAny() {
		tries = anyAttempts
	}
	for range tries {
		recs, err := s.ReadStream(ctx, stream)
		if err != nil && !errors.Is(err, store.ErrStreamNotFound) {
			return store.AppendResult{}, fmt.Errorf("append to %s: read it first: %w", stream, err)
		}
		if res, done, err := settled(stream, expected, recs, events); done {
			return res, err
		}
		// Sent with the revision just read, also under Any: a writer of the
		// same ids that got in first makes this one a conflict, and the next
		// read recognises the retry.
		var state esdb.ExpectedRevision = esdb.NoStream{}
		if len(recs) > 0 {
			state = esdb.StreamRevision{Value: recs[len(recs)-1].Revision}
		}
		var res *esdb.WriteResult
		err = s.do(ctx, func(c *esdb.Client) error {
			var err error
			res, err = c.AppendToStream(ctx, s.cfg.Prefix+stream, esdb.AppendToStreamOptions{ExpectedRevision: state}, data...)
			return err
		})
		var e *esdb.Error
		switch {
		case errors.As(err, &e) && e.IsErrorCode(esdb.ErrorCodeWrongExpectedVersion):
			continue // someone wrote meanwhile: read again, decide again
		case err != nil:
			return store.AppendResult{}, fmt.Errorf("append %d events to %s: %w", len(events), stream, mapErr(err))
		}
		out := store.AppendResult{Revision: uint64(len(recs) + len(events) - 1), Position: store.Position{Commit: res.CommitPosition, Prepare: res.PreparePosition}}
		if out.Position == store.Start {
			// KurrentDB answers an append it recognised as its own retry
			// without a position: the stream has it.
			again, err := s.ReadStream(ctx, stream)
			if err != nil {
				return store.AppendResult{}, fmt.Errorf("append to %s: read back: %w", stream, err)
			}
			if res, done, err := settled(stream, expected, again, events); done {
				return res, err
			}
			return store.AppendResult{}, fmt.Errorf("append to %s: KurrentDB answered without a position and the events are not where they should be", stream)
		}
		return out, nil
	}
	recs, err := s.ReadStream(ctx, stream)
	if err != nil && !errors.Is(err, store.ErrStreamNotFound) {
		return store.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	return store.AppendResult{}, &store.ConflictError{Stream: stream, Expected: expected, Actual: int64(len(recs)) - 1}
}

// settled decides an append from what the stream holds, where it can
// without writing: done with the result of an earlier identical append, or
// done with a conflict; not done when the events are to be written.
func settled(stream string, expected store.Expected, recs []store.RecordedEvent, events []store.EventData) (store.AppendResult, bool, error) {
	conflict := &store.ConflictError{Stream: stream, Expected: expected, Actual: int64(len(recs)) - 1}
	at := map[uuid.UUID]int{}
	for i, r := range recs {
		at[r.ID] = i
	}
	start, ok := expected.Next()
	if expected.IsAny() {
		i, found := at[events[0].ID]
		start, ok = uint64(i), found
	}
	if ok && start+uint64(len(events)) <= uint64(len(recs)) {
		same := true
		for i, ev := range events {
			if recs[start+uint64(i)].ID != ev.ID {
				same = false
				break
			}
		}
		if same {
			last := recs[start+uint64(len(events))-1]
			return store.AppendResult{Revision: last.Revision, Position: last.Position}, true, nil
		}
	}
	for _, ev := range events {
		if _, stored := at[ev.ID]; stored {
			return store.AppendResult{}, true, conflict
		}
	}
	if rev, exact := expected.Revision(); exact && (len(recs) == 0 || recs[len(recs)-1].Revision != rev) {
		return store.AppendResult{}, true, conflict
	}
	if expected.IsNoStream() && len(recs) > 0 {
		return store.AppendResult{}, true, conflict
	}
	return store.AppendResult{}, false, nil
}

// ReadStream returns all events of one stream in revision order.
func (s *Store) ReadStream(ctx context.Context, stream string) ([]store.RecordedEvent, error) {
	if err := store.ValidStreamID(stream); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	var out []store.RecordedEvent
	err := s.do(ctx, func(c *esdb.Client) error {
		out = out[:0]
		rs, err := c.ReadStream(ctx, s.cfg.Prefix+stream, esdb.ReadStreamOptions{From: esdb.Start{}, Direction: esdb.Forwards}, math.MaxInt64)
		if err != nil {
			return err
		}
		return each(rs, func(e *esdb.RecordedEvent) bool {
			out = append(out, s.recorded(e))
			return true
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, mapErr(err))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read %s: %w", stream, store.ErrStreamNotFound)
	}
	return out, nil
}

func (s *Store) recorded(e *esdb.RecordedEvent) store.RecordedEvent {
	return store.RecordedEvent{
		ID: e.EventID, Stream: strings.TrimPrefix(e.StreamID, s.cfg.Prefix), Type: e.EventType, Revision: e.EventNumber,
		Position: store.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare},
		Recorded: e.CreatedDate, Data: e.Data,
	}
}

// foreign reports whether an event is not the ledger's: KurrentDB's own,
// or outside the prefix.
func (s *Store) foreign(e *esdb.RecordedEvent) bool {
	if s.cfg.Prefix != "" {
		return !strings.HasPrefix(e.StreamID, s.cfg.Prefix)
	}
	return strings.HasPrefix(e.EventType, "$") || strings.HasPrefix(e.StreamID, "$")
}

// filter is the server-side filter of the subscription.
func (s *Store) filter() *esdb.SubscriptionFilter {
	if s.cfg.Prefix != "" {
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{s.cfg.Prefix}}
	}
	return esdb.ExcludeSystemEventsFilter()
}

func (s *Store) report(what string) {
	if s.cfg.OnSubscription != nil {
		s.cfg.OnSubscription(what)
	}
}

// ReadAll yields every ledger event after a position in commit order, up
// to the last event of $all when the call was made. KurrentDB's own events
// are left out here (the client's read of $all takes no filter; the
// subscription filters on the server).
func (s *Store) ReadAll(ctx context.Context, after store.Position) iter.Seq2[store.RecordedEvent, error] {
	// The end is where $all is now, at the call, not where it will be when
	// the caller starts ranging.
	end, err := s.Head(ctx)
	return func(yield func(store.RecordedEvent, error) bool) {
		if err != nil {
			yield(store.RecordedEvent{}, fmt.Errorf("read all: %w", err))
			return
		}
		if !after.Less(end) {
			return
		}
		for r, err := range s.between(ctx, after, false) {
			if err != nil {
				yield(store.RecordedEvent{}, fmt.Errorf("read all after %s: %w", after, err))
				return
			}
			if end.Less(r.Position) || !yield(r, nil) {
				return
			}
		}
	}
}

// resubscribe bounds the wait before a dropped subscription is made again.
const (
	resubscribeFirst = 50 * time.Millisecond
	resubscribeMax   = 5 * time.Second
)

// Subscribe calls fn for every ledger event after a position, then for each
// new one. A dropped subscription is made again from the last event handed
// on: no gap, and nothing handed on twice.
func (s *Store) Subscribe(ctx context.Context, after store.Position, fn func(store.RecordedEvent) error) error {
	wait := resubscribeFirst
	for {
		handed, err := s.subscribeOnce(ctx, &after, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var stop fnError
		if errors.As(err, &stop) {
			return stop.err
		}
		if handed {
			wait = resubscribeFirst
		}
		s.dropped.Add(1)
		s.report("dropped")
		s.log.Warn("kurrentdb: subscription dropped, made again", "after", after.String(), "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, resubscribeMax)
	}
}

// fnError carries the error of the subscriber's own function: it ends the
// subscription instead of making it again.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// subscribeOnce follows one subscription until it drops; it moves *after
// along with every event handed on, and says whether it handed any on.
func (s *Store) subscribeOnce(ctx context.Context, after *store.Position, fn func(store.RecordedEvent) error) (bool, error) {
	c, err := s.current()
	if err != nil {
		return false, err
	}
	var from esdb.AllPosition = esdb.Start{}
	if *after != store.Start {
		from = esdb.Position{Commit: after.Commit, Prepare: after.Prepare}
	}
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: from, Filter: s.filter()})
	if err != nil {
		var e *esdb.Error
		if errors.As(err, &e) && e.IsErrorCode(esdb.ErrorCodeConnectionClosed) {
			s.renew(c)
		}
		return false, fmt.Errorf("subscribe after %s: %w", after, mapErr(err))
	}
	defer sub.Close()
	stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
	defer stop()
	handed := false
	for {
		ev := sub.Recv()
		switch {
		case ev.EventAppeared != nil && ev.EventAppeared.Event != nil:
			e := ev.EventAppeared.Event
			p := store.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare}
			if !after.Less(p) || s.foreign(e) {
				continue
			}
			if err := fn(s.recorded(e)); err != nil {
				return handed, fnError{err}
			}
			*after, handed = p, true
		case ev.SubscriptionDropped != nil:
			return handed, fmt.Errorf("subscription after %s dropped: %w", after, mapErr(ev.SubscriptionDropped.Error))
		case ev.FellBehind != nil:
			s.fellBehind.Add(1)
			s.report("fell-behind")
			s.log.Warn("kurrentdb: subscription fell behind the log", "after", after.String())
		}
	}
}

// Head is the position of the last ledger event in $all (Start when there
// is none): a reader that has applied up to it has seen every event
// acknowledged before the call.
func (s *Store) Head(ctx context.Context) (store.Position, error) {
	var p store.Position
	err := s.do(ctx, func(c *esdb.Client) error {
		p = store.Start
		rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{From: esdb.End{}, Direction: esdb.Backwards}, math.MaxInt64)
		if err != nil {
			return err
		}
		return each(rs, func(e *esdb.RecordedEvent) bool {
			if s.foreign(e) {
				return true
			}
			p = store.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare}
			return false
		})
	})
	if err != nil {
		return store.Start, fmt.Errorf("store head: %w", mapErr(err))
	}
	return p, nil
}

// EventAt returns the ledger event at exactly position p.
func (s *Store) EventAt(ctx context.Context, p store.Position) (store.RecordedEvent, error) {
	for r, err := range s.between(ctx, p, true) {
		if err != nil {
			return store.RecordedEvent{}, err
		}
		if r.Position == p {
			return r, nil
		}
		break
	}
	return store.RecordedEvent{}, fmt.Errorf("event at %s: %w", p, store.ErrStreamNotFound)
}

// EventAfter returns the first ledger event after p.
func (s *Store) EventAfter(ctx context.Context, p store.Position) (store.RecordedEvent, error) {
	for r, err := range s.between(ctx, p, false) {
		return r, err
	}
	return store.RecordedEvent{}, fmt.Errorf("event after %s: %w", p, store.ErrStreamNotFound)
}

// EventsBetween counts the ledger events after from up to and including
// to. KurrentDB's positions are places in its log, not counts, so this
// reads them: it serves a lag report, where the distance is short.
func (s *Store) EventsBetween(ctx context.Context, from, to store.Position) (uint64, error) {
	var n uint64
	for r, err := range s.between(ctx, from, false) {
		if err != nil {
			return n, err
		}
		if to.Less(r.Position) {
			break
		}
		n++
	}
	return n, nil
}

// between reads the ledger events of $all from p on (with p itself when
// inclusive), until the caller stops.
func (s *Store) between(ctx context.Context, p store.Position, inclusive bool) iter.Seq2[store.RecordedEvent, error] {
	return func(yield func(store.RecordedEvent, error) bool) {
		c, err := s.current()
		if err != nil {
			yield(store.RecordedEvent{}, err)
			return
		}
		var from esdb.AllPosition = esdb.Start{}
		if p != store.Start {
			from = esdb.Position{Commit: p.Commit, Prepare: p.Prepare}
		}
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		rs, err := c.ReadAll(rctx, esdb.ReadAllOptions{From: from, Direction: esdb.Forwards}, math.MaxInt64)
		if err != nil {
			yield(store.RecordedEvent{}, mapErr(err))
			return
		}
		stopped := false
		err = each(rs, func(e *esdb.RecordedEvent) bool {
			if s.foreign(e) {
				return true
			}
			at := store.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare}
			if at.Less(p) || at == p && !inclusive {
				return true
			}
			stopped = !yield(s.recorded(e), nil)
			return !stopped
		})
		if err != nil && !stopped {
			yield(store.RecordedEvent{}, mapErr(err))
		}
	}
}

// each hands the events of a read to fn until fn says stop or the read
// ends, and closes the read.
func each(rs *esdb.ReadStream, fn func(*esdb.RecordedEvent) bool) error {
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if ev.Event != nil && !fn(ev.Event) {
			return nil
		}
	}
}
