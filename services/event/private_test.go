package event

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// spotsByWalk is Spots as it was before its plans: every field of every
// message looked at for every event. The plans must find the same spots.
func spotsByWalk(ev *ledgerv1.Event) []Spot {
	var out []Spot
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		fields := m.Descriptor().Fields()
		var spot Spot
		for i := range fields.Len() {
			fd := fields.Get(i)
			switch {
			case fd.Kind() == protoreflect.MessageKind && fd.Message().FullName() == sealedType:
				spot.Sealed = fd
			case fd.Kind() == protoreflect.StringKind && textFields[fd.Name()] && !fd.IsList():
				spot.Text = fd
			case fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() && m.Has(fd) && fd.ContainingOneof() != nil:
				walk(m.Get(fd).Message())
			}
		}
		if spot.Sealed != nil {
			spot.Msg = m
			out = append(out, spot)
		}
	}
	walk(ev.ProtoReflect())
	return out
}

// TestSpotsEveryPayload: for every payload an event can carry, and every
// vervanging a correctie can carry, Spots finds what the full walk finds.
// A payload with a sealed or free-text field the plans missed fails here.
func TestSpotsEveryPayload(t *testing.T) {
	var events []*ledgerv1.Event
	payload := (&ledgerv1.Event{}).ProtoReflect().Descriptor().Oneofs().ByName("payload")
	for i := range payload.Fields().Len() {
		fd := payload.Fields().Get(i)
		ev := &ledgerv1.Event{Envelope: &ledgerv1.Envelope{CaseId: "c"}}
		m := ev.ProtoReflect()
		m.Set(fd, m.NewField(fd))
		events = append(events, ev)
		// Every oneof inside the payload too (a correctie's vervanging).
		inner := m.Get(fd).Message()
		ods := inner.Descriptor().Oneofs()
		for j := range ods.Len() {
			for k := range ods.Get(j).Fields().Len() {
				ifd := ods.Get(j).Fields().Get(k)
				if ifd.Kind() != protoreflect.MessageKind {
					continue
				}
				nested := &ledgerv1.Event{Envelope: &ledgerv1.Envelope{CaseId: "c"}}
				nm := nested.ProtoReflect()
				nm.Set(fd, nm.NewField(fd))
				in := nm.Mutable(fd).Message()
				in.Set(ifd, in.NewField(ifd))
				events = append(events, nested)
			}
		}
	}
	sealedSeen := 0
	for _, ev := range events {
		if !IsCaseEvent(ev) {
			continue
		}
		got, want := Spots(ev), spotsByWalk(ev)
		if len(got) != len(want) {
			t.Errorf("%s: %d spots, the walk finds %d", Type(ev), len(got), len(want))
			continue
		}
		for i := range got {
			if got[i].Msg.Descriptor() != want[i].Msg.Descriptor() || got[i].Sealed != want[i].Sealed || got[i].Text != want[i].Text {
				t.Errorf("%s: spot %d is %v/%v/%v, the walk's %v/%v/%v", Type(ev), i,
					got[i].Msg.Descriptor().FullName(), got[i].Sealed, got[i].Text, want[i].Msg.Descriptor().FullName(), want[i].Sealed, want[i].Text)
			}
		}
		sealedSeen += len(got)
	}
	if sealedSeen == 0 {
		t.Fatal("no event with a spot: the test builds no payloads")
	}
}

func BenchmarkSpots(b *testing.B) {
	ev := &ledgerv1.Event{Envelope: &ledgerv1.Envelope{CaseId: "c"}, Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{}}}
	for _, tc := range []struct {
		name  string
		spots func(*ledgerv1.Event) []Spot
	}{{"plans", Spots}, {"walk", spotsByWalk}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc.spots(ev)
			}
		})
	}
}
