package caseflow_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore/natsstoretest"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

func newHandler(t testing.TB) (*caseflow.Handler, store.Store) {
	t.Helper()
	st := natsstoretest.New(t)
	reg, err := gemeente.Parse(strings.NewReader(`{"gemeenten": [
		{"code": "GM0402", "naam": "Hilversum", "geldig_van": "2015-01-01"},
		{"code": "GM1942", "naam": "Gooise Meren", "geldig_van": "2016-01-01"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) }
	return &caseflow.Handler{Store: st, Gemeenten: reg, Clock: now}, st
}

func aanmelden(gm string) caseflow.Command {
	return caseflow.Command{Gemeente: gm, Datum: event.YMD(2026, 3, 2), Actor: "km-1", Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
		ResidentId: "R-1", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV,
	}}}}
}

func intakeOn(id uuid.UUID, d int) caseflow.Command {
	return caseflow.Command{CaseID: id, Datum: event.YMD(2026, 3, d), Actor: "km-1", Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{
		Trede: ledgerv1.Trede_TREDE_ONTWIKKELBAAR, LoonwaardeProcent: 55,
	}}}}
}

func TestHandlerRecordsAndChains(t *testing.T) {
	ctx := context.Background()
	h, _ := newHandler(t)
	res, err := h.Handle(ctx, aanmelden("GM0402"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != 0 || res.Type != event.TypeAanmelding || res.State.Toestand != ledgerv1.Toestand_TOESTAND_AANGEMELD {
		t.Fatalf("aanmelding result %+v", res)
	}
	if _, err := h.Handle(ctx, intakeOn(res.CaseID, 3)); err != nil {
		t.Fatal(err)
	}
	c, err := h.Load(ctx, res.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Revision != 1 || c.ChainErr != nil || c.State.Trede != ledgerv1.Trede_TREDE_ONTWIKKELBAAR {
		t.Fatalf("loaded case rev %d chain %v state %+v", c.Revision, c.ChainErr, c.State)
	}
	env := c.Events[1].GetEnvelope()
	if env.GetActor() != "km-1" || env.GetSchemaVersion() != event.SchemaVersion || env.GetRecordedAt() == nil || len(env.GetPrevHash()) == 0 {
		t.Errorf("envelope not complete: %v", env)
	}
}

// TestRefusedCommandWritesNothing: a refusal leaves the stream as it was.
func TestRefusedCommandWritesNothing(t *testing.T) {
	ctx := context.Background()
	h, st := newHandler(t)
	res, err := h.Handle(ctx, aanmelden("GM0402"))
	if err != nil {
		t.Fatal(err)
	}
	plaatsing := caseflow.Command{CaseID: res.CaseID, Datum: event.YMD(2026, 3, 5), Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}}}
	_, err = h.Handle(ctx, plaatsing)
	var ref *caseflow.Refusal
	if !errors.As(err, &ref) || ref.Rule != caseflow.RulePlaatsingNaIntake {
		t.Fatalf("plaatsing before intake: %v", err)
	}
	if _, err := h.Handle(ctx, aanmelden("GM9999")); !errors.Is(err, gemeente.ErrUnknownGemeente) {
		t.Fatalf("unknown gemeente: %v", err)
	}
	if _, err := h.Handle(ctx, intakeOn(uuid.New(), 3)); !errors.Is(err, caseflow.ErrCaseNotFound) {
		t.Fatalf("unknown case: %v", err)
	}
	var n int
	for _, err := range st.ReadAll(ctx, store.Start) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("store holds %d events after refusals, want only the aanmelding", n)
	}
}

// TestConcurrentKlantmanagers: many writers record on one case at once.
// With a pinned revision exactly one wins and the rest get ErrConflict;
// without, each is decided again on the new state and all land, in order.
func TestConcurrentKlantmanagers(t *testing.T) {
	ctx := context.Background()
	h, _ := newHandler(t)
	res, err := h.Handle(ctx, aanmelden("GM0402"))
	if err != nil {
		t.Fatal(err)
	}
	const writers = 8
	run := func(pinned bool) (won, conflicts int) {
		c, err := h.Load(ctx, res.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		rev := c.Revision
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := intakeOn(res.CaseID, 4)
				if pinned {
					cmd.ExpectedRevision = &rev
				}
				_, err := h.Handle(ctx, cmd)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, store.ErrConflict):
					conflicts++
				default:
					t.Errorf("writer: %v", err)
				}
			}()
		}
		wg.Wait()
		return won, conflicts
	}
	if won, conflicts := run(true); won != 1 || conflicts != writers-1 {
		t.Errorf("pinned revision: %d won, %d conflicts; want 1 and %d", won, conflicts, writers-1)
	}
	h.Retries = 2 * writers
	if won, _ := run(false); won != writers {
		t.Errorf("unpinned: %d of %d recorded", won, writers)
	}
	c, err := h.Load(ctx, res.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Revision != uint64(1+1+writers-1) || c.ChainErr != nil {
		t.Errorf("case at revision %d, chain %v; want %d and intact", c.Revision, c.ChainErr, 1+writers)
	}
}

// BenchmarkHandle is klantmanager commands end to end below the API: read
// the case, decide, append with fsync. Each op is an aanmelding (a new case,
// nothing to read) and an intake on it (read one event, decide, append):
// two commands.
func BenchmarkHandle(b *testing.B) {
	ctx := context.Background()
	h, _ := newHandler(b)
	for b.Loop() {
		res, err := h.Handle(ctx, aanmelden("GM0402"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.Handle(ctx, intakeOn(res.CaseID, 3)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2*float64(b.N)/b.Elapsed().Seconds(), "commands/s")
}

// TestPlacementNeedsPolicy: with policies wired in, a plaatsing is refused
// until the resident's gemeente buys the product, and allowed after.
func TestPlacementNeedsPolicy(t *testing.T) {
	ctx := context.Background()
	h, st := newHandler(t)
	clk := clock.NewManual(2026, time.November, 24)
	h.Clock = clk.Clock()
	pol := &beleid.Handler{Store: st, Gemeenten: h.Gemeenten, Clock: h.Clock}
	h.Policies = pol
	res, err := h.Handle(ctx, aanmelden("GM0402"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(ctx, intakeOn(res.CaseID, 3)); err != nil {
		t.Fatal(err)
	}
	plaats := caseflow.Command{CaseID: res.CaseID, Datum: event.YMD(2026, 11, 24), Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}}}
	var ref *caseflow.Refusal
	if _, err := h.Handle(ctx, plaats); !errors.As(err, &ref) || ref.Rule != caseflow.RuleBeleidOntbreekt {
		t.Fatalf("plaatsing without policy: %v", err)
	}
	if _, err := pol.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm"}, &ledgerv1.Beleid{GeldigVanaf: event.YMD(2026, 11, 24), Producten: []*ledgerv1.ProductTarief{{Product: beleid.ProductWsw, CentPerJaar: 30_000_00}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(ctx, plaats); !errors.As(err, &ref) || ref.Rule != caseflow.RulePlaatsingProduct {
		t.Fatalf("plaatsing of a product not bought: %v", err)
	}
	// Today is priced by v1 now; v2 can start tomorrow at the earliest.
	v2 := &ledgerv1.Beleid{GeldigVanaf: event.YMD(2026, 11, 24), Producten: []*ledgerv1.ProductTarief{{Product: beleid.ProductBeschutWerk, CentPerJaar: 12_000_00}}}
	if _, err := pol.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm"}, v2); !errors.Is(err, beleid.ErrRefused) {
		t.Fatalf("a second version starting today: %v", err)
	}
	v2.GeldigVanaf = event.YMD(2026, 11, 25)
	if _, err := pol.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm"}, v2); err != nil {
		t.Fatal(err)
	}
	clk.Set(2026, time.November, 25)
	plaats.Datum = event.YMD(2026, 11, 25)
	r, err := h.Handle(ctx, plaats)
	if err != nil {
		t.Fatalf("plaatsing once bought: %v", err)
	}
	c, _ := h.Load(ctx, r.CaseID)
	if got := c.Events[len(c.Events)-1].GetPlaatsing().GetProduct(); got != beleid.ProductBeschutWerk {
		t.Errorf("plaatsing recorded with product %q", got)
	}
}

// TestRetryWithEventID: a command sent again with the same event id, after
// its answer got lost, is recorded once; an aanmelding stays one case.
func TestRetryWithEventID(t *testing.T) {
	ctx := context.Background()
	h, st := newHandler(t)
	cmd := aanmelden("GM0402")
	cmd.EventID = uuid.New()
	first, err := h.Handle(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.Handle(ctx, cmd)
	if err != nil || again.CaseID != first.CaseID || again.Revision != 0 || again.EventID != cmd.EventID {
		t.Fatalf("retried aanmelding: %+v, %v; first %+v", again, err, first)
	}
	in := intakeOn(first.CaseID, 3)
	in.EventID = uuid.New()
	for range 3 {
		r, err := h.Handle(ctx, in)
		if err != nil || r.Revision != 1 || r.EventID != in.EventID {
			t.Fatalf("retried intake: %+v, %v", r, err)
		}
	}
	n := 0
	for _, err := range st.ReadAll(ctx, store.Start) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("store holds %d events after retries, want 2", n)
	}
}
