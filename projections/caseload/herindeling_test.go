package caseload

import (
	"slices"
	"strings"
	"testing"

	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

const (
	wijdemeren = "GM1696"
	weesp      = "GM0457"
)

func herindelingRegistry(t *testing.T) *gemeente.Registry {
	t.Helper()
	reg, err := gemeente.Load("../../services/gemeente/testdata/herindeling.json")
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestHerindelingCompose: the views of an ended gemeente and its successor
// as of a day before and after the herindeling, whichever bus stream was
// read first.
func TestHerindelingCompose(t *testing.T) {
	reg := herindelingRegistry(t)
	h := newHistory(t)
	h.reg = reg
	wsw, bijstand := ledgerv1.Doelgroep_DOELGROEP_WSW, ledgerv1.Doelgroep_DOELGROEP_BIJSTAND
	// Open across the day, placed; goes on under Hilversum and flows out
	// in February.
	a := h.aanmelden(wijdemeren, d(2026, 3, 2), wsw)
	h.record(a, d(2026, 3, 9), intake(ledgerv1.Trede_TREDE_BESCHUT, 40))
	h.record(a, d(2026, 4, 1), plaatsing(ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK))
	// Open across the day, in traject; no event after.
	b := h.aanmelden(wijdemeren, d(2026, 9, 1), bijstand)
	h.record(b, d(2026, 9, 8), intake(ledgerv1.Trede_TREDE_ONTWIKKELBAAR, 60))
	// Closed before the day: stays Wijdemeren's history.
	c := h.aanmelden(wijdemeren, d(2026, 2, 1), bijstand)
	h.record(c, d(2026, 6, 1), uitstroom(ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK))
	// Weesp's open case ends with its gemeente.
	w := h.aanmelden(weesp, d(2026, 5, 4), wsw)
	// Hilversum's own case.
	h.aanmelden(hilversum, d(2026, 10, 1), bijstand)
	// After the day: a carried case flows out under Hilversum.
	uit := h.record(a, d(2027, 2, 3), uitstroom(ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK))
	if g := uit.GetEnvelope().GetGemeente(); g != hilversum {
		t.Fatalf("uitstroom after the day recorded under %s", g)
	}
	if _, err := h.try(w, "", d(2027, 1, 5), uitval(ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE)); err == nil {
		t.Fatal("a Weesp case took a transition after Weesp ended")
	}

	codes := []string{hilversum, huizen, wijdemeren, weesp}
	inOrder := build(h.events, codes...)
	// The same events, Hilversum's bus stream read before Wijdemeren's.
	var hilFirst []*ledgerv1.Event
	for _, pass := range []func(*ledgerv1.Event) bool{
		func(ev *ledgerv1.Event) bool { return ev.GetEnvelope().GetGemeente() == hilversum },
		func(ev *ledgerv1.Event) bool { return ev.GetEnvelope().GetGemeente() != hilversum },
	} {
		for _, ev := range h.events {
			if pass(ev) {
				hilFirst = append(hilFirst, ev)
			}
		}
	}
	swapped := build(hilFirst, codes...)

	compose := func(views map[string]*View, code string, day *ledgerv1.Date) *Composed {
		return Compose(code, func(g string) *View { return views[g] }, reg, day)
	}
	for _, tc := range []struct {
		code string
		day  *ledgerv1.Date
		want figures
	}{
		{wijdemeren, d(2026, 12, 31), figures{actief: 2, toestanden: "in traject=1 geplaatst=1", doelgroepen: "wsw=1 bijstand=1", maanden: map[string]string{
			"2026-02": "in aanmelding=1 | uit ", "2026-03": "in aanmelding=1 | uit ", "2026-06": "in  | uit regulier-werk=1", "2026-09": "in aanmelding=1 | uit ",
		}}},
		{wijdemeren, d(2027, 1, 1), figures{actief: 0, maanden: map[string]string{
			"2026-02": "in aanmelding=1 | uit ", "2026-03": "in aanmelding=1 | uit ", "2026-06": "in  | uit regulier-werk=1", "2026-09": "in aanmelding=1 | uit ",
			"2026-12": "in  | uit herindeling=2",
		}}},
		{hilversum, d(2026, 12, 31), figures{actief: 1, toestanden: "aangemeld=1", doelgroepen: "bijstand=1", maanden: map[string]string{"2026-10": "in aanmelding=1 | uit "}}},
		{hilversum, d(2027, 3, 1), figures{actief: 2, toestanden: "aangemeld=1 in traject=1", doelgroepen: "bijstand=2", maanden: map[string]string{
			"2026-10": "in aanmelding=1 | uit ", "2027-01": "in herindeling=2 | uit ", "2027-02": "in  | uit regulier-werk=1",
		}}},
		{weesp, d(2027, 1, 1), figures{actief: 0, maanden: map[string]string{"2026-05": "in aanmelding=1 | uit ", "2026-12": "in  | uit herindeling-buiten-regeling=1"}}},
	} {
		for name, views := range map[string]map[string]*View{"in store order": inOrder, "Hilversum's stream first": swapped} {
			c := compose(views, tc.code, tc.day)
			checkFigures(t, tc.code+" on "+tc.day.String()+", "+name, figuresOfProto(c.Proto(BronLive)), tc.want)
			if an := c.Anomalies(); (an.Orphans != 0 || an.SkippedCorrecties != 0) && !(tc.code == hilversum && tc.day.GetYear() == 2026) {
				t.Errorf("%s on %s, %s: anomalies %+v", tc.code, tc.day, name, an)
			}
		}
	}
	// Before the day Hilversum holds the February uitstroom without its
	// start: an orphan until the herindeling claims it.
	if an := compose(inOrder, hilversum, d(2026, 12, 31)).Anomalies(); an.Orphans != 1 {
		t.Errorf("Hilversum before the day: %+v, want the held event as orphan", an)
	}

	// The case lists: Hilversum lists b (a has flowed out); Wijdemeren
	// lists nothing open, and with closed ones a and b as Hilversum's.
	ids := func(ss []*ledgerv1.CaseSummary) (out []string) {
		for _, s := range ss {
			out = append(out, s.GetCaseId()+"@"+s.GetGemeente())
		}
		slices.Sort(out)
		return out
	}
	hil := compose(inOrder, hilversum, d(2027, 3, 1))
	if got := ids(hil.Cases(false)); len(got) != 2 || !slices.Contains(got, b+"@"+hilversum) {
		t.Errorf("Hilversum's open cases %v, want b and its own", got)
	}
	wij := compose(inOrder, wijdemeren, d(2027, 3, 1))
	if got := wij.Cases(false); len(got) != 0 {
		t.Errorf("Wijdemeren's open cases after the day: %v", ids(got))
	}
	if got := ids(wij.Cases(true)); !slices.Equal(got, ids([]*ledgerv1.CaseSummary{{CaseId: a, Gemeente: hilversum}, {CaseId: b, Gemeente: hilversum}, {CaseId: c, Gemeente: wijdemeren}})) {
		t.Errorf("Wijdemeren's cases with closed: %v", got)
	}
	if info := hil.Proto(BronLive).GetHerindelingen(); len(info) != 1 || info[0].GetVan() != wijdemeren || !strings.Contains(info[0].GetToelichting(), "Archiefwet") {
		t.Errorf("Hilversum's view does not say it carries Wijdemeren: %v", info)
	}
}
