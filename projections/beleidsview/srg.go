package beleidsview

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// ErrSRGMapping is wrapped by every error in the SRG mapping data.
var ErrSRGMapping = errors.New("ongeldige SRG-koppeling")

// SRGMapping maps placement types to CBS SRG voorzieningen. It is data
// (deploy/srg.json), not code: CBS revises its code list, and which of the
// ontwikkelbedrijf's placements count as which voorziening is a choice the
// region makes and must be able to change without a release.
type SRGMapping struct {
	Toelichting   string           `json:"toelichting"`
	Voorzieningen []SRGVoorziening `json:"voorzieningen"`

	// Index into Voorzieningen by placement type; vangnet placements go
	// to vangnet when the data maps the word "vangnet", else by their type.
	byType  map[ledgerv1.PlaatsingType]int
	vangnet int
}

// SRGVoorziening is one SRG voorziening and the placement types counted as
// it.
type SRGVoorziening struct {
	Code         string `json:"code"`
	Omschrijving string `json:"omschrijving"`
	// Placement type words ("beschut-werk", "lks-baan", ...) and
	// optionally "vangnet" for every vangnet placement.
	Plaatsingstypen []string `json:"plaatsingstypen"`
	// Where the code comes from, for whoever checks it against CBS.
	Bron string `json:"bron,omitempty"`
}

// LoadSRG reads the mapping file at path.
func LoadSRG(path string) (SRGMapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return SRGMapping{}, fmt.Errorf("SRG-koppeling: %w", err)
	}
	defer f.Close()
	m, err := ParseSRG(f)
	if err != nil {
		return SRGMapping{}, fmt.Errorf("SRG-koppeling %s: %w", path, err)
	}
	return m, nil
}

// ParseSRG reads the JSON form of the mapping and checks it: every
// voorziening has a code and an omschrijving, codes are unique, every word
// is a placement type (or "vangnet"), and no type is mapped twice. Unknown
// fields are refused, so a misspelt key does not silently drop a mapping.
func ParseSRG(r io.Reader) (SRGMapping, error) {
	var m SRGMapping
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return SRGMapping{}, fmt.Errorf("%w: %v", ErrSRGMapping, err)
	}
	if dec.More() {
		return SRGMapping{}, fmt.Errorf("%w: meer dan één JSON-object", ErrSRGMapping)
	}
	if err := m.index(); err != nil {
		return SRGMapping{}, err
	}
	return m, nil
}

// NewSRGMapping checks and indexes a mapping built in code.
func NewSRGMapping(toelichting string, vs []SRGVoorziening) (SRGMapping, error) {
	m := SRGMapping{Toelichting: toelichting, Voorzieningen: vs}
	if err := m.index(); err != nil {
		return SRGMapping{}, err
	}
	return m, nil
}

func (m *SRGMapping) index() error {
	if len(m.Voorzieningen) == 0 {
		return fmt.Errorf("%w: geen voorzieningen", ErrSRGMapping)
	}
	words := typeWords()
	m.byType = map[ledgerv1.PlaatsingType]int{}
	m.vangnet = -1
	codes := map[string]bool{}
	mappedTo := map[string]string{}
	for i, v := range m.Voorzieningen {
		if v.Code == "" || v.Omschrijving == "" {
			return fmt.Errorf("%w: voorziening %d heeft een code en een omschrijving nodig", ErrSRGMapping, i+1)
		}
		if codes[v.Code] {
			return fmt.Errorf("%w: code %s staat er twee keer in", ErrSRGMapping, v.Code)
		}
		codes[v.Code] = true
		for _, w := range v.Plaatsingstypen {
			if prev, dup := mappedTo[w]; dup {
				return fmt.Errorf("%w: plaatsingstype %q is gekoppeld aan %s en aan %s; een plaatsing telt bij één voorziening", ErrSRGMapping, w, prev, v.Code)
			}
			mappedTo[w] = v.Code
			if w == SoortVangnet {
				m.vangnet = i
				continue
			}
			t, ok := words[w]
			if !ok {
				return fmt.Errorf("%w: voorziening %s: onbekend plaatsingstype %q; kies uit %s of %s", ErrSRGMapping, v.Code, w, typeList(), SoortVangnet)
			}
			m.byType[t] = i
		}
	}
	return nil
}

func typeList() string {
	var out string
	vals := typeEnum.Values()
	for i := 0; i < vals.Len(); i++ {
		if n := vals.Get(i).Number(); n != 0 {
			if out != "" {
				out += ", "
			}
			out += TypeWord(ledgerv1.PlaatsingType(n))
		}
	}
	return out
}

// voorziening returns the index of a placement's voorziening, or -1 when
// its type is not an SRG voorziening (a Wsw-dienstverband, for one).
func (m SRGMapping) voorziening(p *region.Placement) int {
	if p.Vangnet && m.vangnet >= 0 {
		return m.vangnet
	}
	if i, ok := m.byType[p.Type]; ok {
		return i
	}
	return -1
}

var halfPattern = regexp.MustCompile(`^([0-9]{4})[Hh]([12])$`)

// ParseHalf reads a half year as "2025H1" or "2025H2".
func ParseHalf(s string) (year, half int, err error) {
	mt := halfPattern.FindStringSubmatch(s)
	if mt == nil {
		return 0, 0, fmt.Errorf("%w: half jaar %q: schrijf JJJJH1 of JJJJH2, bijvoorbeeld 2025H1", ErrPeriode, s)
	}
	year, _ = strconv.Atoi(mt[1])
	half, _ = strconv.Atoi(mt[2])
	return year, half, nil
}

// SRG counts gemeente g's placements per SRG voorziening in a half year
// (half 1: January–June, 2: July–December): gestart when the first day is
// in the half and g was responsible on it; beeindigd when the event that
// ended it is dated in the half and g was responsible on its last active
// day (the beleidsview's definitions); lopend when active on the last day
// of the half with g responsible. Every voorziening of the mapping is
// listed, in the mapping's order, also with zeros: the delivery has fixed
// rows. Placement types the mapping leaves out are not counted.
func SRG(m *region.Model, reg *gemeente.Registry, mapping SRGMapping, g string, year, half int) ([]*ledgerv1.SrgTelling, error) {
	if reg != nil {
		if _, ok := reg.Lookup(g); !ok {
			return nil, fmt.Errorf("SRG %q: %w", g, gemeente.ErrUnknownGemeente)
		}
	}
	if half != 1 && half != 2 {
		return nil, fmt.Errorf("%w: half %d; geef 1 of 2", ErrPeriode, half)
	}
	if mapping.byType == nil {
		return nil, fmt.Errorf("%w: niet geladen (gebruik LoadSRG, ParseSRG of NewSRGMapping)", ErrSRGMapping)
	}
	from := region.MonthStart(year, time.Month(6*half-5))
	to := region.MonthStart(year, time.Month(6*half+1)) // exclusive
	last := to - 1
	out := make([]*ledgerv1.SrgTelling, len(mapping.Voorzieningen))
	for i, v := range mapping.Voorzieningen {
		out[i] = &ledgerv1.SrgTelling{Code: v.Code, Omschrijving: v.Omschrijving}
	}
	for _, c := range m.Cases() {
		spells := c.Spells()
		for _, p := range c.Placements() {
			i := mapping.voorziening(p)
			if i < 0 {
				continue
			}
			t := out[i]
			if from <= p.Start && p.Start < to && gemeenteAt(spells, p.Start) == g {
				t.Gestart++
			}
			if p.End != region.Open && from <= p.End && p.End < to && gemeenteAt(spells, max(p.Start, p.End-1)) == g {
				t.Beeindigd++
			}
			if p.Start <= last && last < p.End && gemeenteAt(spells, last) == g {
				t.Lopend++
			}
		}
	}
	return out, nil
}
