package gemeente

import (
	"fmt"
	"sort"

	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Herindeling is a gemeente that ends with a successor. It is data (the
// data file's geldig_tot and opvolger), never an event: the projections
// move the open cases on the day, the stored history stays as recorded.
type Herindeling struct {
	Van  string
	Naar string
	// Op is the first day the successor carries the open cases: Van's
	// geldig_tot. Van's last day is the day before.
	Op *ledgerv1.Date
	// Buiten: the successor does not take part in the arrangement on Op
	// (Weesp into Amsterdam). Then nobody in the arrangement carries the
	// cases, and they end on Op.
	Buiten bool
}

// HerindelingVan returns the herindeling that ends gemeente code, if any.
func (r *Registry) HerindelingVan(code string) (Herindeling, bool) {
	g, ok := r.Lookup(code)
	if !ok || g.GeldigTot == nil || g.Opvolger == "" {
		return Herindeling{}, false
	}
	return Herindeling{Van: g.Code, Naar: g.Opvolger, Op: g.GeldigTot, Buiten: !r.participates(g.Opvolger, g.GeldigTot)}, true
}

// Herindelingen returns every herindeling on file, by date.
func (r *Registry) Herindelingen() []Herindeling {
	var out []Herindeling
	for _, g := range r.list {
		if h, ok := r.HerindelingVan(g.Code); ok {
			out = append(out, h)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return event.CompareDates(out[i].Op, out[j].Op) < 0 })
	return out
}

// Drager returns the gemeente that carries on day d a case that code was
// responsible for: code itself, or its successor (and theirs) after a
// herindeling. When a herindeling on the way leads out of the arrangement,
// it returns "" and that herindeling: the case has ended.
func (r *Registry) Drager(code string, d *ledgerv1.Date) (string, *Herindeling) {
	for {
		h, ok := r.HerindelingVan(code)
		if !ok || event.CompareDates(d, h.Op) < 0 {
			return code, nil
		}
		if h.Buiten {
			return "", &h
		}
		code = h.Naar
	}
}

// Archieven returns the gemeenten whose history code keeps on day d as
// successor (Archiefwet), directly or through a chain of herindelingen.
func (r *Registry) Archieven(code string, d *ledgerv1.Date) []Herindeling {
	var out []Herindeling
	for _, h := range r.Herindelingen() {
		if h.Buiten || event.CompareDates(d, h.Op) < 0 {
			continue
		}
		if g, _ := r.Drager(h.Van, d); g == code {
			out = append(out, h)
		}
	}
	return out
}

// checkHerindelingen refuses a data file whose successors can not carry the
// cases: an opvolger without an end date, an unknown opvolger, or a chain
// that does not move forward in time (which could lead back to where it
// started).
func (r *Registry) checkHerindelingen() error {
	for _, g := range r.list {
		if g.Opvolger == "" {
			continue
		}
		if g.GeldigTot == nil {
			return fmt.Errorf("%s: opvolger %s without geldig_tot", g.Code, g.Opvolger)
		}
		if g.Opvolger == g.Code {
			return fmt.Errorf("%s is its own opvolger", g.Code)
		}
		o, ok := r.Lookup(g.Opvolger)
		if !ok {
			// A successor outside the data file is outside the
			// arrangement: its cases end (Weesp into Amsterdam).
			continue
		}
		if o.GeldigTot != nil && event.CompareDates(o.GeldigTot, g.GeldigTot) <= 0 {
			return fmt.Errorf("%s: opvolger %s ends on %s, not after %s's end %s", g.Code, o.Code, event.FormatDate(o.GeldigTot), g.Code, event.FormatDate(g.GeldigTot))
		}
	}
	return nil
}

// Betrokken returns the herindelingen in force on day d that involve code:
// as the ended gemeente, or as the one that carries its cases now.
func (r *Registry) Betrokken(code string, d *ledgerv1.Date) []Herindeling {
	var out []Herindeling
	for _, h := range r.Herindelingen() {
		if event.CompareDates(d, h.Op) < 0 {
			continue
		}
		if h.Van == code || h.Naar == code {
			out = append(out, h)
			continue
		}
		if g, _ := r.Drager(h.Van, d); g == code {
			out = append(out, h)
		}
	}
	return out
}

// Proto is h as the views show it, with a sentence for the reader.
func (r *Registry) Proto(h Herindeling) *ledgerv1.Herindeling {
	out := &ledgerv1.Herindeling{Van: h.Van, Naar: h.Naar, Per: h.Op, BuitenRegeling: h.Buiten, VanNaam: h.Van, NaarNaam: h.Naar}
	if g, ok := r.Lookup(h.Van); ok {
		out.VanNaam = g.Naam
	}
	if g, ok := r.Lookup(h.Naar); ok {
		out.NaarNaam = g.Naam
	}
	van := out.VanNaam + " (" + h.Van + ")"
	naar := out.NaarNaam
	if naar != h.Naar {
		naar += " (" + h.Naar + ")"
	}
	if h.Buiten {
		out.Toelichting = fmt.Sprintf("%s is per %s opgegaan in %s, dat niet deelneemt aan de regeling; de lopende zaken zijn op die dag beëindigd.", van, event.FormatDate(h.Op), naar)
	} else {
		out.Toelichting = fmt.Sprintf("%s is per %s opgegaan in %s; %s draagt vanaf die dag de lopende zaken en beheert de geschiedenis van %s (Archiefwet).", van, event.FormatDate(h.Op), naar, out.NaarNaam, out.VanNaam)
	}
	return out
}
