package api

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/retention"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/vault"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// RunRetention forgets the residents whose cases are all closed and past
// their retention period.
func (s *Server) RunRetention(ctx context.Context, req *connect.Request[ledgerv1.RunRetentionRequest]) (*connect.Response[ledgerv1.RunRetentionResponse], error) {
	if s.Retention == nil || s.Vault == nil {
		return nil, connect.NewError(connect.CodeUnimplemented, errors.New("deze server heeft geen bewaartermijnen (deploy/bewaartermijnen.json) of geen sleutelopslag"))
	}
	// Seals from here on keep their resident: see ForgetIfUnused.
	gen := s.Vault.Generation()
	// Decide on every case the store holds now, not on what the caller
	// last saw: a case the views do not show yet would be forgotten with
	// the rest of its resident.
	na := req.Msg.GetNaPositie()
	if h, ok := s.Store.(interface {
		Head(context.Context) (store.Position, error)
	}); ok {
		head, err := h.Head(ctx)
		if err != nil {
			return nil, s.toConnect(err)
		}
		na = head.String()
	}
	if err := s.waitViews(ctx, na, s.Gemeenten.Codes()); err != nil {
		return nil, err
	}
	today := s.Clock.Today()
	byResident := map[string][]string{}
	for _, g := range s.Gemeenten.Codes() {
		cases, _ := s.Views.Cases(g, true)
		for _, c := range cases {
			if rid := c.GetResidentId(); rid != "" && !slices.Contains(byResident[rid], c.GetCaseId()) {
				byResident[rid] = append(byResident[rid], c.GetCaseId())
			}
		}
	}
	residents := make([]string, 0, len(byResident))
	for rid := range byResident {
		residents = append(residents, rid)
	}
	slices.Sort(residents)
	resp := &ledgerv1.RunRetentionResponse{Peildatum: today}
	for _, rid := range residents {
		b, err := s.retain(ctx, rid, byResident[rid], today, req.Msg.GetDroog(), gen)
		if err != nil {
			return nil, err
		}
		if b != nil {
			resp.Besluiten = append(resp.Besluiten, b)
		}
	}
	return connect.NewResponse(resp), nil
}

// retain decides for one resident: nil when none of their cases is closed.
func (s *Server) retain(ctx context.Context, rid string, caseIDs []string, today *ledgerv1.Date, droog bool, gen uint64) (*ledgerv1.Bewaarbesluit, error) {
	slices.Sort(caseIDs)
	b := &ledgerv1.Bewaarbesluit{ResidentId: rid, CaseIds: caseIDs}
	open, closed := 0, 0
	for _, id := range caseIDs {
		cid, err := uuid.Parse(id)
		if err != nil {
			continue
		}
		c, err := s.Cases.Load(ctx, cid)
		if err != nil {
			return nil, s.toConnect(fmt.Errorf("retention of %s: %w", rid, err))
		}
		_, due, ok := s.Retention.Decide(c.Events)
		if !ok {
			open++
			continue
		}
		closed++
		if b.Archiefactiedatum == nil || event.DateTime(due).After(event.DateTime(b.Archiefactiedatum)) {
			b.Archiefactiedatum = due
		}
	}
	switch {
	case closed == 0:
		return nil, nil
	case open > 0:
		b.Actie, b.Toelichting = "bewaard: open zaak", fmt.Sprintf("%d van de %d zaken zijn nog open; de sleutel hoort bij de inwoner, niet bij één zaak", open, len(caseIDs))
		return b, nil
	case !retention.DueBy(b.Archiefactiedatum, today):
		b.Actie, b.Toelichting = "bewaard: termijn loopt", "te vernietigen vanaf "+event.FormatDate(b.Archiefactiedatum)
		return b, nil
	case droog:
		b.Actie, b.Toelichting = "te vergeten", "de bewaartermijn is verstreken op "+event.FormatDate(b.Archiefactiedatum)
		return b, nil
	}
	res, err := s.forget(ctx, rid, ledgerv1.VergeetReden_VERGEET_REDEN_BEWAARTERMIJN, &gen)
	if errors.Is(err, vault.ErrInUse) {
		b.Actie, b.Toelichting = "bewaard: nieuwe gegevens", "tijdens deze ronde zijn nieuwe persoonsgegevens van de inwoner vastgelegd; de volgende ronde beslist opnieuw"
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	if len(res.GetKeyIds()) == 0 {
		b.Actie, b.Toelichting = "al vergeten", "geen sleutels meer"
		return b, nil
	}
	b.Actie, b.Toelichting = "vergeten", fmt.Sprintf("%d sleutel(s) vernietigd, gebeurtenis %s", len(res.GetKeyIds()), res.GetEventId())
	return b, nil
}
