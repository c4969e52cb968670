package api

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Page sizes of ReadEvents.
const (
	defaultReadEvents = 1000
	MaxReadEvents     = 20000
	// readEventsScan bounds the events one filtered call looks at, so that
	// a gemeente with few events among many gets an answer in time; it
	// goes on from Positie.
	readEventsScan = 50_000
)

type header interface {
	Head(ctx context.Context) (store.Position, error)
}

// ReadEvents hands over stored events in global order, as stored.
func (s *Server) ReadEvents(ctx context.Context, req *connect.Request[ledgerv1.ReadEventsRequest]) (*connect.Response[ledgerv1.ReadEventsResponse], error) {
	m := req.Msg
	if s.Store == nil {
		return nil, connect.NewError(connect.CodeUnimplemented, errors.New("deze server leest de opslag niet voor controle"))
	}
	after, err := optionalPosition(m.GetBeginNa(), "begin_na")
	if err != nil {
		return nil, err
	}
	limit := int(m.GetMax())
	if limit == 0 {
		limit = defaultReadEvents
	}
	if limit > MaxReadEvents {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("max %d: ten hoogste %d per verzoek", limit, MaxReadEvents))
	}
	resp := &ledgerv1.ReadEventsResponse{}
	var head store.Position
	if h, ok := s.Store.(header); ok {
		if head, err = h.Head(ctx); err != nil {
			return nil, s.toConnect(fmt.Errorf("read events: %w", err))
		}
		resp.Kop = head.String()
	}
	tot := head
	if m.GetTotPositie() != "" {
		if tot, err = optionalPosition(m.GetTotPositie(), "tot_positie"); err != nil {
			return nil, err
		}
	}
	var participants []string
	if s.Gemeenten != nil {
		for _, g := range s.Gemeenten.All() {
			participants = append(participants, g.Code)
		}
	}
	last, looked := after, 0
	resp.Einde = true
	for rec, err := range s.Store.ReadAll(ctx, after) {
		if err != nil {
			return nil, s.toConnect(fmt.Errorf("read events after %s: %w", last, err))
		}
		if tot != store.Start && tot.Less(rec.Position) {
			break
		}
		if len(resp.Events) == limit || looked == readEventsScan {
			resp.Einde = false
			break
		}
		looked++
		last = rec.Position
		if g := m.GetGemeente(); g != "" && !receives(rec, g, participants) {
			continue
		}
		resp.Events = append(resp.Events, &ledgerv1.StoredEvent{
			Positie: rec.Position.String(), Stream: rec.Stream, Revisie: rec.Revision, EventId: rec.ID.String(),
			Type: rec.Type, Vastgelegd: timestamppb.New(rec.Recorded), Data: rec.Data,
		})
	}
	if last != store.Start {
		resp.Positie = last.String()
	}
	return connect.NewResponse(resp), nil
}

// receives reports whether gemeente g receives the stored event; one that
// does not decode goes to everyone, so that no reader overlooks it.
func receives(rec store.RecordedEvent, g string, participants []string) bool {
	ev, err := event.Decode(rec.Data)
	if err != nil {
		return true
	}
	return slices.Contains(event.Audience(ev, participants), g)
}

// optionalPosition parses a store position a request names in field;
// empty is the start. Every position the API takes is parsed here.
func optionalPosition(s, field string) (store.Position, error) {
	if s == "" {
		return store.Start, nil
	}
	p, err := store.ParsePosition(s)
	if err != nil {
		return store.Start, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%s %q: geef een positie als commit/prepare (zoals 12/12), zoals een opdracht of certificaat die teruggeeft: %v", field, s, err))
	}
	return p, nil
}
