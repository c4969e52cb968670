// Package web serves the ledger's pages, in Dutch, for every role: the
// klantmanager's cases and transition forms, a gemeente's beleidsview with
// its charts and downloads, the auditor's verification and traces.
//
// A page holds no rules and no figures of its own. It asks the ledger's
// API, in process, with the visitor's own credential: the rights table of
// services/api decides what a page may show, exactly as it does for the
// command line, and a refusal is shown in the API's words. The transition
// form offers what caseflow.Allowed says, from the state machine itself.
//
// Pages are plain HTML that work without JavaScript; one small script only
// watches the store position and offers a refresh when new events arrive.
package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/gooi-vechtstreek/ledger/services/access"
	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/clock"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Server serves the pages.
type Server struct {
	// API is the ledger's API (both services, authentication and the
	// rights table included), asked in process with the visitor's token.
	API http.Handler
	// Head returns the store's last position: what the pages watch.
	Head func(ctx context.Context) (string, error)
	// Verify checks the whole stored history, for the auditor's page.
	Verify func(ctx context.Context) (*audit.Report, error)
	Clock  clock.Clock
	Logger *slog.Logger
	// Secure marks the session cookie Secure: the server speaks TLS.
	Secure bool

	once     sync.Once
	pages    map[string]*template.Template
	client   ledgerv1connect.LedgerServiceClient
	accessc  ledgerv1connect.AccessServiceClient
	mu       sync.Mutex
	sessions map[string]*session
	verified *verification
	// verifying is held while the whole history is checked.
	verifying sync.Mutex
}

// session is one logged-in visitor. The token never leaves the server
// again: the browser holds only the session id, in an HttpOnly cookie.
type session struct {
	token string
	who   *ledgerv1.WhoAmIResponse
	csrf  string
	seen  time.Time
}

// sessionIdle is how long a session lasts without a request.
const sessionIdle = 30 * time.Minute

const cookieName = "ledger_sessie"

// RuleAndereSite refuses a form posted from another website (CSRF).
const RuleAndereSite = "web.andere-site"

// Handler returns the pages' handler, to be mounted at "/".
func (s *Server) Handler() http.Handler {
	s.once.Do(s.init)
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(http.FileServerFS(static))))
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /inloggen", s.loginPage)
	mux.HandleFunc("POST /inloggen", s.login)
	mux.HandleFunc("POST /uitloggen", s.page(s.logout))
	mux.HandleFunc("GET /positie", s.position)
	mux.HandleFunc("GET /zaken", s.page(s.findCases))
	mux.HandleFunc("POST /zaken", s.page(s.findCases))
	mux.HandleFunc("GET /zaken/{id}", s.page(s.casePage))
	mux.HandleFunc("POST /zaken/{id}/transitie", s.page(s.recordTransition))
	mux.HandleFunc("GET /regio", s.page(only(s.regionPage, access.Centrum, access.Auditor)))
	mux.HandleFunc("GET /gemeente/{gm}", s.page(s.beleidsviewPage))
	mux.HandleFunc("GET /gemeente/{gm}/kosten.csv", s.page(s.costsCSV))
	mux.HandleFunc("GET /gemeente/{gm}/srg.csv", s.page(s.srgCSV))
	mux.HandleFunc("GET /gemeente/{gm}/beleid", s.page(s.beleidPage))
	mux.HandleFunc("POST /gemeente/{gm}/beleid", s.page(s.recordBeleid))
	mux.HandleFunc("GET /controle", s.page(only(s.auditPage, access.Auditor)))
	mux.HandleFunc("POST /controle/verifieer", s.page(only(s.verify, access.Auditor)))
	mux.HandleFunc("GET /controle/herleid", s.page(only(s.tracePage, access.Auditor, access.Centrum)))
	// Every form but the login carries the session's token; the login
	// cannot (there is no session yet), and a page elsewhere could log the
	// visitor in under someone else's credential. The browser says where a
	// request comes from (Sec-Fetch-Site, Origin): one from another site
	// that would change anything is refused, on every form.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log().Warn("web: request from another site refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		s.render(w, r, s.peek(r), http.StatusForbidden, "fout", "Verzoek geweigerd", map[string]any{
			"Fout":      refusalText{Reden: "dit verzoek kwam van een andere website; alleen de pagina's van de ledger zelf mogen iets vastleggen of aanmelden", Regel: RuleAndereSite, Zeker: true},
			"Schrijven": true, "Terug": "/"})
	}))
	return securityHeaders(cop.Handler(mux))
}

func (s *Server) init() {
	s.sessions = map[string]*session{}
	s.pages = parseTemplates()
	hc := &http.Client{Transport: inProcess{s.API}}
	s.client = ledgerv1connect.NewLedgerServiceClient(hc, "http://ledger.in-process")
	s.accessc = ledgerv1connect.NewAccessServiceClient(hc, "http://ledger.in-process")
}

// inProcess hands a request to the API handler in this process: the same
// authentication, rights and bounds as a call over the network, without
// a socket.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// securityHeaders: no framing, no sniffing, scripts and styles only from
// this server.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func cacheFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// visit is one request of a logged-in visitor.
type visit struct {
	srv  *Server
	w    http.ResponseWriter
	r    *http.Request
	sess *session
	ctx  context.Context
}

// role is the visitor's role.
func (v *visit) role() access.Role { return access.Role(v.sess.who.GetRol()) }

// page wraps a handler that needs a session: without one the visitor is
// sent to the login page; a form without the session's CSRF token is
// refused.
func (s *Server) page(fn func(*visit)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := s.current(r)
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/inloggen?terug="+urlQuery(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "u bent niet (meer) aangemeld", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				http.Error(w, "het formulier is niet leesbaar: "+err.Error(), http.StatusBadRequest)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.csrf)) != 1 {
				http.Error(w, "het formulier hoort niet bij deze sessie (CSRF); laad de pagina opnieuw", http.StatusForbidden)
				return
			}
		}
		ctx := connectToken(r.Context(), sess.token)
		fn(&visit{srv: s, w: w, r: r, sess: sess, ctx: ctx})
	}
}

// only keeps a page of several gemeenten' figures to the roles it is for.
// The API would refuse each gemeente's part on its own; this says so once,
// before anything is asked.
func only(fn func(*visit), roles ...access.Role) func(*visit) {
	return func(v *visit) {
		if !slices.Contains(roles, v.role()) {
			names := make([]string, len(roles))
			for i, r := range roles {
				names[i] = string(r)
			}
			v.srv.render(v.w, v.r, v.sess, http.StatusForbidden, "fout", "Geen toegang", map[string]any{"Fout": refusalText{
				Reden: "deze pagina is voor de rol " + strings.Join(names, " of ") + "; u bent aangemeld met de rol " + string(v.role()), Regel: access.RuleRol}})
			return
		}
		fn(v)
	}
}

// current returns the visitor's session, or nil, and counts the request
// as the visitor's activity.
func (s *Server) current(r *http.Request) *session { return s.session(r, true) }

// peek returns the visitor's session without counting the request: for
// what a page's script asks by itself.
func (s *Server) peek(r *http.Request) *session { return s.session(r, false) }

func (s *Server) session(r *http.Request, active bool) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	now := s.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[c.Value]
	if sess == nil {
		return nil
	}
	if now.Sub(sess.seen) > sessionIdle {
		delete(s.sessions, c.Value)
		return nil
	}
	if active {
		sess.seen = now
	}
	return sess
}

// end drops the visitor's session.
func (s *Server) end(r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	sess := s.current(r)
	if sess == nil {
		http.Redirect(w, r, "/inloggen", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, startPage(sess.who), http.StatusSeeOther)
}

// startPage is where a role begins.
func startPage(who *ledgerv1.WhoAmIResponse) string {
	switch access.Role(who.GetRol()) {
	case access.Centrum:
		return "/zaken"
	case access.Gemeente:
		return "/gemeente/" + who.GetGemeente()
	case access.Auditor:
		return "/controle"
	}
	return "/inloggen?rol=beheer"
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	msg := ""
	if r.URL.Query().Get("rol") == "beheer" {
		msg = "De rol beheer geeft toegang uit en leest geen gegevens; er zijn voor beheer geen pagina's. Gebruik ledger toegang."
	}
	s.render(w, r, nil, http.StatusOK, "inloggen", "Inloggen", map[string]any{"Terug": r.URL.Query().Get("terug"), "Melding": msg})
}

// login takes a token (as `ledger toegang uitgeven` printed it), asks the
// API who it belongs to, and opens a session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "het formulier is niet leesbaar", http.StatusBadRequest)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	v := &visit{w: w, r: r, ctx: connectToken(r.Context(), token)}
	who, err := call(v, s.accessc.WhoAmI, &ledgerv1.WhoAmIRequest{})
	if err != nil {
		s.render(w, r, nil, http.StatusUnauthorized, "inloggen", "Inloggen", map[string]any{"Fout": refusal(err), "Terug": r.PostFormValue("terug")})
		return
	}
	if access.Role(who.GetRol()) == access.Beheer {
		// Beheer reads no data, so there is nothing to show it.
		s.render(w, r, nil, http.StatusForbidden, "inloggen", "Inloggen", map[string]any{"Melding": "De rol beheer geeft toegang uit en leest geen gegevens; er zijn voor beheer geen pagina's. Gebruik ledger toegang."})
		return
	}
	id, csrf := randomID(), randomID()
	now := s.Clock.Now()
	s.mu.Lock()
	// Sessions left idle are dropped here too, so that they do not pile up
	// when their visitors never come back.
	for k, old := range s.sessions {
		if now.Sub(old.seen) > sessionIdle {
			delete(s.sessions, k)
		}
	}
	s.sessions[id] = &session{token: token, who: who, csrf: csrf, seen: now}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteStrictMode})
	s.log().Info("web: aangemeld", "gebruiker", who.GetGebruiker(), "rol", who.GetRol())
	dest := startPage(who)
	if t := r.PostFormValue("terug"); local(t) {
		dest = t
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// local reports whether a return address is a path on this server: no
// scheme, no host, and nothing a browser would read as one ("//x", "/\x",
// control characters).
func local(t string) bool {
	if !strings.HasPrefix(t, "/") || strings.HasPrefix(t, "//") || strings.ContainsAny(t, "\\") {
		return false
	}
	for _, r := range t {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	u, err := url.Parse(t)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

func (s *Server) logout(v *visit) {
	s.end(v.r)
	http.SetCookie(v.w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(v.w, v.r, "/inloggen", http.StatusSeeOther)
}

// position answers the store's last position: cheap, so that a page can
// ask it every few seconds. It needs a session but does not keep one
// alive: a page left open is logged out after sessionIdle all the same.
func (s *Server) position(w http.ResponseWriter, r *http.Request) {
	if s.peek(r) == nil {
		http.Error(w, "u bent niet (meer) aangemeld", http.StatusUnauthorized)
		return
	}
	p, err := s.Head(r.Context())
	if err != nil {
		http.Error(w, "de opslag antwoordt niet: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, p)
}

func randomID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on a working system
	}
	return hex.EncodeToString(b)
}

type tokenKey struct{}

func connectToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, tokenKey{}, token)
}

func (s *Server) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// call runs one API call with the visitor's token.
func call[Req, Resp any](v *visit, fn func(context.Context, *connect.Request[Req]) (*connect.Response[Resp], error), req *Req) (*Resp, error) {
	r := connect.NewRequest(req)
	if tok, _ := v.ctx.Value(tokenKey{}).(string); tok != "" {
		r.Header().Set("Authorization", "Bearer "+tok)
	}
	resp, err := fn(v.ctx, r)
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

// refusal is what a visitor reads of an API error: the Dutch reason, and
// the rule that refused when there is one.
type refusalText struct {
	Reden string
	Regel string
	Code  connect.Code
	// Zeker: the ledger certainly wrote nothing. Not so when the store did
	// not answer in time: the write may have landed.
	Zeker bool
}

func refusal(err error) refusalText {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return refusalText{Reden: err.Error(), Zeker: true}
	}
	out := refusalText{Reden: ce.Message(), Code: ce.Code(), Zeker: ce.Code() != connect.CodeDeadlineExceeded && ce.Code() != connect.CodeUnknown && ce.Code() != connect.CodeInternal}
	for _, d := range ce.Details() {
		if m, derr := d.Value(); derr == nil {
			if ref, ok := m.(*ledgerv1.Refusal); ok {
				out.Reden, out.Regel = cmp.Or(ref.GetReden(), out.Reden), ref.GetRule()
			}
		}
	}
	return out
}

// status is the HTTP status of an API error shown as a page.
func status(err error) int {
	var fe *formError
	if errors.As(err, &fe) {
		return http.StatusUnprocessableEntity
	}
	switch connect.CodeOf(err) {
	case connect.CodeUnauthenticated:
		return http.StatusUnauthorized
	case connect.CodePermissionDenied:
		return http.StatusForbidden
	case connect.CodeNotFound:
		return http.StatusNotFound
	case connect.CodeInvalidArgument, connect.CodeFailedPrecondition, connect.CodeAlreadyExists, connect.CodeAborted:
		return http.StatusUnprocessableEntity
	case connect.CodeUnavailable, connect.CodeDeadlineExceeded:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail shows an API error as a page of its own.
func (s *Server) fail(v *visit, title string, err error) {
	if connect.CodeOf(err) == connect.CodeUnauthenticated {
		s.end(v.r) // a revoked credential: its session ends with it
	}
	s.render(v.w, v.r, v.sess, status(err), "fout", title, map[string]any{"Fout": refusal(err)})
}

// failWrite shows a refused or unanswered write. When it is not certain
// that nothing was written, the page offers the same form again, with the
// same event id, so that sending it again records it at most once.
func (s *Server) failWrite(v *visit, title, back string, err error) {
	if connect.CodeOf(err) == connect.CodeUnauthenticated {
		s.end(v.r)
	}
	data := map[string]any{"Fout": refusal(err), "Terug": back, "Schrijven": true}
	if !refusal(err).Zeker {
		var fields []formField
		for k, vs := range v.r.PostForm {
			if k == "csrf" {
				continue
			}
			for _, val := range vs {
				fields = append(fields, formField{k, val})
			}
		}
		slices.SortFunc(fields, func(a, b formField) int { return strings.Compare(a.Naam, b.Naam) })
		data["Opnieuw"] = map[string]any{"Actie": v.r.URL.Path, "Velden": fields}
	}
	s.render(v.w, v.r, v.sess, status(err), "fout", title, data)
}

type formField struct{ Naam, Waarde string }
