package event

import (
	"slices"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Spot is a place in an event that holds personal data: a message with an
// EncryptedPersonalData field (Sealed) and, for free text, the plain string
// field whose text belongs in it (Text; nil for an aanmelding, whose
// persoonsgegevens come from the command, never from a field of its own).
type Spot struct {
	Msg    protoreflect.Message
	Sealed protoreflect.FieldDescriptor
	Text   protoreflect.FieldDescriptor
}

// textFields are the free-text fields of the case events: what a medewerker
// types, which may say anything about the person.
var textFields = map[protoreflect.Name]bool{"doel": true, "toelichting": true, "reden_langer": true, "reden": true}

var sealedType = (&ledgerv1.EncryptedPersonalData{}).ProtoReflect().Descriptor().FullName()

// Spots returns every spot of a case event's payload, nested ones (a
// correctie's vervanging) included; none for events outside a case.
func Spots(ev *ledgerv1.Event) []Spot {
	if !IsCaseEvent(ev) {
		return nil
	}
	var out []Spot
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		p := planOf(m.Descriptor())
		for _, od := range p.oneofs {
			// The payload, or a correctie's vervanging.
			if fd := m.WhichOneof(od); fd != nil && descends(fd) {
				walk(m.Get(fd).Message())
			}
		}
		// After what it holds: the order in which the spots have always
		// been sealed.
		if p.sealed != nil {
			out = append(out, Spot{Msg: m, Sealed: p.sealed, Text: p.text})
		}
	}
	walk(ev.ProtoReflect())
	return out
}

// spotPlan is what Spots reads of a message type: its sealed field, its
// free-text field and the oneofs it descends into. Finding them takes a
// walk over every field of the type; done for every event, four times
// per command (digest, checks, sealing, the caseload's minimising), that
// was about 4 % of an import's CPU.
type spotPlan struct {
	sealed, text protoreflect.FieldDescriptor
	oneofs       []protoreflect.OneofDescriptor
}

// plans holds the plan of each message type, made the first time Spots
// meets it. It is a cache of what the generated descriptors say, which
// never changes, so sharing it between servers in one process is safe.
var plans sync.Map // protoreflect.FullName -> *spotPlan

func planOf(md protoreflect.MessageDescriptor) *spotPlan {
	if p, ok := plans.Load(md.FullName()); ok {
		return p.(*spotPlan)
	}
	p := &spotPlan{}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.Kind() == protoreflect.MessageKind && fd.Message().FullName() == sealedType:
			p.sealed = fd
		case fd.Kind() == protoreflect.StringKind && textFields[fd.Name()] && !fd.IsList():
			p.text = fd
		case descends(fd) && !slices.Contains(p.oneofs, fd.ContainingOneof()):
			p.oneofs = append(p.oneofs, fd.ContainingOneof())
		}
	}
	plans.Store(md.FullName(), p)
	return p
}

// descends reports whether Spots looks inside fd's message: a single
// message in a oneof.
func descends(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() && fd.ContainingOneof() != nil &&
		fd.Message().FullName() != sealedType
}
