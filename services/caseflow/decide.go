package caseflow

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/bounds"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/resident"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Check is the state machine: it judges whether ev may follow state s. It
// looks only at the case and the event, so it gives the same answer live and
// in a replay. Rules that need the calendar or the list of participants are
// in Decide.
func Check(s State, ev *ledgerv1.Event) error {
	date := ev.GetEnvelope().GetOccurredOn()
	if date == nil {
		return refuse(s, RuleDatumVerplicht, "een datum is verplicht")
	}
	if _, ok := ev.GetPayload().(*ledgerv1.Event_Aanmelding); !ok {
		if !s.Exists {
			return refuse(s, RuleEersteIsAanmelding, "een zaak begint met een aanmelding; deze zaak heeft er geen")
		}
		if u := ev.GetUren(); u != nil {
			// Hours are recorded after the fact: not bound to the order of
			// transitions, only to the case's life.
			return checkUren(s, date, u)
		}
		if _, isCorrectie := ev.GetPayload().(*ledgerv1.Event_Correctie); !isCorrectie {
			if !s.Open() && !(s.Terugkeer() && ev.GetVangnet() != nil) {
				return refuse(s, RuleZaakGesloten, "de zaak is gesloten: de klant is uitgestroomd op %s; meld de klant opnieuw aan voor een nieuwe zaak", event.FormatDate(s.Sinds))
			}
			if s.Sinds != nil && event.CompareDates(date, s.Sinds) < 0 {
				return refuse(s, RuleDatumVolgorde, "de datum %s ligt vóór de vorige gebeurtenis in deze zaak (%s)", event.FormatDate(date), event.FormatDate(s.Sinds))
			}
		}
	}

	if err := checkValues(s, ev); err != nil {
		return err
	}
	switch p := ev.GetPayload().(type) {
	case *ledgerv1.Event_Aanmelding:
		a := p.Aanmelding
		switch {
		case s.Exists:
			return refuse(s, RuleAanmeldingNieuweZaak, "een aanmelding opent een nieuwe zaak; deze zaak bestaat al")
		case a.GetResidentId() == "":
			return refuse(s, RuleAanmeldingClient, "een aanmelding heeft een client nodig (BSN of client-id)")
		case resident.LooksLikeBSN(a.GetResidentId()):
			// An event is immutable: a BSN in it could never be erased.
			return refuse(s, RuleAanmeldingClient, "een client-id mag geen BSN bevatten; geef het BSN met --bsn, dan wordt het gepseudonimiseerd")
		case a.GetDoelgroep() == ledgerv1.Doelgroep_DOELGROEP_UNSPECIFIED:
			return refuse(s, RuleAanmeldingDoelgroep, "een aanmelding heeft een doelgroep nodig")
		case a.GetVerwijzer() == ledgerv1.Verwijzer_VERWIJZER_UNSPECIFIED:
			return refuse(s, RuleAanmeldingVerwijzer, "een aanmelding heeft een verwijzer nodig")
		}
	case *ledgerv1.Event_Intake:
		if p.Intake.GetTrede() == ledgerv1.Trede_TREDE_UNSPECIFIED {
			return refuse(s, RuleIntakeTrede, "een intake legt de trede vast; die ontbreekt")
		}
		if p.Intake.GetLoonwaardeProcent() > 100 {
			return refuse(s, RuleLoonwaarde, "loonwaarde %d%% is meer dan 100%%", p.Intake.GetLoonwaardeProcent())
		}
	case *ledgerv1.Event_Plaatsing:
		return checkPlaatsing(s, date, p.Plaatsing)
	case *ledgerv1.Event_Uitval:
		if !s.Placed() {
			return refuse(s, RuleUitvalGeplaatst, "uitval kan alleen als de klant geplaatst is; de klant is %s", ToestandNaam(s.Toestand))
		}
		if p.Uitval.GetReden() == ledgerv1.UitvalReden_UITVAL_REDEN_UNSPECIFIED {
			return refuse(s, RuleUitvalReden, "geef de reden van de uitval")
		}
	case *ledgerv1.Event_Vangnet:
		return checkVangnet(s, p.Vangnet)
	case *ledgerv1.Event_Uitstroom:
		if p.Uitstroom.GetReden() == ledgerv1.UitstroomReden_UITSTROOM_REDEN_UNSPECIFIED {
			return refuse(s, RuleUitstroomReden, "geef de reden van de uitstroom")
		}
	case *ledgerv1.Event_Verhuizing:
		naar := p.Verhuizing.GetNaarGemeente()
		if naar == "" || naar == s.Gemeente {
			return refuse(s, RuleVerhuizingNaar, "een verhuizing gaat naar een andere deelnemende gemeente dan %s", s.Gemeente)
		}
	case *ledgerv1.Event_Correctie:
		// Judged against the whole history in Decide.
	default:
		return refuse(s, RuleTransitieOnbekend, "onbekende soort gebeurtenis")
	}
	return nil
}

// checkValues refuses enum numbers this version does not know and dates that
// are not calendar dates, wherever they sit in the event.
func checkValues(s State, ev *ledgerv1.Event) error {
	var bad string
	ev.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		bad = badValue(fd, v)
		return bad == ""
	})
	if bad != "" {
		return refuse(s, RuleWaarde, "%s", bad)
	}
	return nil
}

func badValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch {
	case fd.Kind() == protoreflect.EnumKind && !fd.IsList():
		if fd.Enum().Values().ByNumber(v.Enum()) == nil {
			return fmt.Sprintf("onbekende waarde %d voor %s", v.Enum(), fd.Name())
		}
	case fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap():
		m := v.Message()
		if d, ok := m.Interface().(*ledgerv1.Date); ok {
			if err := event.CheckDate(d); err != nil {
				return fmt.Sprintf("%s: %v", fd.Name(), err)
			}
			return ""
		}
		var bad string
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			bad = badValue(fd, v)
			return bad == ""
		})
		return bad
	case fd.Kind() == protoreflect.Int64Kind && !fd.IsList():
		if n := v.Int(); n > beleid.MaxCent || n < -beleid.MaxCent {
			return fmt.Sprintf("%s %d valt buiten het toegestane bereik", fd.Name(), n)
		}
	}
	return ""
}

// checkBounds holds a new transition to the API's bounds (services/bounds),
// whoever calls: the API checks requests before this, but the import and
// the demo decide directly. Stored events are not held to them (Check, on
// the history): a bound made tighter later must not make a case undecidable.
func checkBounds(s State, draft *ledgerv1.Event) error {
	r := draft.ProtoReflect()
	fd := r.WhichOneof(r.Descriptor().Oneofs().ByName("payload"))
	if fd == nil {
		return nil
	}
	var v *bounds.Violation
	if errors.As(bounds.Check(r.Get(fd).Message().Interface()), &v) {
		return &Refusal{Rule: v.Rule, CaseID: s.CaseID, Toestand: s.Toestand, Reden: string(fd.Name()) + "." + v.Field + ": " + v.Reden, Err: bounds.ErrOutOfBounds}
	}
	return nil
}

func checkPlaatsing(s State, date *ledgerv1.Date, p *ledgerv1.Plaatsing) error {
	if !s.Intake {
		return refuse(s, RulePlaatsingNaIntake, "een plaatsing kan pas na de intake; de klant is %s", ToestandNaam(s.Toestand))
	}
	if p.GetType() == ledgerv1.PlaatsingType_PLAATSING_TYPE_UNSPECIFIED {
		return refuse(s, RulePlaatsingType, "geef het soort plaatsing")
	}
	if p.GetLoonwaardeProcent() > 100 {
		return refuse(s, RuleLoonwaarde, "loonwaarde %d%% is meer dan 100%%", p.GetLoonwaardeProcent())
	}
	if p.GetLksCentPerMaand() < 0 {
		return refuse(s, RulePlaatsingLKS, "het LKS-bedrag kan niet negatief zijn")
	}
	if k := p.GetWerkgeverKvk(); k != "" && !kvkNummer(k) {
		return refuse(s, RulePlaatsingKvK, "een KvK-nummer heeft 8 cijfers; %d tekens gegeven", len(k))
	}
	end := p.GetGeplandeEinddatum()
	if end != nil && event.CompareDates(end, date) <= 0 {
		return refuse(s, RulePlaatsingEinddatum, "de geplande einddatum %s ligt niet na de start %s", event.FormatDate(end), event.FormatDate(date))
	}
	if p.GetType() == ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING {
		if end == nil {
			return refuse(s, RuleDetacheringEinddatum, "een detachering heeft een geplande einddatum (in principe hooguit een jaar)")
		}
		if event.DateTime(end).After(event.DateTime(date).AddDate(1, 0, 0)) && p.GetRedenLanger() == "" && p.GetVertrouwelijk() == nil {
			return refuse(s, RuleDetacheringMax12, "een detachering duurt in principe hooguit 12 maanden; %s tot %s is langer: geef de reden (--reden-langer)", event.FormatDate(date), event.FormatDate(end))
		}
	}
	return nil
}

func checkUren(s State, last *ledgerv1.Date, u *ledgerv1.Uren) error {
	p, ok := beleid.LookupProduct(u.GetProduct())
	if !ok || p.Eenheid != beleid.PerUur {
		return refuse(s, RuleUrenProduct, "uren horen bij een uurproduct (%s), niet bij %q", hourProducts(), u.GetProduct())
	}
	if u.GetMinuten() == 0 {
		return refuse(s, RuleUrenAantal, "geef het aantal uren")
	}
	if u.GetVan() == nil || event.CheckDate(u.GetVan()) != nil || event.CompareDates(u.GetVan(), last) > 0 {
		return refuse(s, RuleUrenPeriode, "de periode loopt van een geldige datum tot en met de datum (%s)", event.FormatDate(last))
	}
	if s.AanmeldDatum != nil && event.CompareDates(u.GetVan(), s.AanmeldDatum) < 0 {
		return refuse(s, RuleUrenPeriode, "de periode begint vóór de aanmelding (%s)", event.FormatDate(s.AanmeldDatum))
	}
	if !s.Open() && event.CompareDates(last, s.Sinds) > 0 {
		return refuse(s, RuleZaakGesloten, "de zaak is gesloten op %s; uren na die dag kunnen niet", event.FormatDate(s.Sinds))
	}
	return nil
}

func hourProducts() string {
	var out []string
	for _, p := range beleid.Products {
		if p.Eenheid == beleid.PerUur {
			out = append(out, p.Code)
		}
	}
	return strings.Join(out, ", ")
}

func checkVangnet(s State, v *ledgerv1.TerugvalOpVangnet) error {
	switch {
	case s.Toestand == ledgerv1.Toestand_TOESTAND_GEPLAATST, s.Toestand == ledgerv1.Toestand_TOESTAND_UITGEVALLEN:
	case s.Terugkeer():
		// Back from regular work that did not work out (Decide checks
		// the policy's period).
	case s.Toestand == ledgerv1.Toestand_TOESTAND_VANGNET:
		return refuse(s, RuleVangnetVanuitPlaatsing, "de klant is al op het vangnet")
	default:
		return refuse(s, RuleVangnetVanuitPlaatsing, "terugval op het vangnet kan alleen vanuit een plaatsing, of na uitstroom naar regulier werk; de klant is %s", ToestandNaam(s.Toestand))
	}
	if v.GetVangnetType() == ledgerv1.PlaatsingType_PLAATSING_TYPE_UNSPECIFIED {
		return refuse(s, RuleVangnetType, "geef het soort vangnetplaats")
	}
	if from := v.GetVanPlaatsing(); from != "" && from != s.LaatstePlaatsing {
		return refuse(s, RuleVangnetVanPlaatsing, "de terugval moet uit de laatste plaatsing (%s) komen, niet uit %s", s.LaatstePlaatsing, from)
	}
	return nil
}

// Rules are the facts outside the case that a decision needs.
type Rules struct {
	Gemeenten *gemeente.Registry
	Today     *ledgerv1.Date // in Europe/Amsterdam
	// History: the command brings in history (an import), so it is judged
	// as of its own date only, not also as of today.
	History bool
	// Policy returns a gemeente's policy versions. When set, a placement,
	// terugval op vangnet or hours are refused unless the responsible
	// gemeente's policy in force that day buys the product: what is not
	// bought can not be priced. Nil skips the check.
	Policy func(gemeente string) beleid.History
}

// Decide judges a draft event (payload, occurred_on and, for an aanmelding,
// gemeente in its envelope) against the case's stored history and returns
// the event to append: the draft with the envelope's case and gemeente set
// and derived fields filled in (the verhuizing's snapshot, the vangnet's
// placement). It refuses with a *Refusal. The caller adds ids, hash link,
// actor and timestamps.
func Decide(history []*ledgerv1.Event, draft *ledgerv1.Event, r Rules) (*ledgerv1.Event, error) {
	s, err := Replay(history)
	if err != nil {
		return nil, err
	}
	return decide(history, s, draft, r)
}

// decide is Decide on a history whose Replay gave s: a batch keeps s from
// one command on a case to the next instead of judging the whole history
// again for each.
func decide(history []*ledgerv1.Event, s State, draft *ledgerv1.Event, r Rules) (*ledgerv1.Event, error) {
	if err := checkBounds(s, draft); err != nil {
		return nil, err
	}
	env := draft.GetEnvelope()
	if c := draft.GetCorrectie(); c != nil {
		// A correctie is dated the day it is recorded; the date given with
		// it is the corrected date of the fact.
		c = proto.Clone(c).(*ledgerv1.Correctie)
		if c.Datum == nil {
			c.Datum = env.GetOccurredOn()
		}
		// What was handed over is the ledger's to work out, not a client's
		// to say (decideCorrectie).
		c.Overdrachten = nil
		env = proto.Clone(env).(*ledgerv1.Envelope)
		if r.Today != nil {
			env.OccurredOn = r.Today
		}
		draft = &ledgerv1.Event{Envelope: env, Payload: &ledgerv1.Event_Correctie{Correctie: c}}
	}
	if env == nil || env.GetOccurredOn() == nil {
		return nil, refuse(s, RuleDatumVerplicht, "een datum is verplicht")
	}
	if err := event.CheckDate(env.GetOccurredOn()); err != nil {
		return nil, refuse(s, RuleDatumVerplicht, "ongeldige datum: %v", err)
	}
	if r.Today != nil && event.CompareDates(env.GetOccurredOn(), r.Today) > 0 {
		return nil, refuse(s, RuleDatumToekomst, "de datum %s ligt in de toekomst (vandaag is %s)", event.FormatDate(env.GetOccurredOn()), event.FormatDate(r.Today))
	}

	out := &ledgerv1.Event{Envelope: proto.Clone(env).(*ledgerv1.Envelope), Payload: draft.GetPayload()}
	if a := draft.GetAanmelding(); a != nil {
		if err := participates(s, r, env.GetGemeente(), env.GetOccurredOn()); err != nil {
			return nil, err
		}
		if err := carriedToday(s, r, env.GetGemeente()); err != nil {
			return nil, err
		}
		if err := checkWsw(s, a, env.GetOccurredOn()); err != nil {
			return nil, err
		}
	} else {
		if !s.Exists {
			return nil, &Refusal{Rule: RuleZaakOnbekend, CaseID: env.GetCaseId(), Reden: "deze zaak bestaat niet", Err: ErrCaseNotFound}
		}
		if draft.GetCorrectie() == nil {
			if err := carry(&s, r, env.GetOccurredOn()); err != nil {
				return nil, err
			}
		}
		if g := env.GetGemeente(); g != "" && g != s.Gemeente {
			if err := participates(s, r, g, env.GetOccurredOn()); err != nil {
				// Naming the ended gemeente after a herindeling: say
				// which one carries the case now.
				return nil, err
			}
			return nil, refuse(s, RuleGemeenteVerantwoordelijk, "de zaak valt onder %s, niet onder %s", s.Gemeente, g)
		}
		out.Envelope.CaseId = s.CaseID
		out.Envelope.Gemeente = s.Gemeente
	}

	switch p := draft.GetPayload().(type) {
	case *ledgerv1.Event_Plaatsing:
		pl := p.Plaatsing
		if pl.GetProduct() == "" && beleid.DefaultProduct(pl.GetType()) != "" {
			// The event names the product it is priced as, so the price
			// can be traced without knowing today's default.
			pl = proto.Clone(pl).(*ledgerv1.Plaatsing)
			pl.Product = beleid.DefaultProduct(pl.GetType())
			out.Payload = &ledgerv1.Event_Plaatsing{Plaatsing: pl}
		}
		if err := Check(s, out); err != nil {
			return nil, err
		}
		if err := bought(s, r, s.Gemeente, pl.GetProduct(), env.GetOccurredOn(), beleid.PerJaar, RulePlaatsingProduct); err != nil {
			return nil, err
		}
	case *ledgerv1.Event_Uren:
		if err := Check(s, out); err != nil {
			return nil, err
		}
		// Hours are often recorded after the fact: they belong to, and are
		// paid by, the gemeente responsible on the last day of the period,
		// which after a verhuizing is not the one responsible now.
		g := r.drager(responsibleOn(history, env.GetOccurredOn(), s.Gemeente), env.GetOccurredOn())
		out.Envelope.Gemeente = g
		if err := bought(s, r, g, p.Uren.GetProduct(), env.GetOccurredOn(), beleid.PerUur, RuleUrenProduct); err != nil {
			return nil, err
		}
	case *ledgerv1.Event_Verhuizing:
		naar := p.Verhuizing.GetNaarGemeente()
		if naar != "" && naar != s.Gemeente {
			if err := participates(s, r, naar, env.GetOccurredOn()); err != nil {
				var ref *Refusal
				if errors.As(err, &ref) {
					ref.Reden += "; verhuist de klant buiten de regio, registreer dan een uitstroom met reden verhuizing-buiten-regio"
				}
				return nil, err
			}
		}
		out.Payload = &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{
			VanGemeente:  s.Gemeente,
			NaarGemeente: naar,
			Snapshot:     s.Snapshot(),
		}}
	case *ledgerv1.Event_Vangnet:
		v := p.Vangnet
		if err := Check(s, out); err != nil {
			return nil, err
		}
		if err := bought(s, r, s.Gemeente, beleid.ProductVangnet, env.GetOccurredOn(), beleid.PerJaar, RuleVangnetProduct); err != nil {
			return nil, err
		}
		if s.Terugkeer() {
			// A closed case is carried by nobody: the gemeente it closed
			// under must still take part (after a herindeling the
			// resident is registered anew under the successor).
			if err := participates(s, r, s.Gemeente, env.GetOccurredOn()); err != nil {
				return nil, err
			}
			if err := terugkeer(s, r, env.GetOccurredOn()); err != nil {
				return nil, err
			}
		}
		if v.GetVanPlaatsing() == "" {
			out.Payload = &ledgerv1.Event_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{
				VanPlaatsing: s.LaatstePlaatsing,
				VangnetType:  v.GetVangnetType(),
				Toelichting:  v.GetToelichting(),
			}}
		}
	case *ledgerv1.Event_Correctie:
		if err := decideCorrectie(history, s, out, p.Correctie, r); err != nil {
			return nil, err
		}
		return out, nil
	}

	if err := Check(s, out); err != nil {
		return nil, err
	}
	return out, nil
}

// responsibleOn is the gemeente responsible for the case on day d: the one
// after the last verhuizing dated on or before d.
func responsibleOn(history []*ledgerv1.Event, d *ledgerv1.Date, fallback string) string {
	eff, err := Effective(history)
	if err != nil {
		return fallback
	}
	g := fallback
	for _, ev := range eff {
		if event.CompareDates(ev.GetEnvelope().GetOccurredOn(), d) > 0 {
			break
		}
		switch {
		case ev.GetAanmelding() != nil:
			g = ev.GetEnvelope().GetGemeente()
		case ev.GetVerhuizing() != nil:
			g = ev.GetVerhuizing().GetNaarGemeente()
		}
	}
	return g
}

// bought refuses a product the responsible gemeente's policy in force on d
// does not buy at a tariff in the right unit.
func bought(s State, r Rules, gemeente, product string, d *ledgerv1.Date, unit beleid.Eenheid, rule string) error {
	if r.Policy == nil {
		return nil
	}
	if _, ok := beleid.LookupProduct(product); !ok {
		return refuse(s, rule, "onbekend product %q", product)
	}
	v := r.Policy(gemeente).InForce(d)
	if v == nil {
		return refuse(s, RuleBeleidOntbreekt, "%s heeft op %s geen beleid van kracht; zonder beleid kan niets geprijsd worden: leg eerst het beleid vast (ledger policy set)", gemeente, event.FormatDate(d))
	}
	t, ok := v.Tarief(product)
	if !ok || (unit == beleid.PerJaar && t.GetCentPerJaar() <= 0) || (unit == beleid.PerUur && t.GetCentPerUur() <= 0) {
		return refuse(s, rule, "%s koopt het product %q niet in volgens beleid %s (geldig vanaf %s)", gemeente, product, v.Ref(), event.FormatDate(v.Beleid.GetGeldigVanaf()))
	}
	return nil
}

// Carried is the case's state on day d after the herindelingen of reg
// (gemeente.Registry.Drager): an open case of an ended gemeente is its
// successor's, or, when the successor is outside the arrangement, has
// ended on the herindeling's day (then h is that herindeling). Evolve
// does not know the calendar; every reader of "who has the case now"
// goes through here.
func Carried(s State, reg *gemeente.Registry, d *ledgerv1.Date) (_ State, h *gemeente.Herindeling) {
	if reg == nil || !s.Open() {
		return s, nil
	}
	g, h := reg.Drager(s.Gemeente, d)
	if h != nil {
		return s.EndedOn(h.Op), h
	}
	s.Gemeente = g
	return s, nil
}

// EndedOn is the state of a case that ended on day d without an uitstroom
// of its own (its gemeente went out of the arrangement).
func (s State) EndedOn(d *ledgerv1.Date) State {
	s.Toestand = ledgerv1.Toestand_TOESTAND_UITGESTROOMD
	s.Plaatsing, s.PlaatsingType = "", ledgerv1.PlaatsingType_PLAATSING_TYPE_UNSPECIFIED
	s.Sinds = d
	return s
}

// carry hands the case to the gemeente that carries it on day d (Carried):
// a command on a carried case goes on under the successor, priced at the
// successor's policy. A case that ended with its gemeente takes no new
// transitions; hours of the days before still count.
func carry(s *State, r Rules, d *ledgerv1.Date) error {
	c, h := Carried(*s, r.Gemeenten, d)
	if h == nil {
		*s = c
		return nil
	}
	naam := h.Van
	if g, ok := r.Gemeenten.Lookup(h.Van); ok {
		naam = g.Naam + " (" + g.Code + ")"
	}
	return refuse(*s, RuleGemeenteHerindeling, "de zaak is per %s beëindigd: %s is opgegaan in %s, dat niet deelneemt aan de regeling", event.FormatDate(h.Op), naam, h.Naar)
}

// drager is the gemeente carrying g's cases on day d; g itself without a
// registry, or when the herindeling led out of the arrangement (the
// refusal is carry's to give).
func (r Rules) drager(g string, d *ledgerv1.Date) string {
	if r.Gemeenten == nil {
		return g
	}
	if c, _ := r.Gemeenten.Drager(g, d); c != "" {
		return c
	}
	return g
}

func participates(s State, r Rules, code string, d *ledgerv1.Date) error {
	if r.Gemeenten == nil {
		return nil
	}
	if err := r.Gemeenten.CheckParticipates(code, d); err != nil {
		rule := RuleGemeenteDeelnemer
		if errors.Is(err, gemeente.ErrMerged) {
			rule = RuleGemeenteHerindeling
		}
		ref := refuse(s, rule, "%v", err)
		ref.Err = err // unwraps to gemeente.ErrUnknownGemeente or ErrNotParticipating
		return ref
	}
	return nil
}

// carriedToday refuses a new live case, however far back it is dated, for
// a gemeente whose cases nobody in the arrangement carries today (Weesp
// since it left in 2022): it would be a case no one is responsible for.
// After a herindeling within the arrangement the successor carries it. An
// import brings in history and is not held to today.
func carriedToday(s State, r Rules, code string) error {
	if r.History || r.Gemeenten == nil || r.Today == nil {
		return nil
	}
	if g, _ := r.Gemeenten.Drager(code, r.Today); g != "" && r.Gemeenten.CheckParticipates(g, r.Today) == nil {
		return nil
	}
	naam := code
	if g, ok := r.Gemeenten.Lookup(code); ok {
		naam = g.Naam + " (" + code + ")"
		if g.GeldigTot != nil {
			naam += ", deelname tot " + event.FormatDate(g.GeldigTot)
		}
	}
	ref := refuse(s, RuleGemeenteDeelnemer, "%s neemt vandaag niet deel aan de regeling en niemand in de regeling draagt haar zaken; een nieuwe aanmelding kan alleen voor een gemeente die nu deelneemt, ook met een datum in het verleden (de geschiedenis komt binnen met ledger import)", naam)
	ref.Err = gemeente.ErrNotParticipating
	return ref
}

// kvkNummer reports whether k is a KvK number: eight digits.
func kvkNummer(k string) bool {
	if len(k) != 8 {
		return false
	}
	for _, c := range k {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// terugkeer judges a return on the vangnet on day d of a case closed by
// an uitstroom to regular work: within the months the policy in force on
// the day of the uitstroom (the promise made when the resident left)
// allows. Without policies to ask (Rules.Policy nil) it is not judged.
func terugkeer(s State, r Rules, d *ledgerv1.Date) error {
	if r.Policy == nil {
		return nil
	}
	left := s.Sinds
	v := r.Policy(s.Gemeente).InForce(left)
	var n int32
	if v != nil {
		n = v.Beleid.GetTerugkeerMaanden()
	}
	if n <= 0 {
		return refuse(s, RuleTerugkeerTermijn, "het beleid van %s op %s (de uitstroom naar regulier werk) geeft geen terugkeer op het vangnet; meld de klant opnieuw aan", s.Gemeente, event.FormatDate(left))
	}
	until := addMonths(left, int(n))
	if event.CompareDates(d, until) > 0 {
		return refuse(s, RuleTerugkeerTermijn, "terugkeer op het vangnet kon tot %s: %d maanden na de uitstroom naar regulier werk op %s (beleid %s); meld de klant opnieuw aan", event.FormatDate(until), n, event.FormatDate(left), v.Ref())
	}
	return nil
}

// addMonths is d plus n months, on the last day of the month reached when
// it has fewer days than d's (31 August plus 6 months is 28 February, not
// 3 March as time.AddDate would roll over).
func addMonths(d *ledgerv1.Date, n int) *ledgerv1.Date {
	first := time.Date(int(d.GetYear()), time.Month(d.GetMonth())+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return event.Date(first.AddDate(0, 0, min(int(d.GetDay()), last)-1))
}

// terugkeers judges every return in a corrected history (a correctie may
// move an uitstroom or a return out of the policy's period).
func terugkeers(eff []*ledgerv1.Event, r Rules) error {
	var s State
	for _, ev := range eff {
		if ev.GetVangnet() != nil && s.Terugkeer() {
			if err := terugkeer(s, r, ev.GetEnvelope().GetOccurredOn()); err != nil {
				return err
			}
		}
		s = Evolve(s, ev)
	}
	return nil
}

// wswStop is the first day without new Wsw indications (the
// Participatiewet, 1 January 2015).
var wswStop = &ledgerv1.Date{Year: 2015, Month: 1, Day: 1}

// checkWsw: no new Wsw indication since 2015. A Wsw aanmelding dated on
// or after wswStop names the date of the resident's standing indication
// from before 2015, also a return under the terugkeergarantie (the flag
// alone would let anyone past the rule). It is a
// rule of Decide, not of Check: a history recorded before the rule must
// replay as it was.
func checkWsw(s State, a *ledgerv1.Aanmelding, on *ledgerv1.Date) error {
	ind := a.GetWswIndicatieSinds()
	if a.GetDoelgroep() != ledgerv1.Doelgroep_DOELGROEP_WSW {
		if a.GetTerugkeergarantie() || ind != nil {
			return refuse(s, RuleWswIndicatie, "de terugkeergarantie en de datum van een Wsw-indicatie horen bij doelgroep wsw; deze aanmelding heeft een andere doelgroep")
		}
		return nil
	}
	if ind != nil {
		switch {
		case event.CheckDate(ind) != nil:
			return refuse(s, RuleWswIndicatie, "de datum van de Wsw-indicatie is ongeldig: %v", event.CheckDate(ind))
		case event.CompareDates(ind, wswStop) >= 0:
			return refuse(s, RuleWswIndicatie, "een Wsw-indicatie van %s bestaat niet: sinds 1 januari 2015 worden er geen nieuwe gegeven", event.FormatDate(ind))
		case on != nil && event.CompareDates(ind, on) > 0:
			return refuse(s, RuleWswIndicatie, "de Wsw-indicatie (%s) ligt na de aanmelding (%s)", event.FormatDate(ind), event.FormatDate(on))
		}
		return nil
	}
	if on != nil && event.CompareDates(on, wswStop) >= 0 {
		return refuse(s, RuleWswGeenInstroom, "sinds 1 januari 2015 is er geen nieuwe instroom in de Wsw: meld aan met de datum van de bestaande Wsw-indicatie van vóór 2015 (--wsw-indicatie-sinds; bij een terugkeer onder de terugkeergarantie ook --terugkeergarantie), of kies een andere doelgroep, zoals beschut-werk")
	}
	return nil
}

// decideCorrectie accepts a correctie only if the corrected history would
// still have been accepted, step by step.
func decideCorrectie(history []*ledgerv1.Event, s State, out *ledgerv1.Event, c *ledgerv1.Correctie, r Rules) error {
	if c.GetReden() == "" {
		return refuse(s, RuleCorrectieReden, "een correctie zegt waarom; geef de reden")
	}
	var orig *ledgerv1.Event
	for _, ev := range history {
		if ev.GetEnvelope().GetEventId() == c.GetCorrigeert() {
			orig = ev
		}
	}
	if orig == nil {
		return refuse(s, RuleCorrectieOnbekend, "gebeurtenis %q hoort niet bij deze zaak", c.GetCorrigeert())
	}
	switch orig.GetPayload().(type) {
	case *ledgerv1.Event_Verhuizing, *ledgerv1.Event_Correctie:
		return refuse(s, RuleCorrectieNiet, "een %s kan niet gecorrigeerd worden; registreer een nieuwe gebeurtenis", event.Type(orig))
	}
	// A correctie belongs to the history of the gemeente whose event it
	// corrects, also after a verhuizing: that gemeente's figures change.
	out.Envelope.Gemeente = orig.GetEnvelope().GetGemeente()
	// The correction's own date is the day it is recorded; the corrected
	// fact keeps its date unless the correction gives another.
	if c.GetDatum() == nil {
		c = proto.Clone(c).(*ledgerv1.Correctie)
		c.Datum = orig.GetEnvelope().GetOccurredOn()
		out.Payload = &ledgerv1.Event_Correctie{Correctie: c}
	}
	if pl := c.GetPlaatsing(); pl != nil && orig.GetPlaatsing() != nil {
		// A corrected type is priced as its own product, unless the
		// correction names one: the old type's default would price an LKS
		// job as beschut werk.
		old := orig.GetPlaatsing()
		if pl.GetProduct() == "" || (pl.GetType() != old.GetType() && pl.GetProduct() == beleid.DefaultProduct(old.GetType())) {
			pl.Product = beleid.DefaultProduct(pl.GetType())
		}
	}
	if err := event.CheckDate(c.GetDatum()); err != nil {
		return refuse(s, RuleDatumVerplicht, "de gecorrigeerde datum is ongeldig: %v", err)
	}
	fixed, err := Corrected(orig, c)
	if err != nil {
		return refuse(s, RuleCorrectieType, "de correctie %s", err)
	}
	if r.Today != nil && event.CompareDates(c.GetDatum(), r.Today) > 0 {
		return refuse(s, RuleDatumToekomst, "de gecorrigeerde datum %s ligt in de toekomst", event.FormatDate(c.GetDatum()))
	}
	fenv := fixed.GetEnvelope()
	moved := event.CompareDates(fenv.GetOccurredOn(), orig.GetEnvelope().GetOccurredOn()) != 0
	switch f := fixed.GetPayload().(type) {
	case *ledgerv1.Event_Plaatsing:
		if f.Plaatsing.GetProduct() != orig.GetPlaatsing().GetProduct() || f.Plaatsing.GetType() != orig.GetPlaatsing().GetType() || moved {
			if err := bought(s, r, r.drager(fenv.GetGemeente(), fenv.GetOccurredOn()), f.Plaatsing.GetProduct(), fenv.GetOccurredOn(), beleid.PerJaar, RulePlaatsingProduct); err != nil {
				return err
			}
		}
	case *ledgerv1.Event_Vangnet:
		if moved {
			if err := bought(s, r, r.drager(fenv.GetGemeente(), fenv.GetOccurredOn()), beleid.ProductVangnet, fenv.GetOccurredOn(), beleid.PerJaar, RuleVangnetProduct); err != nil {
				return err
			}
		}
	case *ledgerv1.Event_Uren:
		g := r.drager(responsibleOn(history, fenv.GetOccurredOn(), fenv.GetGemeente()), fenv.GetOccurredOn())
		if err := bought(s, r, g, f.Uren.GetProduct(), fenv.GetOccurredOn(), beleid.PerUur, RuleUrenProduct); err != nil {
			return err
		}
	}
	if a := fixed.GetAanmelding(); a != nil {
		// Judged as a new aanmelding when the correction touches what the
		// rule is about; an aanmelding recorded before the rule keeps its
		// other corrections.
		was := orig.GetAanmelding()
		if a.GetDoelgroep() != was.GetDoelgroep() || a.GetTerugkeergarantie() != was.GetTerugkeergarantie() || !proto.Equal(a.GetWswIndicatieSinds(), was.GetWswIndicatieSinds()) || moved {
			if err := checkWsw(s, a, c.GetDatum()); err != nil {
				return err
			}
		}
		if err := participates(s, r, fixed.GetEnvelope().GetGemeente(), c.GetDatum()); err != nil {
			return err
		}
	}
	corrected := append(append([]*ledgerv1.Event(nil), history...), out)
	if _, err := Replay(corrected); err != nil {
		var ref *Refusal
		if errors.As(err, &ref) {
			return &Refusal{Rule: RuleCorrectieGeschiedenis, CaseID: s.CaseID, Toestand: s.Toestand,
				Reden: "na deze correctie klopt de geschiedenis niet meer: " + ref.Reden, Err: ref}
		}
		return err
	}
	if _, ok := fixed.GetPayload().(*ledgerv1.Event_Uitstroom); ok || fixed.GetVangnet() != nil {
		// Moving an uitstroom or a return may leave a return outside the
		// period its policy allows.
		eff, err := Effective(corrected)
		if err != nil {
			return fmt.Errorf("correctie: %w", err)
		}
		if err := terugkeers(eff, r); err != nil {
			return err
		}
	}
	// A fact from before a verhuizing was part of what the gemeente moved
	// to was handed: it gets the correction too (event.Audience).
	handed, err := Overdrachten(history, out)
	if err != nil {
		return fmt.Errorf("correctie: %w", err)
	}
	if len(handed) > 0 {
		cc := proto.Clone(out.GetCorrectie()).(*ledgerv1.Correctie)
		cc.Overdrachten = handed
		out.Payload = &ledgerv1.Event_Correctie{Correctie: cc}
	}
	return nil
}
