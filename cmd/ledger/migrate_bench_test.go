package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/store/kurrentdb/double"
)

// BenchmarkMigrate copies a generated history of about
// BENCH_MIGRATE_EVENTS events (default 20,000) from the embedded JetStream
// into the KurrentDB test double with ledger migrate, and back into a fresh
// JetStream: events/s for the whole command (copy, then the full compare of
// both sides). Against the double it measures the ledger's side of a
// migration (reads, the per-case read before each KurrentDB append, the
// compare), not KurrentDB.
func BenchmarkMigrate(b *testing.B) {
	steps, file := importHistory(b, "BENCH_MIGRATE_EVENTS", 20_000)
	data := b.TempDir()
	addr, _, stop := launchServer(b, data, clock.NewManual(2026, time.January, 15), nil)
	if code := run(context.Background(), []string{"import", "--server", addr, "--token", tokenFor(b, addr, "centrum"), file}, io.Discard, io.Discard); code != exitOK {
		b.Fatalf("import: exit %d", code)
	}
	stop()
	gm := "--gemeenten=../../deploy/gemeenten.json"
	for b.Loop() {
		b.StopTimer()
		kdb := double.Start(b, 1)
		b.StartTimer()
		start := time.Now()
		var errs strings.Builder
		if code := run(context.Background(), []string{"migrate", gm, "--van", "jetstream", "--naar", "kurrentdb", "--data", data, "--kurrentdb-url", kdb.URL()}, io.Discard, &errs); code != exitOK {
			b.Log(errs.String())
			b.Fatalf("migrate to kurrentdb: exit %d", code)
		}
		b.ReportMetric(float64(len(steps))/time.Since(start).Seconds(), "to-kurrentdb-events/s")
		start = time.Now()
		if code := run(context.Background(), []string{"migrate", gm, "--van", "kurrentdb", "--naar", "jetstream", "--data", b.TempDir(), "--kurrentdb-url", kdb.URL()}, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("migrate to jetstream: exit %d", code)
		}
		b.ReportMetric(float64(len(steps))/time.Since(start).Seconds(), "to-jetstream-events/s")
	}
	b.ReportMetric(float64(len(steps)), "events")
}
