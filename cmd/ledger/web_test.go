package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/web"
)

// browser finds Debian's chromium and the axe-core script. A plain `go
// test` without them skips the browser tests; `make test` installs both
// and sets LEDGER_BROWSER_REQUIRED, so there they never skip.
func browser(t testing.TB) (chromium, axe string) {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("LEDGER_BROWSER_REQUIRED") != "" {
			t.Fatalf("%s is missing (make test installs it; see the Makefile's browser target)", what)
		}
		t.Skipf("%s is missing: the browser tests run under make test", what)
	}
	chromium = os.Getenv("LEDGER_CHROMIUM")
	if chromium == "" {
		var err error
		if chromium, err = exec.LookPath("chromium"); err != nil {
			missing("chromium")
		}
	}
	axe = cmpOrEnv("LEDGER_AXE", "../../bin/axe.min.js")
	if _, err := os.Stat(axe); err != nil {
		missing("axe-core (" + axe + ")")
	}
	return chromium, axe
}

func cmpOrEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// pageTest drives one headless Chromium through the pages of a real
// server.
type pageTest struct {
	t    testing.TB
	ctx  context.Context
	base string
	axe  string
	shot string // where screenshots go
}

func newPageTest(t testing.TB, addr string) *pageTest {
	chromium, axe := browser(t)
	src, err := os.ReadFile(axe)
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	// The first run starts the browser and must have no deadline of its
	// own (it would end the browser); every later step has one.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	shot := filepath.Join("..", "..", "build", "screenshots")
	if err := os.MkdirAll(shot, 0o755); err != nil {
		t.Fatal(err)
	}
	return &pageTest{t: t, ctx: ctx, base: "http://" + addr, axe: string(src), shot: shot}
}

// step bounds one browser step, so that a page that never comes fails the
// test instead of hanging it.
func (p *pageTest) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, 45*time.Second)
}

func (p *pageTest) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		// The page's alert says why, where there is one (a refusal).
		actx, acancel := p.step()
		defer acancel()
		alert, _ := chromedp.Run(actx, chromedp.Evaluate[string](`(document.querySelector(".utrecht-alert") || {}).innerText || ""`))
		p.t.Fatalf("%s: %v; alert on the page: %q", what, err, alert)
	}
}

func eval[T any](p *pageTest, what, expr string) T {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// open loads a page and returns its HTTP status.
func (p *pageTest) open(path string) int64 {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(p.base+path))
	if err != nil {
		p.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

func (p *pageTest) text(sel string) string {
	p.t.Helper()
	return strings.TrimSpace(eval[string](p, "read "+sel, fmt.Sprintf("(e => e ? e.innerText : '')(document.querySelector(%q))", sel)))
}

func (p *pageTest) exists(sel string) bool {
	p.t.Helper()
	return eval[int](p, "count "+sel, fmt.Sprintf("document.querySelectorAll(%q).length", sel)) > 0
}

func (p *pageTest) body() string {
	p.t.Helper()
	return eval[string](p, "read the page", "document.body.innerText")
}

// accessible runs axe-core in the page against the WCAG 2.1 A and AA
// rules and fails on any violation, naming the rule and the elements.
func (p *pageTest) accessible(name string) {
	p.t.Helper()
	type violation struct {
		ID    string `json:"id"`
		Help  string `json:"help"`
		Nodes []struct {
			Target []string `json:"target"`
		} `json:"nodes"`
	}
	script := p.axe + `;axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}).then(r => r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => ({target: n.target.map(String)}))})))`
	for _, v := range eval[[]violation](p, "axe on "+name, script) {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, strings.Join(n.Target, " "))
		}
		p.t.Errorf("%s: WCAG violation %s (%s) at %s", name, v.ID, v.Help, strings.Join(where, ", "))
	}
}

// screenshot saves the viewport, 1280×800, under build/screenshots.
func (p *pageTest) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(p.shot, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// visit opens a page, checks it, and keeps a screenshot of it.
func (p *pageTest) visit(name, path string, want int64) {
	p.t.Helper()
	if got := p.open(path); got != want {
		p.t.Fatalf("%s (%s): HTTP %d, want %d\n%s", name, path, got, want, p.body())
	}
	p.accessible(name)
	p.screenshot(name)
}

func (p *pageTest) login(token string) {
	p.t.Helper()
	p.open("/inloggen")
	p.run("log in", chromedp.SetValue(chromedp.CSS("#token"), token), chromedp.Submit(chromedp.CSS("#token")), chromedp.WaitVisible(chromedp.CSS(".wie")))
}

func (p *pageTest) logout() {
	p.t.Helper()
	p.run("log out", chromedp.Click(chromedp.CSS(".wie button")), chromedp.WaitVisible(chromedp.CSS("#token")))
}

// fetchPage fetches a path from inside the page, with its session: for a
// download, whose bytes a navigation would not show.
func (p *pageTest) fetchPage(path string) (int, string) {
	p.t.Helper()
	type answer struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	a := eval[answer](p, "fetch "+path, fmt.Sprintf(`fetch(%q).then(async r => ({status: r.status, body: await r.text()}))`, path))
	return a.Status, a.Body
}

// postForm sends a form from inside the page, with its session cookie but
// without the page's CSRF token unless the fields carry it.
func (p *pageTest) postForm(path string, fields map[string]string) (int, string) {
	p.t.Helper()
	type answer struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	var pairs []string
	for k, v := range fields {
		pairs = append(pairs, fmt.Sprintf("[%q, %q]", k, v))
	}
	a := eval[answer](p, "post "+path, fmt.Sprintf(`fetch(%q, {method: "POST", body: new URLSearchParams([%s]), redirect: "manual"}).then(async r => ({status: r.status, body: await r.text()}))`, path, strings.Join(pairs, ", ")))
	return a.Status, a.Body
}

// scripts turns the page's JavaScript on or off.
func (p *pageTest) scripts(on bool) {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
		p.t.Fatal(err)
	}
}

// TestWebPages walks every role's pages in a real headless Chromium
// against a real server: the klantmanager finds a case and records a
// transition through the form, which then shows in the gemeente's figures;
// a gemeente never sees another gemeente's case or figures, by the menu or
// by a direct URL; the auditor verifies the history and gets the digest
// `ledger audit verify` gives. Every page passes axe-core's WCAG 2.1 A/AA
// rules and is kept as a screenshot.
func TestWebPages(t *testing.T) {
	clk := clock.NewManual(2025, time.December, 1)
	addr := startServer(t, t.TempDir(), clk)
	p := newPageTest(t, addr)
	for _, gm := range []string{"GM0402", "GM1942"} {
		mustCLI(t, addr, "policy", "set", "--gemeente", gm, "--geldig-vanaf", "2026-01-01",
			"--product", "beschut-werk=12000", "--product", "vangnet=9000", "--product", "jobcoaching=85", "--lks-norm", "209", "--budget", "2026:buig=1800000")
	}
	clk.Set(2026, time.November, 24)
	ours := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "integrale-toegang", "--client-id", "web-klant-1", "--datum", "2026-09-01")
	mustCLI(t, addr, "case", "intake", ours, "--trede", "beschut", "--loonwaarde", "30", "--datum", "2026-09-03")
	const bsn = "111222333"
	byBSN := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "bijstand", "--verwijzer", "uwv", "--bsn", bsn, "--datum", "2026-11-02")
	theirs := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM1942", "--doelgroep", "bijstand", "--verwijzer", "uwv", "--client-id", "web-klant-2", "--datum", "2026-10-01")

	t.Run("without a session every page asks to log in", func(t *testing.T) {
		p.t = t
		p.open("/gemeente/GM0402")
		if !p.exists("#token") || p.exists("#caseload") {
			t.Fatalf("a page without a session shows more than the login:\n%s", p.body())
		}
		p.accessible("inloggen")
		p.screenshot("inloggen")
		p.run("log in with a wrong token", chromedp.SetValue(chromedp.CSS("#token"), "ldg_onzin"), chromedp.Submit(chromedp.CSS("#token")), chromedp.WaitVisible(chromedp.CSS(".utrecht-alert")))
		if got := p.text(".utrecht-alert"); !strings.Contains(got, "toegang.niet-aangemeld") {
			t.Errorf("a wrong token: %q, want the rule toegang.niet-aangemeld", got)
		}
	})

	t.Run("klantmanager", func(t *testing.T) {
		p.t = t
		p.login(tokenFor(t, addr, "centrum"))
		p.visit("zaken", "/zaken?zoek=web-klant-1", 200)
		if !p.exists(`#zaken a[href="/zaken/` + ours + `"]`) {
			t.Fatalf("search by client-id does not list the case:\n%s", p.body())
		}
		// By BSN, through the pseudonym: the page neither echoes nor shows it.
		p.run("search by BSN", chromedp.SetValue(chromedp.CSS("#zoek"), bsn), chromedp.Submit(chromedp.CSS("#zoek")), chromedp.WaitVisible(chromedp.CSS("#zaken")))
		loc := eval[string](p, "location", "location.href")
		if !p.exists(`#zaken a[href="/zaken/`+byBSN+`"]`) || strings.Contains(p.body(), bsn) || strings.Contains(loc, bsn) || eval[string](p, "the search field", `document.getElementById("zoek").value`) != "" {
			t.Error("search by BSN does not find the case, or the page shows the BSN")
		}
		p.visit("zaak", "/zaken/"+ours, 200)
		// In traject after the intake: plaatsing and uitstroom are offered,
		// uitval and vangnet are not (nothing to fall out of).
		for form, want := range map[string]bool{"plaatsing": true, "uitstroom": true, "verhuizing": true, "uitval": false, "vangnet": false} {
			if got := p.exists("#form-" + form); got != want {
				t.Errorf("form %s offered: %v, want %v", form, got, want)
			}
		}
		// A detachering without its planned end is refused with the rule,
		// and nothing is recorded.
		p.run("a refused plaatsing",
			chromedp.Click(chromedp.CSS("#form-plaatsing summary")),
			chromedp.SetValue(chromedp.CSS("#plaatsing-type"), "detachering"),
			chromedp.Submit(chromedp.CSS("#plaatsing-type")), chromedp.WaitVisible(chromedp.CSS(".fout-regel")))
		if got := p.text(".fout-regel"); got != "detachering.geplande-einddatum" {
			t.Errorf("refused plaatsing names rule %q", got)
		}
		p.accessible("geweigerd")
		p.screenshot("geweigerd")
		p.open("/zaken/" + ours)
		p.run("record a plaatsing",
			chromedp.Click(chromedp.CSS("#form-plaatsing summary")),
			chromedp.SetValue(chromedp.CSS("#plaatsing-type"), "beschut-werk"),
			chromedp.SetValue(chromedp.CSS("#plaatsing-werkgever"), "Tomin"),
			chromedp.SetValue(chromedp.CSS("#plaatsing-uren"), "28"),
			chromedp.Submit(chromedp.CSS("#plaatsing-type")), chromedp.WaitVisible(chromedp.CSS(".utrecht-alert--ok")))
		if got := p.text("#zaak-toestand"); got != "geplaatst" {
			t.Errorf("after the plaatsing the case is %q", got)
		}
		// Placed now: uitval and vangnet are offered.
		if !p.exists("#form-uitval") || !p.exists("#form-vangnet") {
			t.Errorf("a placed case is not offered uitval and vangnet")
		}
		p.screenshot("zaak-geplaatst")
		// A form from elsewhere (no CSRF token of this session) records
		// nothing, even with the session's cookie.
		if status, body := p.postForm("/zaken/"+ours+"/transitie", map[string]string{"soort": "uitstroom", "reden": "overig", "datum": "2026-11-24"}); status != 403 || !strings.Contains(body, "CSRF") {
			t.Errorf("a form without the CSRF token: HTTP %d %q", status, body)
		}
		p.open("/zaken/" + ours)
		if got := p.text("#zaak-toestand"); got != "geplaatst" {
			t.Errorf("after a refused form the case is %q", got)
		}
		p.visit("regio", "/regio", 200)
		if got := p.text("#regio-totaal"); got != "3" {
			t.Errorf("regional caseload %q, want 3", got)
		}
		p.logout()
	})

	t.Run("gemeente", func(t *testing.T) {
		p.t = t
		p.login(tokenFor(t, addr, "GM0402"))
		p.visit("beleidsview", "/gemeente/GM0402?jaar=2026", 200)
		if got := p.text("#caseload"); got != "2" {
			t.Errorf("Hilversum's caseload %q, want 2", got)
		}
		if got := p.text("#plaatsingen tbody"); !strings.Contains(got, "beschut-werk") {
			t.Errorf("the plaatsing recorded through the form is not in Hilversum's figures: %q", got)
		}
		// By keyboard: the first Tab reaches the skip link, Enter moves to
		// the content.
		p.run("keyboard", chromedp.KeyEvent(kb.Tab))
		if got := eval[string](p, "focus", "document.activeElement.className"); !strings.Contains(got, "sprong") {
			t.Errorf("the first Tab focuses %q, want the skip link", got)
		}
		p.run("follow the skip link", chromedp.KeyEvent(kb.Enter))
		if got := eval[string](p, "hash", "location.hash"); got != "#inhoud" {
			t.Errorf("the skip link leads to %q", got)
		}
		for _, sel := range []string{"#caseload-grafiek-titel", "#kosten-grafiek-titel", "table#kosten", "#caseload-trede", "#caseload-doelgroep"} {
			if !p.exists(sel) {
				t.Errorf("the beleidsview has no %s", sel)
			}
		}
		p.visit("beleidsview-maand", "/gemeente/GM0402?jaar=2026&maand=11", 200)
		if got := p.text("h1"); !strings.Contains(got, "2026-11") {
			t.Errorf("the month view's heading is %q", got)
		}
		// The download is the file `ledger export costs` writes.
		status, csv := p.fetchPage("/gemeente/GM0402/kosten.csv?jaar=2026")
		if want := mustCLI(t, addr, "export", "costs", "--gemeente", "GM0402", "--year", "2026"); status != 200 || strings.TrimSpace(csv) != want {
			t.Errorf("download: HTTP %d, differs from ledger export costs:\n%s\n---\n%s", status, csv, want)
		}
		// Another gemeente's figures and case: not by the menu, not by URL.
		if p.exists(`a[href^="/gemeente/GM1942"]`) {
			t.Error("Hilversum's menu links to Gooise Meren")
		}
		p.visit("geweigerd-andere-gemeente", "/gemeente/GM1942?jaar=2026", 403)
		if p.exists("#caseload") || !strings.Contains(p.body(), "toegang.eigen-gemeente") {
			t.Errorf("Gooise Meren's beleidsview shown to Hilversum, or refused without the rule:\n%s", p.body())
		}
		for _, path := range []string{"/zaken/" + theirs, "/gemeente/GM1942/kosten.csv?jaar=2026", "/gemeente/GM1942/beleid", "/regio", "/controle"} {
			status, body := p.fetchPage(path)
			if status < 400 || strings.Contains(body, "web-klant-2") || strings.Contains(body, "bijstand") {
				t.Errorf("%s as Hilversum: HTTP %d, or it shows Gooise Meren's case", path, status)
			}
		}
		// Its policy: a new version through the form.
		p.visit("beleid", "/gemeente/GM0402/beleid", 200)
		p.run("record a policy version",
			chromedp.SetValue(chromedp.CSS("#geldig_vanaf"), "2026-12-01"),
			chromedp.SetValue(chromedp.CSS("#tarief_beschut-werk"), "12500"),
			chromedp.Submit(chromedp.CSS("#geldig_vanaf")), chromedp.WaitVisible(chromedp.CSS(".utrecht-alert--ok")))
		got := p.text("#versies tbody")
		if !strings.Contains(got, "2026-12-01") || !strings.Contains(got, "12.500,00") {
			t.Errorf("the new version is not listed: %q", got)
		}
		// A version is complete: what the form did not change, it carried
		// over from the version before (the budget, the LKS norm).
		if n := strings.Count(got, "budget 2026 buig € 1.800.000,00"); n != 2 {
			t.Errorf("the budget is in %d of the 2 versions: %q", n, got)
		}
		if show := mustCLI(t, addr, "policy", "show", "GM0402"); strings.Count(show, "209") < 2 {
			t.Errorf("the LKS norm was not carried into the new version:\n%s", show)
		}
		// A form filled before a colleague recorded a version is refused,
		// not written over hers.
		p.visit("beleid", "/gemeente/GM0402/beleid", 200)
		mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-12-02", "--product", "beschut-werk=12600")
		p.run("record a policy version from an outdated form",
			chromedp.SetValue(chromedp.CSS("#geldig_vanaf"), "2026-12-03"),
			chromedp.SetValue(chromedp.CSS("#tarief_beschut-werk"), "12700"),
			chromedp.Submit(chromedp.CSS("#geldig_vanaf")), chromedp.WaitVisible(chromedp.CSS(".fout-regel")))
		if got := p.text(".fout-regel"); got != "beleid.versie-verouderd" {
			t.Errorf("an outdated policy form: rule %q, want beleid.versie-verouderd", got)
		}
		if show := mustCLI(t, addr, "policy", "show", "GM0402"); strings.Contains(show, "12.700") || strings.Contains(show, "12700") {
			t.Errorf("the outdated form's version was recorded:\n%s", show)
		}
		// The command line says which version it saw the same way.
		set := []string{"policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-12-04", "--product", "beschut-werk=12800"}
		if code, out, errs := cli(t, addr, append(set, "--verwachte-versie", "2")...); code == exitOK || !strings.Contains(out+errs, "beleid.versie-verouderd") {
			t.Errorf("policy set after version 2 of 3: exit %d, %q %q, want refused by beleid.versie-verouderd", code, out, errs)
		}
		mustCLI(t, addr, append(set, "--verwachte-versie", "3")...)
		// The page follows the ledger: a transition recorded elsewhere
		// shows without a reload by the visitor.
		p.open("/gemeente/GM0402?jaar=2026")
		mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "bijstand", "--verwijzer", "uwv", "--client-id", "web-klant-3", "--datum", "2026-11-20")
		// The page reloads itself when it sees the new position, so each
		// look may meet a page in the middle of loading.
		eventually(t, "the beleidsview following a new aanmelding", func() bool {
			ctx, cancel := p.step()
			defer cancel()
			n, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(e => e ? e.textContent.trim() : "")(document.getElementById("caseload"))`))
			return err == nil && n == "3"
		})
		// The automatic update can be stopped (WCAG 2.2.2): then the page
		// stays as it is and says that there is news.
		p.run("stop the updates", chromedp.Click(chromedp.CSS("#bijwerken")))
		mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "bijstand", "--verwijzer", "uwv", "--client-id", "web-klant-4", "--datum", "2026-11-21")
		eventually(t, "the page saying there is news", func() bool {
			return strings.Contains(p.text("#nieuw"), "nieuwe gebeurtenissen")
		})
		if got := p.text("#caseload"); got != "3" {
			t.Errorf("with the updates stopped the page changed its figures to %q", got)
		}
		p.run("updates on again", chromedp.Click(chromedp.CSS("#bijwerken")))
		// Reading works without JavaScript.
		p.scripts(false)
		p.open("/gemeente/GM0402?jaar=2026")
		if !p.exists("#plaatsingen tbody tr") || !p.exists("svg.grafiek") {
			t.Error("without JavaScript the beleidsview shows no tables or charts")
		}
		p.scripts(true)
		p.logout()
	})

	t.Run("auditor", func(t *testing.T) {
		p.t = t
		p.login(tokenFor(t, addr, "auditor"))
		p.visit("controle", "/controle", 200)
		p.run("verify", chromedp.Click(chromedp.CSS(`form[action="/controle/verifieer"] button`)), chromedp.WaitVisible(chromedp.CSS("#digest")))
		if got := p.text("#verificatie-status"); !strings.Contains(got, "INTACT") {
			t.Errorf("verification status %q", got)
		}
		rep := verifyJSON(t, addr, "auditor")
		if got := p.text("#digest"); got != rep.Digest {
			t.Errorf("the page's digest %s, ledger audit verify says %s", got, rep.Digest)
		}
		p.screenshot("controle-geverifieerd")
		p.accessible("controle-geverifieerd")
		if !p.exists("#certificaten tbody tr") {
			t.Error("no certificates on the auditor's page")
		}
		p.visit("herleid", "/controle/herleid?gemeente=GM0402&jaar=2026&regel=1", 200)
		if got := p.text("#rekensom"); !strings.Contains(got, "cent") {
			t.Errorf("the trace shows no arithmetic: %q", got)
		}
		if !p.exists(`#bronnen a[href="/zaken/` + ours + `"]`) {
			t.Errorf("the trace does not lead to the case:\n%s", p.body())
		}
		// The auditor writes nothing: no transition form on a case.
		p.visit("zaak-auditor", "/zaken/"+ours, 200)
		if p.exists("form[action$='/transitie']") {
			t.Error("the auditor is offered a transition form")
		}
		p.logout()
	})
}

// TestWebSecureCookie: behind a reverse proxy that ends HTTPS, the ledger
// speaks plain HTTP, and --secure-cookie marks the session cookie Secure
// all the same; without it (and without --tls-cert) it is not.
func TestWebSecureCookie(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	for _, secure := range []bool{false, true} {
		addr := startServerWith(t, t.TempDir(), clk, func(c *serveConfig) { c.secureCookie = secure })
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.PostForm("http://"+addr+"/inloggen", url.Values{"token": {tokenFor(t, addr, "GM0402")}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if c := resp.Cookies(); resp.StatusCode != http.StatusSeeOther || len(c) != 1 || c[0].Secure != secure {
			t.Errorf("--secure-cookie=%v: HTTP %d, cookies %v", secure, resp.StatusCode, c)
		}
	}
}

// TestWebSessions: the pages over plain HTTP, without a browser. A session
// is a random id in an HttpOnly, SameSite=Strict cookie; it ends when left
// idle for half an hour on the ledger's clock, when the visitor logs out,
// and at once when the credential behind it is revoked, because every page
// asks the API with it.
func TestWebSessions(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	base := "http://" + addr
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	login := func(token string) *http.Response {
		t.Helper()
		resp, err := hc.PostForm(base+"/inloggen", url.Values{"token": {token}, "terug": {"/gemeente/GM0402/beleid"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	if code, loc := get("/gemeente/GM0402"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/inloggen") {
		t.Fatalf("without a session: %d to %q, want the login", code, loc)
	}
	if resp := login("ldg_onzin"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("a wrong token: HTTP %d with cookies %v", resp.StatusCode, resp.Cookies())
	}
	tok := tokenFor(t, addr, "GM0402")
	// A page on another site that posts a credential to the login (login
	// CSRF) is refused as the browser names it, and opens no session; the
	// ledger's own form, as the browser names that, logs in.
	for _, tc := range []struct {
		site, origin string
		want         int
	}{
		{"cross-site", "https://elders.example", http.StatusForbidden},
		{"same-site", "https://andere.ledger.example", http.StatusForbidden},
		{"same-origin", base, http.StatusSeeOther},
	} {
		req, err := http.NewRequest(http.MethodPost, base+"/inloggen", strings.NewReader(url.Values{"token": {tok}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", tc.site)
		req.Header.Set("Origin", tc.origin)
		resp, err := (&http.Client{CheckRedirect: hc.CheckRedirect}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || (tc.want == http.StatusForbidden) != (len(resp.Cookies()) == 0) {
			t.Errorf("login with Sec-Fetch-Site %s: HTTP %d with cookies %v, want %d", tc.site, resp.StatusCode, resp.Cookies(), tc.want)
		}
		if tc.want == http.StatusForbidden && !strings.Contains(string(body), web.RuleAndereSite) {
			t.Errorf("login with Sec-Fetch-Site %s: the refusal does not name %s", tc.site, web.RuleAndereSite)
		}
	}
	resp := login(tok)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/gemeente/GM0402/beleid" {
		t.Fatalf("login: %d to %q, want back where the visitor was going", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := resp.Cookies()
	if len(c) != 1 || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || strings.Contains(c[0].Value, tok) {
		t.Fatalf("session cookie %+v", c)
	}
	if code, _ := get("/gemeente/GM0402"); code != http.StatusOK {
		t.Fatalf("with a session: HTTP %d", code)
	}
	// The page's own question for the position does not keep a session
	// alive: 20 minutes, a position, 11 more minutes, and it is over.
	clk.SetTime(clk.Now().Add(20 * time.Minute))
	if code, _ := get("/positie"); code != http.StatusOK {
		t.Fatalf("/positie with a session: HTTP %d", code)
	}
	clk.SetTime(clk.Now().Add(11 * time.Minute))
	if code, loc := get("/gemeente/GM0402"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/inloggen") {
		t.Fatalf("31 minutes after the last page, with a /positie between: %d to %q, want the login", code, loc)
	}
	if code, _ := get("/positie"); code != http.StatusUnauthorized {
		t.Fatalf("/positie without a session: HTTP %d, want 401", code)
	}
	login(tok)
	// Idle for 29 minutes: still in; then 31 more: out.
	clk.SetTime(clk.Now().Add(29 * time.Minute))
	if code, _ := get("/gemeente/GM0402"); code != http.StatusOK {
		t.Fatalf("after 29 idle minutes: HTTP %d", code)
	}
	clk.SetTime(clk.Now().Add(31 * time.Minute))
	if code, loc := get("/gemeente/GM0402"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/inloggen") {
		t.Fatalf("after 31 idle minutes: %d to %q, want the login", code, loc)
	}

	// A return address that a browser would take for another host is not
	// followed; beheer has no pages and gets no session.
	for _, bad := range []string{"//evil.example/", "/\\evil.example", "https://evil.example/"} {
		resp, err := hc.PostForm(base+"/inloggen", url.Values{"token": {tok}, "terug": {bad}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "/gemeente/GM0402" {
			t.Errorf("login with terug %q goes to %q", bad, loc)
		}
	}
	beheerJar, _ := cookiejar.New(nil)
	bc := &http.Client{Jar: beheerJar, CheckRedirect: hc.CheckRedirect}
	if resp, err := bc.PostForm(base+"/inloggen", url.Values{"token": {tokenFor(t, addr, "beheer")}}); err != nil || resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("beheer logs in: %v %v", resp, err)
	}

	// A BSN in a URL is refused, not looked up, and not shown back.
	login(tokenFor(t, addr, "centrum"))
	bsnResp, err := hc.Get(base + "/zaken?zoek=111%20222%20333")
	if err != nil {
		t.Fatal(err)
	}
	bsnBody, _ := io.ReadAll(bsnResp.Body)
	bsnResp.Body.Close()
	// The BSN in any of its written forms; not "111" alone, which a random
	// CSRF token or event id on the page may hold.
	shown := regexp.MustCompile(`111\D{0,3}222\D{0,3}333`).Match(bsnBody)
	if bsnResp.StatusCode != http.StatusBadRequest || shown {
		t.Errorf("a BSN in the URL: HTTP %d, shown back: %v", bsnResp.StatusCode, shown)
	}
	login(tok)

	// A revoked credential: the next page is refused with the rule.
	login(tok)
	code, who := call(t, addr, tok, "/ledger.v1.AccessService/WhoAmI", `{}`)
	if code != 200 {
		t.Fatalf("whoami: %d", code)
	}
	if code, out := call(t, addr, tokenFor(t, addr, "beheer"), "/ledger.v1.AccessService/RevokeCredential", `{"id":"`+who["credential_id"].(string)+`"}`); code != 200 {
		t.Fatalf("revoke: %d %v", code, out)
	}
	pageResp, err := hc.Get(base + "/gemeente/GM0402")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(pageResp.Body)
	pageResp.Body.Close()
	if pageResp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "toegang.ingetrokken") {
		t.Fatalf("after the revocation: HTTP %d\n%s", pageResp.StatusCode, body)
	}

	// Logging out ends the session on the server, not only in the browser.
	login(tokenFor(t, addr, "centrum"))
	var sessionID string
	for _, ck := range jar.Cookies(&url.URL{Scheme: "http", Host: addr}) {
		sessionID = ck.Value
	}
	csrf := csrfOf(t, hc, base+"/zaken")
	if resp, err := hc.PostForm(base+"/uitloggen", url.Values{"csrf": {csrf}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %v %v", resp, err)
	}
	again, err := http.NewRequest("GET", base+"/zaken", nil)
	if err != nil {
		t.Fatal(err)
	}
	again.AddCookie(&http.Cookie{Name: "ledger_sessie", Value: sessionID})
	r2, err := hc.Do(again)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusSeeOther {
		t.Fatalf("the old session id after logout: HTTP %d, want the login", r2.StatusCode)
	}
}

// csrfOf reads the CSRF token of the session from a page's forms.
func csrfOf(t *testing.T, hc *http.Client, page string) string {
	t.Helper()
	resp, err := hc.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_, rest, ok := strings.Cut(string(b), `name="csrf" value="`)
	if !ok {
		t.Fatalf("no CSRF token on %s", page)
	}
	tok, _, _ := strings.Cut(rest, `"`)
	return tok
}
