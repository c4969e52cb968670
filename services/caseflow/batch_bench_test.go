package caseflow_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// BenchmarkBatchDecide is the import's decisions alone, no store: cases of
// six events (aanmelding, intake, plaatsing, uitval, terugval op vangnet,
// uitstroom) decided one command at a time in a batch that holds them, as
// an import's lines are. An op is one case; the events are taken from the
// batch every thousand, as the import hands them to be stored.
func BenchmarkBatchDecide(b *testing.B) {
	ctx := context.Background()
	h, _ := newHandler(b)
	batch := h.NewBatch()
	steps := []*ledgerv1.Event{
		{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_BESCHUT, LoonwaardeProcent: 40}}},
		{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, Werkgever: "Tomin", MinutenPerWeek: 32 * 60}}},
		{Payload: &ledgerv1.Event_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE}}},
		{Payload: &ledgerv1.Event_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{VangnetType: ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK}}},
		{Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK}}},
	}
	for b.Loop() {
		id := uuid.New()
		batch.NotStored([]uuid.UUID{id})
		first := aanmelden("GM0402")
		first.NewCaseID, first.EventID = id, uuid.New()
		if _, err := batch.Handle(ctx, first); err != nil {
			b.Fatal(err)
		}
		for i, step := range steps {
			cmd := caseflow.Command{CaseID: id, EventID: uuid.New(), Datum: event.YMD(2026, 4, 1+i), Actor: "km-1", Transition: step}
			if _, err := batch.Handle(ctx, cmd); err != nil {
				b.Fatal(err)
			}
		}
		if batch.Pending() >= 1000 {
			batch.Take()
			batch.Trim(10_000)
		}
	}
	b.ReportMetric(float64(b.N*(1+len(steps)))/b.Elapsed().Seconds(), "events/s")
}
