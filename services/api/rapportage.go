package api

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Kinds of report RecordRapportage takes: the cost lines of a year, the
// CBS SRG count of a half year.
const (
	RapportageKosten = "kosten"
	RapportageSRG    = "srg"
)

// RuleRapportage refuses a report that does not say what it is of.
const RuleRapportage = "rapportage.onvolledig"

// RecordRapportage records a delivered report in the gemeente's report
// stream.
func (s *Server) RecordRapportage(ctx context.Context, req *connect.Request[ledgerv1.RecordRapportageRequest]) (*connect.Response[ledgerv1.RecordRapportageResponse], error) {
	m := req.Msg
	if err := s.checkGemeente(m.GetGemeente()); err != nil {
		return nil, err
	}
	r := m.GetRapportage()
	pos, perr := store.ParsePosition(r.GetPositie())
	switch {
	case r.GetSoort() != RapportageKosten && r.GetSoort() != RapportageSRG:
		return nil, s.toConnect(incomplete(fmt.Sprintf("soort %q: deze ledger legt rapportages van soort %q en %q vast", r.GetSoort(), RapportageKosten, RapportageSRG)))
	case r.GetSoort() == RapportageSRG && r.GetHalf() != 1 && r.GetHalf() != 2:
		return nil, s.toConnect(incomplete("een SRG-telling geldt een half jaar: geef half 1 of 2"))
	case r.GetSoort() == RapportageKosten && r.GetHalf() != 0:
		return nil, s.toConnect(incomplete("een kostenexport geldt een heel jaar: geef geen half jaar"))
	case len(r.GetSha256()) != 32:
		return nil, s.toConnect(incomplete("geef de SHA-256 (32 bytes) van het aangeleverde bestand"))
	case r.GetJaar() == 0:
		return nil, s.toConnect(incomplete("geef het jaar waarover de rapportage gaat"))
	case perr != nil || r.GetPeildatum() == nil:
		return nil, s.toConnect(incomplete("geef het certificaat van de cijfers: de positie in de opslag en de peildatum"))
	}
	if h, ok := s.Store.(header); ok {
		head, err := h.Head(ctx)
		if err != nil {
			return nil, s.toConnect(err)
		}
		if head.Less(pos) {
			return nil, s.toConnect(incomplete(fmt.Sprintf("positie %s ligt voorbij het einde van de opslag (%s): dat zijn geen cijfers van deze geschiedenis", pos, head)))
		}
	}
	id := uuid.New()
	if m.GetEventId() != "" {
		var err error
		if id, err = uuid.Parse(m.GetEventId()); err != nil {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("event_id %q: %v", m.GetEventId(), err))
		}
	}
	ev := &ledgerv1.Event{
		Envelope: &ledgerv1.Envelope{EventId: id.String(), Gemeente: m.GetGemeente(), OccurredOn: s.Clock.Today(),
			RecordedAt: timestamppb.New(s.Clock.Now()), Actor: actor(ctx), SchemaVersion: event.SchemaVersion},
		Payload: &ledgerv1.Event_Rapportage{Rapportage: r},
	}
	// Two reports of one gemeente delivered at once race for the next
	// revision of its stream; the loser links to the winner and tries
	// again (its event id keeps a retry from writing it twice).
	var res store.AppendResult
	var present bool
	var err error
	for range 16 {
		res, present, err = s.appendChained(ctx, event.RapportageStream(m.GetGemeente()), ev)
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return nil, s.toConnect(fmt.Errorf("record rapportage of %s: %w", m.GetGemeente(), err))
	}
	return connect.NewResponse(&ledgerv1.RecordRapportageResponse{EventId: id.String(), Positie: res.Position.String(), AlAanwezig: present}), nil
}

// incomplete is a report refused for what it leaves out.
type incomplete string

func (r incomplete) Error() string                 { return "geweigerd [" + RuleRapportage + "] " + string(r) }
func (r incomplete) Refused() (rule, reden string) { return RuleRapportage, string(r) }

// appendChained appends ev to a stream outside any case, linked by hash to
// the stream's last event (every stream of the store is a chain; see
// services/audit). An event whose id the stream holds is not written again
// (present).
func (s *Server) appendChained(ctx context.Context, stream string, ev *ledgerv1.Event) (res store.AppendResult, present bool, err error) {
	expected := store.NoStream()
	recs, err := s.Store.ReadStream(ctx, stream)
	switch {
	case err == nil:
		for _, r := range recs {
			if r.ID.String() == ev.GetEnvelope().GetEventId() {
				return store.AppendResult{Revision: r.Revision, Position: r.Position}, true, nil
			}
		}
		last := recs[len(recs)-1]
		ev.Envelope.PrevHash = event.Hash(last.Data)
		expected = store.Exactly(last.Revision)
	case !errors.Is(err, store.ErrStreamNotFound):
		return store.AppendResult{}, false, err
	}
	data, err := event.Marshal(ev)
	if err != nil {
		return store.AppendResult{}, false, err
	}
	id, _ := uuid.Parse(ev.GetEnvelope().GetEventId())
	res, err = s.Store.Append(ctx, stream, expected, store.EventData{ID: id, Type: event.Type(ev), Data: data})
	return res, false, err
}
