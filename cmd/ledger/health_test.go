package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/services/clock"
)

// TestHealthAndMetrics: liveness, readiness and the Prometheus metrics of a
// running server count what happened: calls by outcome, a conflict, the
// store up, the projections' lag.
func TestHealthAndMetrics(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServer(t, t.TempDir(), clk)
	id := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "bijstand", "--verwijzer", "uwv", "--client-id", "R-metrics", "--datum", "2026-02-02")
	stale := uint64(7)
	_, err := apiClient(t, addr, time.Minute).Record(context.Background(), connect.NewRequest(&ledgerv1.RecordRequest{CaseId: id, Gemeente: "GM0402", ExpectedRevision: &stale,
		Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_ONTWIKKELBAAR, LoonwaardeProcent: 50}}}))
	if connect.CodeOf(err) != connect.CodeAborted {
		t.Fatalf("a stale expected revision: %v, want aborted", err)
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(path); code != http.StatusOK || body != "ok\n" {
			t.Errorf("%s: %d %q", path, code, body)
		}
	}
	code, body := get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	for _, want := range []string{
		`ledger_api_requests_total{procedure="Record",code="ok"} 1`,
		`ledger_api_requests_total{procedure="Record",code="aborted"} 1`,
		`ledger_append_conflicts_total{procedure="Record"} 1`,
		`ledger_api_request_seconds_count{procedure="Record"} 2`,
		"ledger_store_up 1",
		`ledger_behind_events{projectie="relay"}`,
		`ledger_behind_events{projectie="regio"}`,
		`ledger_behind_events{projectie="caseload-GM0402"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "R-metrics") || strings.Contains(body, id) {
		t.Error("/metrics names a resident or a case")
	}

	// ledger health, as the container image's health check runs it.
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"health", "--server", addr}, exitOK},
		{[]string{"health", "--server", addr, "--gereed"}, exitOK},
		{[]string{"health", "--server", "127.0.0.1:1"}, exitFailed},
	} {
		var out, errs strings.Builder
		if code := run(context.Background(), tc.args, &out, &errs); code != tc.want {
			t.Errorf("ledger %v: exit %d, want %d: %s", tc.args, code, tc.want, errs.String())
		}
	}
}
