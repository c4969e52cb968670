// Package variant answers "what if": the same stored history under another
// way of dividing what the region shares. A variant is data, read from a
// file; it changes no event in the store. Replayed into a second regional
// model with its regional agreements rewritten, the history gives each
// gemeente's costs as they would have been, line for line by the same cost
// engine (package costs) as the real ones.
//
// What a variant can say today: the verdeelmethode of each year's
// verdeelsleutel (inwoners, caseload-dagen, plaatsing-dagen), and how each
// year's result per budget stream is settled (a Resultaatverdeling: one to
// one, or solidary by a method). Which gemeenten take part in which circle
// (all work, beschut only, a DVO): a gemeente in the beschut circle shares
// only the costs and result of the integratie-uitkering Wsw/beschut, one
// with a DVO (dienstverleningsovereenkomst) buys at the tariffs and shares
// nothing; the others share everything.
package variant

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/projections/beleidsview"
	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/bounds"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Variant is another way of dividing shared costs.
type Variant struct {
	Naam string
	// Verdeelsleutels: per year, the method the year's verdeelsleutel has
	// in this variant. A year not named keeps its own.
	Verdeelsleutels map[int32]ledgerv1.Verdeelmethode
	// Resultaatverdelingen: per year, how the result is settled in this
	// variant. A year not named keeps the recorded agreement, or, without
	// one, settles one to one.
	Resultaatverdelingen map[int32]*ledgerv1.Resultaatverdeling
	// Kringen: the circle of a gemeente that does not share everything.
	Kringen map[string]Kring
}

// Kring is the circle a gemeente takes part in.
type Kring int

const (
	// KringAlles: all work, all shared costs and results.
	KringAlles Kring = iota
	// KringBeschut: only beschut werk and Wsw (the integratie-uitkering).
	KringBeschut
	// KringDVO: services bought under a DVO; nothing shared.
	KringDVO
)

// member is the variant's circles as the cost engine asks them; nil when
// everyone shares everything.
func (v Variant) member() costs.Member {
	if len(v.Kringen) == 0 {
		return nil
	}
	return func(g string, s ledgerv1.Budgetstroom) bool {
		switch v.Kringen[g] {
		case KringDVO:
			return false
		case KringBeschut:
			return s == ledgerv1.Budgetstroom_BUDGETSTROOM_INTEGRATIE_UITKERING_WSW_BESCHUT
		}
		return true
	}
}

// ErrVariant: the variant file cannot be read.
var ErrVariant = errors.New("variant unreadable")

// file is the JSON form:
//
//	{"naam": "solidair naar caseload", "verdeelsleutels": {"2026": "caseload-dagen"},
//	 "resultaatverdelingen": {"2026": {"bedrijfsvoering": "solidair:inwoners", "buig": "een-op-een"}}}
type file struct {
	Naam                 string                       `json:"naam"`
	Verdeelsleutels      map[string]string            `json:"verdeelsleutels"`
	Resultaatverdelingen map[string]map[string]string `json:"resultaatverdelingen"`
	Kringen              map[string]string            `json:"kringen"`
}

// Load reads a variant file.
func Load(r io.Reader) (Variant, error) {
	var f file
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Variant{}, fmt.Errorf("%w: %v", ErrVariant, err)
	}
	v := Variant{Naam: f.Naam, Verdeelsleutels: map[int32]ledgerv1.Verdeelmethode{}}
	for y, w := range f.Verdeelsleutels {
		year, err := strconv.ParseInt(y, 10, 32)
		if err != nil || year < 2000 || year > 2999 {
			return Variant{}, fmt.Errorf("%w: verdeelsleutels: %q is geen jaar", ErrVariant, y)
		}
		m, ok := Method(w)
		if !ok {
			return Variant{}, fmt.Errorf("%w: verdeelsleutels %s: onbekende methode %q; kies inwoners, caseload-dagen of plaatsing-dagen", ErrVariant, y, w)
		}
		v.Verdeelsleutels[int32(year)] = m
	}
	for y, streams := range f.Resultaatverdelingen {
		year, err := strconv.ParseInt(y, 10, 32)
		if err != nil || year < 2000 || year > 2999 {
			return Variant{}, fmt.Errorf("%w: resultaatverdelingen: %q is geen jaar", ErrVariant, y)
		}
		r := &ledgerv1.Resultaatverdeling{Jaar: int32(year)}
		names := make([]string, 0, len(streams))
		for s := range streams {
			names = append(names, s)
		}
		slices.Sort(names)
		for _, s := range names {
			n, ok := ledgerv1.Budgetstroom_value["BUDGETSTROOM_"+strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))]
			if !ok || n == 0 {
				return Variant{}, fmt.Errorf("%w: resultaatverdelingen %s: onbekende budgetstroom %q", ErrVariant, y, s)
			}
			st := &ledgerv1.Stroomverdeling{Budgetstroom: ledgerv1.Budgetstroom(n)}
			how, method, _ := strings.Cut(streams[s], ":")
			switch strings.TrimSpace(how) {
			case "een-op-een":
				st.Verrekening = ledgerv1.Verrekening_VERREKENING_EEN_OP_EEN
			case "solidair":
				m, ok := Method(method)
				if !ok {
					return Variant{}, fmt.Errorf("%w: resultaatverdelingen %s %s: solidair:inwoners, solidair:caseload-dagen of solidair:plaatsing-dagen", ErrVariant, y, s)
				}
				st.Verrekening, st.Methode = ledgerv1.Verrekening_VERREKENING_SOLIDAIR, m
			default:
				return Variant{}, fmt.Errorf("%w: resultaatverdelingen %s %s: %q; kies een-op-een of solidair:methode", ErrVariant, y, s, streams[s])
			}
			r.Stromen = append(r.Stromen, st)
		}
		if v.Resultaatverdelingen == nil {
			v.Resultaatverdelingen = map[int32]*ledgerv1.Resultaatverdeling{}
		}
		v.Resultaatverdelingen[int32(year)] = r
	}
	for g, k := range f.Kringen {
		kring, ok := map[string]Kring{"alles": KringAlles, "beschut": KringBeschut, "dvo": KringDVO}[strings.TrimSpace(k)]
		if !ok || !bounds.IsGemeenteCode(g) {
			return Variant{}, fmt.Errorf("%w: kringen %s: %q; geef per gemeente (GMxxxx) alles, beschut of dvo", ErrVariant, g, k)
		}
		if v.Kringen == nil {
			v.Kringen = map[string]Kring{}
		}
		v.Kringen[g] = kring
	}
	return v, nil
}

// Method reads a method's word ("caseload-dagen").
func Method(w string) (ledgerv1.Verdeelmethode, bool) {
	name := "VERDEELMETHODE_" + strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(w), "-", "_"))
	n, ok := ledgerv1.Verdeelmethode_value[name]
	if !ok || n == 0 {
		return 0, false
	}
	return ledgerv1.Verdeelmethode(n), true
}

// Own is the variant that is the real history: every year's verdeelsleutel
// with the method it has in m.
func Own(m *region.Model, years []int32) Variant {
	v := Variant{Naam: "zoals vastgelegd", Verdeelsleutels: map[int32]ledgerv1.Verdeelmethode{}}
	for _, y := range years {
		if k, ok := m.Key(y); ok {
			v.Verdeelsleutels[y] = k.Methode
		}
		if r := m.Settlement(y); r != nil {
			if v.Resultaatverdelingen == nil {
				v.Resultaatverdelingen = map[int32]*ledgerv1.Resultaatverdeling{}
			}
			v.Resultaatverdelingen[y] = r
		}
	}
	return v
}

// Rewrite returns the event as it is in this variant: a verdeelsleutel of
// a year the variant names gets the variant's method; every other event is
// ev itself. The stored event is never changed: a rewrite is a copy.
func (v Variant) Rewrite(ev *ledgerv1.Event) *ledgerv1.Event {
	k := ev.GetVerdeelsleutel()
	if k == nil {
		return ev
	}
	m, ok := v.Verdeelsleutels[k.GetJaar()]
	if !ok || m == k.GetMethode() {
		return ev
	}
	out := proto.Clone(ev).(*ledgerv1.Event)
	out.GetVerdeelsleutel().Methode = m
	return out
}

// Row is one gemeente's costs of the year, real and in the variant.
type Row struct {
	Gemeente, Naam string
	// Direct costs (placements, hours, LKS, settlements) are the same in
	// both; shared costs are what a variant changes.
	Direct, Shared, VariantShared int64
	// The year's result over all budget streams as settled: under the
	// recorded Resultaatverdeling (one to one without one) and under the
	// variant's.
	Settled, VariantSettled int64
}

// Compare prices the year (up to the day before to) in both models for
// every participant, and settles its result in both: the real model under
// its recorded Resultaatverdeling, alt under the variant's (a year the
// variant does not name keeps the agreement alt holds).
func (v Variant) Compare(real, alt *region.Model, reg *gemeente.Registry, year int, to region.Day) ([]Row, error) {
	from := region.YearStart(year)
	to = min(to, region.YearStart(year+1))
	if from >= to {
		return nil, fmt.Errorf("wat-als %d: het jaar is nog niet begonnen", year)
	}
	realBook, err := costs.NewBook(real, reg, reg.Centrum(), from, to)
	if err != nil {
		return nil, fmt.Errorf("wat-als %d, zoals vastgelegd: %w", year, err)
	}
	altBook, err := costs.NewBookFor(alt, reg, reg.Centrum(), from, to, v.member())
	if err != nil {
		return nil, fmt.Errorf("wat-als %d, variant: %w", year, err)
	}
	var rows []Row
	for _, g := range reg.All() {
		r := Row{Gemeente: g.Code, Naam: g.Naam}
		for _, l := range realBook.Lines(g.Code) {
			if l.Kind == costs.Gedeeld {
				r.Shared += l.Cents
			} else {
				r.Direct += l.Cents
			}
		}
		for _, l := range altBook.Lines(g.Code) {
			if l.Kind == costs.Gedeeld {
				r.VariantShared += l.Cents
			}
		}
		rows = append(rows, r)
	}
	agreement := alt.Settlement(int32(year))
	if a, ok := v.Resultaatverdelingen[int32(year)]; ok {
		agreement = a
	}
	realSettled, err := settled(real, realBook, real.Settlement(int32(year)), reg, year, to, nil)
	if err != nil {
		return nil, fmt.Errorf("wat-als %d, zoals vastgelegd: %w", year, err)
	}
	altSettled, err := settled(alt, altBook, agreement, reg, year, to, v.member())
	if err != nil {
		return nil, fmt.Errorf("wat-als %d, variant: %w", year, err)
	}
	for i := range rows {
		rows[i].Settled, rows[i].VariantSettled = realSettled[rows[i].Gemeente], altSettled[rows[i].Gemeente]
	}
	slices.SortFunc(rows, func(a, b Row) int { return strings.Compare(a.Gemeente, b.Gemeente) })
	return rows, nil
}

// settled is each participant's result of the year over all streams as
// agreement a settles it (one to one when a is nil), by the beleidsview's
// arithmetic (beleidsview.VerrekenFor) within the circles. The results are
// the year's income per stream less the book's lines of that stream, the
// beleidsview's definition (Yearresults), so that the variant's circles,
// which only its book knows, count.
func settled(m *region.Model, book *costs.Book, a *ledgerv1.Resultaatverdeling, reg *gemeente.Registry, year int, to region.Day, member costs.Member) (map[string]int64, error) {
	from := region.YearStart(year)
	results := Yearresults(m, book, reg, year)
	if a == nil {
		a = &ledgerv1.Resultaatverdeling{Jaar: int32(year)}
	}
	all, err := beleidsview.SettleResults(a, results, func(method ledgerv1.Verdeelmethode) map[string]int64 {
		return costs.Weights(m, reg, method, year, from, to)
	}, member)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(all))
	for g, posts := range all {
		for _, p := range posts {
			out[g] += p.GetVerrekendCent()
		}
	}
	return out, nil
}

// Yearresults is each participant's result per budget stream in the year
// of the book: its income less its correction, less the book's lines of
// that stream (direct, shared and settlements).
func Yearresults(m *region.Model, book *costs.Book, reg *gemeente.Registry, year int) map[string][]*ledgerv1.Resultaatpost {
	out := map[string][]*ledgerv1.Resultaatpost{}
	for _, g := range reg.Participating(region.YearStart(year).Date()) {
		by := map[ledgerv1.Budgetstroom]int64{}
		for s, in := range m.Income(g.Code, int32(year)) {
			by[s] += in.GetCent() - in.GetCorrectieCent()
		}
		for _, l := range book.Lines(g.Code) {
			by[l.Budgetstroom] -= l.Cents
		}
		rows := []*ledgerv1.Resultaatpost{}
		for s, c := range by {
			rows = append(rows, &ledgerv1.Resultaatpost{Budgetstroom: s, ResultaatCent: c})
		}
		slices.SortFunc(rows, func(a, b *ledgerv1.Resultaatpost) int { return int(a.GetBudgetstroom() - b.GetBudgetstroom()) })
		out[g.Code] = rows
	}
	return out
}
