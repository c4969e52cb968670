package beleid

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Handler records policy versions and regional agreements in the store, and
// reads them back.
type Handler struct {
	Store     store.Store
	Gemeenten *gemeente.Registry
	// Clock makes "today" and recorded_at; nil is the system clock.
	Clock clock.Clock
	// Priced, when set, tells how far a gemeente has been priced, so that
	// a version may start in the past where nothing is priced yet. Nil:
	// versions start today at the earliest.
	Priced PricedDays
}

// PricedDays tells the last day of a gemeente already priced up to today,
// nil when nothing is (region.Live does).
type PricedDays interface {
	LastPriced(ctx context.Context, gemeente string, today *ledgerv1.Date) (*ledgerv1.Date, error)
}

func (h *Handler) today() *ledgerv1.Date { return h.Clock.Today() }

// Recorded is a stored policy or regional event.
type Recorded struct {
	Revision uint64
	Position store.Position
	Event    *ledgerv1.Event
	Data     []byte // as stored; the next event's hash link is over these bytes
}

func (h *Handler) read(ctx context.Context, stream string) ([]Recorded, error) {
	recs, err := h.Store.ReadStream(ctx, stream)
	if errors.Is(err, store.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	out := make([]Recorded, len(recs))
	for i, rec := range recs {
		ev, err := event.Decode(rec.Data)
		if err != nil {
			return nil, fmt.Errorf("read %s revision %d: %w", stream, rec.Revision, err)
		}
		out[i] = Recorded{Revision: rec.Revision, Position: rec.Position, Event: ev, Data: rec.Data}
	}
	return out, nil
}

// History reads a gemeente's policy versions.
func (h *Handler) History(ctx context.Context, code string) (History, error) {
	recs, err := h.read(ctx, event.PolicyStream(code))
	if err != nil {
		return nil, err
	}
	var hist History
	for _, r := range recs {
		hist = hist.Add(versionOf(r))
	}
	return hist, nil
}

func versionOf(r Recorded) *Version {
	env := r.Event.GetEnvelope()
	return &Version{
		Gemeente: env.GetGemeente(),
		Versie:   r.Revision + 1,
		EventID:  env.GetEventId(),
		Recorded: env.GetRecordedAt().AsTime(),
		Actor:    env.GetActor(),
		Beleid:   r.Event.GetBeleid(),
	}
}

// Meta is who records an event and, optionally, the id it gets.
type Meta struct {
	Actor string
	// EventID, when set, is the id of the new event. A request sent again
	// with the same id after a lost answer is answered as the first time
	// and writes nothing; the same id with other content is refused.
	EventID uuid.UUID
	// Bron is the source record of an imported event.
	Bron *ledgerv1.Bron
	// AsOf, for a policy line of an import, is the day the history had
	// reached when the line was written: the version is judged as of then
	// (a new tariff from next January, recorded in December), not as of
	// the day of the import. Never later than today. Live requests leave
	// it nil.
	AsOf *ledgerv1.Date
	// ExpectedVersie, when set, is the number of versions the caller saw
	// when it made this one (a form filled with the version then current):
	// should another have been recorded since, the request is refused
	// (RuleVersieVerouderd) rather than replace it unseen.
	ExpectedVersie *uint64
}

// RuleVersieVerouderd refuses a policy version made from an outdated view.
const RuleVersieVerouderd = "beleid.versie-verouderd"

// outdated is the refusal of a version made from version seen of code's
// policy, which has n versions now.
func outdated(code string, seen uint64, n int) *Refusal {
	switch {
	case seen > uint64(n):
		return refuse(RuleVersieVerouderd, "u gaat uit van versie %d van het beleid van %s, maar er zijn er %d: bekijk de huidige versie en leg uw wijziging opnieuw vast", seen, code, n)
	case seen == 0:
		return refuse(RuleVersieVerouderd, "deze versie is gemaakt toen %s nog geen beleid had; intussen zijn er %d versies vastgelegd, die zij ongezien zou vervangen: bekijk de huidige versie en leg uw wijziging opnieuw vast", code, n)
	}
	return refuse(RuleVersieVerouderd, "deze versie is gemaakt bij versie %d van het beleid van %s; intussen zijn er %d versies, en zij zou de nieuwere ongezien vervangen: bekijk de huidige versie en leg uw wijziging opnieuw vast", seen, code, n)
}

// Regio is a recorded verdeelsleutel or booking.
type Regio struct {
	Event *ledgerv1.Event
	// Versie is, for a verdeelsleutel, the version of its year; for a
	// booking, its number.
	Versie uint64
	// Present: recorded before (a retry); nothing written.
	Present bool
	// Position is where the event is in the store.
	Position store.Position
}

// RuleEventID refuses an event id already used for another fact.
const RuleEventID = "event.id-hergebruikt"

// again finds an event with the id of m among recs: a retry. It refuses
// when that event holds another fact than payload.
func again(recs []Recorded, m Meta, payload *ledgerv1.Event) (int, bool, error) {
	if m.EventID == uuid.Nil {
		return 0, false, nil
	}
	id := m.EventID.String()
	for i, r := range recs {
		if r.Event.GetEnvelope().GetEventId() != id {
			continue
		}
		if !proto.Equal(&ledgerv1.Event{Payload: r.Event.GetPayload()}, &ledgerv1.Event{Payload: payload.GetPayload()}) {
			return 0, false, refuse(RuleEventID, "event-id %s is al gebruikt voor een ander feit (%s, revisie %d); een nieuw feit krijgt een nieuw event-id", id, event.Type(r.Event), r.Revision)
		}
		return i, true, nil
	}
	return 0, false, nil
}

// RecordBeleid decides and appends a new policy version of a gemeente.
func (h *Handler) RecordBeleid(ctx context.Context, code string, m Meta, b *ledgerv1.Beleid) (*Version, error) {
	if b == nil {
		return nil, refuse(RuleGeldigVanaf, "geen beleid opgegeven")
	}
	if _, ok := h.Gemeenten.Lookup(code); !ok {
		return nil, &Refusal{Rule: RuleGemeente, Reden: fmt.Sprintf("%q staat niet in de lijst van deelnemers", code), Err: gemeente.ErrUnknownGemeente}
	}
	stream := event.PolicyStream(code)
	for attempt := 0; ; attempt++ {
		recs, err := h.read(ctx, stream)
		if err != nil {
			return nil, err
		}
		if i, done, err := again(recs, m, &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: b}}); err != nil || done {
			if err != nil {
				return nil, err
			}
			v := versionOf(recs[i])
			v.Present, v.Position = true, recs[i].Position
			return v, nil
		}
		if want := m.ExpectedVersie; want != nil && *want != uint64(len(recs)) {
			return nil, outdated(code, *want, len(recs))
		}
		var hist History
		for _, r := range recs {
			hist = hist.Add(versionOf(r))
		}
		today := h.today()
		if m.AsOf != nil && event.CompareDates(m.AsOf, today) < 0 {
			today = m.AsOf
		}
		var priced *Priced
		if h.Priced != nil && event.CompareDates(b.GetGeldigVanaf(), today) <= 0 {
			last, err := h.Priced.LastPriced(ctx, code, today)
			if err != nil {
				return nil, fmt.Errorf("record beleid %s: %w", code, err)
			}
			priced = &Priced{Last: last}
		}
		if err := DecideBeleid(hist, h.Gemeenten, code, b, today, priced); err != nil {
			return nil, err
		}
		ev := h.envelope(code, m, h.today())
		ev.Payload = &ledgerv1.Event_Beleid{Beleid: b}
		res, err := h.append(ctx, stream, recs, ev)
		if errors.Is(err, store.ErrConflict) && attempt < 5 {
			continue // another version landed first: decide again
		}
		if err != nil {
			return nil, fmt.Errorf("record beleid %s: %w", code, err)
		}
		return &Version{Gemeente: code, Versie: res.Revision + 1, EventID: ev.GetEnvelope().GetEventId(),
			Recorded: ev.GetEnvelope().GetRecordedAt().AsTime(), Actor: m.Actor, Beleid: b, Position: res.Position}, nil
	}
}

// Regio reads the regional agreements and bookings in the order recorded.
func (h *Handler) Regio(ctx context.Context) ([]Recorded, error) {
	return h.read(ctx, event.RegionStream)
}

// RecordRegio decides and appends a verdeelsleutel or a shared-cost booking,
// authored by the centrumgemeente. For a booking, last is the last day of
// its period. It returns the event and its version number: for a
// verdeelsleutel the version of that year, for a booking its number.
func (h *Handler) RecordRegio(ctx context.Context, m Meta, last *ledgerv1.Date, payload *ledgerv1.Event) (Regio, error) {
	centrum := h.Gemeenten.Centrum()
	if centrum == "" {
		return Regio{}, errors.New("record regio: the gemeenten data file names no centrum")
	}
	today := h.today()
	for attempt := 0; ; attempt++ {
		recs, err := h.read(ctx, event.RegionStream)
		if err != nil {
			return Regio{}, err
		}
		if i, done, err := again(recs, m, payload); err != nil || done {
			if err != nil {
				return Regio{}, err
			}
			return Regio{Event: recs[i].Event, Versie: regioVersie(recs[:i], recs[i].Event), Present: true, Position: recs[i].Position}, nil
		}
		var ev *ledgerv1.Event
		switch p := payload.GetPayload().(type) {
		case *ledgerv1.Event_Verdeelsleutel:
			if err := DecideVerdeelsleutel(p.Verdeelsleutel, today); err != nil {
				return Regio{}, err
			}
			ev = h.envelope(centrum, m, today)
		case *ledgerv1.Event_GedeeldeKosten:
			if err := DecideGedeeldeKosten(p.GedeeldeKosten, last, today); err != nil {
				return Regio{}, err
			}
			ev = h.envelope(centrum, m, last)
		case *ledgerv1.Event_Doelen:
			if err := DecideDoelen(p.Doelen, func(g string) bool { _, ok := h.Gemeenten.Lookup(g); return ok }); err != nil {
				return Regio{}, err
			}
			ev = h.envelope(centrum, m, today)
		case *ledgerv1.Event_Inkomsten:
			if err := DecideInkomsten(p.Inkomsten, func(g string) bool { _, ok := h.Gemeenten.Lookup(g); return ok }); err != nil {
				return Regio{}, err
			}
			ev = h.envelope(centrum, m, today)
		case *ledgerv1.Event_Resultaatverdeling:
			if err := DecideResultaatverdeling(p.Resultaatverdeling); err != nil {
				return Regio{}, err
			}
			ev = h.envelope(centrum, m, today)
		default:
			return Regio{}, refuse(RuleSleutelMethode, "geef een verdeelsleutel, gedeelde kosten, inkomsten, doelen of een resultaatverdeling")
		}
		ev.Payload = payload.GetPayload()
		res, err := h.append(ctx, event.RegionStream, recs, ev)
		if errors.Is(err, store.ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return Regio{}, fmt.Errorf("record regio: %w", err)
		}
		return Regio{Event: ev, Versie: regioVersie(recs, ev), Position: res.Position}, nil
	}
}

// regioVersie numbers ev after the events before it with the same
// RegioKey: the version of a year's verdeelsleutel or resultaatverdeling,
// of a gemeente's income per year and stream or targets per year, a
// booking's number.
func regioVersie(before []Recorded, ev *ledgerv1.Event) uint64 {
	var n uint64 = 1
	k := RegioKey(ev)
	for _, r := range before {
		if RegioKey(r.Event) == k {
			n++
		}
	}
	return n
}

// RegioKey is what a regio event is a version of; "" for other events.
// Recording and listing (GetRegio) number by it, so both say the same
// version.
func RegioKey(ev *ledgerv1.Event) string {
	switch p := ev.GetPayload().(type) {
	case *ledgerv1.Event_Verdeelsleutel:
		return fmt.Sprint("verdeelsleutel/", p.Verdeelsleutel.GetJaar())
	case *ledgerv1.Event_GedeeldeKosten:
		return "boeking"
	case *ledgerv1.Event_Inkomsten:
		in := p.Inkomsten
		return fmt.Sprint("inkomsten/", in.GetGemeente(), "/", in.GetJaar(), "/", in.GetBudgetstroom())
	case *ledgerv1.Event_Doelen:
		return fmt.Sprint("doelen/", p.Doelen.GetGemeente(), "/", p.Doelen.GetJaar())
	case *ledgerv1.Event_Resultaatverdeling:
		return fmt.Sprint("resultaatverdeling/", p.Resultaatverdeling.GetJaar())
	}
	return ""
}

func (h *Handler) envelope(code string, m Meta, on *ledgerv1.Date) *ledgerv1.Event {
	id := m.EventID
	if id == uuid.Nil {
		id = uuid.New()
	}
	return &ledgerv1.Event{Envelope: &ledgerv1.Envelope{
		EventId:       id.String(),
		Gemeente:      code,
		OccurredOn:    on,
		RecordedAt:    timestamppb.New(h.Clock.Now()),
		Actor:         m.Actor,
		SchemaVersion: event.SchemaVersion,
		Bron:          m.Bron,
	}}
}

// append writes ev after recs, linking it to the last stored event by hash
// and expecting the stream to be where recs left it.
func (h *Handler) append(ctx context.Context, stream string, recs []Recorded, ev *ledgerv1.Event) (store.AppendResult, error) {
	expected := store.NoStream()
	if len(recs) > 0 {
		last := recs[len(recs)-1]
		expected = store.Exactly(last.Revision)
		ev.Envelope.PrevHash = event.Hash(last.Data)
	}
	data, err := event.Marshal(ev)
	if err != nil {
		return store.AppendResult{}, err
	}
	id, _ := uuid.Parse(ev.GetEnvelope().GetEventId())
	return h.Store.Append(ctx, stream, expected, store.EventData{ID: id, Type: event.Type(ev), Data: data})
}
