package region

import (
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Case is one case's events and what follows from them.
type Case struct {
	ID string
	// Revision is the store revision of the case's last event.
	Revision uint64
	carry    *carrier
	events   []*ledgerv1.Event
	d        *derived // nil when events changed since it was computed
}

type derived struct {
	effective  []*ledgerv1.Event
	spells     []Spell
	placements []*Placement
	hours      []Hours
	transfers  []Transfer
	err        error
}

// Spell is a stretch of days [From, To) in which neither who is responsible
// for the case nor what the case is changes.
type Spell struct {
	From, To Day // To is Open while it lasts
	Gemeente string
	State    caseflow.State
	// Placement is the placement active during the spell, nil when none.
	Placement *Placement
}

// Placement is one placement (a plaatsing, or a vangnet placement after a
// terugval) from its first day to the day that ends it.
type Placement struct {
	ID      string // event id of the plaatsing or terugval op vangnet
	Case    string
	Type    ledgerv1.PlaatsingType
	Product string
	Vangnet bool
	// [Start, End): End is the date of the event that ended it, Open while
	// it runs.
	Start, End Day
	// EndedBy is the event that ended it; EndKind its type ("uitval",
	// "uitstroom", "vangnet" or "plaatsing"), or EndHerindeling with no
	// event when its gemeente went out of the arrangement.
	EndedBy, EndKind string
	Loonwaarde       uint32
	LKSCentPerMaand  int64
	// MinutenPerWeek the placement takes, 0 when not recorded (and for a
	// vangnet place).
	MinutenPerWeek uint32
	// KvK is the employer's KvK number, when recorded.
	KvK string
	// Contract: a detachering that ended in a contract with the employer,
	// an LKS-baan at the same KvK number or an uitstroom to regular work.
	Contract bool
}

// AtEmployer reports whether the placement is at a regular employer rather
// than inside the ontwikkelbedrijf.
func (p *Placement) AtEmployer() bool {
	switch {
	case p.Vangnet:
		return false
	case p.Type == ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING, p.Type == ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN:
		return true
	case p.Type == ledgerv1.PlaatsingType_PLAATSING_TYPE_WERKERVARINGSPLEK, p.Type == ledgerv1.PlaatsingType_PLAATSING_TYPE_LEERWERKTRAJECT:
		return p.KvK != ""
	}
	return false
}

// Hours is hours of begeleiding delivered to the case in a period.
type Hours struct {
	EventID string
	Case    string
	Product string
	Van     Day // first day
	Tot     Day // last day
	Minuten uint32
	// Gemeente responsible on the last day: the one charged.
	Gemeente string
}

func (c *Case) add(ev *ledgerv1.Event) {
	c.events = append(c.events, ev)
	c.d = nil
}

// Events returns the events as stored, corrections included.
func (c *Case) Events() []*ledgerv1.Event { return c.events }

// Effective returns the history with corrections folded in.
func (c *Case) Effective() []*ledgerv1.Event { return c.derive().effective }

// Spells returns the case's spells in date order.
func (c *Case) Spells() []Spell { return c.derive().spells }

// Placements returns the case's placements in date order.
func (c *Case) Placements() []*Placement { return c.derive().placements }

// Transfers returns the herindelingen the case went through while open.
func (c *Case) Transfers() []Transfer { return c.derive().transfers }

// Hours returns the hours recorded on the case.
func (c *Case) Hours() []Hours { return c.derive().hours }

// Err reports a correction that does not fit its event; the figures then
// leave that correction out.
func (c *Case) Err() error { return c.derive().err }

// GemeenteOn returns the gemeente responsible on day d, "" before the case
// existed.
func (c *Case) GemeenteOn(d Day) string {
	for _, s := range c.Spells() {
		if s.From <= d && d < s.To {
			return s.Gemeente
		}
	}
	return ""
}

func (c *Case) derive() *derived {
	if c.d != nil {
		return c.d
	}
	d := &derived{}
	eff, err := caseflow.Effective(c.events)
	if err != nil {
		// Decide never writes such a correction; if one is in the store
		// anyway, the facts stand as recorded and the error is reported.
		d.err = err
		for _, ev := range c.events {
			if ev.GetCorrectie() == nil {
				eff = append(eff, ev)
			}
		}
	}
	d.effective = eff

	var (
		s       caseflow.State
		from    Day
		started bool
		cur     *Placement
	)
	end := func(at Day, by *ledgerv1.Event, kind string) {
		if cur != nil {
			cur.End, cur.EndedBy, cur.EndKind = at, by.GetEnvelope().GetEventId(), kind
			cur = nil
		}
	}
	for _, ev := range eff {
		if u := ev.GetUren(); u != nil {
			d.hours = append(d.hours, Hours{
				EventID: ev.GetEnvelope().GetEventId(), Case: c.ID, Product: u.GetProduct(),
				Van: DayOf(u.GetVan()), Tot: DayOf(ev.GetEnvelope().GetOccurredOn()), Minuten: u.GetMinuten(),
				Gemeente: ev.GetEnvelope().GetGemeente(),
			})
			continue
		}
		if ev.GetCorrectie() != nil {
			continue
		}
		at := DayOf(ev.GetEnvelope().GetOccurredOn())
		before := cur
		switch p := ev.GetPayload().(type) {
		case *ledgerv1.Event_Plaatsing:
			if cur != nil && cur.Type == ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING && !cur.Vangnet &&
				p.Plaatsing.GetType() == ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN && cur.KvK != "" && cur.KvK == p.Plaatsing.GetWerkgeverKvk() {
				cur.Contract = true
			}
			end(at, ev, "plaatsing")
			product := p.Plaatsing.GetProduct()
			if product == "" {
				product = beleid.DefaultProduct(p.Plaatsing.GetType())
			}
			cur = &Placement{ID: ev.GetEnvelope().GetEventId(), Case: c.ID, Type: p.Plaatsing.GetType(), Product: product, Start: at, End: Open,
				Loonwaarde: p.Plaatsing.GetLoonwaardeProcent(), LKSCentPerMaand: p.Plaatsing.GetLksCentPerMaand(), MinutenPerWeek: p.Plaatsing.GetMinutenPerWeek(),
				KvK: p.Plaatsing.GetWerkgeverKvk()}
			d.placements = append(d.placements, cur)
		case *ledgerv1.Event_Vangnet:
			end(at, ev, "vangnet")
			cur = &Placement{ID: ev.GetEnvelope().GetEventId(), Case: c.ID, Type: p.Vangnet.GetVangnetType(), Product: beleid.ProductVangnet, Vangnet: true, Start: at, End: Open}
			d.placements = append(d.placements, cur)
		case *ledgerv1.Event_Uitval:
			end(at, ev, "uitval")
		case *ledgerv1.Event_Uitstroom:
			if cur != nil && cur.Type == ledgerv1.PlaatsingType_PLAATSING_TYPE_DETACHERING && !cur.Vangnet && p.Uitstroom.GetReden() == ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK {
				cur.Contract = true
			}
			end(at, ev, "uitstroom")
		}
		if started && at > from {
			d.spells = append(d.spells, Spell{From: from, To: at, Gemeente: s.Gemeente, State: s, Placement: before})
		}
		s = caseflow.Evolve(s, ev)
		if !started || at > from {
			from = at
		}
		started = true
	}
	if started {
		d.spells = append(d.spells, Spell{From: from, To: Open, Gemeente: s.Gemeente, State: s, Placement: cur})
	}
	d.spells, d.transfers = c.carry.apply(d.spells)
	// Hours are charged to the gemeente responsible on their last day.
	for i := range d.hours {
		for _, sp := range d.spells {
			if sp.From <= d.hours[i].Tot && d.hours[i].Tot < sp.To {
				d.hours[i].Gemeente = sp.Gemeente
			}
		}
	}
	c.d = d
	return d
}
