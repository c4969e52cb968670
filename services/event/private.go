package event

import (
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
				walk(m.Get(fd).Message()) // the payload, or a correctie's vervanging
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
