// Package api serves the ledger's LedgerService with Connect: one handler
// answers gRPC, gRPC-Web and plain HTTP/JSON (curl) alike.
package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/projections/beleidsview"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/access"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/bounds"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/logboek"
	"github.com/gooi-vechtstreek/ledger/services/metrics"
	"github.com/gooi-vechtstreek/ledger/services/resident"
	"github.com/gooi-vechtstreek/ledger/services/retention"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/vault"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

// Views is what the API reads from the live projections.
type Views interface {
	View(gemeente string) (*ledgerv1.CaseloadView, bool)
	Cases(gemeente string, includeClosed bool) ([]*ledgerv1.CaseSummary, bool)
}

// Replayer rebuilds one gemeente's view from the store: the auditor's path.
// The certificate says what it read.
type Replayer func(ctx context.Context, gemeente string) (*ledgerv1.CaseloadView, *ledgerv1.Certificaat, error)

// Server implements ledgerv1connect.LedgerServiceHandler.
type Server struct {
	Cases      *caseflow.Handler
	Views      Views
	Replay     Replayer
	Gemeenten  *gemeente.Registry
	Pseudonyms *resident.Pseudonymizer
	Logger     *slog.Logger
	Beleid     *beleid.Handler
	// Clock makes "today" (a view's peildatum, the default year); nil is
	// the system clock.
	Clock clock.Clock
	// Region is the live regional model the beleidsview and the costs are
	// computed from; Store is read for an auditor's replay.
	Region *region.Live
	Store  store.Store
	// Figures keeps the beleidsview and cost lines up to date as Region
	// applies events (Region must be watched by it); nil computes them from
	// the model on every read.
	Figures *beleidsview.Keeper
	// Lag says how far the live figures are behind the store and waits for
	// a position (read-your-writes); nil does neither.
	Lag Freshness
	// SRG maps placement types to CBS SRG voorzieningen (deploy/srg.json).
	SRG *beleidsview.SRGMapping
	// Access holds the credentials every call is authenticated with; nil
	// refuses every call.
	Access *access.Credentials
	// Vault encrypts and decrypts personal data and free text; Logboek logs
	// every processing of it. Without them (tests only) personal data is
	// refused and nothing is logged.
	Vault   *vault.Vault
	Logboek *logboek.Logboek
	// Retention are the retention periods (deploy/bewaartermijnen.json).
	Retention *retention.Rules
	// Unauthenticated, with Access nil, takes every caller as this
	// identity: only for the benchmark that measures what authentication
	// and encryption cost a command. No flag sets it.
	Unauthenticated *access.Identity
	// Metrics, when set, counts every call, its outcome and latency.
	Metrics *metrics.Registry

	imports importBatches
	settled settledYears
}

var _ ledgerv1connect.LedgerServiceHandler = (*Server)(nil)

// Handler returns the HTTP handler of the service and the path it serves.
func (s *Server) Handler() (string, http.Handler) {
	interceptors := []connect.Interceptor{authorize{s}, checkBounds{s}}
	if s.Metrics != nil {
		interceptors = append([]connect.Interceptor{newMeasured(s.Metrics)}, interceptors...)
	}
	path, h := ledgerv1connect.NewLedgerServiceHandler(s,
		connect.WithCodec(JSONCodec{}),
		// Bounds the decoded (and decompressed) request: a 254 KB gzip body
		// that inflates to 256 MB is refused after MaxRequestBytes.
		connect.WithReadMaxBytes(MaxRequestBytes),
		connect.WithInterceptors(interceptors...),
	)
	return path, limitBody(s.authenticate(oneFigureAtATime(h)))
}

// AccessHandler returns the HTTP handler of the AccessService and its path.
func (s *Server) AccessHandler() (string, http.Handler) {
	path, h := ledgerv1connect.NewAccessServiceHandler(AccessServer{s},
		connect.WithCodec(JSONCodec{}),
		connect.WithReadMaxBytes(64<<10),
		connect.WithInterceptors(authorize{s}),
	)
	return path, limitBody(s.authenticate(h))
}

// MaxRequestBytes bounds a request, as sent and once decompressed: an
// import call of 5,000 lines at their bounds fits, a hostile body does not.
const MaxRequestBytes = 8 << 20

// limitBody refuses a body larger than MaxRequestBytes before it is read,
// whatever the protocol says of its length.
func limitBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxRequestBytes {
			http.Error(w, fmt.Sprintf("verzoek van %d bytes; ten hoogste %d [%s]", r.ContentLength, MaxRequestBytes, bounds.RuleTeGroot), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
		if isGRPC(r) && !compressed(r) {
			// A frame flagged as compressed in a request that names no
			// compression is the client's error; Connect would answer it
			// as an internal one.
			br := bufio.NewReader(r.Body)
			if flag, err := br.Peek(1); err == nil && flag[0]&1 == 1 {
				w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
				w.Header().Set("Grpc-Status", "3") // INVALID_ARGUMENT
				w.Header().Set("Grpc-Message", "gecomprimeerd bericht zonder grpc-encoding")
				w.WriteHeader(http.StatusOK)
				return
			}
			r.Body = readCloser{br, r.Body}
		}
		h.ServeHTTP(w, r)
	})
}

func isGRPC(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc")
}

func compressed(r *http.Request) bool {
	e := r.Header.Get("Grpc-Encoding")
	return e != "" && e != "identity"
}

type readCloser struct {
	io.Reader
	io.Closer
}

// checkBounds holds every request to services/bounds before its handler
// runs: nothing out of bounds is decided, stored or handed to the broker.
type checkBounds struct{ s *Server }

func (c checkBounds) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if m, ok := req.Any().(proto.Message); ok {
			if err := bounds.Check(m); err != nil {
				return nil, c.s.toConnect(err)
			}
		}
		return next(ctx, req)
	}
}

func (checkBounds) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (checkBounds) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// figureProcedures are the calls that answer with a whole gemeente's
// figures: large answers, whose encoding (and compression) costs more than
// reading the kept figures.
var figureProcedures = map[string]bool{
	ledgerv1connect.LedgerServiceGetViewProcedure:        true,
	ledgerv1connect.LedgerServiceGetBeleidsviewProcedure: true,
	ledgerv1connect.LedgerServiceExportKostenProcedure:   true,
	ledgerv1connect.LedgerServiceExportSrgProcedure:      true,
}

// oneFigureAtATime answers the figure calls one at a time, from request to
// the last byte of the answer, so that dashboards refreshing together use at
// most one core and a command always finds the other: readers wait for each
// other, never a klantmanager's transition. A waiting reader whose client
// gives up leaves the queue.
func oneFigureAtATime(h http.Handler) http.Handler {
	turn := make(chan struct{}, 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A caller who is not authenticated is refused without waiting
		// for, or holding, the turn: a slow body of theirs must not stall
		// every dashboard.
		_, refused := r.Context().Value(authErrKey{}).(error)
		if !figureProcedures[r.URL.Path] || refused {
			h.ServeHTTP(w, r)
			return
		}
		select {
		case turn <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		defer func() { <-turn }()
		h.ServeHTTP(w, r)
	})
}

func (s *Server) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Record decides and appends one transition.
func (s *Server) Record(ctx context.Context, req *connect.Request[ledgerv1.RecordRequest]) (*connect.Response[ledgerv1.RecordResponse], error) {
	start := time.Now()
	m := req.Msg
	cmd, err := s.command(m)
	if err != nil {
		return nil, err
	}
	cmd.Actor = actor(ctx)
	res, err := s.Cases.Handle(ctx, cmd)
	typ := event.Type(cmd.Transition)
	if err != nil {
		cerr := s.toConnect(err)
		s.log().Info("transition not recorded", "type", typ, "case", m.GetCaseId(), "code", cerr.Code().String(), "err", err, "took", time.Since(start))
		return nil, cerr
	}
	s.log().Info("transition recorded", "type", typ, "case", res.CaseID, "event", res.EventID, "revision", res.Revision, "took", time.Since(start))
	return connect.NewResponse(&ledgerv1.RecordResponse{
		CaseId:   res.CaseID.String(),
		EventId:  res.EventID.String(),
		Type:     res.Type,
		Revision: res.Revision,
		Toestand: res.State.Toestand,
		Datum:    res.Datum,
		Positie:  res.Position.String(),
	}), nil
}

// command reads a RecordRequest; a malformed one is INVALID_ARGUMENT.
func (s *Server) command(m *ledgerv1.RecordRequest) (caseflow.Command, error) {
	cmd := caseflow.Command{Gemeente: m.GetGemeente(), Datum: m.GetDatum(), ExpectedRevision: m.ExpectedRevision}
	if m.GetCaseId() != "" {
		id, err := uuid.Parse(m.GetCaseId())
		if err != nil {
			return cmd, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("zaak %q is geen geldig zaak-id (UUID)", m.GetCaseId()))
		}
		cmd.CaseID = id
	}
	if m.GetEventId() != "" {
		id, err := uuid.Parse(m.GetEventId())
		if err != nil || id == uuid.Nil {
			return cmd, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("event_id %q is geen geldige UUID", m.GetEventId()))
		}
		cmd.EventID = id
	}
	tr, err := s.transition(m)
	if err != nil {
		return cmd, err
	}
	cmd.Transition = tr
	cmd.Persoon = persoon(m)
	return cmd, nil
}

// transition turns the request's oneof into a draft event payload. For an
// aanmelding with a BSN, the BSN becomes a resident id here and goes no
// further.
func (s *Server) transition(m *ledgerv1.RecordRequest) (*ledgerv1.Event, error) {
	ev := &ledgerv1.Event{}
	switch t := m.GetTransition().(type) {
	case *ledgerv1.RecordRequest_Aanmelding:
		a := proto.Clone(t.Aanmelding).(*ledgerv1.Aanmelding)
		if m.GetBsn() != "" {
			if s.Pseudonyms == nil {
				return nil, connect.NewError(connect.CodeUnimplemented, errors.New("deze server kan geen BSN verwerken: geen pseudonimiseringssleutel"))
			}
			rid, err := s.Pseudonyms.ResidentID(m.GetBsn())
			if err != nil {
				return nil, connect.NewError(connect.CodeInvalidArgument, err)
			}
			if a.GetResidentId() != "" && a.GetResidentId() != rid {
				return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("geef een BSN of een client-id, niet twee die niet bij elkaar horen"))
			}
			a.ResidentId = rid
		}
		ev.Payload = &ledgerv1.Event_Aanmelding{Aanmelding: a}
		if (m.GetNaam() != "" || m.GetGeboortedatum() != nil) && m.GetBsn() == "" {
			return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("naam en geboortedatum horen bij een BSN"))
		}
	case *ledgerv1.RecordRequest_Intake:
		ev.Payload = &ledgerv1.Event_Intake{Intake: t.Intake}
	case *ledgerv1.RecordRequest_Plaatsing:
		ev.Payload = &ledgerv1.Event_Plaatsing{Plaatsing: t.Plaatsing}
	case *ledgerv1.RecordRequest_Uitval:
		ev.Payload = &ledgerv1.Event_Uitval{Uitval: t.Uitval}
	case *ledgerv1.RecordRequest_Vangnet:
		ev.Payload = &ledgerv1.Event_Vangnet{Vangnet: t.Vangnet}
	case *ledgerv1.RecordRequest_Uitstroom:
		ev.Payload = &ledgerv1.Event_Uitstroom{Uitstroom: t.Uitstroom}
	case *ledgerv1.RecordRequest_Verhuizing:
		ev.Payload = &ledgerv1.Event_Verhuizing{Verhuizing: t.Verhuizing}
	case *ledgerv1.RecordRequest_Correctie:
		ev.Payload = &ledgerv1.Event_Correctie{Correctie: t.Correctie}
	case *ledgerv1.RecordRequest_Uren:
		ev.Payload = &ledgerv1.Event_Uren{Uren: t.Uren}
	default:
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("geen transitie opgegeven (aanmelding, intake, plaatsing, uitval, vangnet, uitstroom, verhuizing of correctie)"))
	}
	if (m.GetBsn() != "" || m.GetNaam() != "" || m.GetGeboortedatum() != nil) && ev.GetAanmelding() == nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("BSN, naam en geboortedatum horen alleen bij een aanmelding"))
	}
	return ev, nil
}

// refused is every refusal of the ledger: a transition (caseflow) or a
// policy, agreement or booking (beleid).
type refused interface {
	error
	Refused() (rule, reden string)
}

// toConnect maps the ledger's errors to codes a client can act on. Refusals
// carry a Refusal detail with the rule.
func (s *Server) toConnect(err error) *connect.Error {
	var ref refused
	var conflict *store.ConflictError
	var unavail *store.UnavailableError
	if cerr, ok := behindErr(err); ok {
		return cerr
	}
	switch {
	case errors.As(err, &ref):
		code := connect.CodeFailedPrecondition
		switch {
		case errors.Is(err, bounds.ErrOutOfBounds):
			code = connect.CodeInvalidArgument
		case errors.Is(err, caseflow.ErrCaseNotFound):
			code = connect.CodeNotFound
		case errors.Is(err, gemeente.ErrUnknownGemeente):
			code = connect.CodeInvalidArgument
		}
		rule, reden := ref.Refused()
		detail := &ledgerv1.Refusal{Rule: rule, Reden: reden}
		var cref *caseflow.Refusal
		if errors.As(err, &cref) {
			detail.CaseId, detail.Toestand = cref.CaseID, cref.Toestand
		}
		cerr := connect.NewError(code, errors.New(ref.Error()))
		if d, derr := connect.NewErrorDetail(detail); derr == nil {
			cerr.AddDetail(d)
		}
		return cerr
	case errors.As(err, &unavail):
		// The cause is the store's, not the request's: say which, and
		// keep the broker's own words for the log.
		s.log().Warn("store unavailable", "rule", unavail.Rule, "err", err)
		cerr := connect.NewError(connect.CodeUnavailable, fmt.Errorf("%s [%s]", unavail.Reden, unavail.Rule))
		if d, derr := connect.NewErrorDetail(&ledgerv1.Refusal{Rule: unavail.Rule, Reden: unavail.Reden}); derr == nil {
			cerr.AddDetail(d)
		}
		return cerr
	case errors.As(err, &conflict):
		return connect.NewError(connect.CodeAborted, fmt.Errorf("de zaak is intussen gewijzigd (%s); bekijk de zaak opnieuw en probeer het nog eens", revisions(conflict)))
	case errors.Is(err, store.ErrConflict):
		return connect.NewError(connect.CodeAborted, errors.New("de zaak is intussen gewijzigd door een andere medewerker; probeer het nog eens"))
	case errors.Is(err, store.ErrTooLarge):
		return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("de gebeurtenis is groter dan de ledger bewaart (%d bytes) [%s]", store.MaxEventBytes, bounds.RuleTeGroot))
	case errors.Is(err, beleidsview.ErrPeriode):
		return connect.NewError(connect.CodeInvalidArgument, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, store.ErrOutcomeUnknown):
		// The store did not answer in time: the write may or may not be
		// there. A retry with the same event ids settles it either way.
		s.log().Warn("no answer in time", "err", err)
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("de ledger kreeg niet op tijd antwoord van de opslag; of dit is vastgelegd is niet zeker: probeer het opnieuw met dezelfde event-id, dan wordt het hoogstens één keer vastgelegd"))
	}
	s.log().Error("internal error", "err", err)
	return connect.NewError(connect.CodeInternal, errors.New("interne fout in de ledger; de beheerder kan de details in het log vinden"))
}

// revisions says in Dutch where the case is and where the caller thought
// it was.
func revisions(c *store.ConflictError) string {
	nu := "de zaak bestaat nog niet"
	if c.Actual >= 0 {
		nu = fmt.Sprintf("nu revisie %d", c.Actual)
	}
	switch rev, exact := c.Expected.Revision(); {
	case exact:
		return fmt.Sprintf("%s, u ging uit van revisie %d", nu, rev)
	case c.Expected.IsNoStream():
		return nu + ", u ging uit van een nieuwe zaak"
	}
	return nu
}

// GetCase returns one case with its timeline.
func (s *Server) GetCase(ctx context.Context, req *connect.Request[ledgerv1.GetCaseRequest]) (*connect.Response[ledgerv1.GetCaseResponse], error) {
	id, err := uuid.Parse(req.Msg.GetCaseId())
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("zaak %q is geen geldig zaak-id (UUID)", req.Msg.GetCaseId()))
	}
	c, err := s.Cases.Load(ctx, id)
	if errors.Is(err, caseflow.ErrCaseNotFound) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("zaak %s bestaat niet", id))
	}
	if err != nil {
		return nil, s.toConnect(err)
	}
	if who, _ := access.FromContext(ctx); who.Rol == access.Gemeente {
		// A gemeente sees a case's events of its own history only, as its
		// bus stream holds them: found nowhere else, the case "does not
		// exist" for it.
		if c, err = s.ownPart(c, s.gemeentenOf(who, ownOrArchive)); err != nil {
			return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("zaak %s bestaat niet", id))
		}
	}
	correctedBy := map[string]string{}
	for _, ev := range c.Events {
		if corr := ev.GetCorrectie(); corr != nil {
			correctedBy[corr.GetCorrigeert()] = ev.GetEnvelope().GetEventId()
		}
	}
	// After a herindeling the successor carries the case, also when nothing
	// has been recorded on it since; or it ended with its gemeente.
	carried, _ := caseflow.Carried(c.State, s.Gemeenten, s.Clock.Today())
	resp := &ledgerv1.GetCaseResponse{Case: carried.Summary(c.Revision), KetenIntact: c.ChainErr == nil}
	if s.Retention != nil {
		if res, due, ok := s.Retention.Decide(c.Events); ok {
			resp.Case.Bewaarresultaat, resp.Case.Archiefactiedatum = res.Resultaat, due
		}
	}
	who, _ := access.FromContext(ctx)
	may := slices.Contains(readsPersonalData, who.Rol)
	var sp *logboek.Span
	if may {
		sp = s.span(ctx, logboek.Inzien, c.State.ResidentID, id.String())
	}
	for i, ev := range c.Events {
		entry := &ledgerv1.TimelineEntry{
			Revision:         c.Records[i].Revision,
			Type:             event.Type(ev),
			Event:            ev,
			GecorrigeerdDoor: correctedBy[ev.GetEnvelope().GetEventId()],
		}
		s.open(ctx, ev, entry, may)
		resp.Timeline = append(resp.Timeline, entry)
	}
	if err := s.endSpan(ctx, sp, nil); err != nil {
		return nil, err
	}
	if c.ChainErr != nil {
		s.log().Error("hash chain broken", "case", id, "err", c.ChainErr)
	}
	return connect.NewResponse(resp), nil
}

// ownPart is the part of a case a gemeente user may see: the events whose
// audience (event.Audience, the relay's rule) includes one of its gemeenten,
// and the case's state as of the last of them. Without any, ErrCaseNotFound.
func (s *Server) ownPart(c *caseflow.Case, gemeenten []string) (*caseflow.Case, error) {
	part := &caseflow.Case{ChainErr: c.ChainErr}
	last := -1
	for i, ev := range c.Events {
		for _, g := range event.Audience(ev, s.Gemeenten.Codes()) {
			if slices.Contains(gemeenten, g) {
				part.Events = append(part.Events, ev)
				part.Records = append(part.Records, c.Records[i])
				last = i
				break
			}
		}
	}
	if last < 0 {
		return nil, caseflow.ErrCaseNotFound
	}
	st, err := caseflow.Fold(c.Events[:last+1])
	if err != nil {
		return nil, err
	}
	part.State, part.Revision = st, c.Records[last].Revision
	return part, nil
}

func (s *Server) checkGemeente(code string) error {
	if _, ok := s.Gemeenten.Lookup(code); !ok {
		return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%w: %q staat niet in de lijst van deelnemers", gemeente.ErrUnknownGemeente, code))
	}
	return nil
}

// ListCases lists one gemeente's cases from its view.
func (s *Server) ListCases(ctx context.Context, req *connect.Request[ledgerv1.ListCasesRequest]) (*connect.Response[ledgerv1.ListCasesResponse], error) {
	if err := s.checkGemeente(req.Msg.GetGemeente()); err != nil {
		return nil, err
	}
	// The revisions come from the regional model: wait for both.
	behind, err := s.fresh(ctx, req.Msg.GetNaPositie(), figures{caseload: req.Msg.GetGemeente(), region: true})
	if err != nil {
		return nil, err
	}
	cases, ok := s.Views.Cases(req.Msg.GetGemeente(), req.Msg.GetIncludeClosed())
	if !ok {
		return nil, connect.NewError(connect.CodeUnavailable, fmt.Errorf("het overzicht van %s is (nog) niet beschikbaar", req.Msg.GetGemeente()))
	}
	if s.Region != nil {
		// The bus carries no store revisions; the regional model, read from
		// the store, knows each case's.
		_ = s.Region.Read(func(m *region.Model) {
			for _, c := range cases {
				if rev, ok := m.Revision(c.GetCaseId()); ok {
					c.Revision = rev
				}
			}
		})
	}
	return connect.NewResponse(&ledgerv1.ListCasesResponse{Cases: cases, Achterstand: behind}), nil
}

// GetView returns a gemeente's caseload, live or replayed from the store.
func (s *Server) GetView(ctx context.Context, req *connect.Request[ledgerv1.GetViewRequest]) (*connect.Response[ledgerv1.GetViewResponse], error) {
	g := req.Msg.GetGemeente()
	if err := s.checkGemeente(g); err != nil {
		return nil, err
	}
	if req.Msg.GetReplay() {
		if s.Replay == nil {
			return nil, connect.NewError(connect.CodeUnimplemented, errors.New("replay is op deze server niet beschikbaar"))
		}
		v, cert, err := s.Replay(ctx, g)
		if err != nil {
			return nil, s.toConnect(fmt.Errorf("replay %s: %w", g, err))
		}
		return connect.NewResponse(&ledgerv1.GetViewResponse{View: v, Certificaat: cert}), nil
	}
	behind, err := s.fresh(ctx, req.Msg.GetNaPositie(), figures{caseload: g})
	if err != nil {
		return nil, err
	}
	v, ok := s.Views.View(g)
	if !ok {
		return nil, connect.NewError(connect.CodeUnavailable, fmt.Errorf("het overzicht van %s is (nog) niet beschikbaar", g))
	}
	// What the live view is of: the store up to its last event. It counts
	// no digest of its own; ledger audit verify --tot gives that one.
	cert := &ledgerv1.Certificaat{Positie: v.GetBijgewerktTot(), Peildatum: s.Clock.Today()}
	return connect.NewResponse(&ledgerv1.GetViewResponse{View: v, Achterstand: behind, Certificaat: cert}), nil
}

// ListGemeenten lists the participants from the data file.
func (s *Server) ListGemeenten(ctx context.Context, req *connect.Request[ledgerv1.ListGemeentenRequest]) (*connect.Response[ledgerv1.ListGemeentenResponse], error) {
	resp := &ledgerv1.ListGemeentenResponse{}
	year := s.Clock.Year()
	for _, g := range s.Gemeenten.All() {
		n, _ := g.InwonersOp(year)
		resp.Gemeenten = append(resp.Gemeenten, &ledgerv1.Gemeente{
			Code: g.Code, Naam: g.Naam, Inwoners: n, GeldigVan: g.GeldigVan, GeldigTot: g.GeldigTot, Opvolger: g.Opvolger,
		})
	}
	return connect.NewResponse(resp), nil
}

// JSONCodec is the proto3 JSON mapping with every field present, so that a
// zero count reads 0 instead of missing. A request with a field the API
// does not know is refused: a misspelt field would otherwise be dropped
// without a word (a "loonwaarde" that should have been "loonwaarde_procent").
type JSONCodec struct{}

// Name is the Connect codec name it replaces.
func (JSONCodec) Name() string { return "json" }

// Marshal encodes a message.
func (JSONCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("json codec: %T is not a proto message", v)
	}
	return MarshalJSON(m)
}

// Unmarshal decodes a message.
func (JSONCodec) Unmarshal(b []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("json codec: %T is not a proto message", v)
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(b, m); err != nil {
		return fmt.Errorf("geen geldig verzoek in JSON volgens api.proto: %w", err)
	}
	return nil
}

// MarshalJSON is the one JSON form of the API: the API's HTTP/JSON answers
// and `ledger --json` print the same field names.
func MarshalJSON(m proto.Message) ([]byte, error) {
	return protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(m)
}
