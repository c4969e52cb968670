package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/store"
)

var cases = []struct {
	name string
	run  func(t *testing.T, h Harness)
}{
	{"RoundTrip", testRoundTrip},
	{"RevisionsFromZero", testRevisionsFromZero},
	{"ReadMissingStream", testReadMissingStream},
	{"InvalidStreamID", testInvalidStreamID},
	{"InvalidEvents", testInvalidEvents},
	{"ExpectNoStream", testExpectNoStream},
	{"ExpectExactly", testExpectExactly},
	{"ExpectAny", testExpectAny},
	{"ConcurrentWriters", testConcurrentWriters},
	{"ConcurrentAny", testConcurrentAny},
	{"StaleHandle", testStaleHandle},
	{"IdempotentRetry", testIdempotentRetry},
	{"IdempotentRetryBatch", testIdempotentRetryBatch},
	{"RetryElsewhereConflicts", testRetryElsewhereConflicts},
	{"BatchAllOrNothing", testBatchAllOrNothing},
	{"BatchAdjacent", testBatchAdjacent},
	{"MultiAppend", testMultiAppend},
	{"MultiAppendAllOrNothing", testMultiAppendAllOrNothing},
	{"TooManyEvents", testTooManyEvents},
	{"TooLarge", testTooLarge},
	{"InterruptedAppend", testInterruptedAppend},
	{"GlobalOrder", testGlobalOrder},
	{"Resume", testResume},
	{"ReadAllEndsAtCallTime", testReadAllEndsAtCallTime},
	{"SubscribeFnError", testSubscribeFnError},
	{"SubscribeCancel", testSubscribeCancel},
}

func testRoundTrip(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	evs := events(3, "aanmelding")
	evs[1].Data = nil // an empty payload is a payload too
	res := mustAppend(t, ctx, s, "case-1", store.NoStream(), evs...)
	recs := readStream(t, ctx, s, "case-1")
	wantStream(t, recs, "case-1", evs)
	if want := (store.AppendResult{Revision: 2, Position: recs[2].Position}); res != want {
		t.Fatalf("Append returned %+v, want %+v", res, want)
	}

	more := events(1, "intake")
	res = mustAppend(t, ctx, s, "case-1", store.Exactly(2), more...)
	recs = readStream(t, ctx, s, "case-1")
	wantStream(t, recs, "case-1", append(evs, more...))
	if want := (store.AppendResult{Revision: 3, Position: recs[3].Position}); res != want {
		t.Fatalf("Append returned %+v, want %+v", res, want)
	}
	samePositions(t, "ReadAll", wantCount(t, ctx, s, 4), recs)
}

func testRevisionsFromZero(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	evs := events(5, "intake")
	for i, ev := range evs {
		exp := store.NoStream()
		if i > 0 {
			exp = store.Exactly(uint64(i - 1))
		}
		res := mustAppend(t, ctx, s, "case-1", exp, ev)
		if res.Revision != uint64(i) {
			t.Fatalf("append %d got revision %d", i, res.Revision)
		}
		recs := readStream(t, ctx, s, "case-1")
		wantStream(t, recs, "case-1", evs[:i+1])
		if res.Position != recs[i].Position {
			t.Fatalf("append %d returned position %s, stored at %s", i, res.Position, recs[i].Position)
		}
	}
	// A second stream counts from 0 as well.
	other := events(1, "intake")
	if res := mustAppend(t, ctx, s, "case-2", store.NoStream(), other...); res.Revision != 0 {
		t.Fatalf("first event of case-2 got revision %d", res.Revision)
	}
	wantStream(t, readStream(t, ctx, s, "case-2"), "case-2", other)
}

func testReadMissingStream(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	wantNotFound(t, ctx, s, "case-1")
	mustAppend(t, ctx, s, "case-1", store.NoStream(), events(2, "aanmelding")...)
	// Ids that share a prefix with a stored one are other streams.
	for _, id := range []string{"case-10", "case", "case-", "Case-1", "case-1-1", "case_1"} {
		wantNotFound(t, ctx, s, id)
	}
}

func testInvalidStreamID(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	bad := []string{"", "a.b", "a b", "a*", "a>", "case.>", "a/b", "$JS", "zaak-ë", "a\tb", strings.Repeat("x", store.MaxStreamIDLen+1)}
	for _, id := range bad {
		_, err := s.Append(ctx, id, store.Any(), events(1, "aanmelding")...)
		if !errors.Is(err, store.ErrInvalidStream) {
			t.Errorf("Append(%q) = %v, want %v", id, err, store.ErrInvalidStream)
		}
		_, err = s.ReadStream(ctx, id)
		if !errors.Is(err, store.ErrInvalidStream) && !errors.Is(err, store.ErrStreamNotFound) {
			t.Errorf("ReadStream(%q) = %v, want %v or %v", id, err, store.ErrInvalidStream, store.ErrStreamNotFound)
		}
	}
	wantCount(t, ctx, s, 0)
	// The longest valid id works.
	long := strings.Repeat("x", store.MaxStreamIDLen)
	evs := events(1, "aanmelding")
	mustAppend(t, ctx, s, long, store.NoStream(), evs...)
	wantStream(t, readStream(t, ctx, s, long), long, evs)
}

func testInvalidEvents(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	good := events(3, "intake")
	noID := store.EventData{Type: "intake", Data: []byte("x")}
	noType := store.EventData{ID: uuid.New(), Data: []byte("x")}
	bad := map[string][]store.EventData{
		"no events":         nil,
		"no id":             {noID},
		"no type":           {noType},
		"repeated id":       {good[0], good[0]},
		"last has no id":    {good[0], good[1], noID},
		"middle has no typ": {good[0], noType, good[1]},
		"repeated in batch": {good[0], good[1], good[2], good[1]},
	}
	for name, evs := range bad {
		for _, exp := range []store.Expected{store.NoStream(), store.Any()} {
			_, err := s.Append(ctx, "case-1", exp, evs...)
			if !errors.Is(err, store.ErrInvalidEvent) {
				t.Fatalf("%s under %s: Append = %v, want %v", name, exp, err, store.ErrInvalidEvent)
			}
		}
	}
	wantNotFound(t, ctx, s, "case-1")

	// Nor on a stream that exists.
	first := events(1, "aanmelding")
	mustAppend(t, ctx, s, "case-1", store.NoStream(), first...)
	for name, evs := range bad {
		if _, err := s.Append(ctx, "case-1", store.Exactly(0), evs...); !errors.Is(err, store.ErrInvalidEvent) {
			t.Fatalf("%s on an existing stream: Append = %v, want %v", name, err, store.ErrInvalidEvent)
		}
	}
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", first)
	wantCount(t, ctx, s, 1)
	// The rejected ids were not taken.
	mustAppend(t, ctx, s, "case-1", store.Exactly(0), good...)
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", append(first, good...))
}

func testExpectNoStream(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	evs := events(2, "aanmelding")
	mustAppend(t, ctx, s, "case-1", store.NoStream(), evs...)
	_, err := s.Append(ctx, "case-1", store.NoStream(), events(1, "aanmelding")...)
	wantConflict(t, err, "case-1", 1)
	_, err = s.Append(ctx, "case-1", store.NoStream(), events(3, "aanmelding")...)
	wantConflict(t, err, "case-1", 1)
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", evs)
	wantCount(t, ctx, s, 2)
}

func testExpectExactly(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	_, err := s.Append(ctx, "case-1", store.Exactly(0), events(1, "intake")...)
	wantConflict(t, err, "case-1", -1)
	wantNotFound(t, ctx, s, "case-1")

	evs := events(2, "aanmelding")
	mustAppend(t, ctx, s, "case-1", store.NoStream(), evs[0])
	mustAppend(t, ctx, s, "case-1", store.Exactly(0), evs[1])
	for _, rev := range []uint64{0, 2, 5} {
		for _, n := range []int{1, 3} {
			_, err := s.Append(ctx, "case-1", store.Exactly(rev), events(n, "intake")...)
			wantConflict(t, err, "case-1", 1)
		}
	}
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", evs)
	more := events(2, "plaatsing")
	if res := mustAppend(t, ctx, s, "case-1", store.Exactly(1), more...); res.Revision != 3 {
		t.Fatalf("append at revision 1 returned revision %d, want 3", res.Revision)
	}
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", append(evs, more...))
	wantCount(t, ctx, s, 4)
}

func testExpectAny(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	var all []store.EventData
	for i, n := range []int{1, 3, 1, 2} {
		evs := events(n, "intake")
		res := mustAppend(t, ctx, s, "case-1", store.Any(), evs...)
		all = append(all, evs...)
		if res.Revision != uint64(len(all)-1) {
			t.Fatalf("append %d under any returned revision %d, want %d", i, res.Revision, len(all)-1)
		}
	}
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", all)
}

// testConcurrentWriters races writers that all saw the same revision, round
// after round: exactly one wins each round, the others conflict and write
// nothing, and each of them retrying gets its own answer again.
func testConcurrentWriters(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	handles := []store.Store{s}
	if h.Features.Reopen != nil {
		handles = append(handles, h.Features.Reopen(t, s))
	}
	const writers, rounds = 12, 25
	const stream = "case-race"
	var stored []store.EventData
	type outcome struct {
		w   int
		res store.AppendResult
		err error
	}
	for round := range rounds {
		exp := store.NoStream()
		if len(stored) > 0 {
			exp = store.Exactly(uint64(len(stored) - 1))
		}
		batches := make([][]store.EventData, writers)
		for w := range batches {
			batches[w] = events(1+w%3, fmt.Sprintf("round%d", round))
		}
		start := make(chan struct{})
		out := make(chan outcome, writers)
		var ready sync.WaitGroup
		for w := range writers {
			ready.Add(1)
			go func() {
				ready.Done()
				<-start
				res, err := handles[w%len(handles)].Append(ctx, stream, exp, batches[w]...)
				out <- outcome{w, res, err}
			}()
		}
		ready.Wait()
		close(start)
		win := -1
		results := make([]outcome, writers)
		for range writers {
			var o outcome
			select {
			case o = <-out:
			case <-ctx.Done():
				t.Fatalf("round %d: writers did not finish: %v", round, ctx.Err())
			}
			results[o.w] = o
			switch {
			case o.err == nil:
				if win >= 0 {
					t.Fatalf("round %d: writers %d and %d both won under %s", round, win, o.w, exp)
				}
				win = o.w
			case errors.Is(o.err, store.ErrConflict):
			default:
				t.Fatalf("round %d: writer %d: %v", round, o.w, o.err)
			}
		}
		if win < 0 {
			t.Fatalf("round %d: no writer won under %s", round, exp)
		}
		stored = append(stored, batches[win]...)
		if want := uint64(len(stored) - 1); results[win].res.Revision != want {
			t.Fatalf("round %d: winner got revision %d, want %d", round, results[win].res.Revision, want)
		}
		for _, o := range results {
			if o.w != win {
				wantConflict(t, o.err, stream, int64(len(stored)-1))
			}
		}
		// Retrying gives each writer its answer again, through either handle.
		for _, o := range results {
			res, err := handles[(o.w+1)%len(handles)].Append(ctx, stream, exp, batches[o.w]...)
			if o.w == win {
				if err != nil || res != o.res {
					t.Fatalf("round %d: winner's retry = %+v, %v; want %+v", round, res, err, o.res)
				}
			} else {
				wantConflict(t, err, stream, int64(len(stored)-1))
			}
		}
	}
	wantStream(t, readStream(t, ctx, s, stream), stream, stored)
	wantCount(t, ctx, s, len(stored))
}

// testConcurrentAny: writers that accept any revision all get in, each
// append whole and where its result says.
func testConcurrentAny(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	handles := []store.Store{s}
	if h.Features.Reopen != nil {
		handles = append(handles, h.Features.Reopen(t, s))
	}
	const writers, appends = 8, 5
	type appended struct {
		evs []store.EventData
		res store.AppendResult
	}
	out := make(chan appended, writers*appends)
	errs := make(chan error, writers)
	start := make(chan struct{})
	for w := range writers {
		go func() {
			<-start
			for i := range appends {
				evs := events(1+(w+i)%2, "intake")
				res, err := handles[w%len(handles)].Append(ctx, "case-1", store.Any(), evs...)
				if err != nil {
					errs <- err
					return
				}
				out <- appended{evs, res}
			}
			errs <- nil
		}()
	}
	close(start)
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(out)
	recs := readStream(t, ctx, s, "case-1")
	byID := map[uuid.UUID]store.RecordedEvent{}
	for i, r := range recs {
		if r.Revision != uint64(i) {
			t.Fatalf("revision %d at index %d", r.Revision, i)
		}
		byID[r.ID] = r
	}
	n := 0
	for a := range out {
		n += len(a.evs)
		for k, ev := range a.evs {
			r, ok := byID[ev.ID]
			if !ok {
				t.Fatalf("event %s missing", ev.ID)
			}
			if want := a.res.Revision - uint64(len(a.evs)-1-k); r.Revision != want {
				t.Fatalf("event %s at revision %d, its append said %d", ev.ID, r.Revision, want)
			}
		}
		if last := byID[a.evs[len(a.evs)-1].ID]; last.Position != a.res.Position {
			t.Fatalf("append returned position %s, its last event is at %s", a.res.Position, last.Position)
		}
	}
	if len(recs) != n {
		t.Fatalf("stream has %d events, %d were appended", len(recs), n)
	}
	wantCount(t, ctx, s, n)
}

// testStaleHandle writes through two handles: neither may trust what it saw
// last, whatever it caches.
func testStaleHandle(t *testing.T, h Harness) {
	if h.Features.Reopen == nil {
		t.Skip("backend declares no Reopen: can not open a second handle")
	}
	ctx, s1 := testContext(t), h.New(t)
	s2 := h.Features.Reopen(t, s1)
	evs := events(4, "intake")
	mustAppend(t, ctx, s1, "case-1", store.NoStream(), evs[0])
	mustAppend(t, ctx, s2, "case-1", store.Exactly(0), evs[1])
	_, err := s1.Append(ctx, "case-1", store.Exactly(0), evs[2])
	wantConflict(t, err, "case-1", 1)
	res := mustAppend(t, ctx, s1, "case-1", store.Exactly(1), evs[2])
	_, err = s2.Append(ctx, "case-1", store.Exactly(1), evs[3])
	wantConflict(t, err, "case-1", 2)
	// A retry by the other process is still a retry.
	if again := mustAppend(t, ctx, s2, "case-1", store.Exactly(1), evs[2]); again != res {
		t.Fatalf("retry through the other handle = %+v, want %+v", again, res)
	}
	mustAppend(t, ctx, s2, "case-1", store.Any(), evs[3])
	wantStream(t, readStream(t, ctx, s1, "case-1"), "case-1", evs)
	wantStream(t, readStream(t, ctx, s2, "case-1"), "case-1", evs)
}

func testIdempotentRetry(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	evs := events(2, "aanmelding")
	first := mustAppend(t, ctx, s, "case-1", store.NoStream(), evs[0])
	if again := mustAppend(t, ctx, s, "case-1", store.NoStream(), evs[0]); again != first {
		t.Fatalf("retry returned %+v, want %+v", again, first)
	}
	second := mustAppend(t, ctx, s, "case-1", store.Exactly(0), evs[1])
	for range 2 {
		if again := mustAppend(t, ctx, s, "case-1", store.Exactly(0), evs[1]); again != second {
			t.Fatalf("retry returned %+v, want %+v", again, second)
		}
	}
	// An old retry arriving late is still recognised.
	if again := mustAppend(t, ctx, s, "case-1", store.NoStream(), evs[0]); again != first {
		t.Fatalf("late retry returned %+v, want %+v", again, first)
	}
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", evs)
	wantCount(t, ctx, s, 2)
}

func testIdempotentRetryBatch(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	a, b := events(3, "aanmelding"), events(2, "intake")
	resA := mustAppend(t, ctx, s, "case-1", store.NoStream(), a...)
	resB := mustAppend(t, ctx, s, "case-1", store.Exactly(2), b...)
	if again := mustAppend(t, ctx, s, "case-1", store.NoStream(), a...); again != resA {
		t.Fatalf("batch retry returned %+v, want %+v", again, resA)
	}
	if again := mustAppend(t, ctx, s, "case-1", store.Exactly(2), b...); again != resB {
		t.Fatalf("batch retry returned %+v, want %+v", again, resB)
	}
	// The events the expected revision places are these, so it is a retry
	// too, ending at the last of them.
	recs := readStream(t, ctx, s, "case-1")
	if again := mustAppend(t, ctx, s, "case-1", store.NoStream(), a[:2]...); again != (store.AppendResult{Revision: 1, Position: recs[1].Position}) {
		t.Fatalf("retry of a prefix returned %+v, want revision 1 at %s", again, recs[1].Position)
	}
	// Stored events followed by a new one is not a retry: it would write.
	extra := events(1, "intake")
	_, err := s.Append(ctx, "case-1", store.Exactly(2), append(slices.Clone(b), extra...)...)
	wantConflict(t, err, "case-1", 4)
	// Nor the same events in another order.
	_, err = s.Append(ctx, "case-1", store.NoStream(), a[1], a[0], a[2])
	wantConflict(t, err, "case-1", 4)
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", append(slices.Clone(a), b...))
	wantCount(t, ctx, s, 5)
}

// testRetryElsewhereConflicts: stored ids under another expected revision
// are a conflict, not a silent success, and write nothing.
func testRetryElsewhereConflicts(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	a, b := events(1, "aanmelding"), events(2, "intake")
	mustAppend(t, ctx, s, "case-1", store.NoStream(), a...)
	_, err := s.Append(ctx, "case-1", store.Exactly(0), a...) // at the right place for a new event
	wantConflict(t, err, "case-1", 0)
	mustAppend(t, ctx, s, "case-1", store.Exactly(0), b...)
	// Exactly(0) would be their retry; Exactly(2) is the right place for new
	// events, but these are stored already.
	for _, exp := range []store.Expected{store.NoStream(), store.Exactly(1), store.Exactly(2), store.Exactly(7)} {
		_, err := s.Append(ctx, "case-1", exp, b...)
		wantConflict(t, err, "case-1", 2)
	}
	fresh := events(1, "plaatsing")
	_, err = s.Append(ctx, "case-1", store.Exactly(2), fresh[0], a[0])
	wantConflict(t, err, "case-1", 2)
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", append(slices.Clone(a), b...))
	wantCount(t, ctx, s, 3)
	// The new event of the refused batch was not taken.
	mustAppend(t, ctx, s, "case-1", store.Exactly(2), fresh...)
}

func testBatchAllOrNothing(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	first := events(2, "aanmelding")
	mustAppend(t, ctx, s, "case-1", store.NoStream(), first...)
	for _, exp := range []store.Expected{store.NoStream(), store.Exactly(0), store.Exactly(2)} {
		_, err := s.Append(ctx, "case-1", exp, events(4, "intake")...)
		wantConflict(t, err, "case-1", 1)
	}
	bad := events(4, "intake")
	bad[3].Type = ""
	if _, err := s.Append(ctx, "case-1", store.Exactly(1), bad...); !errors.Is(err, store.ErrInvalidEvent) {
		t.Fatalf("batch with an invalid event: %v, want %v", err, store.ErrInvalidEvent)
	}
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", first)
	wantCount(t, ctx, s, 2)

	batch := events(5, "plaatsing")
	res := mustAppend(t, ctx, s, "case-1", store.Exactly(1), batch...)
	recs := readStream(t, ctx, s, "case-1")
	wantStream(t, recs, "case-1", append(first, batch...))
	if res != (store.AppendResult{Revision: 6, Position: recs[6].Position}) {
		t.Fatalf("batch append returned %+v, want revision 6 at %s", res, recs[6].Position)
	}
}

// testBatchAdjacent: the events of one append are adjacent in the global
// order even while other streams are written at the same time.
func testBatchAdjacent(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	const writers, appends, size = 4, 8, 5
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			stream := fmt.Sprintf("case-%d", w)
			exp := store.NoStream()
			for range appends {
				res, err := s.Append(ctx, stream, exp, events(size, "intake")...)
				if err != nil {
					errs <- err
					return
				}
				exp = store.Exactly(res.Revision)
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	all := wantCount(t, ctx, s, writers*appends*size)
	for i := 0; i < len(all); i += size {
		for j := i + 1; j < i+size; j++ {
			if all[j].Stream != all[i].Stream || all[j].Revision != all[j-1].Revision+1 {
				t.Fatalf("global order %d..%d: %s/%d follows %s/%d inside one append", i, i+size-1,
					all[j].Stream, all[j].Revision, all[j-1].Stream, all[j-1].Revision)
			}
		}
	}
}

func testTooManyEvents(t *testing.T, h Harness) {
	max := h.Features.MaxAppend
	if max == 0 {
		t.Skip("backend declares no MaxAppend")
	}
	ctx, s := testContext(t), h.New(t)
	evs := events(max+1, "intake")
	for _, exp := range []store.Expected{store.NoStream(), store.Any()} {
		if _, err := s.Append(ctx, "case-1", exp, evs...); !errors.Is(err, store.ErrTooManyEvents) {
			t.Fatalf("append of %d events: %v, want %v", len(evs), err, store.ErrTooManyEvents)
		}
	}
	wantNotFound(t, ctx, s, "case-1")
	res := mustAppend(t, ctx, s, "case-1", store.NoStream(), evs[:max]...)
	if res.Revision != uint64(max-1) {
		t.Fatalf("append of %d events returned revision %d", max, res.Revision)
	}
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", evs[:max])
}

// testInterruptedAppend kills a writer between the parts of one append:
// none of its events may show, and a writer that retries the same append
// gets it in, once.
func testInterruptedAppend(t *testing.T, h Harness) {
	if h.Features.InterruptAppend == nil {
		t.Skip("backend declares no InterruptAppend: can not kill a writer mid-append")
	}
	for _, c := range []struct {
		name          string
		before, n, at int
	}{
		{"NewStreamAfterFirst", 0, 3, 1},
		{"NewStreamBeforeCommit", 0, 3, 2},
		{"ExistingStream", 2, 4, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, s := testContext(t), h.New(t)
			before := events(c.before, "aanmelding")
			exp := store.NoStream()
			if c.before > 0 {
				mustAppend(t, ctx, s, "case-1", exp, before...)
				exp = store.Exactly(uint64(c.before - 1))
			}
			evs := events(c.n, "intake")
			h.Features.InterruptAppend(t, s, "case-1", exp, evs, c.at)
			if c.before == 0 {
				wantNotFound(t, ctx, s, "case-1")
			} else {
				wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", before)
			}
			res := mustAppend(t, ctx, s, "case-1", exp, evs...)
			if want := uint64(c.before + c.n - 1); res.Revision != want {
				t.Fatalf("append after the interrupted one returned revision %d, want %d", res.Revision, want)
			}
			wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", append(before, evs...))
			wantCount(t, ctx, s, c.before+c.n)
		})
	}
}

// testGlobalOrder writes many streams from several goroutines while a
// subscription watches, then checks ReadAll and the subscription against
// what was written.
func testGlobalOrder(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	live := subscribe(t, ctx, s, store.Start)
	const writers, appends, streamsEach = 4, 20, 3
	type appended struct {
		stream string
		evs    []store.EventData
		res    store.AppendResult
	}
	done := make(chan []appended, writers)
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			var log []appended
			revs := map[string]int64{}
			for i := range appends {
				stream := fmt.Sprintf("case-%d-%d", w, i%streamsEach)
				exp := store.NoStream()
				if rev, ok := revs[stream]; ok {
					exp = store.Exactly(uint64(rev))
				}
				n := 1
				if i%4 == 3 {
					n = 3
				}
				evs := events(n, "intake")
				res, err := s.Append(ctx, stream, exp, evs...)
				if err != nil {
					errs <- err
					return
				}
				revs[stream] = int64(res.Revision)
				log = append(log, appended{stream, evs, res})
			}
			done <- log
		}()
	}
	var logs []appended
	total := 0
	for range writers {
		select {
		case log := <-done:
			for _, a := range log {
				total += len(a.evs)
			}
			logs = append(logs, log...)
		case err := <-errs:
			t.Fatal(err)
		}
	}

	all := wantCount(t, ctx, s, total)
	index := map[uuid.UUID]int{}
	next := map[string]uint64{}
	for i, r := range all {
		if _, seen := index[r.ID]; seen {
			t.Fatalf("event %s appears twice", r.ID)
		}
		index[r.ID] = i
		if i > 0 && !all[i-1].Position.Less(r.Position) {
			t.Fatalf("position %s at %d does not follow %s", r.Position, i, all[i-1].Position)
		}
		if r.Revision != next[r.Stream] {
			t.Fatalf("%s revision %d at %d, want revision %d next", r.Stream, r.Revision, i, next[r.Stream])
		}
		next[r.Stream]++
	}
	for _, a := range logs {
		for k, ev := range a.evs {
			i, ok := index[ev.ID]
			if !ok {
				t.Fatalf("appended event %s missing from ReadAll", ev.ID)
			}
			if r := all[i]; r.Stream != a.stream || r.Revision != a.res.Revision-uint64(len(a.evs)-1-k) {
				t.Fatalf("event %s read as %s/%d, appended to %s ending at %d", ev.ID, r.Stream, r.Revision, a.stream, a.res.Revision)
			}
		}
		if last := all[index[a.evs[len(a.evs)-1].ID]]; last.Position != a.res.Position {
			t.Fatalf("append to %s returned position %s, its last event is at %s", a.stream, a.res.Position, last.Position)
		}
	}
	samePositions(t, "Subscribe during the writes", live.take(total), all)
	samePositions(t, "Subscribe afterwards", subscribe(t, ctx, s, store.Start).take(total), all)

	// Nothing more follows but what is appended next.
	tail := events(1, "uitstroom")
	res := mustAppend(t, ctx, s, "case-tail", store.NoStream(), tail...)
	if r := live.next(); r.ID != tail[0].ID || r.Position != res.Position {
		t.Fatalf("after %d events the subscription delivered %s at %s, want %s at %s", total, r.ID, r.Position, tail[0].ID, res.Position)
	}
	live.stop()
}

// testResume starts ReadAll and Subscribe after stored positions: each
// starts exactly after it, and Subscribe goes on with new events.
func testResume(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	mustAppend(t, ctx, s, "case-a", store.NoStream(), events(3, "aanmelding")...)
	mustAppend(t, ctx, s, "case-b", store.NoStream(), events(2, "aanmelding")...)
	mustAppend(t, ctx, s, "case-a", store.Exactly(2), events(1, "intake")...)
	mustAppend(t, ctx, s, "case-c", store.NoStream(), events(4, "aanmelding")...)
	all := wantCount(t, ctx, s, 10)
	for _, i := range []int{-1, 0, 2, 4, 5, 8, 9} {
		after := store.Start
		if i >= 0 {
			after = all[i].Position
		}
		samePositions(t, fmt.Sprintf("ReadAll after %s", after), readAll(t, ctx, s, after), all[i+1:])
		sub := subscribe(t, ctx, s, after)
		samePositions(t, fmt.Sprintf("Subscribe after %s", after), sub.take(len(all)-i-1), all[i+1:])
		sub.stop()
	}

	// A subscription that caught up gets new events, each once.
	sub := subscribe(t, ctx, s, all[5].Position)
	sub.take(4)
	for k := range 3 {
		ev := events(1, "plaatsing")
		res := mustAppend(t, ctx, s, "case-b", store.Exactly(uint64(1+k)), ev...)
		r := sub.next()
		if r.ID != ev[0].ID || r.Position != res.Position || r.Stream != "case-b" || r.Revision != uint64(2+k) {
			t.Fatalf("live event %d: got %s %s/%d at %s, want %s case-b/%d at %s", k, r.ID, r.Stream, r.Revision, r.Position, ev[0].ID, 2+k, res.Position)
		}
	}
	sub.stop()
	all = wantCount(t, ctx, s, 13)

	// From the very end, the first thing delivered is the next append.
	end := subscribe(t, ctx, s, all[12].Position)
	samePositions(t, "ReadAll from the end", readAll(t, ctx, s, all[12].Position), nil)
	ev := events(1, "uitstroom")
	mustAppend(t, ctx, s, "case-d", store.NoStream(), ev...)
	if r := end.next(); r.ID != ev[0].ID {
		t.Fatalf("subscription from the end delivered %s, want %s", r.ID, ev[0].ID)
	}
	end.stop()
}

func testReadAllEndsAtCallTime(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	if n := len(readAll(t, ctx, s, store.Start)); n != 0 {
		t.Fatalf("empty store: ReadAll yielded %d events", n)
	}
	first := events(5, "aanmelding")
	mustAppend(t, ctx, s, "case-1", store.NoStream(), first...)
	var got []store.RecordedEvent
	for r, err := range s.ReadAll(ctx, store.Start) {
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			// Appended while reading: not part of this read.
			mustAppend(t, ctx, s, "case-1", store.Exactly(4), events(3, "intake")...)
			mustAppend(t, ctx, s, "case-2", store.NoStream(), events(1, "intake")...)
		}
		got = append(got, r)
	}
	if len(got) != len(first) || !slices.Equal(recIDs(got), ids(first)) {
		t.Fatalf("ReadAll yielded %v, want the %d events that existed: %v", recIDs(got), len(first), ids(first))
	}
	// Stopping early is allowed and leaves the store usable.
	for range s.ReadAll(ctx, store.Start) {
		break
	}
	all := wantCount(t, ctx, s, 9)

	// The end is where the store was at the call, not at the first step.
	seq := s.ReadAll(ctx, all[3].Position)
	mustAppend(t, ctx, s, "case-2", store.Exactly(0), events(2, "plaatsing")...)
	got = got[:0]
	for r, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	samePositions(t, "ReadAll ranged after an append", got, all[4:])
}

func testSubscribeFnError(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	evs := events(5, "intake")
	mustAppend(t, ctx, s, "case-1", store.NoStream(), evs...)
	errStop := errors.New("projection failed")
	var seen []uuid.UUID
	err := s.Subscribe(ctx, store.Start, func(r store.RecordedEvent) error {
		seen = append(seen, r.ID)
		if len(seen) == 3 {
			return fmt.Errorf("apply %s: %w", r.ID, errStop)
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Subscribe returned %v, want the error of fn", err)
	}
	if !slices.Equal(seen, ids(evs[:3])) {
		t.Fatalf("fn saw %v, want %v", seen, ids(evs[:3]))
	}
}

func testSubscribeCancel(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	// On an empty store, waiting for the first event.
	subscribe(t, ctx, s, store.Start).stop()

	mustAppend(t, ctx, s, "case-1", store.NoStream(), events(2, "intake")...)
	sub := subscribe(t, ctx, s, store.Start)
	sub.take(2)
	sub.stop()

	// A context that is already done.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Subscribe(done, store.Start, func(store.RecordedEvent) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe with a cancelled context returned %v", err)
	}
}

func multi(t *testing.T, s store.Store) store.MultiAppender {
	t.Helper()
	m, ok := s.(store.MultiAppender)
	if !ok {
		t.Skip("the store does not implement store.MultiAppender")
	}
	return m
}

// testMultiAppend: one step appends to new and existing streams; each write
// gets its revisions, and the results' positions are those read back.
func testMultiAppend(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	m := multi(t, s)
	first := events(2, "aanmelding")
	mustAppend(t, ctx, s, "case-1", store.NoStream(), first...)
	a, b, c := events(3, "intake"), events(1, "aanmelding"), events(2, "aanmelding")
	res, err := m.AppendMulti(ctx, []store.Write{
		{Stream: "case-2", Expected: store.NoStream(), Events: b},
		{Stream: "case-1", Expected: store.Exactly(1), Events: a},
		{Stream: "case-3", Expected: store.NoStream(), Events: c},
	})
	if err != nil {
		t.Fatal(err)
	}
	one, two, three := readStream(t, ctx, s, "case-1"), readStream(t, ctx, s, "case-2"), readStream(t, ctx, s, "case-3")
	wantStream(t, one, "case-1", append(first, a...))
	wantStream(t, two, "case-2", b)
	wantStream(t, three, "case-3", c)
	want := []store.AppendResult{
		{Revision: 0, Position: two[0].Position},
		{Revision: 4, Position: one[4].Position},
		{Revision: 1, Position: three[1].Position},
	}
	for i := range want {
		if res[i] != want[i] {
			t.Errorf("write %d: result %+v, want %+v", i, res[i], want[i])
		}
	}
	// The next plain append builds on what the multi-append wrote.
	mustAppend(t, ctx, s, "case-3", store.Exactly(1), events(1, "intake")...)
	wantCount(t, ctx, s, 9)
}

// testMultiAppendAllOrNothing: one write whose expectation fails refuses
// the whole step with ErrConflict; nothing of the others is written.
func testMultiAppendAllOrNothing(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	m := multi(t, s)
	mustAppend(t, ctx, s, "case-1", store.NoStream(), events(2, "aanmelding")...)
	for _, exp := range []store.Expected{store.NoStream(), store.Exactly(0), store.Exactly(5)} {
		_, err := m.AppendMulti(ctx, []store.Write{
			{Stream: "case-2", Expected: store.NoStream(), Events: events(2, "aanmelding")},
			{Stream: "case-1", Expected: exp, Events: events(1, "intake")},
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("expected %s on case-1 (at revision 1): %v, want %v", exp, err, store.ErrConflict)
		}
	}
	if _, err := s.ReadStream(ctx, "case-2"); !errors.Is(err, store.ErrStreamNotFound) {
		t.Fatalf("case-2 after refused multi-appends: %v, want %v", err, store.ErrStreamNotFound)
	}
	wantCount(t, ctx, s, 2)
}

// testTooLarge: an event above MaxEventBytes is refused with ErrTooLarge
// before anything of its append is written; one of exactly that size is
// stored.
func testTooLarge(t *testing.T, h Harness) {
	ctx, s := testContext(t), h.New(t)
	evs := events(3, "aanmelding")
	evs[1].Data = make([]byte, store.MaxEventBytes+1)
	if _, err := s.Append(ctx, "case-1", store.NoStream(), evs...); !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("append with an event of %d bytes: %v, want %v", len(evs[1].Data), err, store.ErrTooLarge)
	}
	if m, ok := s.(store.MultiAppender); ok {
		if _, err := m.AppendMulti(ctx, []store.Write{{Stream: "case-2", Expected: store.NoStream(), Events: evs}}); !errors.Is(err, store.ErrTooLarge) {
			t.Fatalf("multi-append with an event of %d bytes: %v, want %v", len(evs[1].Data), err, store.ErrTooLarge)
		}
	}
	wantCount(t, ctx, s, 0)
	evs[1].Data = evs[1].Data[:store.MaxEventBytes]
	mustAppend(t, ctx, s, "case-1", store.NoStream(), evs...)
	wantStream(t, readStream(t, ctx, s, "case-1"), "case-1", evs)
}
