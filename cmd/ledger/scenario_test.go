package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/scenario"

	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

// TestRegionalScenario runs years of a seeded regional scenario end to end
// through the API on a simulated clock, and checks the figures that must
// hold whatever the scenario.
func TestRegionalScenario(t *testing.T) {
	residents := 2500
	if testing.Short() {
		residents = 300
	}
	reg, err := gemeente.Load("../../deploy/gemeenten.json")
	if err != nil {
		t.Fatal(err)
	}
	steps, err := scenario.Generate(scenario.Config{Seed: 2026, Residents: residents, Gemeenten: reg,
		From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock(2023, time.January, 1)
	addr := startServer(t, t.TempDir(), clk)
	client := ledgerv1connect.NewLedgerServiceClient(&http.Client{Timeout: time.Minute}, "http://"+addr)
	start := time.Now()
	res, err := scenario.Run(context.Background(), client, steps, func(d time.Time) {
		clk.mu.Lock()
		clk.t = d
		clk.mu.Unlock()
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d requests for %d residents in %v", res.Requests, len(res.Cases), time.Since(start))
}
