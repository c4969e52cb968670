package event

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

func sample(prev []byte) *ledgerv1.Event {
	return &ledgerv1.Event{
		Envelope: &ledgerv1.Envelope{
			EventId:       uuid.NewString(),
			CaseId:        uuid.NewString(),
			Gemeente:      "GM0402",
			OccurredOn:    YMD(2026, time.March, 1),
			RecordedAt:    timestamppb.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)),
			Actor:         "km-001",
			SchemaVersion: SchemaVersion,
			PrevHash:      prev,
		},
		Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_BESCHUT}},
	}
}

func TestRoundTripAndType(t *testing.T) {
	ev := sample(nil)
	b, err := Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, ev) {
		t.Errorf("round trip changed the event")
	}
	if Type(got) != TypeIntake {
		t.Errorf("type %q", Type(got))
	}
}

func TestDecodeRefuses(t *testing.T) {
	mut := func(f func(*ledgerv1.Event)) []byte {
		ev := sample(nil)
		f(ev)
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := map[string][]byte{
		"garbage":         {0xff, 0xff, 0xff},
		"no envelope":     mut(func(e *ledgerv1.Event) { e.Envelope = nil }),
		"bad event id":    mut(func(e *ledgerv1.Event) { e.Envelope.EventId = "x" }),
		"bad case id":     mut(func(e *ledgerv1.Event) { e.Envelope.CaseId = "" }),
		"bad gemeente":    mut(func(e *ledgerv1.Event) { e.Envelope.Gemeente = "Hilversum" }),
		"no date":         mut(func(e *ledgerv1.Event) { e.Envelope.OccurredOn = nil }),
		"impossible date": mut(func(e *ledgerv1.Event) { e.Envelope.OccurredOn = YMD(2026, 2, 30) }),
		"no recorded_at":  mut(func(e *ledgerv1.Event) { e.Envelope.RecordedAt = nil }),
		"short prev hash": mut(func(e *ledgerv1.Event) { e.Envelope.PrevHash = []byte{1, 2} }),
		"no payload":      mut(func(e *ledgerv1.Event) { e.Payload = nil }),
		"empty":           {},
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode: %v, want ErrMalformed", err)
			}
		})
	}
}

func TestCheckChain(t *testing.T) {
	var raw [][]byte
	var prev []byte
	for range 4 {
		b, err := Marshal(sample(prev))
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
		prev = Hash(b)
	}
	if err := CheckChain(raw); err != nil {
		t.Fatalf("intact chain: %v", err)
	}
	// Dropping an event breaks the link of the one after it.
	dropped := append(append([][]byte(nil), raw[:1]...), raw[2:]...)
	var br *ChainBreak
	if err := CheckChain(dropped); !errors.As(err, &br) || br.Revision != 1 {
		t.Errorf("dropped event: %v, want break at revision 1", err)
	}
	// Altering a stored event breaks the next link.
	ev, _ := Decode(raw[1])
	ev.GetIntake().LoonwaardeProcent = 99
	altered := append([][]byte(nil), raw...)
	altered[1], _ = Marshal(ev)
	if err := CheckChain(altered); !errors.As(err, &br) || br.Revision != 2 {
		t.Errorf("altered event: %v, want break at revision 2", err)
	}
}

func TestAudience(t *testing.T) {
	ev := sample(nil)
	all := []string{"GM0402", "GM1942", "GM0406"}
	if got := Audience(ev, all); len(got) != 1 || got[0] != "GM0402" {
		t.Errorf("intake audience %v", got)
	}
	ev.Payload = &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{VanGemeente: "GM0402", NaarGemeente: "GM1942"}}
	if got := Audience(ev, all); len(got) != 2 || got[1] != "GM1942" {
		t.Errorf("verhuizing audience %v", got)
	}
	ev.Payload = &ledgerv1.Event_Correctie{Correctie: &ledgerv1.Correctie{Overdrachten: []*ledgerv1.Overdracht{
		{Verhuizing: "v1", NaarGemeente: "GM1942"}, {Verhuizing: "v2", NaarGemeente: "GM0402"}, {Verhuizing: "v3", NaarGemeente: "GM1942"},
	}}}
	if got := Audience(ev, all); !slices.Equal(got, []string{"GM0402", "GM1942"}) {
		t.Errorf("correctie of a handed-over fact: audience %v, want its own gemeente and the one it was handed to, once", got)
	}
	ev.Payload = &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: 2026, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS}}
	if got := Audience(ev, all); len(got) != 3 {
		t.Errorf("verdeelsleutel audience %v, want every participant", got)
	}
}

func TestDates(t *testing.T) {
	if _, err := ParseDate("2026-13-01"); err == nil {
		t.Error("month 13 accepted")
	}
	d, err := ParseDate("2024-02-29")
	if err != nil || FormatDate(d) != "2024-02-29" || Month(d) != "2024-02" {
		t.Errorf("leap day: %v %v", d, err)
	}
	if CompareDates(YMD(2026, 1, 2), YMD(2025, 12, 31)) != 1 {
		t.Error("compare across a year boundary")
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic, and
// whatever it accepts must survive a marshal round trip unchanged.
func FuzzDecode(f *testing.F) {
	b, _ := Marshal(sample(nil))
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		again, err := Marshal(ev)
		if err != nil {
			t.Fatalf("accepted event does not marshal: %v", err)
		}
		back, err := Decode(again)
		if err != nil || !proto.Equal(back, ev) {
			t.Fatalf("round trip of an accepted event failed: %v", err)
		}
	})
}

// TestKurrentMetadata: the envelope as KurrentDB's UI shows it, in the
// layout the README documents.
func TestKurrentMetadata(t *testing.T) {
	ev := sample(nil)
	ev.Envelope.Bron = &ledgerv1.Bron{Systeem: "suite4", Record: "r-17"}
	b, err := Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(KurrentMetadata(b), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"event_id": ev.Envelope.EventId, "case_id": ev.Envelope.CaseId, "gemeente": "GM0402", "type": "intake",
		"occurred_on": "2026-03-01", "recorded_at": "2026-03-01T09:00:00Z", "actor": "km-001",
		"schema_version": float64(SchemaVersion), "bron_systeem": "suite4", "bron_record": "r-17",
	}
	if !maps.Equal(got, want) {
		t.Errorf("metadata %v\nwant %v", got, want)
	}
	if KurrentMetadata([]byte("geen event")) != nil {
		t.Error("metadata for data that is no event")
	}
}
