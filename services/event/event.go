// Package event encodes, decodes and checks ledger events: the one place that
// knows an event's type name, its stream, its wire form and its hash link.
package event

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// SchemaVersion is written into every new envelope.
const SchemaVersion = 1

// Event type names: the field names of Event's payload oneof. They appear in
// bus subjects (ledger.events.<gemeente>.<type>) and in the store.
const (
	TypeAanmelding = "aanmelding"
	TypeIntake     = "intake"
	TypePlaatsing  = "plaatsing"
	TypeUitval     = "uitval"
	TypeVangnet    = "vangnet"
	TypeUitstroom  = "uitstroom"
	TypeVerhuizing = "verhuizing"
	TypeCorrectie  = "correctie"
	TypeUren       = "uren"

	// Events outside cases.
	TypeBeleid         = "beleid"
	TypeVerdeelsleutel = "verdeelsleutel"
	TypeGedeeldeKosten = "gedeelde_kosten"
	TypeInkomsten      = "inkomsten"
	TypeDoelen         = "doelen"
	// The regional agreement on settling a year's result.
	TypeResultaatverdeling = "resultaatverdeling"
)

// RegionStream holds the regional agreements: verdeelsleutels, the shared
// costs the centrumgemeente books, and the gemeenten's income per budget
// stream.
const RegionStream = "regio"

// PolicyStream holds the policy versions of one gemeente.
func PolicyStream(gemeente string) string { return "beleid-" + gemeente }

// IsCaseEvent reports whether ev belongs to a case stream.
func IsCaseEvent(ev *ledgerv1.Event) bool {
	switch ev.GetPayload().(type) {
	case *ledgerv1.Event_Beleid, *ledgerv1.Event_Verdeelsleutel, *ledgerv1.Event_GedeeldeKosten, *ledgerv1.Event_Vergeten, *ledgerv1.Event_Rapportage,
		*ledgerv1.Event_Inkomsten, *ledgerv1.Event_Doelen, *ledgerv1.Event_Resultaatverdeling:
		return false
	}
	return true
}

// RapportageStream holds the reports delivered to one gemeente.
func RapportageStream(gemeente string) string { return "rapportages-" + gemeente }

// IsRegional reports whether ev concerns every participant.
func IsRegional(ev *ledgerv1.Event) bool {
	switch ev.GetPayload().(type) {
	case *ledgerv1.Event_Verdeelsleutel, *ledgerv1.Event_GedeeldeKosten, *ledgerv1.Event_Resultaatverdeling:
		return true
	}
	return false
}

// ErrMalformed is wrapped by every decoding and validation error.
var ErrMalformed = errors.New("malformed event")

var gemeenteCode = regexp.MustCompile(`^GM[0-9]{4}$`)

// ValidGemeenteCode reports whether code has the CBS form GMxxxx.
func ValidGemeenteCode(code string) bool { return gemeenteCode.MatchString(code) }

// Type returns the event's type name, or "" when it has no payload.
func Type(ev *ledgerv1.Event) string {
	m := ev.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("payload"))
	if fd == nil {
		return ""
	}
	return string(fd.Name())
}

// Stream is the store stream of a case.
func Stream(caseID uuid.UUID) string { return "case-" + caseID.String() }

// Marshal encodes an event deterministically, after checking it.
func Marshal(ev *ledgerv1.Event) ([]byte, error) {
	if err := Validate(ev); err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("marshal event %s: %w", ev.GetEnvelope().GetEventId(), err)
	}
	return b, nil
}

// Decode parses stored bytes into an event and checks its envelope. Bytes
// from the store or the bus go through here, never straight to
// proto.Unmarshal, so a damaged event is refused with a reason.
func Decode(data []byte) (*ledgerv1.Event, error) {
	ev := new(ledgerv1.Event)
	if err := proto.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := Validate(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// Validate checks what every event must have, whatever its type.
func Validate(ev *ledgerv1.Event) error {
	env := ev.GetEnvelope()
	if env == nil {
		return fmt.Errorf("%w: no envelope", ErrMalformed)
	}
	if _, err := uuid.Parse(env.GetEventId()); err != nil {
		return fmt.Errorf("%w: event id %q is not a UUID", ErrMalformed, env.GetEventId())
	}
	if IsCaseEvent(ev) {
		if _, err := uuid.Parse(env.GetCaseId()); err != nil {
			return fmt.Errorf("%w: event %s: case id %q is not a UUID", ErrMalformed, env.GetEventId(), env.GetCaseId())
		}
	} else if env.GetCaseId() != "" {
		return fmt.Errorf("%w: event %s: a %s belongs to no case, but has case id %q", ErrMalformed, env.GetEventId(), Type(ev), env.GetCaseId())
	}
	if !ValidGemeenteCode(env.GetGemeente()) {
		return fmt.Errorf("%w: event %s: gemeente %q is not a CBS code GMxxxx", ErrMalformed, env.GetEventId(), env.GetGemeente())
	}
	if err := CheckDate(env.GetOccurredOn()); err != nil {
		return fmt.Errorf("%w: event %s: occurred_on: %v", ErrMalformed, env.GetEventId(), err)
	}
	if env.GetRecordedAt() == nil {
		return fmt.Errorf("%w: event %s: no recorded_at", ErrMalformed, env.GetEventId())
	}
	if n := len(env.GetPrevHash()); n != 0 && n != sha256.Size {
		return fmt.Errorf("%w: event %s: prev_hash has %d bytes, want %d", ErrMalformed, env.GetEventId(), n, sha256.Size)
	}
	if Type(ev) == "" {
		return fmt.Errorf("%w: event %s has no payload", ErrMalformed, env.GetEventId())
	}
	return nil
}

// Hash is the link the next event of the same case carries in prev_hash.
func Hash(stored []byte) []byte {
	h := sha256.Sum256(stored)
	return h[:]
}

// ChainBreak describes the first event whose prev_hash does not match.
type ChainBreak struct {
	Revision int    // revision of the event whose link is wrong
	EventID  string // its id
}

func (b *ChainBreak) Error() string {
	return fmt.Sprintf("hash chain broken at revision %d (event %s)", b.Revision, b.EventID)
}

// CheckChain verifies the hash links of one case's stored events, in
// revision order. It returns a *ChainBreak for the first bad link.
func CheckChain(stored [][]byte) error {
	var prev []byte
	for i, data := range stored {
		ev, err := Decode(data)
		if err != nil {
			return fmt.Errorf("revision %d: %w", i, err)
		}
		want := []byte(nil)
		if i > 0 {
			want = prev
		}
		if !bytes.Equal(ev.GetEnvelope().GetPrevHash(), want) {
			return &ChainBreak{Revision: i, EventID: ev.GetEnvelope().GetEventId()}
		}
		prev = Hash(data)
	}
	return nil
}

// Audience returns the gemeenten that receive ev on the bus: the gemeente
// whose history it belongs to and, for a verhuizing, the gemeente that takes
// the case over, for a correctie also the gemeenten that were handed the
// corrected fact; a regional agreement goes to every participant. Relay and
// replay both route with this one rule.
func Audience(ev *ledgerv1.Event, participants []string) []string {
	if ev.GetVergeten() != nil {
		// Forgetting changes no figure; it is the store's record, for the
		// auditor, and goes on no bus.
		return nil
	}
	// One gemeente's income and targets are its own, though they sit in
	// the regio stream.
	if i := ev.GetInkomsten(); i != nil {
		return []string{i.GetGemeente()}
	}
	if d := ev.GetDoelen(); d != nil {
		return []string{d.GetGemeente()}
	}
	if IsRegional(ev) {
		return participants
	}
	own := ev.GetEnvelope().GetGemeente()
	if v := ev.GetVerhuizing(); v != nil && v.GetNaarGemeente() != "" && v.GetNaarGemeente() != own {
		return []string{own, v.GetNaarGemeente()}
	}
	if c := ev.GetCorrectie(); c != nil && len(c.GetOverdrachten()) > 0 {
		// The gemeenten that were handed the corrected fact at a later
		// verhuizing: their figures change with it.
		out := []string{own}
		for _, o := range c.GetOverdrachten() {
			if g := o.GetNaarGemeente(); g != "" && !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
		return out
	}
	return []string{own}
}

// kurrentMetadata is the layout of an event's metadata in KurrentDB: the
// envelope, readable in KurrentDB's own UI. The ledger never reads it back;
// the event's data is the event.
type kurrentMetadata struct {
	EventID       string `json:"event_id"`
	CaseID        string `json:"case_id,omitempty"`
	Gemeente      string `json:"gemeente,omitempty"`
	Type          string `json:"type"`
	OccurredOn    string `json:"occurred_on,omitempty"`
	RecordedAt    string `json:"recorded_at,omitempty"`
	Actor         string `json:"actor,omitempty"`
	SchemaVersion uint32 `json:"schema_version"`
	PolicyVersion string `json:"policy_version,omitempty"`
	BronSysteem   string `json:"bron_systeem,omitempty"`
	BronRecord    string `json:"bron_record,omitempty"`
}

// KurrentMetadata is the JSON metadata written beside stored event data in
// KurrentDB (README, "Running it for real"): the envelope's fields, which
// hold no personal data (an actor is a medewerker id). Data that does not
// decode gets none.
func KurrentMetadata(data []byte) []byte {
	ev, err := Decode(data)
	if err != nil {
		return nil
	}
	e := ev.GetEnvelope()
	m := kurrentMetadata{
		EventID: e.GetEventId(), CaseID: e.GetCaseId(), Gemeente: e.GetGemeente(), Type: Type(ev),
		Actor: e.GetActor(), SchemaVersion: e.GetSchemaVersion(), PolicyVersion: e.GetPolicyVersion(),
		BronSysteem: e.GetBron().GetSysteem(), BronRecord: e.GetBron().GetRecord(),
	}
	if e.GetOccurredOn() != nil {
		m.OccurredOn = FormatDate(e.GetOccurredOn())
	}
	if e.GetRecordedAt() != nil {
		m.RecordedAt = e.GetRecordedAt().AsTime().UTC().Format(time.RFC3339Nano)
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return out
}
