package main

import (
	"context"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/scenario"
)

// importHistory generates a history of about the number of events the
// variable env names (def when unset) with the seeded regional scenario,
// three years of eight participants, and writes it as an import file: the
// steps and the file's path.
func importHistory(b *testing.B, env string, def int) ([]scenario.Step, string) {
	b.Helper()
	events := def
	if s := os.Getenv(env); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q", env, s)
		}
		events = n
	}
	reg, err := gemeente.Load("../../deploy/gemeenten.json")
	if err != nil {
		b.Fatal(err)
	}
	// About 5.2 requests per resident over three years.
	steps, err := scenario.Generate(scenario.Config{Seed: 11, Residents: max(1, events*10/52), Gemeenten: reg,
		From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	return steps, writeImportFile(b, scenario.ImportLines(steps))
}

// BenchmarkImport imports a generated history of about BENCH_IMPORT_EVENTS
// events with `ledger import` into a fresh ledger over HTTP, with the same
// durability as live appends (fsync before an append is acknowledged; one
// fsync per multi-case step), and reports events/s: until the import is
// answered (events/s), and until the bus and every caseload view hold it
// (caught-up-events/s).
//
// The default is 100,000, so that `make bench` stays short; a million
// (BENCH_IMPORT_EVENTS=1000000) takes about three minutes on two cores.
func BenchmarkImport(b *testing.B) {
	steps, file := importHistory(b, "BENCH_IMPORT_EVENTS", 100_000)
	// The generated requests stay out of the measured heap: as deployed the
	// import file is read by another process, and a million requests held
	// here were scanned by every collection of the server's.
	events := len(steps)
	steps = nil
	runtime.GC()
	reg, err := gemeente.Load("../../deploy/gemeenten.json")
	if err != nil {
		b.Fatal(err)
	}
	// The collector as ledger serve sets it.
	_, _, restore := tuneGC()
	defer restore()
	for b.Loop() {
		b.StopTimer()
		addr := startServer(b, b.TempDir(), clock.NewManual(2026, time.January, 15))
		b.StartTimer()
		start := time.Now()
		if code := run(context.Background(), []string{"import", "--server", addr, "--token", tokenFor(b, addr, "centrum"), file}, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("import: exit %d", code)
		}
		b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
		// The import's answer means stored; the bus and every gemeente's
		// caseload view follow. Until they have it all, is the rate of the
		// whole system: one more command, then every view waited for up to
		// its position.
		c := clientAs(b, addr, "centrum")
		ctx := context.Background()
		r, err := c.Record(ctx, connect.NewRequest(&ledgerv1.RecordRequest{Gemeente: "GM0402", Actor: "bench",
			Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: "R-bench-laatste", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}))
		if err != nil {
			b.Fatal(err)
		}
		for _, g := range reg.Codes() {
			// Each request waits a few seconds at most, then says how far
			// behind the view is; ask again until it is not.
			for {
				_, err := c.GetView(ctx, connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: g, NaPositie: r.Msg.GetPositie()}))
				if err == nil {
					break
				}
				if connect.CodeOf(err) != connect.CodeUnavailable {
					b.Fatalf("view %s: %v", g, err)
				}
			}
		}
		b.ReportMetric(float64(events)/time.Since(start).Seconds(), "caught-up-events/s")
		// What the server holds once it has it all: the heap a collection
		// rescans, which bounds how fast a large import can go.
		b.StopTimer()
		reportHeap(b, "BENCH_IMPORT_HEAP_PROFILE")
		b.StartTimer()
	}
	b.ReportMetric(float64(events), "events")
}
