package caseflow

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestLeanKeepsWhatDecidingReads: a batch's lean history folds to the same
// state, keeps the digest a retry is recognised by, holds no personal data,
// and leaves the event it was made from as it was (that one is stored).
func TestLeanKeepsWhatDecidingReads(t *testing.T) {
	caseID := "0b6f3c1e-7d2a-4f55-9c1b-2a7e5d9f4c10"
	env := func(id string, d *ledgerv1.Date) *ledgerv1.Envelope {
		return &ledgerv1.Envelope{EventId: id, CaseId: caseID, Gemeente: "GM0402", OccurredOn: d,
			RecordedAt: timestamppb.New(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)), Actor: "klantmanager-1", SchemaVersion: 3, PrevHash: make([]byte, 32),
			PolicyVersion: "GM0402/2025-1", Bron: &ledgerv1.Bron{Systeem: "oud", Record: "r-1"}, CommandDigest: []byte{1, 2, 3}}
	}
	history := []*ledgerv1.Event{
		{Envelope: env("6a1f0e2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", &ledgerv1.Date{Year: 2025, Month: 3, Day: 1}),
			Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: "R-1", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND,
				Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV, Persoonsgegevens: &ledgerv1.EncryptedPersonalData{KeyId: "k", Ciphertext: []byte("geheim")}}}},
		{Envelope: env("7b2f1e3c-4d5e-4f60-9bac-1d2e3f4a5b6c", &ledgerv1.Date{Year: 2025, Month: 3, Day: 10}),
			Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{VanGemeente: "GM0402", NaarGemeente: "GM1942"}}},
	}
	before := make([]*ledgerv1.Event, len(history))
	thin := make([]*ledgerv1.Event, len(history))
	for i, ev := range history {
		before[i] = proto.Clone(ev).(*ledgerv1.Event)
		thin[i] = Lean(ev)
	}
	for i := range history {
		if !proto.Equal(history[i], before[i]) {
			t.Errorf("event %d changed by lean", i)
		}
		e := thin[i].GetEnvelope()
		if e.GetRecordedAt() != nil || e.GetActor() != "" || e.GetPrevHash() != nil || e.GetBron() != nil || e.GetPolicyVersion() != "" || e.GetSchemaVersion() != 0 {
			t.Errorf("event %d: lean kept %v", i, e)
		}
		if string(e.GetCommandDigest()) != "\x01\x02\x03" || e.GetEventId() != history[i].GetEnvelope().GetEventId() {
			t.Errorf("event %d: lean lost the digest or the id: %v", i, e)
		}
		if Lean(thin[i]) != thin[i] {
			t.Errorf("event %d: a lean event is copied again", i)
		}
	}
	if thin[0].GetAanmelding().GetPersoonsgegevens() != nil {
		t.Error("lean kept the personal data")
	}
	want, err := Fold(history)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Fold(thin)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("lean history folds to %+v, want %+v", got, want)
	}
}
