// Package store defines the event store: the ledger's source of truth.
//
// An event exists once a Store accepted it. Every implementation (the default
// on NATS JetStream, and KurrentDB) must pass the conformance suite in
// package storetest, which is the executable form of this contract:
//
//   - Append is all-or-nothing: the events of one call land together, in
//     order, or none of them does, even when the writer dies half way.
//   - Append checks the expected revision against the stream's last revision
//     atomically: of concurrent writers that saw the same revision exactly one
//     wins, the others get an error that unwraps to ErrConflict.
//   - Appending events whose ids are already in the stream at exactly the
//     positions the expected revision implies is an idempotent retry: it
//     succeeds and writes nothing.
//   - ReadAll and Subscribe deliver every event once, in one global order
//     that never changes, starting after a given Position, so that a reader
//     that stored a Position resumes exactly there.
package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Sentinel errors. Implementations wrap them so callers can use errors.Is.
var (
	// ErrConflict: the stream is not at the expected revision.
	ErrConflict = errors.New("wrong expected revision")
	// ErrStreamNotFound: the stream has no events.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrInvalidStream: the stream id can not be stored (empty, or with
	// characters that are not allowed).
	ErrInvalidStream = errors.New("invalid stream id")
	// ErrInvalidEvent: an event without id or type, or a batch with a
	// repeated id.
	ErrInvalidEvent = errors.New("invalid event")
	// ErrTooManyEvents: more events in one Append than the store can make
	// atomic.
	ErrTooManyEvents = errors.New("too many events in one append")
	// ErrTooLarge: an event of more than MaxEventBytes.
	ErrTooLarge = errors.New("event too large")
	// ErrUnavailable: the store can not take the write now (its disk is
	// full, its broker is away) and did not take it. It is a state that
	// passes: the same write may be retried, by its event ids, once the
	// cause is gone. An *UnavailableError says which cause.
	ErrUnavailable = errors.New("store unavailable")
	// ErrOutcomeUnknown: the store gave no answer that says whether the
	// write was stored (a connection lost after sending, the same id still
	// in process on a cluster). A retry with the same event ids settles it:
	// stored at most once.
	ErrOutcomeUnknown = errors.New("store gave no answer on the write")
)

// Rules of an UnavailableError, named like the refusals of the rules.
const (
	// RuleOpslagVol: the disk under the store has less free space than
	// the ledger keeps in reserve, or the broker reports it is out of
	// storage.
	RuleOpslagVol = "opslag.vol"
	// RuleOpslagWeg: the store does not answer (JetStream is off or the
	// broker is unreachable).
	RuleOpslagWeg = "opslag.niet-beschikbaar"
)

// UnavailableError reports a write the store did not take because of its
// own state, not because of the write.
type UnavailableError struct {
	Rule string
	// Reden says in Dutch, for the person who reads it, what is wrong and
	// what to do.
	Reden string
	Err   error
}

func (e *UnavailableError) Error() string {
	if e.Err == nil || e.Err.Error() == e.Reden {
		return fmt.Sprintf("%s [%s]", e.Reden, e.Rule)
	}
	return fmt.Sprintf("%s [%s]: %v", e.Reden, e.Rule, e.Err)
}

func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// MaxEventBytes bounds one event's data in every store: far above any event
// within the API's bounds (a few KB), far below what a broker or KurrentDB
// refuses with an error of its own (1 MB on the ledger's JetStream).
const MaxEventBytes = 256 << 10

// Expected is the revision a writer expects a stream to be at.
type Expected struct {
	kind expectKind
	rev  uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectExact
)

// Any accepts the stream at whatever revision it is.
func Any() Expected { return Expected{kind: expectAny} }

// NoStream expects the stream to have no events yet.
func NoStream() Expected { return Expected{kind: expectNoStream} }

// Exactly expects the stream's last event to be at revision rev.
func Exactly(rev uint64) Expected { return Expected{kind: expectExact, rev: rev} }

// IsAny reports whether e accepts any revision.
func (e Expected) IsAny() bool { return e.kind == expectAny }

// IsNoStream reports whether e expects an empty stream.
func (e Expected) IsNoStream() bool { return e.kind == expectNoStream }

// Revision returns the exact revision expected and whether there is one.
func (e Expected) Revision() (uint64, bool) { return e.rev, e.kind == expectExact }

// Next is the revision the first appended event gets under e, given that e
// is satisfied; for Any it is meaningless and reports false.
func (e Expected) Next() (uint64, bool) {
	switch e.kind {
	case expectNoStream:
		return 0, true
	case expectExact:
		return e.rev + 1, true
	}
	return 0, false
}

func (e Expected) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectExact:
		return fmt.Sprintf("revision %d", e.rev)
	}
	return "any"
}

// Position is a place in the global order of all events. The zero Position
// is before the first event. Positions of later events compare greater.
//
// KurrentDB positions have two parts; the JetStream store uses its stream
// sequence for both.
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Start is the position before the first event.
var Start = Position{}

// Less reports whether p comes before q.
func (p Position) Less(q Position) bool {
	if p.Commit != q.Commit {
		return p.Commit < q.Commit
	}
	return p.Prepare < q.Prepare
}

func (p Position) String() string { return fmt.Sprintf("%d/%d", p.Commit, p.Prepare) }

// EventData is an event to append.
type EventData struct {
	ID   uuid.UUID
	Type string // e.g. "plaatsing"
	Data []byte // the marshalled ledger.v1.Event
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	ID       uuid.UUID
	Stream   string
	Type     string
	Revision uint64 // place in its stream, from 0
	Position Position
	Recorded time.Time // when the store accepted it
	Data     []byte
}

// AppendResult tells where the last appended event landed.
type AppendResult struct {
	Revision uint64   // revision of the last event appended
	Position Position // global position of the last event appended
}

// Store is an append-only event store of many streams (one per case).
type Store interface {
	// Append appends events to a stream if it is at the expected revision.
	Append(ctx context.Context, stream string, expected Expected, events ...EventData) (AppendResult, error)
	// ReadStream returns all events of one stream in revision order, or an
	// error wrapping ErrStreamNotFound.
	ReadStream(ctx context.Context, stream string) ([]RecordedEvent, error)
	// ReadAll yields every event after a position in global order, up to the
	// last event that existed when the call was made.
	ReadAll(ctx context.Context, after Position) iter.Seq2[RecordedEvent, error]
	// Subscribe calls fn for every event after a position in global order,
	// then for each new event as it is appended. It returns when ctx ends
	// (with ctx.Err()) or when fn returns an error (with that error).
	Subscribe(ctx context.Context, after Position, fn func(RecordedEvent) error) error
}

// ConflictError reports an append refused because of its expected revision.
type ConflictError struct {
	Stream   string
	Expected Expected
	// Actual is the stream's last revision, or -1 when it has no events.
	Actual int64
}

func (e *ConflictError) Error() string {
	actual := "no stream"
	if e.Actual >= 0 {
		actual = fmt.Sprintf("revision %d", e.Actual)
	}
	return fmt.Sprintf("append to %s: expected %s, stream is at %s: %v", e.Stream, e.Expected, actual, ErrConflict)
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// MaxStreamIDLen bounds a stream id; it becomes part of a subject or key.
const MaxStreamIDLen = 128

// ValidStreamID checks that id can be used by every store: letters, digits,
// '-' and '_' only, so it is one token in a NATS subject and a plain
// KurrentDB stream name.
func ValidStreamID(id string) error {
	if id == "" || len(id) > MaxStreamIDLen {
		return fmt.Errorf("%w: %q must be 1 to %d characters", ErrInvalidStream, id, MaxStreamIDLen)
	}
	if i := strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}); i >= 0 {
		return fmt.Errorf("%w: %q has %q at %d; use letters, digits, '-' and '_'", ErrInvalidStream, id, id[i], i)
	}
	return nil
}

// CheckEvents validates a batch before any of it is written.
func CheckEvents(events []EventData) error {
	if len(events) == 0 {
		return fmt.Errorf("%w: no events", ErrInvalidEvent)
	}
	seen := make(map[uuid.UUID]bool, len(events))
	for i, ev := range events {
		if ev.ID == uuid.Nil {
			return fmt.Errorf("%w: event %d has no id", ErrInvalidEvent, i)
		}
		if ev.Type == "" {
			return fmt.Errorf("%w: event %d (%s) has no type", ErrInvalidEvent, i, ev.ID)
		}
		if seen[ev.ID] {
			return fmt.Errorf("%w: event id %s appears twice", ErrInvalidEvent, ev.ID)
		}
		if len(ev.Data) > MaxEventBytes {
			return fmt.Errorf("%w: event %d (%s) has %d bytes, at most %d", ErrTooLarge, i, ev.ID, len(ev.Data), MaxEventBytes)
		}
		seen[ev.ID] = true
	}
	return nil
}

// Write is one stream's part of an AppendMulti.
type Write struct {
	Stream   string
	Expected Expected
	Events   []EventData
}

// MultiAppender is a Store that can append to several streams in one
// atomic step: every write's expectation holds and all events land, in the
// order given, or nothing is written. A bulk load (the import) uses it to
// make one durable commit of many cases instead of one per case. It is
// optional: a caller falls back to Append per write. Because the step is
// all-or-nothing, a refusal does not say which write was refused; Append
// per write tells.
type MultiAppender interface {
	AppendMulti(ctx context.Context, writes []Write) ([]AppendResult, error)
}
