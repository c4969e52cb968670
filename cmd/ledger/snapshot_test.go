package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/clock"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

// TestRestartFromSnapshot: a clean stop writes the regional model's
// snapshot; the next start begins from it and reads the tail, and its
// figures equal a replay of the whole store. A damaged snapshot is not
// trusted: the start builds from the store and the figures are right too.
func TestRestartFromSnapshot(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	clk := clock.NewManual(2026, time.March, 2)
	snap := filepath.Join(data, "projections", "region.snap")
	n := 0
	record := func(api ledgerv1connect.LedgerServiceClient, gm string, count int) {
		t.Helper()
		for range count {
			n++
			r, err := api.Record(ctx, connect.NewRequest(&ledgerv1.RecordRequest{Gemeente: gm, Actor: "test",
				Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: fmt.Sprintf("R-snap-%d", n),
					Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_WERKCENTRUM}}}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := api.Record(ctx, connect.NewRequest(&ledgerv1.RecordRequest{CaseId: r.Msg.GetCaseId(), Actor: "test",
				Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_ONTWIKKELBAAR, LoonwaardeProcent: uint32(20 + n)}}})); err != nil {
				t.Fatal(err)
			}
		}
	}
	view := func(api ledgerv1connect.LedgerServiceClient, replay bool) *ledgerv1.Beleidsview {
		t.Helper()
		r, err := api.GetBeleidsview(ctx, connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: "GM0402", Jaar: 2026, Replay: replay, PerClient: true}))
		if err != nil {
			t.Fatal(err)
		}
		v := r.Msg.GetView()
		v.Bron = ""
		return v
	}
	// live equals replay, once the live model holds what the store holds.
	agree := func(api ledgerv1connect.LedgerServiceClient, caseload int64) {
		t.Helper()
		var live, replay *ledgerv1.Beleidsview
		eventually(t, "the live figures to equal a replay", func() bool {
			live, replay = view(api, false), view(api, true)
			return proto.Equal(live, replay)
		})
		if got := live.GetTotaal().GetCaseload(); got != caseload {
			t.Fatalf("caseload %d, want %d", got, caseload)
		}
	}
	client := func(addr string) ledgerv1connect.LedgerServiceClient {
		return apiClient(t, addr, time.Minute)
	}

	addr, _, stop := launchServer(t, data, clk, nil)
	api := client(addr)
	record(api, "GM0402", 12)
	agree(api, 12)
	stop()
	first, err := os.Stat(snap)
	if err != nil {
		t.Fatalf("no snapshot after a clean stop: %v", err)
	}

	addr, _, stop = launchServer(t, data, clk, nil)
	api = client(addr)
	agree(api, 12) // from the snapshot alone
	record(api, "GM0402", 5)
	agree(api, 17) // and the events after it
	stop()
	second, err := os.Stat(snap)
	if err != nil || second.Size() <= first.Size() {
		t.Fatalf("the stop did not write the grown model's snapshot: %v (%d bytes, before %d)", err, second.Size(), first.Size())
	}

	// A damaged snapshot: refused, and the model built from the store.
	b, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(snap, b, 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _, stop = launchServer(t, data, clk, nil)
	defer stop()
	agree(client(addr), 17)
}
