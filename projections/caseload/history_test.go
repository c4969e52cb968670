package caseload

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Gemeenten of the tests.
const (
	hilversum = "GM0402"
	huizen    = "GM0406"
	laren     = "GM0417"
)

var testNamen = map[string]string{hilversum: "Hilversum", huizen: "Huizen", laren: "Laren"}

// history builds event histories the way the ledger does: every event is
// decided by caseflow.Decide against its case, then gets a proper envelope
// (deterministic UUIDs, recorded_at, actor, hash link). events is the
// store's global order.
type history struct {
	tb     testing.TB
	n      uint64
	cases  map[string][]*ledgerv1.Event
	raw    map[string][]byte // marshalled, by event id
	events []*ledgerv1.Event
	// reg, when set, decides herindelingen and participation.
	reg *gemeente.Registry
}

func newHistory(tb testing.TB) *history {
	return &history{tb: tb, cases: map[string][]*ledgerv1.Event{}, raw: map[string][]byte{}}
}

func (h *history) newID() string {
	h.n++
	return uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "caseload-test-%d", h.n)).String()
}

func d(y int, m time.Month, day int) *ledgerv1.Date { return event.YMD(y, m, day) }

// try decides draft's payload on a case at date. For an aanmelding caseID
// is empty and gm is the woonplaatsgemeente; otherwise gm is left empty.
func (h *history) try(caseID, gm string, date *ledgerv1.Date, draft *ledgerv1.Event) (*ledgerv1.Event, error) {
	if caseID == "" {
		caseID = h.newID()
	}
	in := &ledgerv1.Event{
		Envelope: &ledgerv1.Envelope{CaseId: caseID, Gemeente: gm, OccurredOn: date},
		Payload:  draft.GetPayload(),
	}
	ev, err := caseflow.Decide(h.cases[caseID], in, caseflow.Rules{Today: date, Gemeenten: h.reg})
	if err != nil {
		return nil, err
	}
	h.seal(ev)
	return ev, nil
}

// seal gives ev the rest of its envelope and appends it to the history.
func (h *history) seal(ev *ledgerv1.Event) {
	env := ev.GetEnvelope()
	env.EventId = h.newID()
	env.RecordedAt = timestamppb.New(event.DateTime(env.GetOccurredOn()).Add(time.Duration(h.n) * time.Second))
	env.Actor = "mw-0001"
	env.SchemaVersion = event.SchemaVersion
	if prev := h.cases[env.GetCaseId()]; len(prev) > 0 {
		env.PrevHash = event.Hash(h.raw[prev[len(prev)-1].GetEnvelope().GetEventId()])
	}
	data, err := event.Marshal(ev)
	if err != nil {
		h.tb.Fatalf("marshal %s: %v", event.Type(ev), err)
	}
	h.raw[env.GetEventId()] = data
	h.cases[env.GetCaseId()] = append(h.cases[env.GetCaseId()], ev)
	h.events = append(h.events, ev)
}

// record is try for histories that must be accepted.
func (h *history) record(caseID string, date *ledgerv1.Date, draft *ledgerv1.Event) *ledgerv1.Event {
	h.tb.Helper()
	ev, err := h.try(caseID, "", date, draft)
	if err != nil {
		h.tb.Fatalf("%s on %s: %v", event.Type(draft), date, err)
	}
	return ev
}

// aanmelden opens a case in gm and returns its id.
func (h *history) aanmelden(gm string, date *ledgerv1.Date, dg ledgerv1.Doelgroep) string {
	h.tb.Helper()
	id := h.newID()
	// Split so that no run of digits could be taken for a BSN.
	ev, err := h.try("", gm, date, aanmelding("r-"+id[:4]+"-"+id[4:8], dg))
	if err != nil {
		h.tb.Fatalf("aanmelding: %v", err)
	}
	return ev.GetEnvelope().GetCaseId()
}

func aanmelding(resident string, dg ledgerv1.Doelgroep) *ledgerv1.Event {
	a := &ledgerv1.Aanmelding{
		ResidentId: resident, Doelgroep: dg, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_WERKCENTRUM,
		Persoonsgegevens: &ledgerv1.EncryptedPersonalData{KeyId: "k1", Algorithm: "AES-256-GCM", Nonce: []byte("n"), Ciphertext: []byte("geheim")},
	}
	if dg == ledgerv1.Doelgroep_DOELGROEP_WSW {
		// No new Wsw since 2015: an employee with a standing indication.
		a.WswIndicatieSinds = &ledgerv1.Date{Year: 2010, Month: 1, Day: 1}
	}
	return &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: a}}
}

func intake(t ledgerv1.Trede, lw uint32) *ledgerv1.Event {
	return &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: t, LoonwaardeProcent: lw, Doel: "werken in de groenvoorziening"}}}
}

func plaatsing(t ledgerv1.PlaatsingType) *ledgerv1.Event {
	return &ledgerv1.Event{Payload: &ledgerv1.Event_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: t, Werkgever: "Groenbedrijf BV", MinutenPerWeek: 1200}}}
}

func uitval(r ledgerv1.UitvalReden) *ledgerv1.Event {
	return &ledgerv1.Event{Payload: &ledgerv1.Event_Uitval{Uitval: &ledgerv1.Uitval{Reden: r, Toelichting: "vrije tekst"}}}
}

func vangnet(t ledgerv1.PlaatsingType) *ledgerv1.Event {
	return &ledgerv1.Event{Payload: &ledgerv1.Event_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{VangnetType: t}}}
}

func uitstroom(r ledgerv1.UitstroomReden) *ledgerv1.Event {
	return &ledgerv1.Event{Payload: &ledgerv1.Event_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{Reden: r}}}
}

func verhuizing(naar string) *ledgerv1.Event {
	return &ledgerv1.Event{Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{NaarGemeente: naar}}}
}

// correctie corrects event id to date datum, the fact itself unchanged
// unless c says otherwise.
func correctie(id string, datum *ledgerv1.Date, c *ledgerv1.Correctie) *ledgerv1.Event {
	if c == nil {
		c = &ledgerv1.Correctie{}
	}
	c.Corrigeert, c.Reden, c.Datum = id, "typefout", datum
	return &ledgerv1.Event{Payload: &ledgerv1.Event_Correctie{Correctie: c}}
}

// generate builds a realistic history of about n events over gemeenten:
// aanmeldingen, intakes, plaatsingen, uitval, vangnet, uitstroom,
// verhuizingen between the gemeenten (back and forth) and corrections, one
// calendar day after another, every event accepted by caseflow.Decide.
func generate(tb testing.TB, seed uint64, n int, gemeenten []string) *history {
	h := newHistory(tb)
	rng := rand.New(rand.NewPCG(seed, 0x6c656467))
	day := event.DateTime(d(2023, 1, 2))
	var open []string
	pick := func(ps ...int) int { // index by weights
		x := rng.IntN(100)
		for i, p := range ps {
			if x < p {
				return i
			}
			x -= p
		}
		return len(ps)
	}
	doelgroepen := []ledgerv1.Doelgroep{ledgerv1.Doelgroep_DOELGROEP_WSW, ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK,
		ledgerv1.Doelgroep_DOELGROEP_BANENAFSPRAAK, ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, ledgerv1.Doelgroep_DOELGROEP_UWV}
	types := []ledgerv1.PlaatsingType{ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK, ledgerv1.PlaatsingType_PLAATSING_TYPE_WSW_DIENSTVERBAND,
		ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN, ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK,
		ledgerv1.PlaatsingType_PLAATSING_TYPE_LEERWERKTRAJECT, ledgerv1.PlaatsingType_PLAATSING_TYPE_DAGBESTEDING}
	redenen := []ledgerv1.UitstroomReden{ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK, ledgerv1.UitstroomReden_UITSTROOM_REDEN_ONDERWIJS,
		ledgerv1.UitstroomReden_UITSTROOM_REDEN_VERHUIZING_BUITEN_REGIO, ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG}

	for len(h.events) < n {
		if rng.IntN(10) == 0 {
			day = day.AddDate(0, 0, 1)
		}
		date := event.Date(day)
		if len(open) < 50 || rng.IntN(6) == 0 {
			gm := gemeenten[min(rng.IntN(len(gemeenten)+1), len(gemeenten)-1)] // the last one a bit more
			open = append(open, h.aanmelden(gm, date, doelgroepen[rng.IntN(len(doelgroepen))]))
			continue
		}
		i := rng.IntN(len(open))
		id := open[i]
		s, err := caseflow.Fold(h.cases[id])
		if err != nil {
			tb.Fatal(err)
		}
		var draft *ledgerv1.Event
		switch s.Toestand {
		case ledgerv1.Toestand_TOESTAND_AANGEMELD:
			switch pick(85) {
			case 0:
				draft = intake(ledgerv1.Trede(1+rng.IntN(5)), uint32(rng.IntN(101)))
			default:
				draft = uitstroom(ledgerv1.UitstroomReden_UITSTROOM_REDEN_OVERIG)
			}
		case ledgerv1.Toestand_TOESTAND_IN_TRAJECT:
			switch pick(70, 10, 10) {
			case 0:
				draft = plaatsing(types[rng.IntN(len(types))])
			case 1:
				draft = intake(ledgerv1.Trede(1+rng.IntN(5)), uint32(rng.IntN(101)))
			case 2:
				draft = verhuizing(otherThan(rng, gemeenten, s.Gemeente))
			default:
				draft = uitstroom(redenen[rng.IntN(len(redenen))])
			}
		case ledgerv1.Toestand_TOESTAND_GEPLAATST:
			switch pick(25, 10, 20, 10, 10, 15) {
			case 0:
				draft = uitval(ledgerv1.UitvalReden(1 + rng.IntN(5)))
			case 1:
				draft = vangnet(ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK)
			case 2:
				draft = uitstroom(redenen[rng.IntN(len(redenen))])
			case 3:
				draft = verhuizing(otherThan(rng, gemeenten, s.Gemeente))
			case 4:
				draft = plaatsing(types[rng.IntN(len(types))])
			case 5:
				draft = correctionOf(rng, h.cases[id])
			default:
				draft = intake(ledgerv1.Trede(1+rng.IntN(5)), uint32(rng.IntN(101)))
			}
		case ledgerv1.Toestand_TOESTAND_UITGEVALLEN:
			switch pick(40, 20, 30) {
			case 0:
				draft = plaatsing(types[rng.IntN(len(types))])
			case 1:
				draft = vangnet(ledgerv1.PlaatsingType_PLAATSING_TYPE_DAGBESTEDING)
			case 2:
				draft = uitstroom(redenen[rng.IntN(len(redenen))])
			default:
				draft = verhuizing(otherThan(rng, gemeenten, s.Gemeente))
			}
		case ledgerv1.Toestand_TOESTAND_VANGNET:
			switch pick(50, 30) {
			case 0:
				draft = plaatsing(types[rng.IntN(len(types))])
			case 1:
				draft = uitstroom(redenen[rng.IntN(len(redenen))])
			default:
				draft = uitval(ledgerv1.UitvalReden_UITVAL_REDEN_ZIEKTE)
			}
		}
		if draft == nil {
			continue
		}
		// A refused draft (a correction that would break the history) is
		// simply not recorded, as in real life.
		if _, err := h.try(id, "", date, draft); err != nil {
			continue
		}
		if s2, _ := caseflow.Fold(h.cases[id]); !s2.Open() {
			open[i] = open[len(open)-1]
			open = open[:len(open)-1]
		}
	}
	return h
}

func otherThan(rng *rand.Rand, gemeenten []string, g string) string {
	for {
		if o := gemeenten[rng.IntN(len(gemeenten))]; o != g {
			return o
		}
	}
}

// correctionOf corrects the date of a random earlier event of the case (a
// day or a month earlier) or, for an uitstroom-less case, its aanmelding.
func correctionOf(rng *rand.Rand, hist []*ledgerv1.Event) *ledgerv1.Event {
	var cands []*ledgerv1.Event
	for _, ev := range hist {
		switch ev.GetPayload().(type) {
		case *ledgerv1.Event_Verhuizing, *ledgerv1.Event_Correctie:
		default:
			cands = append(cands, ev)
		}
	}
	orig := cands[rng.IntN(len(cands))]
	t := event.DateTime(orig.GetEnvelope().GetOccurredOn())
	if rng.IntN(2) == 0 {
		t = t.AddDate(0, -1, 0)
	} else {
		t = t.AddDate(0, 0, -1)
	}
	return correctie(orig.GetEnvelope().GetEventId(), event.Date(t), nil)
}
