package lag_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/lag"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore/natsstoretest"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestRegionLag: with events the regional model has not read, the tracker
// says how many and since when, and a wait for the last of them runs out
// with a refusal that says so; once the model runs, the wait returns and
// the lag is zero at the store's last position.
func TestRegionLag(t *testing.T) {
	ctx := context.Background()
	st := natsstoretest.New(t)
	reg, err := gemeente.Load("../../deploy/gemeenten.json")
	if err != nil {
		t.Fatal(err)
	}
	h := &caseflow.Handler{Store: st, Gemeenten: reg, Clock: clock.NewManual(2026, time.March, 2).Clock()}
	var last caseflow.Result
	for i := range 5 {
		last, err = h.Handle(ctx, caseflow.Command{Gemeente: "GM0402", Datum: event.YMD(2026, 3, 2), Actor: "km-test",
			Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
				ResidentId: fmt.Sprintf("R-lag-%d", i), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	live := region.NewLive(st, reg, nil)
	tr := &lag.Tracker{Store: st, Region: live, MaxWait: 50 * time.Millisecond}

	a, err := tr.RegionBehind(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.GetGebeurtenissen() != 5 || a.GetStorePositie() != last.Position.String() || a.GetSeconden() < 0 {
		t.Errorf("before the model ran: %v, want 5 events behind %s", a, last.Position)
	}
	err = tr.WaitRegion(ctx, last.Position)
	if !errors.Is(err, lag.ErrBehind) || !strings.Contains(err.Error(), "5 gebeurtenissen") {
		t.Fatalf("a wait the model can not meet: %v", err)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- live.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	tr.MaxWait = 30 * time.Second
	if err := tr.WaitRegion(ctx, last.Position); err != nil {
		t.Fatalf("a wait the model meets: %v", err)
	}
	if a, err := tr.RegionBehind(ctx); err != nil || a.GetGebeurtenissen() != 0 || a.GetSeconden() != 0 || a.GetBijgewerktTot() != a.GetStorePositie() {
		t.Errorf("after the model caught up: %v, %v", a, err)
	}
	// A position beyond the store (one remembered from another server) is
	// not waited for.
	beyond := last.Position
	beyond.Commit, beyond.Prepare = beyond.Commit+100, beyond.Prepare+100
	tr.MaxWait = time.Millisecond
	if err := tr.WaitRegion(ctx, beyond); err != nil {
		t.Errorf("a position beyond the store: %v", err)
	}
}
