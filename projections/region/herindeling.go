package region

import (
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
)

// EndHerindeling is the EndKind of a placement that ended because its
// gemeente went out of the arrangement (Weesp into Amsterdam).
const EndHerindeling = "herindeling"

// Transfer is a herindeling an open case went through: on Day the case
// passed from Van to Naar without any event of its own. Van's last day
// with the case is Day-1. Buiten: Naar is outside the arrangement and the
// case ended on Day.
type Transfer struct {
	Day    Day
	Van    string
	Naar   string
	Buiten bool
}

// carrier applies the herindelingen of the data file to a case's spells:
// from the day a gemeente ends, its successor carries its open cases (in
// caseload, prices and verdeelsleutels), or, when the successor is outside
// the arrangement, the cases end. The stored events are never rewritten;
// this is the one place where the projections honour a herindeling.
type carrier struct {
	by map[string]hop // by ended gemeente
}

type hop struct {
	op     Day
	naar   string
	buiten bool
}

func newCarrier(reg *gemeente.Registry) *carrier {
	if reg == nil {
		return nil
	}
	c := &carrier{by: map[string]hop{}}
	for _, h := range reg.Herindelingen() {
		c.by[h.Van] = hop{op: DayOf(h.Op), naar: h.Naar, buiten: h.Buiten}
	}
	if len(c.by) == 0 {
		return nil
	}
	return c
}

// Drager is the gemeente carrying on day d what g was responsible for
// (gemeente.Registry.Drager in days); "" when a herindeling took it out of
// the arrangement.
func (c *carrier) Drager(g string, d Day) string {
	if c == nil {
		return g
	}
	for {
		h, ok := c.by[g]
		if !ok || d < h.op {
			return g
		}
		if h.buiten {
			return ""
		}
		g = h.naar
	}
}

// apply splits the spells at herindeling days and hands the part from the
// day on to the successor, or closes it. It returns the transfers: each
// herindeling on whose eve the case was open under the ended gemeente.
// Closed stretches stay where they are: a closed case is nobody's caseload.
func (c *carrier) apply(spells []Spell) ([]Spell, []Transfer) {
	if c == nil {
		return spells, nil
	}
	touched := false
	for _, sp := range spells {
		if _, ok := c.by[sp.Gemeente]; ok {
			touched = true
			break
		}
	}
	if !touched {
		return spells, nil
	}
	var out []Spell
	for _, sp := range spells {
		for {
			h, ok := c.by[sp.Gemeente]
			if !ok || sp.To <= h.op || !sp.State.Open() {
				out = append(out, sp)
				break
			}
			if sp.From < h.op {
				// The days before stay the ended gemeente's.
				before := sp
				before.To = h.op
				out = append(out, before)
				sp.From = h.op
			}
			if h.buiten {
				// Nobody in the arrangement carries the case: it ends on
				// the day, and so does its placement.
				if p := sp.Placement; p != nil && p.End > h.op {
					p.End, p.EndedBy, p.EndKind = h.op, "", EndHerindeling
				}
				sp.State = sp.State.EndedOn(h.op.Date())
				sp.Placement = nil
				out = append(out, sp)
				break
			}
			sp.Gemeente, sp.State.Gemeente = h.naar, h.naar
		}
	}
	out = mergeSpells(out)
	var transfers []Transfer
	for _, sp := range out {
		// Open on the ended gemeente's last day: the case went over,
		// whether the day itself brought an event or not.
		if h, ok := c.by[sp.Gemeente]; ok && sp.To == h.op && sp.State.Open() {
			transfers = append(transfers, Transfer{Day: h.op, Van: sp.Gemeente, Naar: h.naar, Buiten: h.buiten})
		}
	}
	return out, transfers
}

// mergeSpells joins neighbours that a herindeling made alike (a closed case
// after its end), so that the spells stay the stretches in which nothing
// changes.
func mergeSpells(spells []Spell) []Spell {
	out := spells[:0:0]
	for _, sp := range spells {
		if n := len(out); n > 0 {
			prev := &out[n-1]
			if prev.To == sp.From && prev.Gemeente == sp.Gemeente && prev.Placement == nil && sp.Placement == nil &&
				!prev.State.Open() && !sp.State.Open() {
				prev.To = sp.To
				continue
			}
		}
		out = append(out, sp)
	}
	return out
}

// Drager is the gemeente carrying on day d what g was responsible for,
// after the herindelingen the model knows; "" when one took it out of the
// arrangement.
func (m *Model) Drager(g string, d Day) string { return m.carry.Drager(g, d) }
