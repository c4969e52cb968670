package main

import (
	"context"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"
)

// BenchmarkAuditThroughAPI runs `ledger audit verify` and `ledger audit
// replay` (the regional model, a beleidsview) in this process against a
// real server on a generated history of about BENCH_AUDIT_EVENTS (default
// 100,000; make bench-audit: 1,000,000) stored events: the auditor's rates end to end, reading the
// store through ReadEvents. BENCH_FIGURES_DATA keeps the history between
// runs, as for BenchmarkFigures; BENCH_AUDIT_PROFILE=FILE writes CPU
// profiles of the verify (FILE) and of the replay (FILE.replay).
func BenchmarkAuditThroughAPI(b *testing.B) {
	events := 100_000
	if s := os.Getenv("BENCH_AUDIT_EVENTS"); s != "" {
		var err error
		if events, err = strconv.Atoi(s); err != nil || events <= 0 {
			b.Fatalf("BENCH_AUDIT_EVENTS=%q", s)
		}
	}
	ctx := context.Background()
	data, _, clk, head := storedHistory(b, events)
	addr, _, stop := launchServer(b, data, clk, nil)
	defer stop()
	token := tokenFor(b, addr, "auditor")
	n := float64(head.Commit) // positions count the stored events here

	for b.Loop() {
		profile(b, os.Getenv("BENCH_AUDIT_PROFILE"))
		start := time.Now()
		if code := run(ctx, []string{"audit", "verify", "--server", addr, "--token", token, "--json"}, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("audit verify: exit %d", code)
		}
		verify := time.Since(start)
		pprof.StopCPUProfile()
		if f := os.Getenv("BENCH_AUDIT_PROFILE"); f != "" {
			profile(b, f+".replay")
		}
		start = time.Now()
		if code := run(ctx, []string{"audit", "replay", "--server", addr, "--token", token, "--gemeente", "GM0402", "--jaar", "2025", "--peildatum", "2025-12-31",
			"--gemeenten", "../../deploy/gemeenten.json", "--json"}, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("audit replay: exit %d", code)
		}
		replay := time.Since(start)
		pprof.StopCPUProfile()
		b.ReportMetric(n/verify.Seconds(), "verify-events/s")
		b.ReportMetric(n/replay.Seconds(), "replay-events/s")
	}
	b.ReportMetric(n, "events")
}

// profile starts a CPU profile into file, when one is named.
func profile(b *testing.B, file string) {
	if file == "" {
		return
	}
	out, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		b.Fatal(err)
	}
}
