package caseflow_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// stored makes n cases with an aanmelding each, straight through the
// handler.
func stored(t *testing.T, h *caseflow.Handler, n int) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		res, err := h.Handle(context.Background(), aanmelden("GM0402"))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = res.CaseID
	}
	return ids
}

func revision(t *testing.T, st store.Store, id uuid.UUID) int {
	t.Helper()
	recs, err := st.ReadStream(context.Background(), event.Stream(id))
	if errors.Is(err, store.ErrStreamNotFound) {
		return -1
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(recs) - 1
}

// TestBatchPrefetch: cases read ahead are decided as if read one by one;
// ids that do not exist, repeats and the nil id are harmless; and a case
// changed in the store after it was read ahead is not written over: the
// store refuses the batch's write for it.
func TestBatchPrefetch(t *testing.T) {
	ctx := context.Background()
	h, st := newHandler(t)
	ids := stored(t, h, 40)
	fresh := uuid.New()

	b := h.NewBatch()
	b.Prefetch(ctx, append(append([]uuid.UUID{uuid.Nil, fresh}, ids...), ids[:5]...))
	for _, id := range ids {
		if _, err := b.Handle(ctx, intakeOn(id, 4)); err != nil {
			t.Fatalf("intake on %s: %v", id, err)
		}
	}
	// Someone else records on the first case after the batch decided on
	// it. Done before the batch handled the case, this would race the
	// background read: the read may land after it and see it.
	if _, err := h.Handle(ctx, intakeOn(ids[0], 3)); err != nil {
		t.Fatal(err)
	}
	nieuw := aanmelden("GM0402")
	nieuw.NewCaseID = fresh
	if _, err := b.Handle(ctx, nieuw); err != nil {
		t.Fatal(err)
	}
	failed := b.Commit(ctx)
	if _, ok := failed[ids[0]]; !ok || len(failed) != 1 {
		t.Fatalf("failed cases %v, want only the one changed meanwhile (%s)", failed, ids[0])
	}
	if !errors.Is(failed[ids[0]], store.ErrConflict) {
		t.Errorf("stale case: %v, want a conflict", failed[ids[0]])
	}
	if got := revision(t, st, ids[0]); got != 1 {
		t.Errorf("case changed meanwhile at revision %d, want 1 (its own intake only)", got)
	}
	for _, id := range ids[1:] {
		if got := revision(t, st, id); got != 1 {
			t.Errorf("case %s at revision %d, want 1", id, got)
		}
	}
	if got := revision(t, st, fresh); got != 0 {
		t.Errorf("new case at revision %d, want 0", got)
	}
	b.Settle()
}

// TestBatchNotStoredWrong: told that an existing case does not exist (a
// regional model that lagged), the batch decides an aanmelding for it, and
// the store refuses to begin the case twice.
func TestBatchNotStoredWrong(t *testing.T) {
	ctx := context.Background()
	h, st := newHandler(t)
	ids := stored(t, h, 1)
	b := h.NewBatch()
	b.NotStored(ids)
	again := aanmelden("GM0402")
	again.NewCaseID = ids[0]
	if _, err := b.Handle(ctx, again); err != nil {
		t.Fatal(err)
	}
	failed := b.Commit(ctx)
	if !errors.Is(failed[ids[0]], store.ErrConflict) {
		t.Fatalf("aanmelding of an existing case: %v, want a conflict", failed)
	}
	if got := revision(t, st, ids[0]); got != 0 {
		t.Errorf("case at revision %d after the refused write, want 0", got)
	}
}

// TestBatchTrim: above its bound a batch keeps the half it used last and
// reads the others again when they come back.
func TestBatchTrim(t *testing.T) {
	ctx := context.Background()
	h, st := newHandler(t)
	ids := stored(t, h, 20)
	b := h.NewBatch()
	for _, id := range ids {
		if _, err := b.Handle(ctx, intakeOn(id, 4)); err != nil {
			t.Fatal(err)
		}
	}
	if failed := b.Commit(ctx); len(failed) != 0 {
		t.Fatal(failed)
	}
	b.Trim(20)
	if b.Cases() != 20 {
		t.Fatalf("trimmed at the bound: %d cases left, want 20", b.Cases())
	}
	b.Trim(10)
	if b.Cases() != 5 {
		t.Fatalf("%d cases left after trimming 20 to a bound of 10, want 5", b.Cases())
	}
	// Both a kept and a forgotten case go on from their stored revision.
	for _, id := range []uuid.UUID{ids[0], ids[19]} {
		if _, err := b.Handle(ctx, intakeOn(id, 5)); err != nil {
			t.Fatal(err)
		}
	}
	if failed := b.Commit(ctx); len(failed) != 0 {
		t.Fatal(failed)
	}
	for _, id := range []uuid.UUID{ids[0], ids[19]} {
		if got := revision(t, st, id); got != 2 {
			t.Errorf("case %s at revision %d, want 2", id, got)
		}
	}
}
