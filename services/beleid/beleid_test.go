package beleid_test

import (
	"github.com/google/uuid"

	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore/natsstoretest"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

const data = `{"centrum": "GM0402", "gemeenten": [
  {"code": "GM0402", "naam": "Hilversum", "geldig_van": "2015-01-01"},
  {"code": "GM1942", "naam": "Gooise Meren", "geldig_van": "2016-01-01"},
  {"code": "GM0457", "naam": "Weesp", "geldig_van": "2015-01-01", "geldig_tot": "2022-03-24"}]}`

func registry(t testing.TB) *gemeente.Registry {
	t.Helper()
	reg, err := gemeente.Parse(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func policy(from *ledgerv1.Date, tarieven ...*ledgerv1.ProductTarief) *ledgerv1.Beleid {
	return &ledgerv1.Beleid{GeldigVanaf: from, Producten: tarieven}
}

func jaar(product string, cent int64) *ledgerv1.ProductTarief {
	return &ledgerv1.ProductTarief{Product: product, CentPerJaar: cent}
}

func revision(from *ledgerv1.Date, reden, besluit string) *ledgerv1.Beleid {
	b := policy(from, jaar(beleid.ProductBeschutWerk, 12_500_00))
	b.Nacalculatie = &ledgerv1.Nacalculatie{Reden: reden, Besluit: besluit}
	return b
}

func TestDecideBeleid(t *testing.T) {
	reg := registry(t)
	today := event.YMD(2026, 11, 24)
	existing := beleid.History{{Gemeente: "GM0402", Versie: 1, Beleid: policy(event.YMD(2026, 12, 1))}}
	cases := []struct {
		name string
		code string
		b    *ledgerv1.Beleid
		hist beleid.History
		rule string
		// priced is how far the gemeente has been priced; nil: unknown.
		priced *beleid.Priced
	}{
		{"valid", "GM0402", policy(today, jaar(beleid.ProductBeschutWerk, 12_000_00), &ledgerv1.ProductTarief{Product: beleid.ProductJobcoaching, CentPerUur: 85_00}), nil, "", nil},
		{"no date", "GM0402", policy(nil), nil, beleid.RuleGeldigVanaf, nil},
		{"retroactive", "GM0402", policy(event.YMD(2026, 11, 23)), nil, beleid.RuleTerugwerkend, nil},
		{"before latest version", "GM0402", policy(event.YMD(2026, 11, 30)), existing, beleid.RuleVolgorde, nil},
		{"same day as latest version", "GM0402", policy(event.YMD(2026, 12, 1)), existing, "", nil},
		{"today, when a version is in force today", "GM0402", policy(today), beleid.History{{Gemeente: "GM0402", Versie: 1, Beleid: policy(event.YMD(2026, 1, 1))}}, beleid.RuleTerugwerkend, nil},
		{"tomorrow, when a version is in force today", "GM0402", policy(event.YMD(2026, 11, 25)), beleid.History{{Gemeente: "GM0402", Versie: 1, Beleid: policy(event.YMD(2026, 1, 1))}}, "", nil},
		{"huge tariff", "GM0402", policy(today, jaar(beleid.ProductWsw, beleid.MaxCent+1)), nil, beleid.RuleProduct, nil},
		{"unknown budget stream", "GM0402", &ledgerv1.Beleid{GeldigVanaf: today, Budgetten: []*ledgerv1.Budget{{Jaar: 2027, Budgetstroom: 9, Cent: 1}}}, nil, beleid.RuleBudget, nil},
		{"huge budget", "GM0402", &ledgerv1.Beleid{GeldigVanaf: today, Budgetten: []*ledgerv1.Budget{{Jaar: 2027, Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG, Cent: 5_000_000_000_000_000_000}}}, nil, beleid.RuleBudget, nil},
		{"unknown gemeente", "GM9999", policy(today), nil, beleid.RuleGemeente, nil},
		{"former participant", "GM0457", policy(today), nil, beleid.RuleGemeente, nil},
		{"unknown product", "GM0402", policy(today, jaar("zwembad", 1)), nil, beleid.RuleProduct, nil},
		{"product twice", "GM0402", policy(today, jaar(beleid.ProductWsw, 1), jaar(beleid.ProductWsw, 2)), nil, beleid.RuleProduct, nil},
		{"zero tariff", "GM0402", policy(today, jaar(beleid.ProductWsw, 0)), nil, beleid.RuleProduct, nil},
		{"hourly tariff for a placement", "GM0402", policy(today, &ledgerv1.ProductTarief{Product: beleid.ProductWsw, CentPerUur: 10}), nil, beleid.RuleProduct, nil},
		{"yearly tariff for hours", "GM0402", policy(today, jaar(beleid.ProductJobcoaching, 10)), nil, beleid.RuleProduct, nil},
		{"budget without stream", "GM0402", &ledgerv1.Beleid{GeldigVanaf: today, Budgetten: []*ledgerv1.Budget{{Jaar: 2027, Cent: 1}}}, nil, beleid.RuleBudget, nil},
		{"budget twice", "GM0402", &ledgerv1.Beleid{GeldigVanaf: today, Budgetten: []*ledgerv1.Budget{
			{Jaar: 2027, Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG, Cent: 1},
			{Jaar: 2027, Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG, Cent: 2}}}, nil, beleid.RuleBudget, nil},
		{"backdated first policy, nothing priced yet", "GM0402", policy(event.YMD(2026, 1, 1)), nil, "", &beleid.Priced{}},
		{"backdated over days already priced", "GM0402", policy(event.YMD(2026, 11, 1)), beleid.History{{Gemeente: "GM0402", Versie: 1, Beleid: policy(event.YMD(2026, 1, 1))}}, beleid.RuleTerugwerkend, &beleid.Priced{Last: event.YMD(2026, 11, 20)}},
		{"backdated to the day after the last priced day", "GM0402", policy(event.YMD(2026, 11, 21)), beleid.History{{Gemeente: "GM0402", Versie: 1, Beleid: policy(event.YMD(2026, 1, 1))}}, "", &beleid.Priced{Last: event.YMD(2026, 11, 20)}},
		{"backdated, still not before the latest version", "GM0402", policy(event.YMD(2026, 3, 1)), beleid.History{{Gemeente: "GM0402", Versie: 1, Beleid: policy(event.YMD(2026, 6, 1))}}, beleid.RuleVolgorde, &beleid.Priced{}},
		{"today, already priced today", "GM0402", policy(today), beleid.History{{Gemeente: "GM0402", Versie: 1, Beleid: policy(event.YMD(2026, 1, 1))}}, beleid.RuleTerugwerkend, &beleid.Priced{Last: today}},
		{"negative LKS norm", "GM0402", &ledgerv1.Beleid{GeldigVanaf: today, LksNorm: -1}, nil, beleid.RuleLKSNorm, nil},
		// A nacalculatie revises a past period: over priced days and
		// before a later version, with a reason and a decision.
		{"nacalculatie over priced days", "GM0402", revision(event.YMD(2026, 1, 1), "GR-begroting vastgesteld", "AB 2026-14"), beleid.History{{Gemeente: "GM0402", Versie: 1, Beleid: policy(event.YMD(2026, 6, 1))}}, "", &beleid.Priced{Last: event.YMD(2026, 11, 20)}},
		{"nacalculatie, priced unknown", "GM0402", revision(event.YMD(2026, 1, 1), "GR-begroting vastgesteld", "AB 2026-14"), nil, "", nil},
		{"nacalculatie without reason", "GM0402", revision(event.YMD(2026, 1, 1), " ", "AB 2026-14"), nil, beleid.RuleNacalculatieReden, nil},
		{"nacalculatie without decision", "GM0402", revision(event.YMD(2026, 1, 1), "begroting", ""), nil, beleid.RuleNacalculatieBesluit, nil},
		{"nacalculatie of today", "GM0402", revision(today, "begroting", "AB 2026-14"), nil, beleid.RuleNacalculatiePeriode, nil},
		{"nacalculatie of the future", "GM0402", revision(event.YMD(2027, 1, 1), "begroting", "AB 2026-14"), nil, beleid.RuleNacalculatiePeriode, nil},
		{"nacalculatie with an unknown product", "GM0402", func() *ledgerv1.Beleid {
			b := revision(event.YMD(2026, 1, 1), "begroting", "AB 2026-14")
			b.Producten = []*ledgerv1.ProductTarief{jaar("zwembad", 1)}
			return b
		}(), nil, beleid.RuleProduct, nil},
		{"nacalculatie of a former participant", "GM0457", revision(event.YMD(2026, 1, 1), "begroting", "AB 2026-14"), nil, beleid.RuleGemeente, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := beleid.DecideBeleid(tc.hist, reg, tc.code, tc.b, today, tc.priced)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("want allowed: %v", err)
				}
				return
			}
			var ref *beleid.Refusal
			if !errors.As(err, &ref) || ref.Rule != tc.rule || !errors.Is(err, beleid.ErrRefused) {
				t.Fatalf("want refusal by %s, got %v", tc.rule, err)
			}
		})
	}
}

func TestDecideRegio(t *testing.T) {
	today := event.YMD(2026, 11, 24)
	const (
		buig, bv      = ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG, ledgerv1.Budgetstroom_BUDGETSTROOM_BEDRIJFSVOERING
		een, solidair = ledgerv1.Verrekening_VERREKENING_EEN_OP_EEN, ledgerv1.Verrekening_VERREKENING_SOLIDAIR
		inwoners      = ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS
	)
	stroom := func(s ledgerv1.Budgetstroom, v ledgerv1.Verrekening, m ledgerv1.Verdeelmethode) *ledgerv1.Stroomverdeling {
		return &ledgerv1.Stroomverdeling{Budgetstroom: s, Verrekening: v, Methode: m}
	}
	verdeling := func(jaar int32, st ...*ledgerv1.Stroomverdeling) error {
		return beleid.DecideResultaatverdeling(&ledgerv1.Resultaatverdeling{Jaar: jaar, Stromen: st})
	}
	kosten := func(van, last *ledgerv1.Date, cent int64) error {
		return beleid.DecideGedeeldeKosten(&ledgerv1.GedeeldeKosten{Van: van, Cent: cent, Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET}, last, today)
	}
	cases := []struct {
		name string
		err  error
		rule string
	}{
		{"quarter booked afterwards", kosten(event.YMD(2026, 7, 1), event.YMD(2026, 9, 30), 1), ""},
		{"period not over", kosten(event.YMD(2026, 10, 1), event.YMD(2026, 12, 31), 1), beleid.RuleKostenPeriode},
		{"across a year", kosten(event.YMD(2025, 12, 1), event.YMD(2026, 1, 31), 1), beleid.RuleKostenPeriode},
		{"reversed", kosten(event.YMD(2026, 3, 1), event.YMD(2026, 2, 1), 1), beleid.RuleKostenPeriode},
		{"nothing", kosten(event.YMD(2026, 1, 1), event.YMD(2026, 1, 31), 0), beleid.RuleKostenBedrag},
		{"no stream", beleid.DecideGedeeldeKosten(&ledgerv1.GedeeldeKosten{Van: event.YMD(2026, 1, 1), Cent: 5}, event.YMD(2026, 1, 31), today), beleid.RuleKostenStroom},
		{"key", beleid.DecideVerdeelsleutel(&ledgerv1.Verdeelsleutel{Jaar: 2027, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS}, today), ""},
		{"key too far ahead", beleid.DecideVerdeelsleutel(&ledgerv1.Verdeelsleutel{Jaar: 2028, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS}, today), beleid.RuleSleutelJaar},
		{"key without method", beleid.DecideVerdeelsleutel(&ledgerv1.Verdeelsleutel{Jaar: 2026}, today), beleid.RuleSleutelMethode},
		{"settlement", verdeling(2026, stroom(buig, een, 0), stroom(bv, solidair, inwoners)), ""},
		{"settlement naming nothing: all one to one", verdeling(2026), ""},
		{"settlement without a year", verdeling(0, stroom(buig, een, 0)), beleid.RuleVerdelingJaar},
		{"settlement of no stream", verdeling(2026, stroom(0, een, 0)), beleid.RuleVerdelingStroom},
		{"settlement of a stream twice", verdeling(2026, stroom(buig, een, 0), stroom(buig, solidair, inwoners)), beleid.RuleVerdelingStroom},
		{"settlement without how", verdeling(2026, stroom(buig, 0, 0)), beleid.RuleVerdelingWijze},
		{"solidary without a method", verdeling(2026, stroom(bv, solidair, 0)), beleid.RuleVerdelingMethode},
		{"one to one with a method", verdeling(2026, stroom(bv, een, inwoners)), beleid.RuleVerdelingMethode},
	}
	for _, tc := range cases {
		var ref *beleid.Refusal
		if tc.rule == "" && tc.err != nil || tc.rule != "" && (!errors.As(tc.err, &ref) || ref.Rule != tc.rule) {
			t.Errorf("%s: got %v, want rule %q", tc.name, tc.err, tc.rule)
		}
	}
}

func newHandler(t *testing.T, now time.Time) (*beleid.Handler, store.Store) {
	t.Helper()
	st := natsstoretest.New(t)
	return &beleid.Handler{Store: st, Gemeenten: registry(t), Clock: func() time.Time { return now }}, st
}

func TestHandlerRecordsVersions(t *testing.T) {
	ctx := context.Background()
	h, st := newHandler(t, time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	v1, err := h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-1"}, policy(event.YMD(2026, 1, 1), jaar(beleid.ProductBeschutWerk, 12_000_00)))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-1"}, policy(event.YMD(2026, 7, 1), jaar(beleid.ProductBeschutWerk, 12_500_00)))
	if err != nil {
		t.Fatal(err)
	}
	if v1.Versie != 1 || v2.Versie != 2 || v2.Ref() != "GM0402/v2" {
		t.Fatalf("versions %d, %d (%s)", v1.Versie, v2.Versie, v2.Ref())
	}
	if _, err := h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-1"}, policy(event.YMD(2026, 6, 1))); !errors.Is(err, beleid.ErrRefused) {
		t.Fatalf("a version before the latest: %v", err)
	}
	hist, err := h.History(ctx, "GM0402")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist.InForce(event.YMD(2026, 6, 30)).EventID != v1.EventID || hist.InForce(event.YMD(2026, 7, 1)).EventID != v2.EventID {
		t.Errorf("history %+v", hist)
	}
	if other, _ := h.History(ctx, "GM1942"); len(other) != 0 {
		t.Errorf("Gooise Meren has %d versions", len(other))
	}
	// The policy stream is hash-linked like a case.
	recs, err := st.ReadStream(ctx, event.PolicyStream("GM0402"))
	if err != nil {
		t.Fatal(err)
	}
	if err := event.CheckChain([][]byte{recs[0].Data, recs[1].Data}); err != nil {
		t.Errorf("policy chain: %v", err)
	}

	key := &ledgerv1.Event{Payload: &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: 2026, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS}}}
	r, err := h.RecordRegio(ctx, beleid.Meta{Actor: "ctrl-1"}, nil, key)
	if err != nil || r.Versie != 1 || r.Event.GetEnvelope().GetGemeente() != "GM0402" {
		t.Fatalf("first key: versie %d, %v", r.Versie, err)
	}
	if r, _ = h.RecordRegio(ctx, beleid.Meta{Actor: "ctrl-1"}, nil, key); r.Versie != 2 {
		t.Errorf("second key of 2026 has versie %d", r.Versie)
	}
	regio, err := h.Regio(ctx)
	if err != nil || len(regio) != 2 {
		t.Fatalf("regio: %d, %v", len(regio), err)
	}
}

// TestRetryByEventID: a policy or booking sent again with its event id
// (the answer got lost) is recorded once and answered as the first time;
// the same id with another content is refused.
func TestRetryByEventID(t *testing.T) {
	ctx := context.Background()
	h, st := newHandler(t, time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	id := uuid.MustParse("0b8f5a52-3c8e-4bb1-9d0e-6f1f2a3b4c5d")
	p := policy(event.YMD(2026, 11, 2), jaar(beleid.ProductBeschutWerk, 12_000_00))
	first, err := h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-1", EventID: id}, p)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-1", EventID: id}, p)
	if err != nil || again.Versie != first.Versie || again.EventID != id.String() || !again.Present || first.Present {
		t.Fatalf("retry: %+v, %v (first %+v)", again, err, first)
	}
	other := policy(event.YMD(2026, 11, 3), jaar(beleid.ProductBeschutWerk, 13_000_00))
	var ref *beleid.Refusal
	if _, err := h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-1", EventID: id}, other); !errors.As(err, &ref) || ref.Rule != beleid.RuleEventID {
		t.Fatalf("same id, other policy: %v", err)
	}
	if recs, _ := st.ReadStream(ctx, event.PolicyStream("GM0402")); len(recs) != 1 {
		t.Fatalf("policy stream holds %d events, want 1", len(recs))
	}

	booking := &ledgerv1.Event{Payload: &ledgerv1.Event_GedeeldeKosten{GedeeldeKosten: &ledgerv1.GedeeldeKosten{
		Van: event.YMD(2026, 7, 1), Cent: 185_000_00, Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_PARTICIPATIEBUDGET}}}
	bid := uuid.MustParse("6a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d")
	for i := range 3 {
		r, err := h.RecordRegio(ctx, beleid.Meta{Actor: "ctrl-1", EventID: bid}, event.YMD(2026, 9, 30), booking)
		if err != nil || r.Versie != 1 || r.Event.GetEnvelope().GetEventId() != bid.String() || r.Present != (i > 0) {
			t.Fatalf("send %d: %+v, %v", i+1, r, err)
		}
	}
	if regio, _ := h.Regio(ctx); len(regio) != 1 {
		t.Fatalf("the booking sent three times is booked %d times", len(regio))
	}
}

// TestExpectedVersie: two beleidsmedewerkers fill the form from the same
// version; the second to record is refused, naming the rule, and nothing
// of hers is written. A retry of the first after its answer got lost is
// answered as the first time, not refused as outdated.
func TestExpectedVersie(t *testing.T) {
	ctx := context.Background()
	h, st := newHandler(t, time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	seen := func(n uint64) *uint64 { return &n }
	if _, err := h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-1", ExpectedVersie: seen(0)}, policy(event.YMD(2026, 11, 2), jaar(beleid.ProductBeschutWerk, 12_000_00))); err != nil {
		t.Fatalf("first version, none seen: %v", err)
	}
	id := uuid.MustParse("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f")
	a := policy(event.YMD(2026, 11, 3), jaar(beleid.ProductBeschutWerk, 12_500_00))
	first, err := h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-1", EventID: id, ExpectedVersie: seen(1)}, a)
	if err != nil || first.Versie != 2 {
		t.Fatalf("made from version 1: %+v, %v", first, err)
	}
	if again, err := h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-1", EventID: id, ExpectedVersie: seen(1)}, a); err != nil || !again.Present || again.Versie != 2 {
		t.Fatalf("the same request again: %+v, %v", again, err)
	}
	var ref *beleid.Refusal
	b := policy(event.YMD(2026, 11, 4), jaar(beleid.ProductBeschutWerk, 13_000_00))
	_, err = h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-2", ExpectedVersie: seen(1)}, b)
	if !errors.As(err, &ref) || ref.Rule != beleid.RuleVersieVerouderd || !strings.Contains(ref.Reden, "2 versies") || !strings.Contains(ref.Reden, "versie 1") {
		t.Fatalf("made from version 1 after version 2: %v", err)
	}
	// Every outdated view is refused with a reason that says what it saw.
	for _, tc := range []struct {
		seen uint64
		says string
	}{
		{0, "nog geen beleid had"},
		{1, "gemaakt bij versie 1"},
		{5, "u gaat uit van versie 5"},
	} {
		_, err := h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-2", ExpectedVersie: seen(tc.seen)}, b)
		if !errors.As(err, &ref) || ref.Rule != beleid.RuleVersieVerouderd || !strings.Contains(ref.Reden, tc.says) || !strings.Contains(ref.Reden, "2") {
			t.Errorf("made from version %d of 2: %v, want a reason saying %q", tc.seen, err, tc.says)
		}
	}
	if recs, _ := st.ReadStream(ctx, event.PolicyStream("GM0402")); len(recs) != 2 {
		t.Fatalf("policy stream holds %d events, want 2", len(recs))
	}
	if v, err := h.RecordBeleid(ctx, "GM0402", beleid.Meta{Actor: "bm-2"}, b); err != nil || v.Versie != 3 {
		t.Fatalf("without an expected version: %+v, %v", v, err)
	}
}
