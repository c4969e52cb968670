package region_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore/natsstoretest"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestBuildFromStore: the pipelined rebuild gives the model that following
// the store event by event gives, and refuses a damaged event by name.
func TestBuildFromStore(t *testing.T) {
	ctx := context.Background()
	st := natsstoretest.New(t)
	live := region.NewLive(st, nil, nil)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go live.Run(runCtx)

	var last store.Position
	for i := range 1500 {
		_, last = storeAanmelding(t, st, i)
	}
	m, err := region.Build(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := live.WaitFor(wctx, last); err != nil {
		t.Fatal(err)
	}
	_ = live.Read(func(lm *region.Model) {
		if lm.Events() != m.Events() || len(lm.Cases()) != len(m.Cases()) || lm.Position() != m.Position() || m.Events() != 1500 {
			t.Errorf("built %d events / %d cases at %s; live %d / %d at %s", m.Events(), len(m.Cases()), m.Position(), lm.Events(), len(lm.Cases()), lm.Position())
		}
	})

	bad := uuid.New()
	if _, err := st.Append(ctx, "case-"+uuid.NewString(), store.NoStream(), store.EventData{ID: bad, Type: "intake", Data: []byte{0xff, 0x01}}); err != nil {
		t.Fatal(err)
	}
	if _, err := region.Build(ctx, st, nil); !errors.Is(err, event.ErrMalformed) {
		t.Fatalf("Build over a damaged event: %v, want ErrMalformed", err)
	}
}

// TestAbsent: the model answers which cases the store does not hold, as
// of the store's head when asked: a case appended just before the question
// is known, even if the model had not applied it yet.
func TestAbsent(t *testing.T) {
	ctx := context.Background()
	st := natsstoretest.New(t)
	live := region.NewLive(st, nil, nil)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go live.Run(runCtx)

	var known []string
	for i := range 30 {
		id, _ := storeAanmelding(t, st, i)
		known = append(known, id.String())
	}
	unknown := []string{uuid.NewString(), uuid.NewString()}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	got, err := live.Absent(wctx, append(append([]string{}, known...), unknown...))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != unknown[0] || got[1] != unknown[1] {
		t.Errorf("absent %v, want exactly %v", got, unknown)
	}
	if got, err := live.AbsentSoFar(append(append([]string{}, known...), unknown...)); err != nil || !slices.Equal(got, unknown) {
		t.Errorf("absent so far, after Absent caught up: %v, %v; want exactly %v", got, err, unknown)
	}
	// AbsentSoFar does not wait for the model: one that never ran knows
	// no case at all.
	idle := region.NewLive(st, nil, nil)
	if got, err := idle.AbsentSoFar(known[:3]); err != nil || !slices.Equal(got, known[:3]) {
		t.Errorf("absent so far on a model that applied nothing: %v, %v; want all of %v", got, err, known[:3])
	}
}

// storeAanmelding appends the aanmelding of a new case, on day i of
// January 2026, and returns the case and the event's position.
func storeAanmelding(t *testing.T, st store.Store, i int) (uuid.UUID, store.Position) {
	t.Helper()
	id := uuid.New()
	ev := &ledgerv1.Event{Envelope: &ledgerv1.Envelope{EventId: uuid.NewString(), CaseId: id.String(), Gemeente: "GM0402",
		OccurredOn: event.YMD(2026, 1, 1+i%28), RecordedAt: timestamppb.New(time.Date(2026, 1, 1+i%28, 9, 0, 0, 0, time.UTC))},
		Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: "R", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_WSW, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}
	data, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Append(context.Background(), event.Stream(id), store.NoStream(), store.EventData{ID: uuid.MustParse(ev.GetEnvelope().GetEventId()), Type: "aanmelding", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return id, res.Position
}
