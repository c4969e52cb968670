package costs

import (
	"fmt"
	"maps"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// The property test generates random regional histories and checks the
// book against a naive reference written here: one that walks every case
// day by day, applying the generated events itself (not region's spells),
// finds the policy with beleid.History.InForce per day, and prices with
// math/big.

var propGemeenten = []string{"GM0376", "GM0402", "GM0406", "GM1942"}

// fact is one generated case event as the reference sees it.
type fact struct {
	day     region.Day
	kind    string
	id      string
	gm      string // aanmelding: the gemeente; verhuizing: where to
	product string // plaatsing, vangnet, uren
	van     region.Day
	minuten int64
}

type genCase struct {
	id    string
	facts []fact
}

type world struct {
	h     *hist
	reg   *gemeente.Registry
	cases []genCase
}

func between(r *rand.Rand, a, b region.Day) region.Day { return a + region.Day(r.Int64N(int64(b-a))) }

func genWorld(t testing.TB, r *rand.Rand, nCases int) *world {
	w := &world{h: newHist()}
	// Blaricum joins in 2027, so shared costs before then skip it.
	var list []gemeente.Gemeente
	for _, g := range propGemeenten {
		gm := gemeente.Gemeente{Code: g, Naam: "gemeente " + g, Inwoners: map[int]int64{}}
		for y := 2023; y <= 2030; y++ {
			if r.IntN(5) > 0 {
				gm.Inwoners[y] = r.Int64N(100_000)
			}
		}
		if g == "GM0376" {
			gm.GeldigVan = day(2027, 1, 1).Date()
		}
		list = append(list, gm)
	}
	reg, err := gemeente.New(list)
	if err != nil {
		t.Fatal(err)
	}
	w.reg = reg

	// Policies: 0..5 versions per gemeente (rarely none), random dates
	// (some equal), random subsets of the catalogue at random tariffs.
	for _, g := range propGemeenten {
		var dates []region.Day
		n := 1 + r.IntN(5)
		if r.IntN(8) == 0 {
			n = 0
		}
		for range n {
			d := between(r, day(2022, 6, 1), day(2030, 1, 1))
			if len(dates) > 0 && r.IntN(4) == 0 {
				d = dates[r.IntN(len(dates))]
			}
			dates = append(dates, d)
			var ps []*ledgerv1.ProductTarief
			for _, p := range beleid.Products {
				if r.IntN(4) == 0 {
					continue
				}
				ps = append(ps, &ledgerv1.ProductTarief{Product: p.Code, CentPerJaar: r.Int64N(5_000_000), CentPerUur: r.Int64N(20_000)})
			}
			w.h.apply(g, "", d, w.h.id("bl"), &ledgerv1.Event{Payload: &ledgerv1.Event_Beleid{Beleid: &ledgerv1.Beleid{GeldigVanaf: d.Date(), Producten: ps}}})
		}
	}

	// Verdeelsleutels: most years one, some two versions; some no method.
	for y := 2023; y <= 2030; y++ {
		for range r.IntN(3) {
			m := ledgerv1.Verdeelmethode(1 + r.IntN(3))
			if r.IntN(8) == 0 {
				m = ledgerv1.Verdeelmethode_VERDEELMETHODE_UNSPECIFIED
			}
			w.h.key(y, m)
		}
	}

	for range nCases {
		w.cases = append(w.cases, genOne(r, w.h, propGemeenten, day(2023, 1, 1), day(2030, 6, 1)))
	}

	// Shared costs: periods within a year, small and very large amounts.
	for range r.IntN(7) {
		y := 2023 + r.IntN(8)
		van := between(r, day(y, 1, 1), day(y+1, 1, 1))
		tot := between(r, van, day(y+1, 1, 1))
		cent := r.Int64N(10_000_000)
		switch r.IntN(5) {
		case 0:
			cent = r.Int64N(1_000_000_000_000)
		case 1:
			cent = -r.Int64N(100_000)
		}
		w.h.booking(van, tot, cent, ledgerv1.Budgetstroom(1+r.IntN(3)))
	}
	return w
}

// genOne generates one case through a plausible journey: aanmelding, then
// transitions the state allows, some on the same day, until uitstroom or
// end. It starts at least a year before end.
func genOne(r *rand.Rand, h *hist, gemeenten []string, begin, end region.Day) genCase {
	gm := gemeenten[r.IntN(len(gemeenten))]
	d := between(r, begin, end-365)
	c := h.aanmelding(gm, d)
	g := genCase{id: c.id, facts: []fact{{day: d, kind: "aanmelding", id: fmt.Sprintf("am%d", h.ids["am"]), gm: gm}}}
	start := d
	var intake, placed, everPlaced bool
	types := []ledgerv1.PlaatsingType{1, 2, 3, 4, 5, 6, 7}
	for n := r.IntN(25); n > 0; n-- {
		if r.IntN(7) > 0 {
			d += region.Day(1 + r.IntN(60))
		}
		if d >= end {
			break
		}
		x := r.IntN(100)
		switch {
		case x < 20:
			naar := gemeenten[r.IntN(len(gemeenten))]
			if naar == c.gm {
				continue
			}
			id := c.verhuizing(d, naar)
			g.facts = append(g.facts, fact{day: d, kind: "verhuizing", id: id, gm: naar})
		case x < 24:
			id := c.uitstroom(d)
			g.facts = append(g.facts, fact{day: d, kind: "uitstroom", id: id})
			return g
		case x < 40:
			products := []string{"jobcoaching", "begeleiding", "beschut-werk"}
			p := products[r.IntN(len(products))]
			van := max(start, d-region.Day(r.IntN(60)))
			m := r.Int64N(5000)
			id := c.uren(van, d, p, uint32(m))
			g.facts = append(g.facts, fact{day: d, kind: "uren", id: id, product: p, van: van, minuten: m})
		case !intake || x < 45:
			intake = true
			id := c.intake(d)
			g.facts = append(g.facts, fact{day: d, kind: "intake", id: id})
		case placed && x < 60:
			placed = false
			id := c.uitval(d)
			g.facts = append(g.facts, fact{day: d, kind: "uitval", id: id})
		case everPlaced && x < 70:
			placed = true
			id := c.vangnet(d)
			g.facts = append(g.facts, fact{day: d, kind: "vangnet", id: id, product: "vangnet"})
		default:
			t := types[r.IntN(len(types))]
			product := ""
			if r.IntN(6) == 0 {
				product = []string{"lks-baan", "maatwerk-x"}[r.IntN(2)]
			}
			placed, everPlaced = true, true
			id := c.plaatsing(d, t, product)
			if product == "" {
				product = beleid.DefaultProduct(t)
			}
			g.facts = append(g.facts, fact{day: d, kind: "plaatsing", id: id, product: product})
		}
	}
	return g
}

// dayState is what the reference knows about a case on one day, after all
// events dated on or before it.
type dayState struct {
	open      bool
	gm        string
	placement string
	product   string
}

// walk calls fn for every day in [a, b) with the case's state that day:
// the state after every fact dated on or before it.
func (g genCase) walk(a, b region.Day, fn func(region.Day, dayState)) {
	var s dayState
	i := 0
	for d := a; d < b; d++ {
		for ; i < len(g.facts) && g.facts[i].day <= d; i++ {
			f := g.facts[i]
			switch f.kind {
			case "aanmelding":
				s = dayState{open: true, gm: f.gm}
			case "verhuizing":
				s.gm = f.gm
			case "plaatsing", "vangnet":
				s.placement, s.product = f.id, f.product
			case "uitval":
				s.placement, s.product = "", ""
			case "uitstroom":
				s.open, s.placement, s.product = false, "", ""
			}
		}
		fn(d, s)
	}
}

// inForce caches beleid.History.InForce per gemeente and day.
type inForce struct {
	m     *region.Model
	cache map[string]map[region.Day]*beleid.Version
}

func (p *inForce) at(g string, d region.Day) *beleid.Version {
	c := p.cache[g]
	if c == nil {
		c = map[region.Day]*beleid.Version{}
		p.cache[g] = c
	}
	v, ok := c[d]
	if !ok {
		v = p.m.Policy(g).InForce(d.Date())
		c[d] = v
	}
	return v
}

// bigRound is round_half_even(a × b / den) in math/big.
func bigRound(a, b, den int64) int64 {
	num := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	q, rem := new(big.Int).QuoRem(num, big.NewInt(den), new(big.Int))
	twice := new(big.Int).Abs(rem)
	twice.Lsh(twice, 1)
	if c := twice.Cmp(big.NewInt(den)); c > 0 || (c == 0 && q.Bit(0) == 1) {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

type refKey struct {
	placement, gm, policy string
	month                 string
}

type refLine struct {
	days     int64
	from, to region.Day
	cents    int64
	tariff   int64
	remark   string
}

func TestProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(20260301, 3))
	iterations := 300
	if testing.Short() {
		iterations = 50
	}
	for it := range iterations {
		w := genWorld(t, r, 2+r.IntN(10))
		from := between(r, day(2023, 1, 1), day(2030, 1, 1))
		if r.IntN(2) == 0 {
			from = monthOf(from).start()
		}
		to := from + region.Day(1+r.IntN(1000))
		if r.IntN(2) == 0 {
			to = monthOf(to).start()
		}
		if to <= from {
			to = from + 1
		}
		b, err := NewBook(w.h.m, w.reg, "GM0402", from, to)
		if err != nil {
			t.Fatalf("iteration %d: %v", it, err)
		}
		name := fmt.Sprintf("iteration %d [%s, %s)", it, from, to)
		if it%10 == 0 {
			again, err := NewBook(w.h.m, w.reg, "GM0402", from, to)
			if err != nil || !reflect.DeepEqual(again.All(), b.All()) {
				t.Fatalf("%s: a second book differs (%v)", name, err)
			}
		}
		checkPlacements(t, name, w, b, from, to)
		checkHours(t, name, w, b, from, to)
		checkShared(t, name, w, b, from, to)
		if t.Failed() {
			return
		}
	}
}

// checkPlacements: (a) every (placement, day) in the period is charged
// once, to the gemeente responsible that day, under the version in force;
// (b) each line's amount is the reference price of its key.
func checkPlacements(t *testing.T, name string, w *world, b *Book, from, to region.Day) {
	t.Helper()
	pol := &inForce{m: w.h.m, cache: map[string]map[region.Day]*beleid.Version{}}
	want := map[refKey]*refLine{}
	var wantDays int64
	for _, c := range w.cases {
		c.walk(from, to, func(d region.Day, s dayState) {
			if s.placement == "" {
				return
			}
			wantDays++
			v := pol.at(s.gm, d)
			k := refKey{placement: s.placement, gm: s.gm, month: d.Time().Format("2006-01")}
			if v != nil {
				k.policy = v.Ref()
			}
			l := want[k]
			if l == nil {
				l = &refLine{from: d}
				want[k] = l
				if v == nil {
					l.remark = RemarkNoPolicy
				} else if tf, ok := v.Tarief(s.product); !ok {
					l.remark = RemarkNotBought
				} else {
					l.tariff = tf.GetCentPerJaar()
				}
			}
			l.days++
			l.to = d
		})
	}
	for _, l := range want {
		l.cents = bigRound(l.tariff, l.days, int64(region.DaysInYear(l.from.Year())))
	}

	var gotDays int64
	seen := map[refKey]bool{}
	for _, g := range b.Gemeenten() {
		for _, l := range b.Lines(g) {
			if l.Gemeente != g {
				t.Fatalf("%s: line of %s in %s's slice", name, l.Gemeente, g)
			}
			if l.Kind != Plaatsing {
				continue
			}
			gotDays += l.Days
			k := refKey{placement: l.Placement, gm: l.Gemeente, policy: l.Policy, month: l.Month}
			if seen[k] {
				t.Errorf("%s: two lines for %+v", name, k)
			}
			seen[k] = true
			ref, ok := want[k]
			if !ok {
				t.Errorf("%s: line %+v charges days the reference does not", name, l)
				continue
			}
			if l.Days != ref.days || l.From != ref.from || l.To != ref.to || l.Cents != ref.cents || l.Tariff != ref.tariff || l.Remark != ref.remark {
				t.Errorf("%s: line %s %s %s %s: got days %d %s..%s tariff %d cents %d %q; reference days %d %s..%s tariff %d cents %d %q",
					name, k.placement, k.gm, k.policy, k.month, l.Days, l.From, l.To, l.Tariff, l.Cents, l.Remark, ref.days, ref.from, ref.to, ref.tariff, ref.cents, ref.remark)
			}
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("%s: no line for %+v (%d days)", name, k, want[k].days)
		}
	}
	if gotDays != wantDays {
		t.Errorf("%s: %d placement-days charged, reference %d", name, gotDays, wantDays)
	}
}

func checkHours(t *testing.T, name string, w *world, b *Book, from, to region.Day) {
	t.Helper()
	got := map[string]Line{}
	for _, l := range b.All() {
		if l.Kind == Uren {
			got[l.Events[0]] = l
		}
	}
	n := 0
	for _, c := range w.cases {
		for _, f := range c.facts {
			if f.kind != "uren" || f.day < from || f.day >= to {
				continue
			}
			n++
			var gm string
			c.walk(f.day, f.day+1, func(_ region.Day, s dayState) { gm = s.gm })
			var tariff int64
			if v := w.h.m.Policy(gm).InForce(f.day.Date()); v != nil {
				if tf, ok := v.Tarief(f.product); ok {
					tariff = tf.GetCentPerUur()
				}
			}
			l, ok := got[f.id]
			if !ok {
				t.Errorf("%s: no line for hours %s", name, f.id)
				continue
			}
			if want := bigRound(f.minuten, tariff, 60); l.Gemeente != gm || l.Cents != want || l.Tariff != tariff || l.From != f.van || l.To != f.day || l.Month != f.day.Time().Format("2006-01") {
				t.Errorf("%s: hours %s: got %+v; want %s, %d × %d / 60 = %d", name, f.id, l, gm, f.minuten, tariff, want)
			}
		}
	}
	if n != len(got) {
		t.Errorf("%s: %d hours lines, reference %d", name, len(got), n)
	}
}

// checkShared: (c) every booking's parts add up to it exactly, no part is
// a cent or more from its exact share, and the weights are the reference's
// day counts.
func checkShared(t *testing.T, name string, w *world, b *Book, from, to region.Day) {
	t.Helper()
	byBooking := map[string][]Line{}
	for _, l := range b.All() {
		if l.Kind == Gedeeld {
			byBooking[l.Booking] = append(byBooking[l.Booking], l)
		}
	}
	for _, bk := range w.h.m.Bookings() {
		lines := byBooking[bk.EventID]
		if bk.Tot < from || bk.Tot >= to {
			if len(lines) > 0 {
				t.Errorf("%s: booking %s outside the period has lines", name, bk.EventID)
			}
			continue
		}
		var sum int64
		for _, l := range lines {
			sum += l.Cents
		}
		if sum != bk.Cent {
			t.Errorf("%s: booking %s of %d divided into %d", name, bk.EventID, bk.Cent, sum)
		}
		// Reference weights.
		year := bk.Van.Year()
		parts := w.reg.Participating(bk.Van.Date())
		ref := map[string]int64{}
		var total int64
		key, hasKey := w.h.m.Key(int32(year))
		for _, g := range parts {
			var wt int64
			switch {
			case !hasKey:
			case key.Methode == inwoners:
				wt, _ = g.InwonersOp(year)
			case key.Methode == caseload || key.Methode == plaatsing:
				for _, c := range w.cases {
					c.walk(bk.Van, bk.Tot+1, func(_ region.Day, s dayState) {
						if s.gm == g.Code && (key.Methode == caseload && s.open || key.Methode == plaatsing && s.placement != "") {
							wt++
						}
					})
				}
			}
			ref[g.Code] = wt
			total += wt
		}
		if !hasKey || total == 0 {
			if len(lines) != 1 || lines[0].Gemeente != "GM0402" || !strings.HasPrefix(lines[0].Remark, RemarkNotDivided) {
				t.Errorf("%s: booking %s not divisible: lines %+v", name, bk.EventID, lines)
			}
			continue
		}
		if standalone := Weights(w.h.m, w.reg, key.Methode, year, bk.Van, bk.Tot+1); !maps.Equal(standalone, ref) {
			t.Errorf("%s: booking %s: Weights %v, reference %v", name, bk.EventID, standalone, ref)
		}
		if len(lines) != len(parts) {
			t.Errorf("%s: booking %s: %d lines for %d participants", name, bk.EventID, len(lines), len(parts))
		}
		for _, l := range lines {
			if l.Weight != ref[l.Gemeente] || l.TotalWeight != total {
				t.Errorf("%s: booking %s, %s: weight %d/%d, reference %d/%d", name, bk.EventID, l.Gemeente, l.Weight, l.TotalWeight, ref[l.Gemeente], total)
			}
			exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(bk.Cent), big.NewInt(l.Weight)), big.NewInt(total))
			diff := new(big.Rat).Sub(new(big.Rat).SetInt64(l.Cents), exact)
			if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 {
				t.Errorf("%s: booking %s, %s: %d cents, exact share %s", name, bk.EventID, l.Gemeente, l.Cents, exact.FloatString(4))
			}
		}
	}
}

// Allocate on random inputs, big amounts and weights included: the parts
// add up, each is within a cent of its exact share, and the extra cents
// went to the largest remainders, ties to the lowest code.
func TestAllocateProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for it := range 2000 {
		n := 1 + r.IntN(8)
		weights := map[string]int64{}
		for i := range n {
			var wt int64
			switch r.IntN(4) {
			case 0:
				wt = r.Int64N(4)
			case 1:
				wt = r.Int64N(1_000_000_000)
			default:
				wt = r.Int64N(1000)
			}
			weights[fmt.Sprintf("GM%04d", i*37%100)] = wt
		}
		whole := r.Int64N(100_000_000_000)
		if r.IntN(4) == 0 {
			whole = -whole
		}
		got, err := Allocate(whole, weights)
		var total int64
		for _, wt := range weights {
			total += wt
		}
		if total == 0 {
			if err == nil {
				t.Fatalf("iteration %d: zero weights allocated", it)
			}
			continue
		}
		if err != nil {
			t.Fatalf("iteration %d: %v", it, err)
		}
		var sum int64
		type part struct {
			code  string
			extra bool
			rem   *big.Int
		}
		var ps []part
		for _, code := range sortedKeys(weights) {
			sum += got[code]
			num := new(big.Int).Mul(big.NewInt(whole), big.NewInt(weights[code]))
			floor, rem := new(big.Int).DivMod(num, big.NewInt(total), new(big.Int)) // Euclidean: floor for a positive divisor
			extra := new(big.Int).Sub(big.NewInt(got[code]), floor)
			if extra.Sign() < 0 || extra.Cmp(big.NewInt(1)) > 0 {
				t.Fatalf("iteration %d: %s got %d, floor %s", it, code, got[code], floor)
			}
			ps = append(ps, part{code, extra.Sign() > 0, rem})
		}
		if sum != whole {
			t.Fatalf("iteration %d: parts add up to %d, not %d", it, sum, whole)
		}
		// Codes ascending: a part with the extra cent never has a smaller
		// remainder than one without, nor an equal one with a higher code.
		for i, a := range ps {
			for _, c := range ps[i+1:] {
				if a.extra == c.extra {
					continue
				}
				cmp := a.rem.Cmp(c.rem)
				if (c.extra && cmp >= 0) || (a.extra && cmp < 0) {
					t.Fatalf("iteration %d: extra cent to %s (remainder %s) over %s (remainder %s)", it, map[bool]string{true: a.code, false: c.code}[a.extra], map[bool]*big.Int{true: a.rem, false: c.rem}[a.extra], map[bool]string{true: c.code, false: a.code}[a.extra], map[bool]*big.Int{true: c.rem, false: a.rem}[a.extra])
				}
			}
		}
	}
}
