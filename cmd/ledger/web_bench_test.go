package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// BenchmarkWebPage measures the gemeente's beleidsview page of issue 13
// on a stored history of BENCH_WEB_EVENTS events (default 100000; `make
// bench-web` runs 1,000,000), generated and kept as BenchmarkFigures does
// (BENCH_FIGURES_DATA), once the started ledger has caught up:
//
//   - page-ttfb and page-full, p50/p99 in ms: time to the first byte and
//     to the last byte of /gemeente/GM0402?jaar=2025 over plain HTTP with
//     a logged-in session, the figures unchanged since the last load;
//   - changed-ttfb and changed-full: the page of the current year
//     (/gemeente/GM0402, 2026 on the history's clock) right after a
//     command for GM0402, which changes that year's figures, so that they
//     are made again for each load;
//   - browser-ttfb and browser-load, when Chromium is there: the Navigation
//     Timing of the page in headless Chromium (responseStart, and
//     loadEventEnd with the style sheets and the chart drawn), after one
//     load that fills the browser's cache.
func BenchmarkWebPage(b *testing.B) {
	events := webEvents(b)
	ctx := context.Background()
	data, _, clk, head := storedHistory(b, events)
	const page, current = "/gemeente/GM0402?jaar=2025", "/gemeente/GM0402"
	for b.Loop() {
		addr, _, stop := launchServer(b, data, clk, nil)
		api := apiClient(b, addr, 5*time.Minute)
		awaitHead(b, api, head)
		token := tokenFor(b, addr, "GM0402")
		jar, err := cookiejar.New(nil)
		if err != nil {
			b.Fatal(err)
		}
		hc := &http.Client{Jar: jar, Timeout: time.Minute}
		base := "http://" + addr
		resp, err := hc.PostForm(base+"/inloggen", url.Values{"token": {token}})
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("log in: HTTP %d", resp.StatusCode)
		}
		load := func(page string) (ttfb, full time.Duration) {
			var first time.Time
			trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}
			req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, base+page, nil)
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			full = time.Since(t0)
			if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="caseload"`) {
				b.Fatalf("%s: HTTP %d, %d bytes, %v", page, resp.StatusCode, len(body), err)
			}
			return first.Sub(t0), full
		}
		report := func(name string, lat []time.Duration) {
			b.ReportMetric(ms1(pct(lat, 0.50)), name+"-p50-ms")
			b.ReportMetric(ms1(pct(lat, 0.99)), name+"-p99-ms")
		}
		const loads = 200
		ttfb, full := make([]time.Duration, loads), make([]time.Duration, loads)
		for i := range loads {
			ttfb[i], full[i] = load(page)
		}
		report("page-ttfb", ttfb)
		report("page-full", full)

		var seq atomic.Int64
		const changed = 100
		ttfb, full = ttfb[:changed], full[:changed]
		for i := range changed {
			if _, err := api.Record(ctx, connect.NewRequest(&ledgerv1.RecordRequest{Gemeente: "GM0402", Actor: "bench",
				Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
					ResidentId: fmt.Sprintf("R-web-%d", seq.Add(1)), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_WERKCENTRUM}}})); err != nil {
				b.Fatal(err)
			}
			ttfb[i], full[i] = load(current)
		}
		report("changed-ttfb", ttfb)
		report("changed-full", full)

		if _, err := exec.LookPath(cmpOrEnv("LEDGER_CHROMIUM", "chromium")); err == nil {
			p := newPageTest(b, addr)
			p.login(token)
			type timing struct {
				TTFB float64 `json:"ttfb"`
				Load float64 `json:"load"`
			}
			// The first load fetches and compiles the style sheets and the
			// script; a visitor's browser has them cached after it.
			p.open(page)
			const views = 100
			bt, bl := make([]time.Duration, views), make([]time.Duration, views)
			for i := range views {
				p.open(page)
				// loadEventEnd is set just after the load event's handlers
				// ran: wait for it rather than read a zero.
				tm := eval[timing](p, "navigation timing", `new Promise(done => { const read = () => { const n = performance.getEntriesByType("navigation")[0]; if (n && n.loadEventEnd > 0) done({ttfb: n.responseStart - n.requestStart, load: n.loadEventEnd - n.startTime}); else setTimeout(read, 5); }; read(); })`)
				bt[i], bl[i] = time.Duration(tm.TTFB*float64(time.Millisecond)), time.Duration(tm.Load*float64(time.Millisecond))
			}
			report("browser-ttfb", bt)
			report("browser-load", bl)
		} else {
			b.Log("no chromium: the browser's timing is not measured (make browser installs it)")
		}
		stop()
	}
	b.ReportMetric(float64(head.Commit), "events")
}

// BenchmarkSettledView measures what a Resultaatverdeling costs the year
// view that settles it: GetBeleidsview of a gemeente-year, p50/p99 in ms,
// before and after the region records an agreement that settles the
// bedrijfsvoering by caseload-dagen and BUIG by inhabitants, and a command
// followed by such a view (the server keeps a settlement until the model
// moves), on a copy of the stored history of BENCH_WEB_EVENTS events (the
// kept history itself is not written to).
func BenchmarkSettledView(b *testing.B) {
	events := webEvents(b)
	ctx := context.Background()
	kept, _, clk, head := storedHistory(b, events)
	data := b.TempDir()
	if err := os.CopyFS(data, os.DirFS(kept)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		addr, _, stop := launchServer(b, data, clk, nil)
		api := apiClient(b, addr, 5*time.Minute)
		awaitHead(b, api, head)
		codes, err := participantCodes(ctx, api)
		if err != nil {
			b.Fatal(err)
		}
		view := func(i int) error {
			_, err := api.GetBeleidsview(ctx, connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: codes[i%len(codes)], Jaar: 2025}))
			return err
		}
		report := func(name string, lat []time.Duration) {
			b.ReportMetric(ms1(pct(lat, 0.50)), name+"-p50-ms")
			b.ReportMetric(ms1(pct(lat, 0.99)), name+"-p99-ms")
		}
		const reads = 200
		report("plain", timeN(b, reads, view))
		if _, err := api.RecordRegio(ctx, connect.NewRequest(&ledgerv1.RecordRegioRequest{Afspraak: &ledgerv1.RecordRegioRequest_Resultaatverdeling{Resultaatverdeling: &ledgerv1.Resultaatverdeling{
			Jaar: 2025, Stromen: []*ledgerv1.Stroomverdeling{
				{Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BEDRIJFSVOERING, Verrekening: ledgerv1.Verrekening_VERREKENING_SOLIDAIR, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN},
				{Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG, Verrekening: ledgerv1.Verrekening_VERREKENING_SOLIDAIR, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS},
			}}}})); err != nil {
			b.Fatal(err)
		}
		// Read-your-write: the agreement is in the figures from here on.
		for {
			r, err := api.GetBeleidsview(ctx, connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: codes[0], Jaar: 2025}))
			if err != nil {
				b.Fatal(err)
			}
			if len(r.Msg.GetView().GetVerrekening()) > 0 {
				break
			}
		}
		report("settled", timeN(b, reads, view))
		// Kept until the model moves: after any command the first view
		// makes the settlement again.
		var seq atomic.Int64
		report("settled-after-command", timeN(b, 50, func(i int) error {
			r, err := api.Record(ctx, connect.NewRequest(&ledgerv1.RecordRequest{Gemeente: "GM0402", Actor: "bench",
				Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
					ResidentId: fmt.Sprintf("R-settle-%d", seq.Add(1)), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_WERKCENTRUM}}}))
			if err != nil {
				return err
			}
			_, err = api.GetBeleidsview(ctx, connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: codes[i%len(codes)], Jaar: 2025, NaPositie: r.Msg.GetPositie()}))
			return err
		}))
		stop()
	}
	b.ReportMetric(float64(head.Commit), "events")
}

// webEvents is the history size of the page benchmarks: BENCH_WEB_EVENTS,
// default 100,000.
func webEvents(b *testing.B) int {
	s := os.Getenv("BENCH_WEB_EVENTS")
	if s == "" {
		return 100000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("BENCH_WEB_EVENTS=%q", s)
	}
	return n
}
