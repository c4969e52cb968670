package caseflow

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/bounds"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

const testGemeenten = `{"gemeenten": [
  {"code": "GM0402", "naam": "Hilversum",    "geldig_van": "2015-01-01"},
  {"code": "GM1942", "naam": "Gooise Meren", "geldig_van": "2016-01-01"},
  {"code": "GM0457", "naam": "Weesp",        "geldig_van": "2015-01-01", "geldig_tot": "2022-03-24", "opvolger": "GM0363"},
  {"code": "GM1696", "naam": "Wijdemeren",   "geldig_van": "2015-01-01", "geldig_tot": "2027-01-01", "opvolger": "GM0402"}
]}`

func testRules(t *testing.T) Rules {
	t.Helper()
	reg, err := gemeente.Parse(strings.NewReader(testGemeenten))
	if err != nil {
		t.Fatal(err)
	}
	return Rules{Gemeenten: reg, Today: event.YMD(2026, time.November, 24)}
}

// journey records drafts through Decide, as the Handler would, so that test
// histories are histories the ledger could really hold.
type journey struct {
	t       *testing.T
	rules   Rules
	caseID  string
	history []*ledgerv1.Event
}

func newJourney(t *testing.T) *journey {
	return &journey{t: t, rules: testRules(t), caseID: uuid.NewString()}
}

func (j *journey) try(d *ledgerv1.Event) (*ledgerv1.Event, error) {
	if d.Envelope == nil {
		d.Envelope = &ledgerv1.Envelope{}
	}
	d.Envelope.CaseId = j.caseID
	ev, err := Decide(j.history, d, j.rules)
	if err != nil {
		return nil, err
	}
	ev.Envelope.EventId = uuid.NewString()
	ev.Envelope.RecordedAt = timestamppb.New(recordedAt)
	return ev, nil
}

// do records a step of the case's past: decided as it was then, so not
// held to who participates today (Rules.History).
func (j *journey) do(d *ledgerv1.Event) *ledgerv1.Event {
	j.t.Helper()
	live := j.rules
	j.rules.History = true
	ev, err := j.try(d)
	j.rules = live
	if err != nil {
		j.t.Fatalf("%s: %v", event.Type(d), err)
	}
	j.history = append(j.history, ev)
	return ev
}

func (j *journey) state() State {
	j.t.Helper()
	s, err := Replay(j.history)
	if err != nil {
		j.t.Fatal(err)
	}
	return s
}

func day(m time.Month, d int) *ledgerv1.Date { return event.YMD(2026, m, d) }

func on(d *ledgerv1.Date, gm string) *ledgerv1.Envelope {
	return &ledgerv1.Envelope{OccurredOn: d, Gemeente: gm}
}

func aanmelding(d *ledgerv1.Date, gm string) *ledgerv1.Event {
	return &ledgerv1.Event{Envelope: on(d, gm), Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
		ResidentId: "R-test-1", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV,
	}}}
}

func intake(d *ledgerv1.Date) *ledgerv1.Event {
	return &ledgerv1.Event{Envelope: on(d, ""), Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{
		Trede: ledgerv1.Trede_TREDE_BESCHUT, LoonwaardeProcent: 40,
	}}}
}

func plaatsing(d *ledgerv1.Date, typ ledgerv1.PlaatsingType) *ledgerv1.Event {
	return &ledgerv1.Event{Envelope: on(d, ""), Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{
		Type: typ, Werkgever: "Tomin", MinutenPerWeek: 32 * 60,
	}}}
}

func uitval(d *ledgerv1.Date) *ledgerv1.Event {
	return &ledgerv1.Event{Envelope: on(d, ""), Payload: &ledgerv1.Event_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE}}}
}

func vangnet(d *ledgerv1.Date) *ledgerv1.Event {
	return &ledgerv1.Event{Envelope: on(d, ""), Payload: &ledgerv1.Event_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{
		VangnetType: ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK,
	}}}
}

func uitstroom(d *ledgerv1.Date) *ledgerv1.Event {
	return &ledgerv1.Event{Envelope: on(d, ""), Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK}}}
}

func verhuizing(d *ledgerv1.Date, naar string) *ledgerv1.Event {
	return &ledgerv1.Event{Envelope: on(d, ""), Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{NaarGemeente: naar}}}
}

func correctie(d *ledgerv1.Date, of string, c *ledgerv1.Correctie) *ledgerv1.Event {
	c.Corrigeert = of
	if c.Reden == "" {
		c.Reden = "verkeerde doelgroep ingevoerd"
	}
	return &ledgerv1.Event{Envelope: on(d, ""), Payload: &ledgerv1.Event_Correctie{Correctie: c}}
}

const (
	aangemeld    = ledgerv1.Toestand_TOESTAND_AANGEMELD
	inTraject    = ledgerv1.Toestand_TOESTAND_IN_TRAJECT
	geplaatst    = ledgerv1.Toestand_TOESTAND_GEPLAATST
	opVangnet    = ledgerv1.Toestand_TOESTAND_VANGNET
	uitgevallen  = ledgerv1.Toestand_TOESTAND_UITGEVALLEN
	uitgestroomd = ledgerv1.Toestand_TOESTAND_UITGESTROOMD
	beschut      = ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK
	detachering  = ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING
)

// TestStateMachine is the whole table: every transition from every state,
// allowed (with the state it leads to) or refused (with the rule).
func TestStateMachine(t *testing.T) {
	// Histories that bring a case into each state, dated in January.
	states := []struct {
		name  string
		build func(j *journey)
	}{
		{"nieuw", func(j *journey) {}},
		{"aangemeld", func(j *journey) { j.do(aanmelding(day(1, 5), "GM0402")) }},
		{"in traject", func(j *journey) {
			j.do(aanmelding(day(1, 5), "GM0402"))
			j.do(intake(day(1, 6)))
		}},
		{"geplaatst", func(j *journey) {
			j.do(aanmelding(day(1, 5), "GM0402"))
			j.do(intake(day(1, 6)))
			j.do(plaatsing(day(1, 7), beschut))
		}},
		{"op vangnet", func(j *journey) {
			j.do(aanmelding(day(1, 5), "GM0402"))
			j.do(intake(day(1, 6)))
			j.do(plaatsing(day(1, 7), beschut))
			j.do(vangnet(day(1, 8)))
		}},
		{"uitgevallen", func(j *journey) {
			j.do(aanmelding(day(1, 5), "GM0402"))
			j.do(intake(day(1, 6)))
			j.do(plaatsing(day(1, 7), beschut))
			j.do(uitval(day(1, 8)))
		}},
		{"uitgestroomd", func(j *journey) {
			j.do(aanmelding(day(1, 5), "GM0402"))
			j.do(intake(day(1, 6)))
			j.do(uitstroom(day(1, 7)))
		}},
		{"uitgestroomd naar school", func(j *journey) {
			j.do(aanmelding(day(1, 5), "GM0402"))
			j.do(intake(day(1, 6)))
			ev := uitstroom(day(1, 7))
			ev.GetUitstroom().Reden = ledgerv1.UitstroomReden_UITSTROOM_REDEN_ONDERWIJS
			j.do(ev)
		}},
	}
	when := day(6, 1)
	transitions := []struct {
		name  string
		draft func(j *journey) *ledgerv1.Event
	}{
		{"aanmelding", func(j *journey) *ledgerv1.Event { return aanmelding(when, "GM0402") }},
		{"intake", func(j *journey) *ledgerv1.Event { return intake(when) }},
		{"plaatsing", func(j *journey) *ledgerv1.Event { return plaatsing(when, beschut) }},
		{"uitval", func(j *journey) *ledgerv1.Event { return uitval(when) }},
		{"vangnet", func(j *journey) *ledgerv1.Event { return vangnet(when) }},
		{"uitstroom", func(j *journey) *ledgerv1.Event { return uitstroom(when) }},
		{"verhuizing", func(j *journey) *ledgerv1.Event { return verhuizing(when, "GM1942") }},
		{"correctie", func(j *journey) *ledgerv1.Event {
			var first string
			if len(j.history) > 0 {
				first = j.history[0].GetEnvelope().GetEventId()
			}
			// No date: the corrected fact keeps its own.
			return correctie(nil, first, &ledgerv1.Correctie{Vervanging: &ledgerv1.Correctie_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
				ResidentId: "R-test-1", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_WSW, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV,
				WswIndicatieSinds: &ledgerv1.Date{Year: 2009, Month: 4, Day: 1},
			}}})
		}},
	}
	type outcome struct {
		rule string            // refused by this rule, or "" when allowed
		next ledgerv1.Toestand // state after an allowed transition
	}
	ok := func(next ledgerv1.Toestand) outcome { return outcome{next: next} }
	no := func(rule string) outcome { return outcome{rule: rule} }
	table := map[string][]outcome{
		//               aanmelding                         intake         plaatsing                  uitval                   vangnet                          uitstroom         verhuizing        correctie
		"nieuw":       {ok(aangemeld), no(RuleZaakOnbekend), no(RuleZaakOnbekend), no(RuleZaakOnbekend), no(RuleZaakOnbekend), no(RuleZaakOnbekend), no(RuleZaakOnbekend), no(RuleZaakOnbekend)},
		"aangemeld":   {no(RuleAanmeldingNieuweZaak), ok(inTraject), no(RulePlaatsingNaIntake), no(RuleUitvalGeplaatst), no(RuleVangnetVanuitPlaatsing), ok(uitgestroomd), ok(aangemeld), ok(aangemeld)},
		"in traject":  {no(RuleAanmeldingNieuweZaak), ok(inTraject), ok(geplaatst), no(RuleUitvalGeplaatst), no(RuleVangnetVanuitPlaatsing), ok(uitgestroomd), ok(inTraject), ok(inTraject)},
		"geplaatst":   {no(RuleAanmeldingNieuweZaak), ok(geplaatst), ok(geplaatst), ok(uitgevallen), ok(opVangnet), ok(uitgestroomd), ok(geplaatst), ok(geplaatst)},
		"op vangnet":  {no(RuleAanmeldingNieuweZaak), ok(opVangnet), ok(geplaatst), ok(uitgevallen), no(RuleVangnetVanuitPlaatsing), ok(uitgestroomd), ok(opVangnet), ok(opVangnet)},
		"uitgevallen": {no(RuleAanmeldingNieuweZaak), ok(inTraject), ok(geplaatst), no(RuleUitvalGeplaatst), ok(opVangnet), ok(uitgestroomd), ok(uitgevallen), ok(uitgevallen)},
		// Out to regular work: back on the vangnet in the same case (within
		// the policy's months, which Decide judges: TestTerugkeer).
		"uitgestroomd":             {no(RuleAanmeldingNieuweZaak), no(RuleZaakGesloten), no(RuleZaakGesloten), no(RuleZaakGesloten), ok(opVangnet), no(RuleZaakGesloten), no(RuleZaakGesloten), ok(uitgestroomd)},
		"uitgestroomd naar school": {no(RuleAanmeldingNieuweZaak), no(RuleZaakGesloten), no(RuleZaakGesloten), no(RuleZaakGesloten), no(RuleZaakGesloten), no(RuleZaakGesloten), no(RuleZaakGesloten), ok(uitgestroomd)},
	}
	for _, st := range states {
		row, found := table[st.name]
		if !found || len(row) != len(transitions) {
			t.Fatalf("table row %q missing or incomplete", st.name)
		}
		for i, tr := range transitions {
			want := row[i]
			t.Run(st.name+"/"+tr.name, func(t *testing.T) {
				j := newJourney(t)
				st.build(j)
				before := len(j.history)
				ev, err := j.try(tr.draft(j))
				if want.rule != "" {
					var ref *Refusal
					if !errors.As(err, &ref) {
						t.Fatalf("want refusal %s, got event %v, err %v", want.rule, ev, err)
					}
					if ref.Rule != want.rule {
						t.Fatalf("refused by %s (%v), want %s", ref.Rule, err, want.rule)
					}
					if !errors.Is(err, ErrTransitionRefused) {
						t.Errorf("refusal does not unwrap to ErrTransitionRefused: %v", err)
					}
					if len(j.history) != before {
						t.Errorf("a refusal changed the history")
					}
					return
				}
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				j.history = append(j.history, ev)
				if got := j.state().Toestand; got != want.next {
					t.Errorf("after %s from %s: toestand %v, want %v", tr.name, st.name, got, want.next)
				}
			})
		}
	}
}

// TestRules covers every rule that is not about the state the case is in.
func TestRules(t *testing.T) {
	wsw := func(on, sinds *ledgerv1.Date, terug bool) *ledgerv1.Event {
		ev := aanmelding(on, "GM0402")
		a := ev.GetAanmelding()
		a.Doelgroep, a.WswIndicatieSinds, a.Terugkeergarantie = ledgerv1.Doelgroep_DOELGROEP_WSW, sinds, terug
		return ev
	}
	placed := func(j *journey) {
		j.do(aanmelding(day(1, 5), "GM0402"))
		j.do(intake(day(1, 6)))
		j.do(plaatsing(day(1, 7), beschut))
	}
	traject := func(j *journey) {
		j.do(aanmelding(day(1, 5), "GM0402"))
		j.do(intake(day(1, 6)))
	}
	detach := func(start, end *ledgerv1.Date, reason string) *ledgerv1.Event {
		ev := plaatsing(start, detachering)
		ev.GetPlaatsing().GeplandeEinddatum = end
		ev.GetPlaatsing().RedenLanger = reason
		return ev
	}
	cases := []struct {
		name  string
		setup func(j *journey)
		draft func(j *journey) *ledgerv1.Event
		rule  string // "" = allowed
		cause error  // an extra sentinel the refusal must unwrap to
	}{
		{"datum in de toekomst", traject, func(j *journey) *ledgerv1.Event { return plaatsing(day(11, 25), beschut) }, RuleDatumToekomst, nil},
		{"datum vandaag mag", traject, func(j *journey) *ledgerv1.Event { return plaatsing(day(11, 24), beschut) }, "", nil},
		{"datum vóór vorige gebeurtenis", traject, func(j *journey) *ledgerv1.Event { return plaatsing(day(1, 5), beschut) }, RuleDatumVolgorde, nil},
		{"datum gelijk aan vorige mag", traject, func(j *journey) *ledgerv1.Event { return plaatsing(day(1, 6), beschut) }, "", nil},
		{"geen datum", traject, func(j *journey) *ledgerv1.Event { return plaatsing(nil, beschut) }, RuleDatumVerplicht, nil},
		{"geen kalenderdatum", traject, func(j *journey) *ledgerv1.Event { return plaatsing(day(2, 30), beschut) }, RuleDatumVerplicht, nil},
		{"onbekende gemeente", nil, func(j *journey) *ledgerv1.Event { return aanmelding(day(3, 1), "GM9999") }, RuleGemeenteDeelnemer, gemeente.ErrUnknownGemeente},
		{"gemeente niet meer deelnemer", nil, func(j *journey) *ledgerv1.Event { return aanmelding(day(3, 1), "GM0457") }, RuleGemeenteHerindeling, gemeente.ErrMerged},
		{"gemeente deelnemer op die datum, vandaag niet meer", nil, func(j *journey) *ledgerv1.Event { return aanmelding(event.YMD(2020, 3, 1), "GM0457") }, RuleGemeenteDeelnemer, gemeente.ErrNotParticipating},
		{"andere gemeente dan verantwoordelijk", traject, func(j *journey) *ledgerv1.Event {
			ev := plaatsing(day(2, 1), beschut)
			ev.Envelope.Gemeente = "GM1942"
			return ev
		}, RuleGemeenteVerantwoordelijk, nil},
		{"aanmelding zonder client", nil, func(j *journey) *ledgerv1.Event {
			ev := aanmelding(day(3, 1), "GM0402")
			ev.GetAanmelding().ResidentId = ""
			return ev
		}, RuleAanmeldingClient, nil},
		{"aanmelding zonder doelgroep", nil, func(j *journey) *ledgerv1.Event {
			ev := aanmelding(day(3, 1), "GM0402")
			ev.GetAanmelding().Doelgroep = 0
			return ev
		}, RuleAanmeldingDoelgroep, nil},
		{"aanmelding zonder verwijzer", nil, func(j *journey) *ledgerv1.Event {
			ev := aanmelding(day(3, 1), "GM0402")
			ev.GetAanmelding().Verwijzer = 0
			return ev
		}, RuleAanmeldingVerwijzer, nil},
		{"nieuwe Wsw-aanmelding na 2014", nil, func(j *journey) *ledgerv1.Event { return wsw(day(3, 1), nil, false) }, RuleWswGeenInstroom, nil},
		{"Wsw met een indicatie van vóór 2015 mag", nil, func(j *journey) *ledgerv1.Event { return wsw(day(3, 1), event.YMD(2009, 4, 1), false) }, "", nil},
		{"Wsw onder de terugkeergarantie mag", nil, func(j *journey) *ledgerv1.Event { return wsw(day(3, 1), event.YMD(2001, 6, 1), true) }, "", nil},
		{"terugkeergarantie zonder de indicatie", nil, func(j *journey) *ledgerv1.Event { return wsw(day(3, 1), nil, true) }, RuleWswGeenInstroom, nil},
		{"Wsw-indicatie van na 2014", nil, func(j *journey) *ledgerv1.Event { return wsw(day(3, 1), event.YMD(2015, 1, 1), false) }, RuleWswIndicatie, nil},
		{"terugkeergarantie bij een andere doelgroep", nil, func(j *journey) *ledgerv1.Event {
			ev := aanmelding(day(3, 1), "GM0402")
			ev.GetAanmelding().Terugkeergarantie = true
			return ev
		}, RuleWswIndicatie, nil},
		{"correctie naar Wsw zonder indicatie", traject, func(j *journey) *ledgerv1.Event {
			a := proto.Clone(j.history[0].GetAanmelding()).(*ledgerv1.Aanmelding)
			a.Doelgroep = ledgerv1.Doelgroep_DOELGROEP_WSW
			return correctie(day(3, 1), j.history[0].GetEnvelope().GetEventId(), &ledgerv1.Correctie{Reden: "verkeerde doelgroep", Vervanging: &ledgerv1.Correctie_Aanmelding{Aanmelding: a}})
		}, RuleWswGeenInstroom, nil},
		{"intake zonder trede", func(j *journey) { j.do(aanmelding(day(1, 5), "GM0402")) }, func(j *journey) *ledgerv1.Event {
			ev := intake(day(2, 1))
			ev.GetIntake().Trede = 0
			return ev
		}, RuleIntakeTrede, nil},
		{"loonwaarde boven 100", func(j *journey) { j.do(aanmelding(day(1, 5), "GM0402")) }, func(j *journey) *ledgerv1.Event {
			ev := intake(day(2, 1))
			ev.GetIntake().LoonwaardeProcent = 101
			return ev
		}, bounds.RuleBereik, nil},
		{"KvK-nummer van zeven cijfers", traject, func(j *journey) *ledgerv1.Event {
			ev := plaatsing(day(2, 1), beschut)
			ev.GetPlaatsing().WerkgeverKvk = "1234567"
			return ev
		}, RulePlaatsingKvK, nil},
		{"KvK-nummer van acht cijfers", traject, func(j *journey) *ledgerv1.Event {
			ev := plaatsing(day(2, 1), beschut)
			ev.GetPlaatsing().WerkgeverKvk = "12345678"
			return ev
		}, "", nil},
		{"plaatsing zonder soort", traject, func(j *journey) *ledgerv1.Event { return plaatsing(day(2, 1), 0) }, RulePlaatsingType, nil},
		{"onbekende plaatsingssoort", traject, func(j *journey) *ledgerv1.Event { return plaatsing(day(2, 1), 55) }, bounds.RuleWaarde, nil},
		{"onbekende doelgroep", nil, func(j *journey) *ledgerv1.Event {
			ev := aanmelding(day(3, 1), "GM0402")
			ev.GetAanmelding().Doelgroep = 99
			return ev
		}, bounds.RuleWaarde, nil},
		{"client-id is een BSN", nil, func(j *journey) *ledgerv1.Event {
			ev := aanmelding(day(3, 1), "GM0402")
			ev.GetAanmelding().ResidentId = "111222333"
			return ev
		}, RuleAanmeldingClient, nil},
		{"einddatum geen kalenderdatum", traject, func(j *journey) *ledgerv1.Event {
			return detach(day(2, 1), &ledgerv1.Date{Year: 2026, Month: 14, Day: 99}, "")
		}, bounds.RuleDatum, nil},
		{"LKS-bedrag buiten bereik", traject, func(j *journey) *ledgerv1.Event {
			ev := plaatsing(day(2, 1), ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN)
			ev.GetPlaatsing().LksCentPerMaand = 5_000_000_000_000_000_000
			return ev
		}, bounds.RuleBereik, nil},
		{"plaatsing negatief LKS", traject, func(j *journey) *ledgerv1.Event {
			ev := plaatsing(day(2, 1), ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN)
			ev.GetPlaatsing().LksCentPerMaand = -1
			return ev
		}, bounds.RuleBereik, nil},
		{"einddatum vóór start", traject, func(j *journey) *ledgerv1.Event { return detach(day(2, 1), day(2, 1), "") }, RulePlaatsingEinddatum, nil},
		{"detachering zonder einddatum", traject, func(j *journey) *ledgerv1.Event { return detach(day(2, 1), nil, "") }, RuleDetacheringEinddatum, nil},
		{"detachering precies 12 maanden", traject, func(j *journey) *ledgerv1.Event { return detach(day(2, 1), event.YMD(2027, 2, 1), "") }, "", nil},
		{"detachering langer dan 12 maanden", traject, func(j *journey) *ledgerv1.Event { return detach(day(2, 1), event.YMD(2027, 2, 2), "") }, RuleDetacheringMax12, nil},
		{"detachering langer met reden", traject, func(j *journey) *ledgerv1.Event {
			return detach(day(2, 1), event.YMD(2027, 8, 1), "werkgever neemt over na 18 maanden")
		}, "", nil},
		{"uitval zonder reden", placed, func(j *journey) *ledgerv1.Event {
			ev := uitval(day(2, 1))
			ev.GetUitval().Reden = 0
			return ev
		}, RuleUitvalReden, nil},
		{"vangnet zonder soort", placed, func(j *journey) *ledgerv1.Event {
			ev := vangnet(day(2, 1))
			ev.GetVangnet().VangnetType = 0
			return ev
		}, RuleVangnetType, nil},
		{"vangnet uit andere plaatsing", placed, func(j *journey) *ledgerv1.Event {
			ev := vangnet(day(2, 1))
			ev.GetVangnet().VanPlaatsing = uuid.NewString()
			return ev
		}, RuleVangnetVanPlaatsing, nil},
		{"uitstroom zonder reden", placed, func(j *journey) *ledgerv1.Event {
			ev := uitstroom(day(2, 1))
			ev.GetUitstroom().Reden = 0
			return ev
		}, RuleUitstroomReden, nil},
		{"verhuizing naar dezelfde gemeente", placed, func(j *journey) *ledgerv1.Event { return verhuizing(day(2, 1), "GM0402") }, RuleVerhuizingNaar, nil},
		{"verhuizing naar onbekende gemeente", placed, func(j *journey) *ledgerv1.Event { return verhuizing(day(2, 1), "GM0363") }, RuleGemeenteDeelnemer, gemeente.ErrUnknownGemeente},
		{"verhuizing naar oud-deelnemer", placed, func(j *journey) *ledgerv1.Event { return verhuizing(day(2, 1), "GM0457") }, RuleGemeenteHerindeling, gemeente.ErrMerged},
		{"correctie zonder reden", traject, func(j *journey) *ledgerv1.Event {
			ev := correctie(day(2, 1), j.history[1].GetEnvelope().GetEventId(), &ledgerv1.Correctie{})
			ev.GetCorrectie().Reden = ""
			return ev
		}, RuleCorrectieReden, nil},
		{"correctie van onbekend event", traject, func(j *journey) *ledgerv1.Event {
			return correctie(day(2, 1), uuid.NewString(), &ledgerv1.Correctie{})
		}, RuleCorrectieOnbekend, nil},
		{"correctie met andere soort", traject, func(j *journey) *ledgerv1.Event {
			return correctie(day(2, 1), j.history[1].GetEnvelope().GetEventId(), &ledgerv1.Correctie{
				Vervanging: &ledgerv1.Correctie_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE}},
			})
		}, RuleCorrectieType, nil},
		{"correctie van een verhuizing", func(j *journey) {
			traject(j)
			j.do(verhuizing(day(1, 9), "GM1942"))
		}, func(j *journey) *ledgerv1.Event {
			return correctie(day(2, 1), j.history[2].GetEnvelope().GetEventId(), &ledgerv1.Correctie{})
		}, RuleCorrectieNiet, nil},
		{"correctie die de volgorde breekt", placed, func(j *journey) *ledgerv1.Event {
			// The intake would move after the plaatsing.
			return correctie(day(2, 1), j.history[1].GetEnvelope().GetEventId(), &ledgerv1.Correctie{Datum: day(1, 20)})
		}, RuleCorrectieGeschiedenis, ErrTransitionRefused},
		{"correctie datum in de toekomst", placed, func(j *journey) *ledgerv1.Event {
			return correctie(day(2, 1), j.history[2].GetEnvelope().GetEventId(), &ledgerv1.Correctie{Datum: day(12, 1)})
		}, RuleDatumToekomst, nil},
		{"correctie naar geen kalenderdatum", placed, func(j *journey) *ledgerv1.Event {
			return correctie(nil, j.history[0].GetEnvelope().GetEventId(), &ledgerv1.Correctie{Datum: &ledgerv1.Date{Year: 2026, Month: 2, Day: 31}})
		}, bounds.RuleDatum, nil},
		{"correctie van een datum", placed, func(j *journey) *ledgerv1.Event {
			return correctie(day(2, 1), j.history[2].GetEnvelope().GetEventId(), &ledgerv1.Correctie{Datum: day(1, 6)})
		}, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newJourney(t)
			if tc.setup != nil {
				tc.setup(j)
			}
			ev, err := j.try(tc.draft(j))
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				return
			}
			var ref *Refusal
			if !errors.As(err, &ref) || ref.Rule != tc.rule {
				t.Fatalf("want refusal by %s, got event %v, err %v", tc.rule, ev, err)
			}
			if tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Errorf("refusal %v does not unwrap to %v", err, tc.cause)
			}
			if !strings.Contains(err.Error(), tc.rule) || ref.Reden == "" {
				t.Errorf("refusal message %q does not name the rule and a reason", err)
			}
		})
	}
}

func TestVerhuizingCarriesSnapshot(t *testing.T) {
	j := newJourney(t)
	j.do(aanmelding(day(1, 5), "GM0402"))
	j.do(intake(day(1, 6)))
	pl := j.do(plaatsing(day(1, 7), beschut))
	v := j.do(verhuizing(day(3, 15), "GM1942"))

	if got := v.GetEnvelope().GetGemeente(); got != "GM0402" {
		t.Errorf("verhuizing envelope gemeente %s, want the gemeente moved from", got)
	}
	snap := v.GetVerhuizing().GetSnapshot()
	if snap.GetToestand() != geplaatst || snap.GetPlaatsing() != pl.GetEnvelope().GetEventId() || snap.GetDoelgroep() != ledgerv1.Doelgroep_DOELGROEP_BIJSTAND {
		t.Errorf("snapshot %v does not describe the case", snap)
	}
	if v.GetVerhuizing().GetVanGemeente() != "GM0402" {
		t.Errorf("van_gemeente %q", v.GetVerhuizing().GetVanGemeente())
	}
	// From now on the case is Gooise Meren's.
	u := j.do(uitval(day(4, 1)))
	if u.GetEnvelope().GetGemeente() != "GM1942" {
		t.Errorf("event after verhuizing recorded for %s, want GM1942", u.GetEnvelope().GetGemeente())
	}
	// A view that only sees the verhuizing on starts from the snapshot.
	s, err := Fold([]*ledgerv1.Event{v, u})
	if err != nil {
		t.Fatal(err)
	}
	if s.Gemeente != "GM1942" || s.Toestand != uitgevallen || s.Doelgroep != ledgerv1.Doelgroep_DOELGROEP_BIJSTAND {
		t.Errorf("fold from snapshot: %+v", s)
	}
}

func TestCorrectie(t *testing.T) {
	j := newJourney(t)
	a := j.do(aanmelding(day(1, 5), "GM0402"))
	j.do(intake(day(1, 6)))
	j.do(verhuizing(day(2, 1), "GM1942"))
	c := j.do(correctie(day(3, 1), a.GetEnvelope().GetEventId(), &ledgerv1.Correctie{
		Datum: day(1, 2),
		Vervanging: &ledgerv1.Correctie_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
			ResidentId: "R-test-1", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BANENAFSPRAAK, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV,
		}},
	}))
	if got := c.GetEnvelope().GetGemeente(); got != "GM0402" {
		t.Errorf("correctie of a Hilversum event recorded for %s", got)
	}
	if got := c.GetEnvelope().GetOccurredOn(); event.CompareDates(got, j.rules.Today) != 0 {
		t.Errorf("correctie dated %s, want the day it was recorded", event.FormatDate(got))
	}
	s := j.state()
	if s.Doelgroep != ledgerv1.Doelgroep_DOELGROEP_BANENAFSPRAAK || event.FormatDate(s.AanmeldDatum) != "2026-01-02" {
		t.Errorf("corrected state %+v", s)
	}
	// A second correction of the same event wins over the first.
	j.do(correctie(day(3, 2), a.GetEnvelope().GetEventId(), &ledgerv1.Correctie{Datum: day(1, 3)}))
	if got := event.FormatDate(j.state().AanmeldDatum); got != "2026-01-03" {
		t.Errorf("after second correction aanmelddatum %s", got)
	}
	eff, err := Effective(j.history)
	if err != nil {
		t.Fatal(err)
	}
	if len(eff) != 3 || eff[0].GetEnvelope().GetEventId() != a.GetEnvelope().GetEventId() {
		t.Errorf("effective history has %d events, want the 3 facts with corrections folded in", len(eff))
	}
}

func policyOf(gm string, versie uint64, from *ledgerv1.Date, producten ...*ledgerv1.ProductTarief) *beleid.Version {
	return &beleid.Version{Gemeente: gm, Versie: versie, EventID: uuid.NewString(), Beleid: &ledgerv1.Beleid{GeldigVanaf: from, Producten: producten}}
}

func perJaar(product string, cent int64) *ledgerv1.ProductTarief {
	return &ledgerv1.ProductTarief{Product: product, CentPerJaar: cent}
}

func perUur(product string, cent int64) *ledgerv1.ProductTarief {
	return &ledgerv1.ProductTarief{Product: product, CentPerUur: cent}
}

func uren(last, van *ledgerv1.Date, product string, minuten uint32) *ledgerv1.Event {
	return &ledgerv1.Event{Envelope: on(last, ""), Payload: &ledgerv1.Event_Uren{Uren: &ledgerv1.Uren{Product: product, Van: van, Minuten: minuten}}}
}

// TestPolicyRules: what a gemeente does not buy can not be placed, and
// hours are bound to the case's life, not to the order of transitions.
func TestPolicyRules(t *testing.T) {
	hilversum := beleid.History{
		policyOf("GM0402", 1, day(1, 1), perJaar(beleid.ProductBeschutWerk, 12_000_00), perUur(beleid.ProductJobcoaching, 85_00)),
		policyOf("GM0402", 2, day(7, 1), perJaar(beleid.ProductBeschutWerk, 12_500_00), perJaar(beleid.ProductVangnet, 9_000_00), perUur(beleid.ProductJobcoaching, 90_00)),
	}
	traject := func(j *journey) {
		j.do(aanmelding(day(1, 5), "GM0402"))
		j.do(intake(day(1, 6)))
	}
	placed := func(j *journey) {
		traject(j)
		j.do(plaatsing(day(1, 7), beschut))
	}
	cases := []struct {
		name  string
		setup func(j *journey)
		draft func(j *journey) *ledgerv1.Event
		rule  string
	}{
		{"product ingekocht", traject, func(j *journey) *ledgerv1.Event { return plaatsing(day(2, 1), beschut) }, ""},
		{"product niet ingekocht", traject, func(j *journey) *ledgerv1.Event {
			return plaatsing(day(2, 1), ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK)
		}, RulePlaatsingProduct},
		{"onbekend product", traject, func(j *journey) *ledgerv1.Event {
			ev := plaatsing(day(2, 1), beschut)
			ev.GetPlaatsing().Product = "zwembad"
			return ev
		}, RulePlaatsingProduct},
		{"geen beleid van kracht", func(j *journey) {
			j.do(aanmelding(event.YMD(2025, 11, 3), "GM0402"))
			j.do(intake(event.YMD(2025, 11, 4)))
		}, func(j *journey) *ledgerv1.Event { return plaatsing(event.YMD(2025, 12, 1), beschut) }, RuleBeleidOntbreekt},
		{"vangnet vóór het beleid het inkoopt", placed, func(j *journey) *ledgerv1.Event { return vangnet(day(6, 30)) }, RuleVangnetProduct},
		{"vangnet als het beleid het inkoopt", placed, func(j *journey) *ledgerv1.Event { return vangnet(day(7, 1)) }, ""},
		{"uren jobcoaching", placed, func(j *journey) *ledgerv1.Event { return uren(day(1, 31), day(1, 7), beleid.ProductJobcoaching, 240) }, ""},
		{"uren van een product per jaar", placed, func(j *journey) *ledgerv1.Event { return uren(day(1, 31), day(1, 7), beleid.ProductBeschutWerk, 240) }, RuleUrenProduct},
		{"uren niet ingekocht", placed, func(j *journey) *ledgerv1.Event { return uren(day(1, 31), day(1, 7), beleid.ProductBegeleiding, 240) }, RuleUrenProduct},
		{"geen uren", placed, func(j *journey) *ledgerv1.Event { return uren(day(1, 31), day(1, 7), beleid.ProductJobcoaching, 0) }, RuleUrenAantal},
		{"periode omgekeerd", placed, func(j *journey) *ledgerv1.Event { return uren(day(1, 10), day(1, 20), beleid.ProductJobcoaching, 60) }, RuleUrenPeriode},
		{"periode vóór aanmelding", placed, func(j *journey) *ledgerv1.Event { return uren(day(1, 31), day(1, 1), beleid.ProductJobcoaching, 60) }, RuleUrenPeriode},
		{"uren achteraf, na een latere transitie", func(j *journey) {
			placed(j)
			j.do(uitval(day(3, 1)))
		}, func(j *journey) *ledgerv1.Event { return uren(day(2, 28), day(2, 1), beleid.ProductJobcoaching, 60) }, ""},
		{"uren na sluiting", func(j *journey) {
			placed(j)
			j.do(uitstroom(day(3, 1)))
		}, func(j *journey) *ledgerv1.Event { return uren(day(3, 31), day(3, 2), beleid.ProductJobcoaching, 60) }, RuleZaakGesloten},
		{"uren tot de sluiting", func(j *journey) {
			placed(j)
			j.do(uitstroom(day(3, 1)))
		}, func(j *journey) *ledgerv1.Event { return uren(day(3, 1), day(2, 1), beleid.ProductJobcoaching, 60) }, ""},
		{"correctie naar een product dat niet ingekocht is", placed, func(j *journey) *ledgerv1.Event {
			return correctie(nil, j.history[2].GetEnvelope().GetEventId(), &ledgerv1.Correctie{Vervanging: &ledgerv1.Correctie_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{
				Type: detachering, Product: beleid.ProductDetachering, GeplandeEinddatum: day(6, 1),
			}}})
		}, RulePlaatsingProduct},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newJourney(t)
			j.rules.Policy = func(gm string) beleid.History {
				if gm == "GM0402" {
					return hilversum
				}
				return nil
			}
			tc.setup(j)
			ev, err := j.try(tc.draft(j))
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				return
			}
			var ref *Refusal
			if !errors.As(err, &ref) || ref.Rule != tc.rule {
				t.Fatalf("want refusal by %s, got event %v, err %v", tc.rule, ev, err)
			}
		})
	}
	// Hours recorded after a verhuizing belong to the gemeente responsible
	// on their last day, and are judged against its policy.
	t.Run("uren na een verhuizing", func(t *testing.T) {
		j := newJourney(t)
		j.rules.Policy = func(gm string) beleid.History {
			if gm == "GM0402" {
				return hilversum
			}
			return beleid.History{policyOf("GM1942", 1, day(1, 1), perJaar(beleid.ProductBeschutWerk, 12_000_00))}
		}
		placed(j)
		j.do(verhuizing(day(6, 1), "GM1942"))
		ev := j.do(uren(day(5, 31), day(5, 1), beleid.ProductJobcoaching, 120))
		if g := ev.GetEnvelope().GetGemeente(); g != "GM0402" {
			t.Errorf("hours of May recorded for %s, want GM0402 (responsible on 31 May)", g)
		}
		if _, err := j.try(uren(day(6, 30), day(6, 1), beleid.ProductJobcoaching, 120)); err == nil {
			t.Error("hours of June accepted, but Gooise Meren does not buy jobcoaching")
		}
	})
	// A correction of the type is priced as the new type.
	t.Run("correctie van de soort", func(t *testing.T) {
		j := newJourney(t)
		j.rules.Policy = func(string) beleid.History {
			return beleid.History{policyOf("GM0402", 1, day(1, 1), perJaar(beleid.ProductBeschutWerk, 12_000_00), perJaar(beleid.ProductLKSBaan, 9_800_00))}
		}
		placed(j)
		orig := j.history[2]
		fixed := proto.Clone(orig.GetPlaatsing()).(*ledgerv1.Plaatsing)
		fixed.Type = ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN
		c := j.do(correctie(nil, orig.GetEnvelope().GetEventId(), &ledgerv1.Correctie{Vervanging: &ledgerv1.Correctie_Plaatsing{Plaatsing: fixed}}))
		if got := c.GetCorrectie().GetPlaatsing().GetProduct(); got != beleid.ProductLKSBaan {
			t.Errorf("corrected plaatsing priced as %q, want lks-baan", got)
		}
	})

	// The decided plaatsing names the product it is priced as.
	j := newJourney(t)
	traject(j)
	pl := j.do(plaatsing(day(2, 1), beschut))
	if pl.GetPlaatsing().GetProduct() != beleid.ProductBeschutWerk {
		t.Errorf("plaatsing product %q, want the default product of its type", pl.GetPlaatsing().GetProduct())
	}
}

// recordedAt is when the test events were recorded: a fixed instant, not
// the machine's clock.
var recordedAt = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// TestImportOfEndedGemeente: the history of a gemeente that left is
// imported as it was: judged as of its own date, not as of today.
func TestImportOfEndedGemeente(t *testing.T) {
	j := newJourney(t)
	j.rules.History = true
	if _, err := j.try(aanmelding(event.YMD(2020, 3, 1), "GM0457")); err != nil {
		t.Fatalf("an imported aanmelding of Weesp in 2020: %v", err)
	}
	if _, err := j.try(aanmelding(event.YMD(2023, 3, 1), "GM0457")); !errors.Is(err, gemeente.ErrNotParticipating) {
		t.Fatalf("an imported aanmelding of Weesp after it left: %v", err)
	}
}

// TestCorrectieOfHandedOverFact: a fact from before a verhuizing was part
// of what the gemeente moved to was handed. Its correction carries the
// corrected snapshot of every later verhuizing it changes, and a view that
// starts at the verhuizing folds to the corrected case.
func TestCorrectieOfHandedOverFact(t *testing.T) {
	j := newJourney(t)
	a := j.do(aanmelding(day(1, 5), "GM0402"))
	j.do(intake(day(1, 6)))
	j.do(plaatsing(day(1, 7), beschut))
	v1 := j.do(verhuizing(day(2, 1), "GM1942"))
	u := j.do(uitval(day(2, 10)))
	v2 := j.do(verhuizing(day(3, 1), "GM0402")) // and back

	beschutWerk := &ledgerv1.Aanmelding{ResidentId: "R-test-1", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}
	draft := correctie(day(3, 5), a.GetEnvelope().GetEventId(), &ledgerv1.Correctie{Datum: day(1, 5), Vervanging: &ledgerv1.Correctie_Aanmelding{Aanmelding: beschutWerk}})
	// What a client says was handed over is not taken.
	draft.GetCorrectie().Overdrachten = []*ledgerv1.Overdracht{{Verhuizing: v1.GetEnvelope().GetEventId(), NaarGemeente: "GM0417"}}
	c := j.do(draft)

	got := c.GetCorrectie().GetOverdrachten()
	if len(got) != 2 || got[0].GetVerhuizing() != v1.GetEnvelope().GetEventId() || got[0].GetNaarGemeente() != "GM1942" ||
		got[1].GetVerhuizing() != v2.GetEnvelope().GetEventId() || got[1].GetNaarGemeente() != "GM0402" {
		t.Fatalf("overdrachten %v, want both later verhuizingen", got)
	}
	for _, o := range got {
		if o.GetSnapshot().GetDoelgroep() != ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK || o.GetSnapshot().GetTrede() != ledgerv1.Trede_TREDE_BESCHUT {
			t.Errorf("handed-over snapshot %v, want the corrected doelgroep and the rest as it was", o.GetSnapshot())
		}
	}
	if aud := event.Audience(c, nil); !slices.Equal(aud, []string{"GM0402", "GM1942"}) {
		t.Errorf("audience %v", aud)
	}
	// Gooise Meren's view: from its verhuizing on, with the correction
	// (and Hilversum's second period, which starts at the second).
	i := slices.Index(j.history, v1)
	s, err := Fold(append(slices.Clone(j.history[i:]), c))
	if err != nil {
		t.Fatal(err)
	}
	if s.Doelgroep != ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK || s.Gemeente != "GM0402" {
		t.Errorf("fold from the verhuizing on: %+v", s)
	}

	// A correction that changes nothing handed over tells nobody else:
	// the uitval's reden is in no snapshot.
	c2 := j.do(correctie(day(3, 6), u.GetEnvelope().GetEventId(), &ledgerv1.Correctie{Datum: day(2, 10), Vervanging: &ledgerv1.Correctie_Uitval{Uitval: &ledgerv1.Uitval{Reden: ledgerv1.UitvalReden_UITVAL_REDEN_MOTIVATIE}}}))
	if o := c2.GetCorrectie().GetOverdrachten(); len(o) != 0 {
		t.Errorf("correction of an uitval reden hands over %v", o)
	}
	// A second correction of the handed-over fact, back to bijstand, is
	// handed over again: it differs from what the first one handed.
	c3 := j.do(correctie(day(3, 7), a.GetEnvelope().GetEventId(), &ledgerv1.Correctie{Datum: day(1, 5), Vervanging: &ledgerv1.Correctie_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
		ResidentId: "R-test-1", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV,
	}}}))
	if o := c3.GetCorrectie().GetOverdrachten(); len(o) != 2 || o[1].GetSnapshot().GetDoelgroep() != ledgerv1.Doelgroep_DOELGROEP_BIJSTAND {
		t.Errorf("second correction hands over %v", o)
	}
}

// TestTerugkeer: a resident who left for regular work falls back on the
// vangnet in the same case within the months the policy in force on the
// day of the uitstroom allows, and that return is an instroom; later, under
// a policy without return, or after another uitstroom reason it is refused.
func TestTerugkeer(t *testing.T) {
	withReturn := policyOf("GM0402", 2, day(4, 1), perJaar(beleid.ProductBeschutWerk, 12_000_00), perJaar(beleid.ProductVangnet, 9_000_00))
	withReturn.Beleid.TerugkeerMaanden = 6
	hilversum := beleid.History{
		policyOf("GM0402", 1, day(1, 1), perJaar(beleid.ProductBeschutWerk, 12_000_00), perJaar(beleid.ProductVangnet, 9_000_00)),
		withReturn,
	}
	left := func(on *ledgerv1.Date, reden ledgerv1.UitstroomReden) func(j *journey) {
		return func(j *journey) {
			j.do(aanmelding(day(1, 5), "GM0402"))
			j.do(intake(day(1, 6)))
			j.do(plaatsing(day(1, 7), beschut))
			ev := uitstroom(on)
			ev.GetUitstroom().Reden = reden
			j.do(ev)
		}
	}
	werk := ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK
	for _, tc := range []struct {
		name  string
		setup func(j *journey)
		back  *ledgerv1.Date
		rule  string
	}{
		{"left under a policy without return", left(day(2, 1), werk), day(3, 1), RuleTerugkeerTermijn},
		{"within six months", left(day(5, 1), werk), day(10, 31), ""},
		{"on the last day", left(day(5, 1), werk), day(11, 1), ""},
		{"a day late", left(day(5, 1), werk), day(11, 2), RuleTerugkeerTermijn},
		{"before the uitstroom", left(day(5, 1), werk), day(4, 30), RuleDatumVolgorde},
		{"left for school", left(day(5, 1), ledgerv1.UitstroomReden_UITSTROOM_REDEN_ONDERWIJS), day(6, 1), RuleZaakGesloten},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJourney(t)
			j.rules.Policy = func(string) beleid.History { return hilversum }
			tc.setup(j)
			before := j.state()
			ev, err := j.try(vangnet(tc.back))
			if tc.rule != "" {
				var ref *Refusal
				if !errors.As(err, &ref) || ref.Rule != tc.rule {
					t.Fatalf("want refusal by %s, got event %v, err %v", tc.rule, ev, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("want allowed, got %v", err)
			}
			if ev.GetEnvelope().GetCaseId() != before.CaseID {
				t.Errorf("the return is in case %s, want the same case %s", ev.GetEnvelope().GetCaseId(), before.CaseID)
			}
			if ev.GetVangnet().GetVanPlaatsing() != before.LaatstePlaatsing {
				t.Errorf("the return falls back from %q, want the last placement %q", ev.GetVangnet().GetVanPlaatsing(), before.LaatstePlaatsing)
			}
			after := Evolve(before, ev)
			if !after.Open() || after.Toestand != opVangnet {
				t.Errorf("after the return: %v", after.Toestand)
			}
			if st, n := Stromen(before, after, ev); n != 1 || st[0].Soort != StroomTerugkeer || st[0].Uit || st[0].Gemeente != "GM0402" {
				t.Errorf("the return's stromen: %v (%d), want one instroom by terugkeer", st, n)
			}
		})
	}
}

// TestAddMonths: the end of a period in months stays in the month it
// reaches, on its last day when that month is shorter.
func TestAddMonths(t *testing.T) {
	for _, tc := range []struct {
		from *ledgerv1.Date
		n    int
		want *ledgerv1.Date
	}{
		{event.YMD(2026, 8, 31), 6, event.YMD(2027, 2, 28)},
		{event.YMD(2023, 8, 31), 6, event.YMD(2024, 2, 29)},
		{event.YMD(2026, 5, 31), 3, event.YMD(2026, 8, 31)},
		{event.YMD(2026, 11, 30), 3, event.YMD(2027, 2, 28)},
		{event.YMD(2026, 1, 15), 12, event.YMD(2027, 1, 15)},
		{event.YMD(2026, 5, 1), 0, event.YMD(2026, 5, 1)},
	} {
		if got := addMonths(tc.from, tc.n); !proto.Equal(got, tc.want) {
			t.Errorf("%s + %d months = %s, want %s", event.FormatDate(tc.from), tc.n, event.FormatDate(got), event.FormatDate(tc.want))
		}
	}
}

// TestTerugkeerAfterHerindeling: a case closed under a gemeente that has
// since ended (Wijdemeren, into Hilversum on 1 January 2027) does not
// reopen under it; the refusal names the successor. A correctie that moves
// the uitstroom back, out of the period, is refused as well.
func TestTerugkeerAfterHerindeling(t *testing.T) {
	policy := policyOf("GM1696", 1, event.YMD(2026, 1, 1), perJaar(beleid.ProductBeschutWerk, 12_000_00), perJaar(beleid.ProductVangnet, 9_000_00))
	policy.Beleid.TerugkeerMaanden = 3
	history := beleid.History{policy}
	j := newJourney(t)
	j.rules.Policy = func(string) beleid.History { return history }
	j.rules.Today = event.YMD(2027, 3, 1)
	j.do(aanmelding(event.YMD(2026, 9, 1), "GM1696"))
	j.do(intake(event.YMD(2026, 9, 2)))
	j.do(plaatsing(event.YMD(2026, 9, 3), beschut))
	ev := uitstroom(event.YMD(2026, 12, 15))
	j.do(ev)
	var ref *Refusal
	if _, err := j.try(vangnet(event.YMD(2027, 2, 1))); !errors.As(err, &ref) || ref.Rule != RuleGemeenteHerindeling {
		t.Fatalf("a return after the gemeente ended: %v, want %s", err, RuleGemeenteHerindeling)
	}

	k := newJourney(t)
	k.rules.Policy = func(string) beleid.History { return history }
	k.do(aanmelding(event.YMD(2026, 1, 5), "GM1696"))
	k.do(intake(event.YMD(2026, 1, 6)))
	k.do(plaatsing(event.YMD(2026, 1, 7), beschut))
	out := k.do(uitstroom(event.YMD(2026, 7, 1)))
	k.do(vangnet(event.YMD(2026, 9, 30)))
	moved := correctie(nil, out.GetEnvelope().GetEventId(), &ledgerv1.Correctie{Reden: "verkeerde datum", Datum: event.YMD(2026, 6, 1),
		Vervanging: &ledgerv1.Correctie_Uitstroom{Uitstroom: out.GetUitstroom()}})
	if _, err := k.try(moved); !errors.As(err, &ref) || ref.Rule != RuleTerugkeerTermijn {
		t.Fatalf("a correctie moving the uitstroom out of the period: %v, want %s", err, RuleTerugkeerTermijn)
	}
}
