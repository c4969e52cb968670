package costs

import (
	"fmt"
	"slices"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Running keeps the cost figures of a period [From, To) up to date as cases
// change, so that a view reads sums instead of pricing every case again:
// per gemeente and month the direct costs per budget stream and taakveld,
// and which cases have lines of the gemeente (for an export). A case is
// priced by the same builder as a Book, so a Running's figures are a Book's
// figures; Remove a case as it was before it changed and Add it after.
//
// Shared costs are not kept: they are divided when asked, from the few
// bookings of the period and the DayCounts a caller keeps for every case.
// A Running prices with the policies the model held when it was made: a
// new policy version needs a new Running.
type Running struct {
	From, To region.Day
	b        *builder
	// nb prices the amounts as they are now, when a nacalculatie makes
	// them differ from the amounts as priced; nil otherwise.
	nb *builder
	// direct[g][month][post]: the gemeente's direct cost lines summed.
	direct map[string]map[string]map[Post]Sum
	// cases[g][case]: how many lines of the case are charged to g.
	cases map[string]map[string]int
	// version[g] counts the changes of g's figures, so that a reader can
	// keep what it computed from them until they change.
	version map[string]uint64
}

// Post is where a controller looks for a cost: budget stream and taakveld.
type Post struct {
	Budgetstroom ledgerv1.Budgetstroom
	Taakveld     string
}

// Sum is what a post holds: cents, the days of placements that were not
// priced (no policy, product not bought, no yearly tariff), and the number
// of lines, so that a post of lines of 0 cents is still a post.
type Sum struct {
	Cents, UnpricedDays, Lines int64
	// Afrekening: what nacalculaties settle (afrekening lines), kept
	// apart from Cents, which are the amounts as they were priced.
	Afrekening int64
	// LKS: the loonkostensubsidie lines' part of Cents.
	LKS int64
}

// Add adds a line to the sum with sign +1 or −1.
func (s *Sum) Add(l *Line, sign int64) {
	s.Lines += sign
	if l.Kind == Afrekening {
		s.Afrekening += sign * l.Cents
		return
	}
	s.Cents += sign * l.Cents
	if l.Kind == LKS {
		s.LKS += sign * l.Cents
	}
	if l.Kind == Plaatsing && l.Cents == 0 && l.Remark != "" {
		s.UnpricedDays += sign * l.Days
	}
}

// NewRunning returns an empty Running for [from, to) that prices with the
// model's policies; add every case.
func NewRunning(m *region.Model, reg *gemeente.Registry, centrum string, from, to region.Day) *Running {
	r := &Running{
		From: from, To: to,
		b: &builder{
			m: m, reg: reg, centrum: centrum, from: from, to: to,
			timelines: map[string]timeline{},
			months:    monthNames{},
			gemeenten: map[string]int32{},
		},
		direct:  map[string]map[string]map[Post]Sum{},
		cases:   map[string]map[string]int{},
		version: map[string]uint64{},
	}
	if settles(m, reg) {
		r.nb = r.b.nowBuilder()
	}
	return r
}

// Add counts the case as it derives now.
func (r *Running) Add(c *region.Case) error { return r.apply(c, 1) }

// Remove takes away what Add of the case as it derives now counted: call it
// before the case changes.
func (r *Running) Remove(c *region.Case) error { return r.apply(c, -1) }

func (r *Running) apply(c *region.Case, sign int64) error {
	lines, err := r.caseLines(c)
	if err != nil {
		return err
	}
	if r.nb != nil {
		// Settled per case: the afrekening of a month is a sum over
		// lines, so the sums over cases are the book's.
		now, err := caseLines(r.nb, c)
		if err != nil {
			return err
		}
		lines = append(lines, r.b.settle(lines, now)...)
	}
	for i := range lines {
		l := &lines[i]
		g := l.Gemeente
		byMonth := r.direct[g]
		if byMonth == nil {
			byMonth = map[string]map[Post]Sum{}
			r.direct[g] = byMonth
		}
		posts := byMonth[l.Month]
		if posts == nil {
			posts = map[Post]Sum{}
			byMonth[l.Month] = posts
		}
		k := Post{l.Budgetstroom, l.Taakveld}
		s := posts[k]
		s.Add(l, sign)
		if s.Lines == 0 {
			delete(posts, k)
		} else {
			posts[k] = s
		}
		cs := r.cases[g]
		if cs == nil {
			cs = map[string]int{}
			r.cases[g] = cs
		}
		if cs[c.ID] += int(sign); cs[c.ID] == 0 {
			delete(cs, c.ID)
		}
		r.version[g]++
	}
	return nil
}

// caseLines prices one case's placements and hours in the period, in a
// Book's order.
func (r *Running) caseLines(c *region.Case) ([]Line, error) { return caseLines(r.b, c) }

func caseLines(b *builder, c *region.Case) ([]Line, error) {
	// The first chunk, used again for every case: the lines are built by
	// value, and their Events are cut from the builder's arena, not from
	// records.
	b.chunks = b.chunks[:min(len(b.chunks), 1)]
	if len(b.chunks) == 1 {
		b.chunks[0] = b.chunks[0][:0]
	}
	b.nrecs = 0
	if b.from >= b.to {
		return nil, nil
	}
	b.placements(c)
	b.hours(c)
	out := make([]Line, 0, b.nrecs)
	for _, ch := range b.chunks {
		for i := range ch {
			var l Line
			if err := b.line(&l, &ch[i]); err != nil {
				return nil, err
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// Version counts the changes to gemeente g's figures.
func (r *Running) Version(g string) uint64 { return r.version[g] }

// Direct returns g's direct costs per post in the months from through to
// ("YYYY-MM", inclusive).
func (r *Running) Direct(g, from, to string) map[Post]Sum {
	out := map[Post]Sum{}
	for month, posts := range r.direct[g] {
		if month < from || month > to {
			continue
		}
		for k, s := range posts {
			t := out[k]
			t.Cents += s.Cents
			t.UnpricedDays += s.UnpricedDays
			t.Lines += s.Lines
			t.Afrekening += s.Afrekening
			t.LKS += s.LKS
			out[k] = t
		}
	}
	return out
}

// Subsidy returns g's loonkostensubsidie (LKS lines) per month, for the
// months from through to ("YYYY-MM", inclusive).
func (r *Running) Subsidy(g, from, to string) map[string]int64 {
	out := map[string]int64{}
	for month, posts := range r.direct[g] {
		if month < from || month > to {
			continue
		}
		for _, s := range posts {
			if s.LKS != 0 {
				out[month] += s.LKS
			}
		}
	}
	return out
}

// Lines returns g's cost lines of the period, as Book.Lines gives them:
// the direct lines of g's cases by case id, then g's part of the shared
// costs booked in the period, divided with days.
func (r *Running) Lines(g string, days *DayCounts) ([]Line, error) {
	ids := make([]string, 0, len(r.cases[g]))
	for id := range r.cases[g] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out, now []Line
	for _, id := range ids {
		c, ok := r.b.m.Case(id)
		if !ok {
			return nil, fmt.Errorf("cost lines of %s: case %s is not in the model", g, id)
		}
		lines, err := r.caseLines(c)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if l.Gemeente == g {
				out = append(out, l)
			}
		}
		if r.nb == nil {
			continue
		}
		lines, err = caseLines(r.nb, c)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if l.Gemeente == g {
				now = append(now, l)
			}
		}
	}
	var settled []Line
	if r.nb != nil {
		settled = r.b.settle(out, now)
	}
	shared, err := r.Shared(g, r.From, r.To, days)
	if err != nil {
		return nil, err
	}
	return append(append(out, shared...), settled...), nil
}

// Shared returns g's part of the shared costs whose last day is in
// [from, to), divided as a Book divides them, with the days counted in
// days.
func (r *Running) Shared(g string, from, to region.Day, days *DayCounts) ([]Line, error) {
	b := &builder{
		m: r.b.m, reg: r.b.reg, centrum: r.b.centrum, from: from, to: to,
		months: monthNames{}, gemeenten: map[string]int32{},
	}
	bookings, _ := b.bookingsIn(r.b.m.Bookings())
	for _, bk := range bookings {
		if err := b.divide(bk, days); err != nil {
			return nil, err
		}
	}
	var out []Line
	for _, ch := range b.chunks {
		for i := range ch {
			if l := ch[i].shared; l.Gemeente == g {
				out = append(out, *l)
			}
		}
	}
	return out, nil
}

// DayCounts keeps, for every gemeente, how many of its cases were open and
// how many had an active placement on each day, as cases change: the
// caseload-days and placement-days that divide shared costs. It counts all
// days, not one period's, since a booking may reach back into the year
// before.
type DayCounts struct {
	open, placed map[string]*dayDiffs
}

// NewDayCounts returns empty counts.
func NewDayCounts() *DayCounts {
	return &DayCounts{open: map[string]*dayDiffs{}, placed: map[string]*dayDiffs{}}
}

// Add counts the case's days with sign +1, or −1 to take them away (before
// the case changes).
func (dc *DayCounts) Add(c *region.Case, sign int64) {
	for _, sp := range c.Spells() {
		if sp.State.Open() {
			dc.diffs(dc.open, sp.Gemeente).add(sp.From, sp.To, sign)
		}
		if sp.Placement != nil {
			dc.diffs(dc.placed, sp.Gemeente).add(sp.From, sp.To, sign)
		}
	}
}

func (dc *DayCounts) diffs(m map[string]*dayDiffs, g string) *dayDiffs {
	d := m[g]
	if d == nil {
		d = &dayDiffs{years: map[int]*[367]int64{}}
		m[g] = d
	}
	return d
}

func (dc *DayCounts) sum(g string, placed bool, a, b region.Day) int64 {
	m := dc.open
	if placed {
		m = dc.placed
	}
	if d := m[g]; d != nil {
		return d.sum(a, b)
	}
	return 0
}

// dayDiffs holds the daily count as differences per calendar year: +n on
// the first day of a stretch, −n on the day after it; an open stretch has
// no end. Summing a period walks the years before it once per year, not
// per day.
type dayDiffs struct {
	years map[int]*[367]int64 // [day of year]; index 366 is unused
}

func (d *dayDiffs) at(day region.Day, n int64) {
	y, _, _ := civil(day)
	ys := d.years[y]
	if ys == nil {
		ys = new([367]int64)
		d.years[y] = ys
	}
	ys[day-dayOf(y, 1, 1)] += n
}

func (d *dayDiffs) add(from, to region.Day, n int64) {
	if from >= to {
		return
	}
	d.at(from, n)
	if to != region.Open {
		d.at(to, -n)
	}
}

// sum is the sum of the daily counts over [a, b): a sweep over the
// differences before b, the count constant between two of them.
func (d *dayDiffs) sum(a, b region.Day) int64 {
	if a >= b {
		return 0
	}
	ys := make([]int, 0, len(d.years))
	for y := range d.years {
		ys = append(ys, y)
	}
	slices.Sort(ys)
	var count, total int64
	prev := a // the count holds on [prev, next difference)
	flush := func(upto region.Day) {
		if lo, hi := max(prev, a), min(upto, b); lo < hi {
			total += count * int64(hi-lo)
		}
	}
	for _, y := range ys {
		start := dayOf(y, 1, 1)
		if start >= b {
			break
		}
		diffs := d.years[y]
		for i, n := range diffs {
			if n == 0 {
				continue
			}
			day := start + region.Day(i)
			if day >= b {
				break
			}
			flush(day)
			count += n
			prev = day
		}
	}
	flush(b)
	return total
}
