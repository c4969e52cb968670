package main

import (
	"context"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/scenario"
)

// BenchmarkImport imports a generated history of about BENCH_IMPORT_EVENTS
// events with `ledger import` into a fresh ledger over HTTP, with the same
// durability as live appends (fsync before an append is acknowledged; one
// fsync per multi-case step), and reports events/s.
//
// The default is 100,000, so that `make bench` stays short; a million
// (BENCH_IMPORT_EVENTS=1000000) takes about three minutes on two cores.
func BenchmarkImport(b *testing.B) {
	events := 100_000
	if s := os.Getenv("BENCH_IMPORT_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("BENCH_IMPORT_EVENTS=%q", s)
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
	file := writeImportFile(b, scenario.ImportLines(steps))
	for b.Loop() {
		b.StopTimer()
		addr := startServer(b, b.TempDir(), clock.NewManual(2026, time.January, 15))
		b.StartTimer()
		start := time.Now()
		if code := run(context.Background(), []string{"import", "--server", addr, "--token", tokenFor(b, addr, "centrum"), file}, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("import: exit %d", code)
		}
		b.ReportMetric(float64(len(steps))/time.Since(start).Seconds(), "events/s")
	}
	b.ReportMetric(float64(len(steps)), "events")
}
