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
	events := 100000
	if s := os.Getenv("BENCH_WEB_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("BENCH_WEB_EVENTS=%q", s)
		}
		events = n
	}
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
