package caseload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

const (
	aangemeld    = ledgerv1.Toestand_TOESTAND_AANGEMELD
	inTraject    = ledgerv1.Toestand_TOESTAND_IN_TRAJECT
	geplaatst    = ledgerv1.Toestand_TOESTAND_GEPLAATST
	opVangnet    = ledgerv1.Toestand_TOESTAND_VANGNET
	uitgevallen  = ledgerv1.Toestand_TOESTAND_UITGEVALLEN
	uitgestroomd = ledgerv1.Toestand_TOESTAND_UITGESTROOMD

	bijstand = ledgerv1.Doelgroep_DOELGROEP_BIJSTAND
	beschut  = ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK
	wsw      = ledgerv1.Doelgroep_DOELGROEP_WSW

	lksBaan     = ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN
	beschutWerk = ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK
	trede3      = ledgerv1.Trede_TREDE_ONTWIKKELBAAR
	regulier    = ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK
	onderwijs   = ledgerv1.UitstroomReden_UITSTROOM_REDEN_ONDERWIJS
	buitenRegio = ledgerv1.UitstroomReden_UITSTROOM_REDEN_VERHUIZING_BUITEN_REGIO
	ziekte      = ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE
)

// build applies events to a fresh view of each gemeente, routed the way the
// relay routes them.
func build(events []*ledgerv1.Event, codes ...string) map[string]*View {
	views := map[string]*View{}
	for _, c := range codes {
		views[c] = NewView(c, testNamen[c])
	}
	for _, ev := range events {
		route(views, ev, store.Start)
	}
	return views
}

// figures is a view in a form a test can state: "aangemeld=1 geplaatst=2".
type figures struct {
	actief      int64
	toestanden  string
	doelgroepen string
	// month -> "in aanmelding=1 | uit verhuizing=1"
	maanden map[string]string
}

func figuresOf(v *View) figures { return figuresOfProto(v.Proto(BronReplay)) }

func figuresOfProto(cv *ledgerv1.CaseloadView) figures {
	f := figures{actief: cv.GetActief(), maanden: map[string]string{}}
	var ts, ds []string
	for _, t := range cv.GetPerToestand() {
		ts = append(ts, fmt.Sprintf("%s=%d", caseflow.ToestandNaam(t.GetToestand()), t.GetAantal()))
	}
	for _, dg := range cv.GetPerDoelgroep() {
		ds = append(ds, fmt.Sprintf("%s=%d", strings.ToLower(strings.TrimPrefix(dg.GetDoelgroep().String(), "DOELGROEP_")), dg.GetAantal()))
	}
	f.toestanden, f.doelgroepen = strings.Join(ts, " "), strings.Join(ds, " ")
	for _, m := range cv.GetPerMaand() {
		var in, uit []string
		for _, r := range m.GetInstroomPerReden() {
			in = append(in, fmt.Sprintf("%s=%d", r.GetReden(), r.GetAantal()))
		}
		for _, r := range m.GetUitstroomPerReden() {
			uit = append(uit, fmt.Sprintf("%s=%d", r.GetReden(), r.GetAantal()))
		}
		f.maanden[m.GetMaand()] = "in " + strings.Join(in, " ") + " | uit " + strings.Join(uit, " ")
		if got, want := m.GetInstroom()+m.GetUitstroom(), int64(len(in)+len(uit)); got < want {
			panic("month totals below their reasons")
		}
	}
	return f
}

func checkFigures(t *testing.T, label string, got figures, want figures) {
	t.Helper()
	if got.actief != want.actief || got.toestanden != want.toestanden || got.doelgroepen != want.doelgroepen {
		t.Errorf("%s: actief %d [%s] [%s], want %d [%s] [%s]", label,
			got.actief, got.toestanden, got.doelgroepen, want.actief, want.toestanden, want.doelgroepen)
	}
	if want.maanden != nil && !maps.Equal(got.maanden, want.maanden) {
		t.Errorf("%s: months\n got  %v\n want %v", label, got.maanden, want.maanden)
	}
}

// TestJourneyByToestand follows cases through a whole journey, step by step.
func TestJourneyByToestand(t *testing.T) {
	h := newHistory(t)
	other := h.aanmelden(hilversum, d(2025, 1, 6), wsw)
	h.record(other, d(2025, 1, 20), intake(trede3, 40))
	c := h.aanmelden(hilversum, d(2025, 2, 3), bijstand)

	steps := []struct {
		name  string
		date  *ledgerv1.Date
		draft *ledgerv1.Event
		want  figures
	}{
		{"intake", d(2025, 2, 10), intake(trede3, 60),
			figures{actief: 2, toestanden: "in traject=2", doelgroepen: "wsw=1 bijstand=1"}},
		{"plaatsing", d(2025, 3, 1), plaatsing(lksBaan),
			figures{actief: 2, toestanden: "in traject=1 geplaatst=1", doelgroepen: "wsw=1 bijstand=1"}},
		{"uitval", d(2025, 4, 15), uitval(ziekte),
			figures{actief: 2, toestanden: "in traject=1 uitgevallen=1", doelgroepen: "wsw=1 bijstand=1"}},
		{"herplaatsing", d(2025, 5, 1), plaatsing(beschutWerk),
			figures{actief: 2, toestanden: "in traject=1 geplaatst=1", doelgroepen: "wsw=1 bijstand=1"}},
		{"vangnet", d(2025, 6, 2), vangnet(beschutWerk),
			figures{actief: 2, toestanden: "in traject=1 op vangnet=1", doelgroepen: "wsw=1 bijstand=1"}},
		{"plaatsing vanuit vangnet", d(2025, 7, 1), plaatsing(lksBaan),
			figures{actief: 2, toestanden: "in traject=1 geplaatst=1", doelgroepen: "wsw=1 bijstand=1"}},
		{"uitstroom", d(2025, 9, 30), uitstroom(regulier),
			figures{actief: 1, toestanden: "in traject=1", doelgroepen: "wsw=1", maanden: map[string]string{
				"2025-01": "in aanmelding=1 | uit ",
				"2025-02": "in aanmelding=1 | uit ",
				"2025-09": "in  | uit regulier-werk=1",
			}}},
	}
	for _, st := range steps {
		h.record(c, st.date, st.draft)
		v := build(h.events, hilversum)[hilversum]
		checkFigures(t, st.name, figuresOf(v), st.want)
	}

	v := build(h.events, hilversum)[hilversum]
	if n := len(v.Cases(false)); n != 1 {
		t.Errorf("active cases listed: %d, want 1", n)
	}
	all := v.Cases(true)
	if len(all) != 2 {
		t.Fatalf("all cases listed: %d, want 2", len(all))
	}
	for _, cs := range all {
		if cs.GetCaseId() == c {
			if cs.GetToestand() != uitgestroomd || cs.GetPlaatsingType() != ledgerv1.PlaatsingType_PLAATSING_TYPE_UNSPECIFIED ||
				event.FormatDate(cs.GetSinds()) != "2025-09-30" || event.FormatDate(cs.GetAanmeldDatum()) != "2025-02-03" {
				t.Errorf("closed case summary: %v", cs)
			}
		}
	}
	if got := v.Verwerkt(); got != uint64(len(h.events)) {
		t.Errorf("verwerkt %d, want %d", got, len(h.events))
	}
}

// TestFlowsPerMonth: instroom and uitstroom per month by reason.
func TestFlowsPerMonth(t *testing.T) {
	h := newHistory(t)
	a := h.aanmelden(huizen, d(2025, 1, 31), bijstand)
	b := h.aanmelden(huizen, d(2025, 2, 1), beschut)
	c := h.aanmelden(huizen, d(2025, 2, 14), beschut)
	e := h.aanmelden(huizen, d(2025, 2, 28), wsw)
	h.record(a, d(2025, 3, 3), intake(trede3, 50))
	h.record(a, d(2025, 3, 31), uitstroom(onderwijs))
	h.record(b, d(2025, 3, 1), uitstroom(regulier))
	h.record(c, d(2025, 3, 15), uitstroom(buitenRegio))
	h.record(e, d(2025, 4, 1), uitstroom(ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG))

	got := figuresOf(build(h.events, huizen)[huizen])
	checkFigures(t, "huizen", got, figures{actief: 0, maanden: map[string]string{
		"2025-01": "in aanmelding=1 | uit ",
		"2025-02": "in aanmelding=3 | uit ",
		"2025-03": "in  | uit onderwijs=1 regulier-werk=1 verhuizing-buiten-regio=1",
		"2025-04": "in  | uit overig=1",
	}})

	cv := build(h.events, huizen)[huizen].Proto(BronReplay)
	var months []string
	for _, m := range cv.GetPerMaand() {
		months = append(months, m.GetMaand())
		if m.GetMaand() == "2025-03" && (m.GetInstroom() != 0 || m.GetUitstroom() != 3) {
			t.Errorf("2025-03: instroom %d uitstroom %d, want 0 and 3", m.GetInstroom(), m.GetUitstroom())
		}
	}
	if !slices.IsSorted(months) {
		t.Errorf("months not ascending: %v", months)
	}
}

func TestUitstroomReden(t *testing.T) {
	for r, want := range map[ledgerv1.UitstroomReden]string{
		ledgerv1.UitstroomReden_UITSTROOM_REDEN_UNSPECIFIED:             RedenOnbekend,
		ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK:           "regulier-werk",
		ledgerv1.UitstroomReden_UITSTROOM_REDEN_ONDERWIJS:               "onderwijs",
		ledgerv1.UitstroomReden_UITSTROOM_REDEN_VERHUIZING_BUITEN_REGIO: "verhuizing-buiten-regio",
		ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG:                  "overig",
		ledgerv1.UitstroomReden(99):                                     RedenOnbekend,
	} {
		if got := UitstroomReden(r); got != want {
			t.Errorf("UitstroomReden(%v) = %q, want %q", r, got, want)
		}
	}
}

// TestVerhuizingMidMonth: the old gemeente keeps its instroom, gets an
// uitstroom "verhuizing" and loses the active case; the new one counts the
// case from that date with the snapshot's toestand and doelgroep, and then
// follows it.
func TestVerhuizingMidMonth(t *testing.T) {
	h := newHistory(t)
	stay := h.aanmelden(hilversum, d(2025, 1, 10), wsw)
	c := h.aanmelden(hilversum, d(2025, 3, 2), beschut)
	h.record(c, d(2025, 3, 5), intake(trede3, 30))
	h.record(c, d(2025, 3, 10), plaatsing(beschutWerk))
	h.record(c, d(2025, 3, 15), verhuizing(huizen))

	views := build(h.events, hilversum, huizen)
	checkFigures(t, "hilversum after the move", figuresOf(views[hilversum]), figures{
		actief: 1, toestanden: "aangemeld=1", doelgroepen: "wsw=1",
		maanden: map[string]string{
			"2025-01": "in aanmelding=1 | uit ",
			"2025-03": "in aanmelding=1 | uit verhuizing=1",
		}})
	checkFigures(t, "huizen after the move", figuresOf(views[huizen]), figures{
		actief: 1, toestanden: "geplaatst=1", doelgroepen: "beschut_werk=1",
		maanden: map[string]string{"2025-03": "in verhuizing=1 | uit "}})

	// Huizen follows the case; Hilversum sees none of it.
	h.record(c, d(2025, 4, 1), uitval(ziekte))
	h.record(c, d(2025, 4, 20), vangnet(beschutWerk))
	h.record(stay, d(2025, 4, 21), intake(trede3, 55))
	views = build(h.events, hilversum, huizen)
	checkFigures(t, "hilversum later", figuresOf(views[hilversum]), figures{
		actief: 1, toestanden: "in traject=1", doelgroepen: "wsw=1"})
	checkFigures(t, "huizen later", figuresOf(views[huizen]), figures{
		actief: 1, toestanden: "op vangnet=1", doelgroepen: "beschut_werk=1"})

	hv := views[hilversum].Cases(true)
	if len(hv) != 2 {
		t.Fatalf("hilversum lists %d cases, want 2", len(hv))
	}
	for _, cs := range hv {
		if cs.GetCaseId() == c && (cs.GetGemeente() != huizen || cs.GetToestand() != geplaatst) {
			t.Errorf("hilversum shows the moved case as %s %v, want it with huizen, geplaatst as on the day it moved", cs.GetGemeente(), cs.GetToestand())
		}
	}
	if n := len(views[hilversum].Cases(false)); n != 1 {
		t.Errorf("hilversum active cases %d, want 1", n)
	}
	hz := views[huizen].Cases(false)
	if len(hz) != 1 || hz[0].GetCaseId() != c || hz[0].GetGemeente() != huizen ||
		event.FormatDate(hz[0].GetAanmeldDatum()) != "2025-03-02" {
		t.Errorf("huizen cases: %v", hz)
	}
	if got := views[huizen].Verwerkt(); got != 3 {
		t.Errorf("huizen verwerkt %d, want 3 (the verhuizing and its own two)", got)
	}
}

// TestVerhuizingHeenEnWeer: A→B→A. A's second period starts from the
// snapshot handed over by B's verhuizing, not from A's own history.
func TestVerhuizingHeenEnWeer(t *testing.T) {
	h := newHistory(t)
	c := h.aanmelden(hilversum, d(2025, 1, 10), bijstand)
	h.record(c, d(2025, 1, 25), intake(trede3, 45))
	h.record(c, d(2025, 2, 10), verhuizing(laren))
	h.record(c, d(2025, 3, 5), plaatsing(lksBaan))
	h.record(c, d(2025, 6, 16), verhuizing(hilversum))

	views := build(h.events, hilversum, laren)
	checkFigures(t, "hilversum back", figuresOf(views[hilversum]), figures{
		actief: 1, toestanden: "geplaatst=1", doelgroepen: "bijstand=1",
		maanden: map[string]string{
			"2025-01": "in aanmelding=1 | uit ",
			"2025-02": "in  | uit verhuizing=1",
			"2025-06": "in verhuizing=1 | uit ",
		}})
	checkFigures(t, "laren after", figuresOf(views[laren]), figures{
		maanden: map[string]string{
			"2025-02": "in verhuizing=1 | uit ",
			"2025-06": "in  | uit verhuizing=1",
		}})
	if segs := views[hilversum].cases[c].segments; len(segs) != 2 {
		t.Fatalf("hilversum keeps %d segments of the case, want 2", len(segs))
	}
	if n := len(views[laren].Cases(true)); n != 1 {
		t.Errorf("laren lists %d cases with closed ones, want 1", n)
	}
	if n := len(views[laren].Cases(false)); n != 0 {
		t.Errorf("laren lists %d active cases, want 0", n)
	}

	h.record(c, d(2025, 8, 29), uitstroom(regulier))
	views = build(h.events, hilversum, laren)
	checkFigures(t, "hilversum closed", figuresOf(views[hilversum]), figures{
		maanden: map[string]string{
			"2025-01": "in aanmelding=1 | uit ",
			"2025-02": "in  | uit verhuizing=1",
			"2025-06": "in verhuizing=1 | uit ",
			"2025-08": "in  | uit regulier-werk=1",
		}})
}

// TestCorrecties: a correction moves figures to where the corrected fact
// belongs; one that the gemeente can not place is counted and ignored.
func TestCorrecties(t *testing.T) {
	h := newHistory(t)
	c := h.aanmelden(hilversum, d(2025, 2, 3), bijstand)
	aanm := h.events[len(h.events)-1]
	h.record(c, d(2025, 2, 17), intake(trede3, 50))
	h.record(c, d(2025, 3, 3), correctie(aanm.GetEnvelope().GetEventId(), d(2025, 1, 28), nil))

	v := build(h.events, hilversum)[hilversum]
	checkFigures(t, "aanmelding dated back", figuresOf(v), figures{
		actief: 1, toestanden: "in traject=1", doelgroepen: "bijstand=1",
		maanden: map[string]string{"2025-01": "in aanmelding=1 | uit "}})

	// A correction of the doelgroep moves the active case.
	fixed := &ledgerv1.Correctie{Vervanging: &ledgerv1.Correctie_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
		ResidentId: aanm.GetAanmelding().GetResidentId(), Doelgroep: beschut, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}
	h.record(c, d(2025, 3, 4), correctie(aanm.GetEnvelope().GetEventId(), d(2025, 1, 28), fixed))
	h.record(c, d(2025, 4, 30), uitstroom(onderwijs))
	uit := h.events[len(h.events)-1]
	h.record(c, d(2025, 5, 2), correctie(uit.GetEnvelope().GetEventId(), d(2025, 5, 1), &ledgerv1.Correctie{
		Vervanging: &ledgerv1.Correctie_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: regulier}}}))
	v = build(h.events, hilversum)[hilversum]
	checkFigures(t, "uitstroom corrected", figuresOf(v), figures{
		maanden: map[string]string{
			"2025-01": "in aanmelding=1 | uit ",
			"2025-05": "in  | uit regulier-werk=1",
		}})
	if a := v.Anomalies(); a != (Anomalies{}) {
		t.Errorf("anomalies %+v, want none", a)
	}

	// What the command side would refuse, but a view must survive: a
	// correctie in Huizen of an event only Hilversum saw, one of a
	// correctie, and one that replaces an intake by a plaatsing.
	intakeID := h.cases[c][1].GetEnvelope().GetEventId()
	corrID := h.cases[c][2].GetEnvelope().GetEventId()
	for _, bad := range []struct {
		gm, of string
		c      *ledgerv1.Correctie
	}{
		{huizen, aanm.GetEnvelope().GetEventId(), nil},
		{hilversum, corrID, nil},
		{hilversum, intakeID, &ledgerv1.Correctie{Vervanging: &ledgerv1.Correctie_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: lksBaan}}}},
	} {
		ev := correctie(bad.of, d(2025, 6, 1), bad.c)
		ev.Envelope = &ledgerv1.Envelope{CaseId: c, Gemeente: bad.gm, OccurredOn: d(2025, 6, 1)}
		h.seal(ev)
	}
	views := build(h.events, hilversum, huizen)
	checkFigures(t, "hilversum after bad corrections", figuresOf(views[hilversum]), figures{
		maanden: map[string]string{
			"2025-01": "in aanmelding=1 | uit ",
			"2025-05": "in  | uit regulier-werk=1",
		}})
	if a := views[hilversum].Anomalies(); a.SkippedCorrecties != 2 {
		t.Errorf("hilversum anomalies %+v, want 2 skipped corrections", a)
	}
	if a := views[huizen].Anomalies(); a.SkippedCorrecties != 1 || views[huizen].Verwerkt() != 1 || len(views[huizen].cases) != 0 {
		t.Errorf("huizen anomalies %+v verwerkt %d cases %d, want 1 skipped correction and no case", a, views[huizen].Verwerkt(), len(views[huizen].cases))
	}
}

// TestApplyTwiceAndMisrouted: an event the view holds changes nothing; one
// not addressed to it is counted; one of a case never begun is counted.
func TestApplyTwiceAndMisrouted(t *testing.T) {
	h := newHistory(t)
	c := h.aanmelden(hilversum, d(2025, 1, 6), wsw)
	h.record(c, d(2025, 1, 20), intake(trede3, 40))
	o := h.aanmelden(huizen, d(2025, 1, 7), wsw)
	h.record(o, d(2025, 1, 21), intake(trede3, 40))

	v := NewView(hilversum, "Hilversum")
	for _, ev := range h.events {
		v.Apply(ev)
	}
	want := figuresOf(v)
	for _, ev := range h.events {
		v.Apply(ev)
	}
	checkFigures(t, "applied twice", figuresOf(v), want)
	a := v.Anomalies()
	if a.Duplicates != 2 || a.NotAddressed != 4 || v.Verwerkt() != 2 {
		t.Errorf("anomalies %+v verwerkt %d, want 2 duplicates, 4 not addressed, 2 verwerkt", a, v.Verwerkt())
	}

	w := NewView(huizen, "Huizen")
	w.Apply(h.events[3]) // the intake without its aanmelding
	if w.Anomalies().Orphans != 1 || w.Actief() != 0 || len(w.Cases(true)) != 0 {
		t.Errorf("orphan: anomalies %+v actief %d", w.Anomalies(), w.Actief())
	}
}

// TestSnapshotHoldsNoPersonalData: the view keeps no personal data (not
// even encrypted), no free text and no actor.
func TestSnapshotHoldsNoPersonalData(t *testing.T) {
	h := newHistory(t)
	c := h.aanmelden(hilversum, d(2025, 1, 6), wsw)
	h.record(c, d(2025, 1, 20), intake(trede3, 40))
	h.record(c, d(2025, 2, 1), plaatsing(lksBaan))
	h.record(c, d(2025, 3, 1), uitval(ziekte))
	v := build(h.events, hilversum)[hilversum]
	for _, seg := range v.cases[c].segments {
		for _, k := range seg.events {
			for _, secret := range []string{"geheim", "groenvoorziening", "vrije tekst", "mw-0001"} {
				if bytes.Contains(k.data, []byte(secret)) {
					t.Errorf("event %s in the view holds %q", k.id, secret)
				}
			}
		}
	}
	// The caller's events are not changed.
	if h.events[0].GetAanmelding().GetPersoonsgegevens() == nil || h.events[0].GetEnvelope().GetActor() == "" {
		t.Error("Apply changed the event it was given")
	}

	// Nor does it keep the command digest or an imported event's source
	// record, which no figure reads.
	imported := proto.Clone(h.events[1]).(*ledgerv1.Event)
	imported.Envelope.EventId = "0b7e6c2a-1d3f-4e5a-9b8c-7d6e5f4a3b2c"
	imported.Envelope.CommandDigest = []byte("digest-of-the-command-0123456789")
	imported.Envelope.Bron = &ledgerv1.Bron{Systeem: "oud-systeem", Record: "rec-1"}
	w := build(h.events[:1], hilversum)[hilversum]
	w.Apply(imported)
	evs, err := decodeAll(w.cases[c].segments[0].events)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if len(ev.GetEnvelope().GetCommandDigest()) != 0 || ev.GetEnvelope().GetBron() != nil {
			t.Errorf("%s event in the view keeps its command digest or source", event.Type(ev))
		}
	}
	if n := len(w.cases[c].segments[0].events); n != 2 {
		t.Fatalf("the view holds %d events of the case, want 2", n)
	}
}

// TestGeneratedHistory checks the view against independent truths over a
// realistic generated history: (1) the regional fold of every whole case
// says which gemeente carries it and in what state; (2) a view restored from
// its JSON, whose figures are derived from scratch, equals the incremental
// one byte for byte; (3) two views of the same events are identical.
func TestGeneratedHistory(t *testing.T) {
	codes := []string{hilversum, huizen, laren}
	h := generate(t, 1, 3000, codes)
	views := build(h.events, codes...)

	type key struct {
		gm string
		t  ledgerv1.Toestand
		dg ledgerv1.Doelgroep
	}
	truth := map[key]int64{}
	moved := 0
	for _, hist := range h.cases {
		s, err := caseflow.Fold(hist)
		if err != nil {
			t.Fatal(err)
		}
		if s.Open() {
			truth[key{s.Gemeente, s.Toestand, s.Doelgroep}]++
		}
		for _, ev := range hist {
			if ev.GetVerhuizing() != nil {
				moved++
			}
		}
	}
	if moved < 50 {
		t.Fatalf("generated history has %d verhuizingen; too few to test", moved)
	}
	for _, gm := range codes {
		got := map[key]int64{}
		for _, cs := range views[gm].Cases(false) {
			got[key{gm, cs.GetToestand(), cs.GetDoelgroep()}]++
		}
		var sum int64
		for k, n := range truth {
			if k.gm == gm {
				sum += n
				if got[k] != n {
					t.Errorf("%s %v %v: view has %d active, the cases' own fold %d", gm, k.t, k.dg, got[k], n)
				}
			}
		}
		if views[gm].Actief() != sum {
			t.Errorf("%s actief %d, want %d", gm, views[gm].Actief(), sum)
		}
		if a := views[gm].Anomalies(); a != (Anomalies{}) {
			t.Errorf("%s anomalies %+v", gm, a)
		}

		data, err := json.Marshal(views[gm])
		if err != nil {
			t.Fatal(err)
		}
		snap := &snapshot{Format: snapshotFormat, Gemeente: gm, Seq: 7, View: views[gm]}
		base, err := encodeSnapshot(snap)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeSnapshot(base, gm)
		if err != nil {
			t.Fatal(err)
		}
		restored := back.View
		if !proto.Equal(restored.Proto(BronLive), views[gm].Proto(BronLive)) {
			t.Errorf("%s: figures derived from scratch differ from the incremental ones", gm)
		}
		if again, _ := json.Marshal(restored); !bytes.Equal(again, data) {
			t.Errorf("%s: a view restored from its snapshot differs", gm)
		}
		if again, _ := encodeSnapshot(back); !bytes.Equal(again, base) {
			t.Errorf("%s: the snapshot of a restored view differs", gm)
		}
		twin, _ := json.Marshal(build(h.events, gm)[gm])
		if !bytes.Equal(twin, data) {
			t.Errorf("%s: two views of the same events give different JSON", gm)
		}
	}
}

// BenchmarkApply measures View.Apply over a generated history of 100k
// events, routed to the views of three gemeenten.
func BenchmarkApply(b *testing.B) {
	codes := []string{hilversum, huizen, laren}
	h := generate(b, 7, 100_000, codes)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		build(h.events, codes...)
	}
	b.ReportMetric(float64(b.N*len(h.events))/time.Since(start).Seconds(), "events/s")
	// What the views hold, the history itself not counted: per event it is
	// what a server at a million events keeps in its caseload views.
	b.StopTimer()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	views := build(h.events, codes...)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(len(h.events)), "view-heap-B/event")
	runtime.KeepAlive(views)
}

// BenchmarkEncodeSnapshot writes the base of Hilversum's view of a generated
// history of 100k events: grown from nothing, and in a buffer sized from the
// previous base, as writeBase does.
func BenchmarkEncodeSnapshot(b *testing.B) {
	h := generate(b, 7, 100_000, []string{hilversum, huizen, laren})
	snap := &snapshot{Format: snapshotFormat, Gemeente: hilversum, Seq: 7, View: build(h.events, hilversum, huizen, laren)[hilversum]}
	first, err := encodeSnapshot(snap)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		buf  func() []byte
	}{
		{"grown", func() []byte { return nil }},
		{"sized", func() []byte { return make([]byte, 0, len(first)+len(first)/8) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				data, err := appendSnapshot(tc.buf(), snap)
				if err != nil || len(data) != len(first) {
					b.Fatalf("%d bytes, %v; want %d", len(data), err, len(first))
				}
			}
			b.ReportMetric(float64(len(first))/(1<<20), "MB")
		})
	}
}
