package beleidsview

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/projections/caseload"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestOneDefinitionOfCaseload: a gemeente's caseload is computed twice, by
// its caseload view from the events it receives on the bus (event.Audience)
// and by the beleidsview from the regional model. Over generated histories
// full of verhuizingen and of corrections after them (of the doelgroep, the
// trede and loonwaarde, the placement type, dates), both say the same on
// every day: the caseload, by doelgroep, and the instroom and uitstroom of
// every month by reason.
func TestOneDefinitionOfCaseload(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			reg := registry(t)
			codes := reg.Codes()
			s := newRegionSim(t, seed, codes)
			views := map[string]*caseload.View{}
			for _, g := range codes {
				views[g] = caseload.NewView(g, g)
			}
			checked := 0
			for day := region.YMD(2026, time.January, 5); day <= region.YMD(2026, time.December, 31); day++ {
				for _, ev := range s.day(day) {
					for _, g := range event.Audience(ev, codes) {
						views[g].Apply(ev)
					}
				}
				if day%3 != 0 && day != region.YMD(2026, time.December, 31) {
					continue
				}
				bvs, err := ComputeAll(s.m, reg, "GM0402", 2026, 0, day)
				if err != nil {
					t.Fatal(err)
				}
				for _, bv := range bvs {
					v := views[bv.GetGemeente()]
					if a := v.Anomalies(); a != (caseload.Anomalies{}) {
						t.Fatalf("%s on %s: the caseload view could not place events: %+v", bv.GetGemeente(), day, a)
					}
					if got, want := caseloadFigures(v.Proto(caseload.BronLive)), beleidsFigures(bv); got != want {
						t.Fatalf("%s on %s: the two views disagree\ncaseload view:\n%s\nbeleidsview:\n%s", bv.GetGemeente(), day, got, want)
					}
					checked++
				}
			}
			// The property is only worth something if the histories hold
			// what broke it: corrections of facts handed over at a
			// verhuizing, which change the snapshot.
			if s.handed < 10 || s.moves < 50 || s.corrections < 50 {
				t.Fatalf("the history is too tame: %d verhuizingen, %d corrections, %d of them of a handed-over fact", s.moves, s.corrections, s.handed)
			}
			t.Logf("%d events, %d verhuizingen, %d corrections (%d of a handed-over fact), %d comparisons", s.events, s.moves, s.corrections, s.handed, checked)
		})
	}
}

// caseloadFigures prints what both views count, from a caseload view.
func caseloadFigures(v *ledgerv1.CaseloadView) string {
	var b strings.Builder
	var dg []string
	for _, c := range v.GetPerDoelgroep() {
		dg = append(dg, fmt.Sprintf("%s %d", DoelgroepWord(c.GetDoelgroep()), c.GetAantal()))
	}
	slices.Sort(dg)
	fmt.Fprintf(&b, "caseload %d | %s\n", v.GetActief(), strings.Join(dg, ", "))
	for _, m := range v.GetPerMaand() {
		in, uit := redenen(m.GetInstroomPerReden()), redenen(m.GetUitstroomPerReden())
		fmt.Fprintf(&b, "%s in %s | uit %s\n", m.GetMaand(), in, uit)
	}
	return b.String()
}

func redenen(rs []*ledgerv1.RedenCount) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s %d", r.GetReden(), r.GetAantal()))
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// beleidsFigures prints the same from a beleidsview of the year up to a
// day: the caseload on the peildatum and the months with any flow.
func beleidsFigures(bv *ledgerv1.Beleidsview) string {
	var b strings.Builder
	tel := func(ts []*ledgerv1.Telling) string {
		var out []string
		for _, t := range ts {
			if t.GetAantal() != 0 {
				out = append(out, fmt.Sprintf("%s %d", t.GetSleutel(), t.GetAantal()))
			}
		}
		slices.Sort(out)
		return strings.Join(out, ", ")
	}
	fmt.Fprintf(&b, "caseload %d | %s\n", bv.GetTotaal().GetCaseload(), tel(bv.GetTotaal().GetCaseloadPerDoelgroep()))
	for _, p := range bv.GetPerMaand() {
		if p.GetInstroom() == 0 && p.GetUitstroom() == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s in %s | uit %s\n", p.GetPeriode(), tel(p.GetInstroomPerReden()), tel(p.GetUitstroomPerReden()))
	}
	return b.String()
}

// regionSim records a region's days: every event decided by caseflow.Decide
// against its case's history, as the ledger would, and applied to a
// regional model as stored.
type regionSim struct {
	t     testing.TB
	r     *rand.Rand
	codes []string
	m     *region.Model
	cases map[string][]*ledgerv1.Event
	open  []string
	seq   uint64
	revs  map[string]uint64

	events, moves, corrections, handed int
}

func newRegionSim(t testing.TB, seed uint64, codes []string) *regionSim {
	return &regionSim{t: t, r: rand.New(rand.NewPCG(seed, 0x0e3d)), codes: codes, m: region.New(nil),
		cases: map[string][]*ledgerv1.Event{}, revs: map[string]uint64{}}
}

func (s *regionSim) id() string {
	s.seq++
	return uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "one-definition-%d", s.seq)).String()
}

// day records the events of one day and returns them in store order.
func (s *regionSim) day(d region.Day) []*ledgerv1.Event {
	var out []*ledgerv1.Event
	for range 3 + s.r.IntN(5) {
		var caseID, gm string
		var draft *ledgerv1.Event
		if len(s.open) < 25 || s.r.IntN(6) == 0 {
			gm = s.codes[s.r.IntN(len(s.codes))]
			draft = &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
				ResidentId: fmt.Sprintf("r-%d", s.seq), Doelgroep: ledgerv1.Doelgroep(1 + s.r.IntN(5)),
				Verwijzer: ledgerv1.Verwijzer_VERWIJZER_WERKCENTRUM,
			}}}
		} else {
			caseID = s.open[s.r.IntN(len(s.open))]
			draft = s.next(caseID, d)
		}
		if draft == nil {
			continue
		}
		if caseID == "" {
			caseID = s.id()
		}
		draft.Envelope = &ledgerv1.Envelope{CaseId: caseID, Gemeente: gm, OccurredOn: d.Date()}
		ev, err := caseflow.Decide(s.cases[caseID], draft, caseflow.Rules{Today: d.Date()})
		if err != nil {
			// A draft the ledger refuses (a correction that would break
			// the history) is not recorded, as in real life.
			continue
		}
		env := ev.GetEnvelope()
		env.EventId = s.id()
		env.RecordedAt = timestamppb.New(d.Time().Add(time.Duration(s.seq) * time.Second))
		env.SchemaVersion = event.SchemaVersion
		s.cases[caseID] = append(s.cases[caseID], ev)
		stream := "case-" + caseID
		s.m.Apply(store.RecordedEvent{Position: store.Position{Commit: s.seq, Prepare: s.seq}, Revision: s.revs[stream]}, ev)
		s.revs[stream]++
		s.events++
		switch {
		case ev.GetVerhuizing() != nil:
			s.moves++
		case ev.GetCorrectie() != nil:
			s.corrections++
			if len(ev.GetCorrectie().GetOverdrachten()) > 0 {
				s.handed++
			}
		case ev.GetAanmelding() != nil:
			s.open = append(s.open, caseID)
		case ev.GetUitstroom() != nil:
			i := slices.Index(s.open, caseID)
			s.open = slices.Delete(s.open, i, i+1)
		}
		out = append(out, ev)
	}
	return out
}

// next drafts the next transition of an open case: mostly the journey,
// often a verhuizing, and often a correction of an earlier fact.
func (s *regionSim) next(caseID string, d region.Day) *ledgerv1.Event {
	st, err := caseflow.Fold(s.cases[caseID])
	if err != nil {
		s.t.Fatal(err)
	}
	x := s.r.IntN(100)
	switch {
	case x < 25:
		return s.correction(caseID, d)
	case x < 40:
		naar := st.Gemeente
		for naar == st.Gemeente {
			naar = s.codes[s.r.IntN(len(s.codes))]
		}
		return &ledgerv1.Event{Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{NaarGemeente: naar}}}
	}
	intake := &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede(1 + s.r.IntN(5)), LoonwaardeProcent: uint32(s.r.IntN(101))}}}
	switch st.Toestand {
	case ledgerv1.Toestand_TOESTAND_AANGEMELD:
		return intake
	case ledgerv1.Toestand_TOESTAND_IN_TRAJECT, ledgerv1.Toestand_TOESTAND_UITGEVALLEN, ledgerv1.Toestand_TOESTAND_VANGNET:
		if x < 75 {
			return &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType(1 + s.r.IntN(6)), MinutenPerWeek: 1200}}}
		}
	case ledgerv1.Toestand_TOESTAND_GEPLAATST:
		switch {
		case x < 55:
			return &ledgerv1.Event{Payload: &ledgerv1.Event_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden(1 + s.r.IntN(5))}}}
		case x < 65:
			return &ledgerv1.Event{Payload: &ledgerv1.Event_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{VangnetType: ledgerv1.PlaatsingType_PLAATSING_TYPE_DAGBESTEDING}}}
		case x < 75:
			return intake
		}
	}
	return &ledgerv1.Event{Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden(1 + s.r.IntN(4))}}}
}

// correction drafts a correction of an earlier event of the case: another
// doelgroep, trede and loonwaarde, placement type, or an earlier date.
func (s *regionSim) correction(caseID string, d region.Day) *ledgerv1.Event {
	var cands []*ledgerv1.Event
	for _, ev := range s.cases[caseID] {
		switch ev.GetPayload().(type) {
		case *ledgerv1.Event_Aanmelding, *ledgerv1.Event_Intake, *ledgerv1.Event_Plaatsing, *ledgerv1.Event_Uitval:
			cands = append(cands, ev)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	orig := cands[s.r.IntN(len(cands))]
	c := &ledgerv1.Correctie{Corrigeert: orig.GetEnvelope().GetEventId(), Reden: "verkeerd ingevoerd", Datum: orig.GetEnvelope().GetOccurredOn()}
	switch p := orig.GetPayload().(type) {
	case *ledgerv1.Event_Aanmelding:
		a := proto.Clone(p.Aanmelding).(*ledgerv1.Aanmelding)
		a.Doelgroep = ledgerv1.Doelgroep(1 + s.r.IntN(5))
		c.Vervanging = &ledgerv1.Correctie_Aanmelding{Aanmelding: a}
	case *ledgerv1.Event_Intake:
		in := proto.Clone(p.Intake).(*ledgerv1.Intake)
		in.Trede, in.LoonwaardeProcent = ledgerv1.Trede(1+s.r.IntN(5)), uint32(s.r.IntN(101))
		c.Vervanging = &ledgerv1.Correctie_Intake{Intake: in}
	case *ledgerv1.Event_Plaatsing:
		pl := proto.Clone(p.Plaatsing).(*ledgerv1.Plaatsing)
		pl.Type, pl.Product = ledgerv1.PlaatsingType(1+s.r.IntN(6)), ""
		c.Vervanging = &ledgerv1.Correctie_Plaatsing{Plaatsing: pl}
	}
	if s.r.IntN(3) == 0 {
		// Also (or only) the date was wrong: a few days earlier, within
		// the year the views show.
		od := region.DayOf(orig.GetEnvelope().GetOccurredOn())
		c.Datum = max(od-region.Day(1+s.r.IntN(20)), region.YMD(2026, time.January, 1)).Date()
	}
	return &ledgerv1.Event{Payload: &ledgerv1.Event_Correctie{Correctie: c}}
}
