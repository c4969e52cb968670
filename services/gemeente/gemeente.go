// Package gemeente knows the participants of the centrumregeling: their CBS
// codes, names, inhabitants and validity periods. They come from a data file
// (deploy/gemeenten.json), never from code: gemeenten merge, join and leave.
package gemeente

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var (
	// ErrUnknownGemeente: the code is not in the data file.
	ErrUnknownGemeente = errors.New("onbekende gemeente")
	// ErrNotParticipating: the gemeente is known but does not take part in
	// the arrangement on the given date.
	ErrNotParticipating = errors.New("gemeente neemt niet deel")
	// ErrMerged: the gemeente has ended and has a successor (herindeling);
	// it also unwraps to ErrNotParticipating.
	ErrMerged = errors.New("gemeente is opgegaan in een opvolger")
)

// Gemeente is one participant.
type Gemeente struct {
	Code string
	Naam string
	// Inhabitants on 1 January, by year.
	Inwoners map[int]int64
	// First day of participation.
	GeldigVan *ledgerv1.Date
	// First day it no longer participates; nil while it does.
	GeldigTot *ledgerv1.Date
	// CBS code that carries its cases from GeldigTot on.
	Opvolger string
}

// ParticipatesOn reports whether g takes part on day d.
func (g Gemeente) ParticipatesOn(d *ledgerv1.Date) bool {
	if g.GeldigVan != nil && event.CompareDates(d, g.GeldigVan) < 0 {
		return false
	}
	return g.GeldigTot == nil || event.CompareDates(d, g.GeldigTot) < 0
}

// InwonersOp returns the inhabitants on 1 January of year, falling back to
// the latest earlier year on file.
func (g Gemeente) InwonersOp(year int) (int64, bool) {
	best, found := 0, false
	for y := range g.Inwoners {
		if y <= year && (!found || y > best) {
			best, found = y, true
		}
	}
	return g.Inwoners[best], found
}

// Registry is the set of participants, read-only after Load.
type Registry struct {
	list    []Gemeente
	byCode  map[string]int
	centrum string
}

// Load reads the data file at path.
func Load(path string) (*Registry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gemeenten data: %w", err)
	}
	defer f.Close()
	r, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("gemeenten data %s: %w", path, err)
	}
	return r, nil
}

type fileGemeente struct {
	Code      string           `json:"code"`
	Naam      string           `json:"naam"`
	GeldigVan string           `json:"geldig_van"`
	GeldigTot string           `json:"geldig_tot"`
	Opvolger  string           `json:"opvolger"`
	Inwoners  map[string]int64 `json:"inwoners"`
}

// Parse reads the JSON form of the data file.
func Parse(r io.Reader) (*Registry, error) {
	var file struct {
		Centrum   string         `json:"centrum"`
		Gemeenten []fileGemeente `json:"gemeenten"`
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&file); err != nil {
		return nil, err
	}
	var list []Gemeente
	for i, fg := range file.Gemeenten {
		g, err := fg.gemeente()
		if err != nil {
			return nil, fmt.Errorf("gemeente %d (%s): %w", i, fg.Code, err)
		}
		list = append(list, g)
	}
	reg, err := New(list)
	if err != nil {
		return nil, err
	}
	if file.Centrum != "" {
		if _, ok := reg.Lookup(file.Centrum); !ok {
			return nil, fmt.Errorf("centrum %q is not one of the gemeenten", file.Centrum)
		}
		reg.centrum = file.Centrum
	}
	return reg, nil
}

// Centrum is the centrumgemeente: it executes the work and books the shared
// costs. Empty when the data file names none.
func (r *Registry) Centrum() string { return r.centrum }

func (fg fileGemeente) gemeente() (Gemeente, error) {
	g := Gemeente{Code: fg.Code, Naam: fg.Naam, Opvolger: fg.Opvolger, Inwoners: map[int]int64{}}
	var err error
	if fg.GeldigVan != "" {
		if g.GeldigVan, err = event.ParseDate(fg.GeldigVan); err != nil {
			return g, fmt.Errorf("geldig_van: %w", err)
		}
	}
	if fg.GeldigTot != "" {
		if g.GeldigTot, err = event.ParseDate(fg.GeldigTot); err != nil {
			return g, fmt.Errorf("geldig_tot: %w", err)
		}
	}
	for y, n := range fg.Inwoners {
		year, err := strconv.Atoi(y)
		if err != nil || n < 0 {
			return g, fmt.Errorf("inwoners %q: %d: want a year and a count", y, n)
		}
		g.Inwoners[year] = n
	}
	return g, nil
}

// New builds a registry and checks it: valid unique codes, names, and
// periods that end after they start.
func New(list []Gemeente) (*Registry, error) {
	r := &Registry{byCode: make(map[string]int, len(list))}
	for _, g := range list {
		if !event.ValidGemeenteCode(g.Code) {
			return nil, fmt.Errorf("code %q is not a CBS code GMxxxx", g.Code)
		}
		if g.Naam == "" {
			return nil, fmt.Errorf("%s has no naam", g.Code)
		}
		if _, dup := r.byCode[g.Code]; dup {
			return nil, fmt.Errorf("%s appears twice", g.Code)
		}
		if g.GeldigVan != nil && g.GeldigTot != nil && event.CompareDates(g.GeldigTot, g.GeldigVan) <= 0 {
			return nil, fmt.Errorf("%s: geldig_tot %s is not after geldig_van %s", g.Code, event.FormatDate(g.GeldigTot), event.FormatDate(g.GeldigVan))
		}
		if g.Opvolger != "" && !event.ValidGemeenteCode(g.Opvolger) {
			return nil, fmt.Errorf("%s: opvolger %q is not a CBS code", g.Code, g.Opvolger)
		}
		r.byCode[g.Code] = len(r.list)
		r.list = append(r.list, g)
	}
	sort.Slice(r.list, func(i, j int) bool { return r.list[i].Code < r.list[j].Code })
	for i, g := range r.list {
		r.byCode[g.Code] = i
	}
	if err := r.checkHerindelingen(); err != nil {
		return nil, err
	}
	return r, nil
}

// All returns every gemeente on file, by code.
func (r *Registry) All() []Gemeente { return append([]Gemeente(nil), r.list...) }

// Codes returns every code on file, sorted.
func (r *Registry) Codes() []string {
	codes := make([]string, len(r.list))
	for i, g := range r.list {
		codes[i] = g.Code
	}
	return codes
}

// Lookup finds a gemeente by code.
func (r *Registry) Lookup(code string) (Gemeente, bool) {
	i, ok := r.byCode[code]
	if !ok {
		return Gemeente{}, false
	}
	return r.list[i], true
}

// Participating returns the gemeenten taking part on day d.
func (r *Registry) Participating(d *ledgerv1.Date) []Gemeente {
	var out []Gemeente
	for _, g := range r.list {
		if g.ParticipatesOn(d) {
			out = append(out, g)
		}
	}
	return out
}

// CheckParticipates returns nil when code takes part on day d, otherwise an
// error wrapping ErrUnknownGemeente or ErrNotParticipating (and ErrMerged
// after a herindeling, naming the successor).
func (r *Registry) CheckParticipates(code string, d *ledgerv1.Date) error {
	g, ok := r.Lookup(code)
	if !ok {
		return fmt.Errorf("%w: %q staat niet in de lijst van deelnemers", ErrUnknownGemeente, code)
	}
	if !g.ParticipatesOn(d) {
		period := "vanaf " + event.FormatDate(g.GeldigVan)
		if g.GeldigTot != nil {
			period += " tot " + event.FormatDate(g.GeldigTot)
		}
		if g.GeldigTot != nil && g.Opvolger != "" && event.CompareDates(d, g.GeldigTot) >= 0 {
			// After a herindeling the successor carries the cases: say
			// whom to name instead, or that it is outside the arrangement.
			next := g.Opvolger
			if o, ok := r.Lookup(g.Opvolger); ok {
				next = o.Naam + " (" + o.Code + ")"
			}
			where := "registreer onder " + g.Opvolger
			if !r.participates(g.Opvolger, d) {
				where = next + " neemt op die dag niet deel aan de regeling"
			}
			return fmt.Errorf("%w: %w: %s (%s) is per %s opgegaan in %s; %s", ErrNotParticipating, ErrMerged, g.Naam, g.Code, event.FormatDate(g.GeldigTot), next, where)
		}
		return fmt.Errorf("%w: %s (%s) neemt op %s niet deel (deelname %s)", ErrNotParticipating, g.Naam, g.Code, event.FormatDate(d), period)
	}
	return nil
}

func (r *Registry) participates(code string, d *ledgerv1.Date) bool {
	g, ok := r.Lookup(code)
	return ok && g.ParticipatesOn(d)
}
