package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/services/access"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/logboek"
	"github.com/gooi-vechtstreek/ledger/services/vault"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Statuses of TimelineEntry.persoonsgegevens.
const (
	pdOntsleuteld = "ontsleuteld"
	pdVergeten    = "vergeten"
	pdNietVoorRol = "niet-voor-deze-rol"
)

// readsPersonalData are the roles that see a case's personal data and free
// text in plain: the centrumgemeente, which executes, and the auditor. A
// gemeente sees its residents' figures and history, not their names.
var readsPersonalData = []access.Role{access.Centrum, access.Auditor}

func who(ctx context.Context) logboek.Who {
	id, _ := access.FromContext(ctx)
	return logboek.Who{Gebruiker: id.Actor(), Rol: string(id.Rol)}
}

// span starts logging a processing of resident's personal data; nil
// without a log (only tests run without one).
func (s *Server) span(ctx context.Context, act logboek.Activity, resident, caseID string) *logboek.Span {
	if s.Logboek == nil || resident == "" {
		return nil
	}
	return s.Logboek.Begin(act, who(ctx), resident, caseID, s.Clock.Now())
}

// endSpan logs sp; a read of personal data fails when it can not be logged.
func (s *Server) endSpan(ctx context.Context, sp *logboek.Span, failed error) error {
	if sp == nil {
		return nil
	}
	if err := sp.End(context.WithoutCancel(ctx), failed, s.Clock.Now()); err != nil {
		s.log().Error("processing not logged", "err", err)
		return connect.NewError(connect.CodeUnavailable, errors.New("het logboek dataverwerkingen neemt nu niets aan; persoonsgegevens worden pas getoond als de verwerking is vastgelegd"))
	}
	return nil
}

// open decrypts, in place, the personal data and free text of one event of
// a case for the timeline, and says how that went.
func (s *Server) open(ctx context.Context, ev *ledgerv1.Event, entry *ledgerv1.TimelineEntry, may bool) {
	for _, sp := range event.Spots(ev) {
		if !sp.Msg.Has(sp.Sealed) {
			continue
		}
		if !may || s.Vault == nil {
			entry.Persoonsgegevens = pdNietVoorRol
			continue
		}
		sealed := sp.Msg.Get(sp.Sealed).Message().Interface().(*ledgerv1.EncryptedPersonalData)
		pd, err := s.Vault.Open(ctx, sealed)
		switch {
		case errors.Is(err, vault.ErrForgotten):
			entry.Persoonsgegevens = pdVergeten
			continue
		case err != nil:
			s.log().Error("personal data does not open", "event", ev.GetEnvelope().GetEventId(), "err", err)
			entry.Persoonsgegevens = "onleesbaar"
			continue
		}
		if entry.Persoonsgegevens == "" {
			entry.Persoonsgegevens = pdOntsleuteld
		}
		if sp.Text == nil {
			entry.Ontsleuteld = pd
		} else {
			sp.Msg.Set(sp.Text, protoreflect.ValueOfString(pd.GetTekst()))
		}
		sp.Msg.Clear(sp.Sealed)
	}
}

// resident is the resident a request names, by BSN (through the pseudonym)
// or by resident id.
func (s *Server) resident(bsn, residentID string) (string, error) {
	switch {
	case bsn != "" && residentID != "":
		return "", connect.NewError(connect.CodeInvalidArgument, errors.New("geef een BSN of een client-id, niet allebei"))
	case bsn != "":
		if s.Pseudonyms == nil {
			return "", connect.NewError(connect.CodeUnimplemented, errors.New("deze server kan geen BSN verwerken: geen pseudonimiseringssleutel"))
		}
		rid, err := s.Pseudonyms.ResidentID(bsn)
		if err != nil {
			return "", connect.NewError(connect.CodeInvalidArgument, err)
		}
		return rid, nil
	case residentID != "":
		return residentID, nil
	}
	return "", connect.NewError(connect.CodeInvalidArgument, errors.New("geef een BSN of een client-id"))
}

// FindCases finds a resident's cases in the views of the gemeenten the
// caller may read.
func (s *Server) FindCases(ctx context.Context, req *connect.Request[ledgerv1.FindCasesRequest]) (*connect.Response[ledgerv1.FindCasesResponse], error) {
	rid, err := s.resident(req.Msg.GetBsn(), req.Msg.GetResidentId())
	if err != nil {
		return nil, err
	}
	gemeenten := s.Gemeenten.Codes()
	if id, _ := access.FromContext(ctx); id.Rol == access.Gemeente {
		gemeenten = s.gemeentenOf(id, ownOrArchive)
	}
	if err := s.waitViews(ctx, req.Msg.GetNaPositie(), gemeenten); err != nil {
		return nil, err
	}
	sp := s.span(ctx, logboek.Zoeken, rid, "")
	resp := &ledgerv1.FindCasesResponse{ResidentId: rid, Cases: s.casesOf(rid, gemeenten)}
	if err := s.endSpan(ctx, sp, nil); err != nil {
		return nil, err
	}
	return connect.NewResponse(resp), nil
}

// waitViews waits until the caseload view of each of gemeenten includes
// the store position na ("" waits for nothing).
func (s *Server) waitViews(ctx context.Context, na string, gemeenten []string) error {
	if na == "" {
		return nil
	}
	for _, g := range gemeenten {
		if _, err := s.fresh(ctx, na, figures{caseload: g}); err != nil {
			return err
		}
	}
	return nil
}

// casesOf are the cases of resident rid in the views of gemeenten, by id.
func (s *Server) casesOf(rid string, gemeenten []string) []*ledgerv1.CaseSummary {
	var out []*ledgerv1.CaseSummary
	seen := map[string]bool{}
	for _, g := range gemeenten {
		cases, _ := s.Views.Cases(g, true)
		for _, c := range cases {
			if c.GetResidentId() == rid && !seen[c.GetCaseId()] {
				seen[c.GetCaseId()] = true
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b *ledgerv1.CaseSummary) int { return strings.Compare(a.GetCaseId(), b.GetCaseId()) })
	return out
}

// vergetenNamespace derives the store stream of a resident's Vergeten
// events from the resident id.
var vergetenNamespace = uuid.MustParse("8d2f6a40-1c7e-4b9a-a3f5-0e6d9c2b7a15")

// ForgetResident destroys the resident's keys and records that it did.
func (s *Server) ForgetResident(ctx context.Context, req *connect.Request[ledgerv1.ForgetResidentRequest]) (*connect.Response[ledgerv1.ForgetResidentResponse], error) {
	if s.Vault == nil {
		return nil, connect.NewError(connect.CodeUnimplemented, errors.New("deze server heeft geen sleutelopslag"))
	}
	rid, err := s.resident(req.Msg.GetBsn(), req.Msg.GetResidentId())
	if err != nil {
		return nil, err
	}
	reden := req.Msg.GetReden()
	if reden == ledgerv1.VergeetReden_VERGEET_REDEN_UNSPECIFIED {
		reden = ledgerv1.VergeetReden_VERGEET_REDEN_VERZOEK
	}
	res, err := s.forget(ctx, rid, reden, nil)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(res), nil
}

// forget destroys rid's keys first and then records the Vergeten event: a
// failure between the two leaves the person forgotten and the call to be
// repeated, which records the event then (no keys are left to list).
func (s *Server) forget(ctx context.Context, rid string, reden ledgerv1.VergeetReden, since *uint64) (*ledgerv1.ForgetResidentResponse, error) {
	sp := s.span(ctx, logboek.Vergeten, rid, "")
	// The log entry is written while the key still opens: it names the
	// resident for the log, which forgetting then makes unreadable too.
	if err := s.endSpan(ctx, sp, nil); err != nil {
		return nil, err
	}
	var (
		ids []string
		err error
	)
	if since != nil {
		ids, err = s.Vault.ForgetIfUnused(ctx, rid, *since)
	} else {
		ids, err = s.Vault.Forget(ctx, rid)
	}
	if errors.Is(err, vault.ErrInUse) {
		return nil, err
	}
	if err != nil {
		return nil, s.toConnect(fmt.Errorf("forget %s: %w", rid, err))
	}
	if len(ids) == 0 && reden == ledgerv1.VergeetReden_VERGEET_REDEN_BEWAARTERMIJN {
		// Nothing left to destroy: a later run records nothing again.
		return &ledgerv1.ForgetResidentResponse{ResidentId: rid}, nil
	}
	now := s.Clock.Now()
	id := uuid.New()
	ev := &ledgerv1.Event{
		Envelope: &ledgerv1.Envelope{EventId: id.String(), Gemeente: s.Gemeenten.Centrum(), OccurredOn: s.Clock.Today(),
			RecordedAt: timestamppb.New(now), Actor: actor(ctx), SchemaVersion: event.SchemaVersion},
		Payload: &ledgerv1.Event_Vergeten{Vergeten: &ledgerv1.Vergeten{ResidentId: rid, KeyIds: ids, Reden: reden}},
	}
	// Every stream of the store is a hash chain, this one too: a second
	// forget links to the first (audit.Verifier checks every stream alike).
	stream := "vergeten-" + uuid.NewSHA1(vergetenNamespace, []byte(rid)).String()
	res, _, err := s.appendChained(ctx, stream, ev)
	if err != nil {
		return nil, s.toConnect(fmt.Errorf("record vergeten of %s: %w", rid, err))
	}
	s.log().Info("resident forgotten", "resident", rid, "keys", len(ids), "event", id)
	return &ledgerv1.ForgetResidentResponse{ResidentId: rid, KeyIds: ids, EventId: id.String(), Positie: res.Position.String()}, nil
}

// Inzage lists the logged processings of one resident.
func (s *Server) Inzage(ctx context.Context, req *connect.Request[ledgerv1.InzageRequest]) (*connect.Response[ledgerv1.InzageResponse], error) {
	if s.Logboek == nil {
		return nil, connect.NewError(connect.CodeUnimplemented, errors.New("deze server heeft geen logboek dataverwerkingen"))
	}
	rid, err := s.resident(req.Msg.GetBsn(), req.Msg.GetResidentId())
	if err != nil {
		return nil, err
	}
	entries, err := s.Logboek.Of(ctx, rid)
	if err != nil {
		return nil, s.toConnect(err)
	}
	// The inzage is itself a processing; it is logged after the log is
	// read, so it shows in the next one. The writes come from the store.
	if err := s.endSpan(ctx, s.span(ctx, logboek.Inzage, rid, ""), nil); err != nil {
		return nil, err
	}
	resp := &ledgerv1.InzageResponse{ResidentId: rid}
	written, err := s.writes(ctx, rid)
	if err != nil {
		return nil, s.toConnect(err)
	}
	resp.Verwerkingen = written
	for _, e := range entries {
		resp.Verwerkingen = append(resp.Verwerkingen, &ledgerv1.Verwerking{
			TraceId: e.TraceID, SpanId: e.SpanID, Naam: e.Naam, Start: e.Start.Format("2006-01-02T15:04:05Z07:00"), Einde: e.Einde.Format("2006-01-02T15:04:05Z07:00"),
			Status: e.Status, VerwerkingsactiviteitId: e.ActiviteitID, Verwerkingsactiviteit: e.Activiteit, Gebruiker: e.Gebruiker, Rol: e.Rol, Doel: e.Doel, CaseId: e.CaseID,
		})
	}
	slices.SortStableFunc(resp.Verwerkingen, func(a, b *ledgerv1.Verwerking) int { return strings.Compare(a.GetStart(), b.GetStart()) })
	return connect.NewResponse(resp), nil
}

// persoon is the personal data of an aanmelding request, nil when none.
func persoon(m *ledgerv1.RecordRequest) *ledgerv1.PersonalData {
	pd := &ledgerv1.PersonalData{Bsn: m.GetBsn(), Naam: m.GetNaam(), Geboortedatum: m.GetGeboortedatum()}
	if proto.Size(pd) == 0 {
		return nil
	}
	return pd
}

// writes are the processings the store itself records: every event of a
// resident's cases says who wrote what, when, on which case. They are not
// logged a second time (that would double the disk's work on every
// command); the inzage lists them beside the logged reads.
func (s *Server) writes(ctx context.Context, rid string) ([]*ledgerv1.Verwerking, error) {
	var out []*ledgerv1.Verwerking
	for _, c := range s.casesOf(rid, s.Gemeenten.Codes()) {
		id, err := uuid.Parse(c.GetCaseId())
		if err != nil {
			continue
		}
		cs, err := s.Cases.Load(ctx, id)
		if err != nil {
			return nil, err
		}
		for i, ev := range cs.Events {
			act := logboek.Bijwerken
			switch {
			case ev.GetEnvelope().GetBron() != nil:
				act = logboek.Importeren
			case ev.GetAanmelding() != nil:
				act = logboek.Aanmelden
			}
			at := ev.GetEnvelope().GetRecordedAt().AsTime().UTC().Format(time.RFC3339)
			out = append(out, &ledgerv1.Verwerking{
				TraceId: strings.ReplaceAll(ev.GetEnvelope().GetEventId(), "-", ""), Naam: fmt.Sprintf("%s: %s (revisie %d)", act.Naam, event.Type(ev), cs.Records[i].Revision),
				Start: at, Einde: at, Status: "OK", VerwerkingsactiviteitId: act.ID, Verwerkingsactiviteit: act.Naam, Doel: act.Doel,
				Gebruiker: ev.GetEnvelope().GetActor(), CaseId: c.GetCaseId(),
			})
		}
	}
	return out, nil
}
