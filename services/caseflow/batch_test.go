package caseflow_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore/natsstoretest"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
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

// TestBatchKeepsJudgedState: a batch judges a command on the state it kept
// from the case's last command instead of replaying the history; every
// state it answers equals the fold of what it stored, across a correctie
// (after which it folds again), and a command the state machine refuses
// is still refused.
func TestBatchKeepsJudgedState(t *testing.T) {
	ctx := context.Background()
	h, _ := newHandler(t)
	b := h.NewBatch()
	first := aanmelden("GM0402")
	first.EventID = uuid.New()
	res, err := b.Handle(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	id := res.CaseID
	on := func(d int, ev *ledgerv1.Event) caseflow.Command {
		return caseflow.Command{CaseID: id, EventID: uuid.New(), Datum: event.YMD(2026, 4, d), Actor: "km-1", Transition: ev}
	}
	intake := on(1, &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_ONTWIKKELBAAR, LoonwaardeProcent: 55}}})
	steps := []caseflow.Command{
		intake,
		on(2, &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, Werkgever: "Tomin", MinutenPerWeek: 32 * 60}}}),
		on(3, &ledgerv1.Event{Payload: &ledgerv1.Event_Correctie{Correctie: &ledgerv1.Correctie{Corrigeert: intake.EventID.String(), Reden: "trede verkeerd overgenomen", Datum: event.YMD(2026, 4, 1),
			Vervanging: &ledgerv1.Correctie_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_BESCHUT, LoonwaardeProcent: 30}}}}}),
		on(4, &ledgerv1.Event{Payload: &ledgerv1.Event_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE}}}),
		on(5, &ledgerv1.Event{Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK}}}),
	}
	states := []caseflow.State{res.State}
	for _, cmd := range steps {
		res, err := b.Handle(ctx, cmd)
		if err != nil {
			t.Fatalf("%s: %v", event.Type(cmd.Transition), err)
		}
		states = append(states, res.State)
	}
	if states[3].Trede != ledgerv1.Trede_TREDE_BESCHUT {
		t.Errorf("after the correctie the trede is %v, want the corrected one", states[3].Trede)
	}
	_, err = b.Handle(ctx, on(6, &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_ONTWIKKELBAAR, LoonwaardeProcent: 55}}}))
	var ref *caseflow.Refusal
	if !errors.As(err, &ref) || ref.Rule != caseflow.RuleZaakGesloten {
		t.Fatalf("intake after uitstroom: %v, want refused by %s", err, caseflow.RuleZaakGesloten)
	}
	if failed := b.Commit(ctx); len(failed) > 0 {
		t.Fatal(failed)
	}
	c, err := h.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Events) != len(states) {
		t.Fatalf("%d events stored, %d answered", len(c.Events), len(states))
	}
	for i := range c.Events {
		want, err := caseflow.Replay(c.Events[:i+1])
		if err != nil {
			t.Fatalf("replay to revision %d: %v", i, err)
		}
		if !sameState(states[i], want) {
			t.Errorf("revision %d: batch answered %+v, replay of the stored events gives %+v", i, states[i], want)
		}
	}
}

// sameState compares states, dates by value.
func sameState(a, b caseflow.State) bool {
	if !proto.Equal(a.AanmeldDatum, b.AanmeldDatum) || !proto.Equal(a.Sinds, b.Sinds) {
		return false
	}
	a.AanmeldDatum, a.Sinds, b.AanmeldDatum, b.Sinds = nil, nil, nil, nil
	return a == b
}

// TestBatchLetsGo: a case the batch let go of (Trim, or Drop after a
// failed write) may be stored, and a model that has not applied its
// writes yet may call it absent: the batch reads it again instead of
// taking it as new, so its next command is decided on its stored history.
func TestBatchLetsGo(t *testing.T) {
	ctx := context.Background()
	h, _ := newHandler(t)
	ids := stored(t, h, 3)
	b := h.NewBatch()
	if !b.Blank() {
		t.Fatal("a new batch is not blank")
	}
	for _, id := range ids {
		if _, err := b.Handle(ctx, intakeOn(id, 4)); err != nil {
			t.Fatal(err)
		}
	}
	if failed := b.Commit(ctx); len(failed) > 0 {
		t.Fatal(failed)
	}
	b.Trim(2) // keeps the one used last
	b.Drop(map[uuid.UUID]error{ids[2]: errors.New("not stored")})
	if b.Cases() != 0 || b.Blank() {
		t.Fatalf("after Trim and Drop: %d cases held, blank %v; want none held and not blank", b.Cases(), b.Blank())
	}
	fresh := uuid.New()
	if got := b.Unknown(append([]uuid.UUID{fresh}, ids...)); len(got) != 1 || got[0] != fresh {
		t.Errorf("unknown %v, want only the case never seen, %s", got, fresh)
	}
	// A model behind the batch's writes calls them all absent.
	b.NotStored(ids)
	for _, id := range ids {
		plaatsing := caseflow.Command{CaseID: id, Datum: event.YMD(2026, 3, 10), Actor: "km-1", Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{
			Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, Werkgever: "Tomin", MinutenPerWeek: 32 * 60}}}}
		res, err := b.Handle(ctx, plaatsing)
		if err != nil {
			t.Fatalf("plaatsing on %s after the batch let it go: %v", id, err)
		}
		if res.Revision != 2 {
			t.Errorf("plaatsing on %s at revision %d, want 2 (after the stored aanmelding and intake)", id, res.Revision)
		}
	}
	b.Forget()
	if !b.Blank() {
		t.Error("a batch that forgot everything is not blank")
	}
}

// TestBatchStepSize: a batch hands its store as many events per atomic
// step as that store takes, so that a bulk load on the embedded broker
// makes steps of broker.MaxBatch events and one on a smaller server's
// limit stays within it.
func TestBatchStepSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []natsstore.Option
		want int
	}{
		{"embedded broker", nil, broker.MaxBatch},
		{"server at the NATS default", []natsstore.Option{natsstore.WithMaxAppend(natsstore.DefaultMaxAppend)}, natsstore.DefaultMaxAppend},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &caseflow.Handler{Store: natsstoretest.New(t, tc.opts...)}
			if got := h.NewBatch().StepSize(); got != tc.want {
				t.Fatalf("step size %d, want %d", got, tc.want)
			}
		})
	}
}
