package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gooi-vechtstreek/ledger/services/access"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

// scope says what a gemeente role may ask of a call that names a gemeente.
type scope int

const (
	anyGemeente  scope = iota // no gemeente limit (or none named)
	ownOrArchive              // its own, or one whose archive it holds after a herindeling
	ownOnly                   // its own only (writes)
)

// right is who may make one call.
type right struct {
	roles []access.Role
	scope scope
	// wat names the call in the refusal: "u mag geen <wat>".
	wat string
}

var (
	readers = []access.Role{access.Centrum, access.Gemeente, access.Auditor}
	all     = []access.Role{access.Centrum, access.Gemeente, access.Auditor, access.Beheer}
)

// rights is the one table of who may call what. A call that is not in it is
// refused, whoever makes it (TestEveryMethodHasARight keeps it complete).
// A gemeente user reads a case only for the events of its own history
// (GetCase filters them); beheer reads no personal data, so no case, view
// or export.
var rights = map[string]right{
	ledgerv1connect.LedgerServiceRecordProcedure:           {[]access.Role{access.Centrum}, anyGemeente, "transities of uren vastleggen"},
	ledgerv1connect.LedgerServiceImportProcedure:           {[]access.Role{access.Centrum}, anyGemeente, "de geschiedenis importeren"},
	ledgerv1connect.LedgerServiceRecordRegioProcedure:      {[]access.Role{access.Centrum}, anyGemeente, "verdeelsleutels of gedeelde kosten vastleggen"},
	ledgerv1connect.LedgerServiceRecordBeleidProcedure:     {[]access.Role{access.Gemeente}, ownOnly, "beleid vastleggen"},
	ledgerv1connect.LedgerServiceGetCaseProcedure:          {readers, anyGemeente, "zaken inzien"},
	ledgerv1connect.LedgerServiceListCasesProcedure:        {readers, ownOrArchive, "zaken inzien"},
	ledgerv1connect.LedgerServiceGetViewProcedure:          {readers, ownOrArchive, "het caseload-overzicht inzien"},
	ledgerv1connect.LedgerServiceGetBeleidProcedure:        {readers, ownOrArchive, "beleid inzien"},
	ledgerv1connect.LedgerServiceGetRegioProcedure:         {readers, anyGemeente, "de regionale afspraken inzien"},
	ledgerv1connect.LedgerServiceGetBeleidsviewProcedure:   {readers, ownOrArchive, "de beleidsview inzien"},
	ledgerv1connect.LedgerServiceExportKostenProcedure:     {readers, ownOrArchive, "kosten exporteren"},
	ledgerv1connect.LedgerServiceExportSrgProcedure:        {readers, ownOrArchive, "de SRG-telling exporteren"},
	ledgerv1connect.LedgerServiceListGemeentenProcedure:    {all, anyGemeente, "de deelnemers inzien"},
	ledgerv1connect.LedgerServiceFindCasesProcedure:        {readers, anyGemeente, "zaken zoeken"},
	ledgerv1connect.LedgerServiceForgetResidentProcedure:   {[]access.Role{access.Centrum}, anyGemeente, "persoonsgegevens vergeten"},
	ledgerv1connect.LedgerServiceRunRetentionProcedure:     {[]access.Role{access.Centrum}, anyGemeente, "de bewaartermijnen uitvoeren"},
	ledgerv1connect.LedgerServiceRecordRapportageProcedure: {[]access.Role{access.Centrum}, anyGemeente, "rapportages als aangeleverd vastleggen"},
	ledgerv1connect.LedgerServiceReadEventsProcedure:       {readers, ownOrArchive, "opgeslagen gebeurtenissen lezen"},
	ledgerv1connect.LedgerServiceInzageProcedure:           {[]access.Role{access.Centrum, access.Auditor}, anyGemeente, "het logboek dataverwerkingen inzien"},
	ledgerv1connect.AccessServiceIssueCredentialProcedure:  {[]access.Role{access.Beheer}, anyGemeente, "toegang uitgeven"},
	ledgerv1connect.AccessServiceRevokeCredentialProcedure: {[]access.Role{access.Beheer}, anyGemeente, "toegang intrekken"},
	ledgerv1connect.AccessServiceListCredentialsProcedure:  {[]access.Role{access.Beheer}, anyGemeente, "toegang inzien"},
	ledgerv1connect.AccessServiceWhoAmIProcedure:           {all, anyGemeente, "zien wie u bent"},
}

// authenticate finds who calls, from a bearer token or a verified client
// certificate, and puts the identity, or why there is none, in the request's
// context; authorize decides with it. It runs before anything reads the
// body.
func (s *Server) authenticate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id access.Identity
		err := error(&access.Refusal{})
		switch {
		case s.Access == nil && s.Unauthenticated != nil:
			id, err = *s.Unauthenticated, nil
		case s.Access == nil:
			err = errors.New("this server has no credentials")
		case r.Header.Get("Authorization") != "":
			id, err = s.Access.Authenticate(access.BearerToken(r.Header.Get("Authorization")))
		case r.TLS != nil && len(r.TLS.VerifiedChains) > 0:
			sum := sha256.Sum256(r.TLS.VerifiedChains[0][0].Raw)
			id, err = s.Access.AuthenticateCertificate(hex.EncodeToString(sum[:]))
		default:
			id, err = s.Access.Authenticate("")
		}
		ctx := r.Context()
		if err != nil {
			ctx = context.WithValue(ctx, authErrKey{}, err)
		} else {
			ctx = access.WithIdentity(ctx, id)
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

type authErrKey struct{}

// authorize refuses a call its caller has no right to, before the call's
// handler runs: nothing is read or written for it.
type authorize struct{ s *Server }

func (a authorize) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if a.s.Access == nil && a.s.Unauthenticated != nil {
			return next(ctx, req) // the benchmark's baseline: no access control at all
		}
		if err, ok := ctx.Value(authErrKey{}).(error); ok {
			return nil, a.s.accessError(err)
		}
		id, ok := access.FromContext(ctx)
		if !ok {
			return nil, a.s.accessError(errors.New("no identity in context"))
		}
		m, _ := req.Any().(proto.Message)
		if err := a.s.allowed(id, req.Spec().Procedure, m); err != nil {
			return nil, a.s.accessError(err)
		}
		return next(ctx, req)
	}
}

func (authorize) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler refuses every stream: the service has none, and a
// call outside the rights table is never let through.
func (a authorize) WrapStreamingHandler(connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(context.Context, connect.StreamingHandlerConn) error {
		return connect.NewError(connect.CodePermissionDenied, errors.New("deze server kent geen streams"))
	}
}

// allowed decides whether id may make the call procedure with request m.
func (s *Server) allowed(id access.Identity, procedure string, m proto.Message) error {
	r, ok := rights[procedure]
	if !ok {
		return access.Deny(access.RuleRol, "%s is geen opdracht die deze server toestaat", procedure)
	}
	if !slices.Contains(r.roles, id.Rol) {
		return access.Deny(access.RuleRol, "de rol %s mag geen %s (dat mag: %s)", id.Rol, r.wat, roleList(r.roles))
	}
	if id.Rol != access.Gemeente || r.scope == anyGemeente {
		return nil
	}
	asked := gemeenteOf(m)
	if slices.Contains(s.gemeentenOf(id, r.scope), asked) {
		return nil
	}
	if asked == "" {
		asked = "(geen)"
	}
	return access.Deny(access.RuleGemeente, "u werkt voor %s en mag geen %s van gemeente %s", id.Gemeente, r.wat, asked)
}

// gemeentenOf are the gemeenten a gemeente user may act for in a call of
// scope sc: its own and, for reading, those whose archive it holds.
func (s *Server) gemeentenOf(id access.Identity, sc scope) []string {
	out := []string{id.Gemeente}
	if sc == ownOrArchive && s.Gemeenten != nil {
		for _, h := range s.Gemeenten.Archieven(id.Gemeente, s.Clock.Today()) {
			out = append(out, h.Van)
		}
	}
	return out
}

// gemeenteOf returns the request's field "gemeente", empty if it has none.
func gemeenteOf(m proto.Message) string {
	if m == nil {
		return ""
	}
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("gemeente")
	if fd == nil || fd.Kind() != protoreflect.StringKind {
		return ""
	}
	return r.Get(fd).String()
}

func roleList(rs []access.Role) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return strings.Join(parts, ", ")
}

// accessError answers a refused call: UNAUTHENTICATED or PERMISSION_DENIED
// with the rule as a Refusal detail.
func (s *Server) accessError(err error) *connect.Error {
	var ref *access.Refusal
	if !errors.As(err, &ref) {
		s.log().Error("access check failed", "err", err)
		return connect.NewError(connect.CodeUnauthenticated, errors.New("toegang kon niet worden vastgesteld; de beheerder kan de details in het log vinden"))
	}
	code := connect.CodePermissionDenied
	if errors.Is(err, access.ErrUnauthenticated) {
		code = connect.CodeUnauthenticated
	}
	cerr := connect.NewError(code, errors.New(ref.Error()))
	if d, derr := connect.NewErrorDetail(&ledgerv1.Refusal{Rule: ref.Rule, Reden: ref.Reden}); derr == nil {
		cerr.AddDetail(d)
	}
	return cerr
}

// actor is what an event records as its actor: the caller's identity.
func actor(ctx context.Context) string {
	id, _ := access.FromContext(ctx)
	return id.Actor()
}

// AccessServer implements ledgerv1connect.AccessServiceHandler on the
// server's credentials.
type AccessServer struct{ s *Server }

var _ ledgerv1connect.AccessServiceHandler = AccessServer{}

func credentialProto(c access.Credential) *ledgerv1.Credential {
	out := &ledgerv1.Credential{Id: c.ID, Gebruiker: c.Gebruiker, Organisatie: c.Organisatie, Rol: string(c.Rol), Gemeente: c.Gemeente,
		CertificaatSha256: c.Certificaat, Uitgegeven: c.Uitgegeven.Format(time.RFC3339), UitgegevenDoor: c.UitgegevenDoor}
	if c.Ingetrokken != nil {
		out.Ingetrokken = c.Ingetrokken.Format(time.RFC3339)
	}
	return out
}

// IssueCredential issues a token or registers a certificate.
func (a AccessServer) IssueCredential(ctx context.Context, req *connect.Request[ledgerv1.IssueCredentialRequest]) (*connect.Response[ledgerv1.IssueCredentialResponse], error) {
	m := req.Msg
	rol, err := access.ParseRole(m.GetRol())
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	if rol == access.Gemeente {
		if err := a.s.checkGemeente(m.GetGemeente()); err != nil {
			return nil, err
		}
	}
	by, _ := access.FromContext(ctx)
	cr, tok, err := a.s.Access.Issue(access.Request{Gebruiker: m.GetGebruiker(), Organisatie: m.GetOrganisatie(), Rol: rol, Gemeente: m.GetGemeente(), Certificaat: strings.ToLower(m.GetCertificaatSha256())}, by, a.s.Clock.Now())
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	a.s.log().Info("credential issued", "id", cr.ID, "rol", cr.Rol, "gemeente", cr.Gemeente, "by", by.Credential)
	return connect.NewResponse(&ledgerv1.IssueCredentialResponse{Credential: credentialProto(cr), Token: tok}), nil
}

// RevokeCredential revokes a credential.
func (a AccessServer) RevokeCredential(ctx context.Context, req *connect.Request[ledgerv1.RevokeCredentialRequest]) (*connect.Response[ledgerv1.RevokeCredentialResponse], error) {
	cr, err := a.s.Access.Revoke(req.Msg.GetId(), a.s.Clock.Now())
	if err != nil {
		return nil, connect.NewError(connect.CodeNotFound, err)
	}
	by, _ := access.FromContext(ctx)
	a.s.log().Info("credential revoked", "id", cr.ID, "by", by.Credential)
	return connect.NewResponse(&ledgerv1.RevokeCredentialResponse{Credential: credentialProto(cr)}), nil
}

// ListCredentials lists every credential.
func (a AccessServer) ListCredentials(context.Context, *connect.Request[ledgerv1.ListCredentialsRequest]) (*connect.Response[ledgerv1.ListCredentialsResponse], error) {
	resp := &ledgerv1.ListCredentialsResponse{}
	for _, c := range a.s.Access.List() {
		resp.Credentials = append(resp.Credentials, credentialProto(c))
	}
	return connect.NewResponse(resp), nil
}

// WhoAmI says who the caller is.
func (a AccessServer) WhoAmI(ctx context.Context, _ *connect.Request[ledgerv1.WhoAmIRequest]) (*connect.Response[ledgerv1.WhoAmIResponse], error) {
	id, _ := access.FromContext(ctx)
	return connect.NewResponse(&ledgerv1.WhoAmIResponse{Gebruiker: id.Gebruiker, Organisatie: id.Organisatie, Rol: string(id.Rol), Gemeente: id.Gemeente, Actor: id.Actor(), CredentialId: id.Credential}), nil
}
