package api

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/access"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// RecordBeleid records a new policy version of a gemeente.
func (s *Server) RecordBeleid(ctx context.Context, req *connect.Request[ledgerv1.RecordBeleidRequest]) (*connect.Response[ledgerv1.RecordBeleidResponse], error) {
	m := req.Msg
	meta, err := beleidMeta(actor(ctx), m.GetEventId())
	if err != nil {
		return nil, err
	}
	meta.ExpectedVersie = m.ExpectedVersie
	v, err := s.Beleid.RecordBeleid(ctx, m.GetGemeente(), meta, m.GetBeleid())
	if err != nil {
		cerr := s.toConnect(err)
		s.log().Info("beleid not recorded", "gemeente", m.GetGemeente(), "code", cerr.Code().String(), "err", err)
		return nil, cerr
	}
	s.log().Info("beleid recorded", "gemeente", m.GetGemeente(), "versie", v.Versie, "event", v.EventID)
	return connect.NewResponse(&ledgerv1.RecordBeleidResponse{EventId: v.EventID, Versie: v.Versie, Positie: v.Position.String()}), nil
}

// regioPayload is the event payload a RecordRegioRequest asks for; false
// when it asks for none.
func regioPayload(m *ledgerv1.RecordRegioRequest) (*ledgerv1.Event, bool) {
	switch a := m.GetAfspraak().(type) {
	case *ledgerv1.RecordRegioRequest_Verdeelsleutel:
		return &ledgerv1.Event{Payload: &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: a.Verdeelsleutel}}, true
	case *ledgerv1.RecordRegioRequest_GedeeldeKosten:
		return &ledgerv1.Event{Payload: &ledgerv1.Event_GedeeldeKosten{GedeeldeKosten: a.GedeeldeKosten}}, true
	case *ledgerv1.RecordRegioRequest_Inkomsten:
		return &ledgerv1.Event{Payload: &ledgerv1.Event_Inkomsten{Inkomsten: a.Inkomsten}}, true
	case *ledgerv1.RecordRegioRequest_Doelen:
		return &ledgerv1.Event{Payload: &ledgerv1.Event_Doelen{Doelen: a.Doelen}}, true
	case *ledgerv1.RecordRegioRequest_Resultaatverdeling:
		return &ledgerv1.Event{Payload: &ledgerv1.Event_Resultaatverdeling{Resultaatverdeling: a.Resultaatverdeling}}, true
	}
	return nil, false
}

func beleidMeta(actor, eventID string) (beleid.Meta, error) {
	m := beleid.Meta{Actor: actor}
	if eventID != "" {
		id, err := uuid.Parse(eventID)
		if err != nil || id == uuid.Nil {
			return m, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("event_id %q is geen geldige UUID", eventID))
		}
		m.EventID = id
	}
	return m, nil
}

// GetBeleid returns every policy version of a gemeente.
func (s *Server) GetBeleid(ctx context.Context, req *connect.Request[ledgerv1.GetBeleidRequest]) (*connect.Response[ledgerv1.GetBeleidResponse], error) {
	if err := s.checkGemeente(req.Msg.GetGemeente()); err != nil {
		return nil, err
	}
	hist, err := s.Beleid.History(ctx, req.Msg.GetGemeente())
	if err != nil {
		return nil, s.toConnect(err)
	}
	resp := &ledgerv1.GetBeleidResponse{}
	for _, v := range hist {
		resp.Versies = append(resp.Versies, &ledgerv1.BeleidVersie{
			Gemeente: v.Gemeente, Versie: v.Versie, EventId: v.EventID, Beleid: v.Beleid,
			VastgelegdOp: event.Date(v.Recorded.In(clock.Location())), Actor: v.Actor,
		})
	}
	return connect.NewResponse(resp), nil
}

// RecordRegio records a verdeelsleutel or a shared-cost booking.
func (s *Server) RecordRegio(ctx context.Context, req *connect.Request[ledgerv1.RecordRegioRequest]) (*connect.Response[ledgerv1.RecordRegioResponse], error) {
	m := req.Msg
	payload, ok := regioPayload(m)
	if !ok {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("geef een verdeelsleutel of gedeelde kosten"))
	}
	meta, err := beleidMeta(actor(ctx), m.GetEventId())
	if err != nil {
		return nil, err
	}
	r, err := s.Beleid.RecordRegio(ctx, meta, m.GetDatum(), payload)
	if err != nil {
		cerr := s.toConnect(err)
		s.log().Info("regio not recorded", "type", event.Type(payload), "code", cerr.Code().String(), "err", err)
		return nil, cerr
	}
	s.log().Info("regio recorded", "type", event.Type(r.Event), "versie", r.Versie, "event", r.Event.GetEnvelope().GetEventId())
	return connect.NewResponse(&ledgerv1.RecordRegioResponse{EventId: r.Event.GetEnvelope().GetEventId(), Versie: r.Versie, Positie: r.Position.String()}), nil
}

// GetRegio lists the verdeelsleutels and bookings, and the income and
// targets the caller may see.
func (s *Server) GetRegio(ctx context.Context, req *connect.Request[ledgerv1.GetRegioRequest]) (*connect.Response[ledgerv1.GetRegioResponse], error) {
	recs, err := s.Beleid.Regio(ctx)
	if err != nil {
		return nil, s.toConnect(err)
	}
	resp := &ledgerv1.GetRegioResponse{}
	// A gemeente sees its own income and targets only, as on its bus.
	own := func(g string) bool { return true }
	if id, ok := access.FromContext(ctx); ok && id.Rol == access.Gemeente {
		own = func(g string) bool { return g == id.Gemeente }
	}
	// Numbered as RecordRegio numbers them (beleid.RegioKey).
	versions := map[string]uint64{}
	for _, r := range recs {
		k := beleid.RegioKey(r.Event)
		versions[k]++
		a := &ledgerv1.RegioAfspraak{Versie: versions[k], EventId: r.Event.GetEnvelope().GetEventId(), Event: r.Event}
		switch {
		case r.Event.GetInkomsten() != nil:
			if own(r.Event.GetInkomsten().GetGemeente()) {
				resp.Inkomsten = append(resp.Inkomsten, a)
			}
		case r.Event.GetDoelen() != nil:
			if own(r.Event.GetDoelen().GetGemeente()) {
				resp.Doelen = append(resp.Doelen, a)
			}
		case r.Event.GetVerdeelsleutel() != nil:
			resp.Verdeelsleutels = append(resp.Verdeelsleutels, a)
		case r.Event.GetResultaatverdeling() != nil:
			resp.Resultaatverdelingen = append(resp.Resultaatverdelingen, a)
		case r.Event.GetGedeeldeKosten() != nil:
			resp.Boekingen = append(resp.Boekingen, a)
		default:
			return nil, s.toConnect(fmt.Errorf("regio stream holds a %s", event.Type(r.Event)))
		}
	}
	return connect.NewResponse(resp), nil
}

var (
	_ refused = (*beleid.Refusal)(nil)
	_ refused = (*caseflow.Refusal)(nil)
)
