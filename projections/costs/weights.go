package costs

import (
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Weights returns the weight of each gemeente participating on from, for
// dividing shared costs of the period [from, to) (to exclusive: pass Tot+1
// for a booking) by method: inhabitants on 1 January of year, or the days
// in the period with an open case or an active placement, counted for the
// gemeente responsible on each day. Days of a gemeente that does not
// participate on from weigh nothing. Every participant is in the map, also
// with weight 0; an unspecified method weighs everyone 0.
func Weights(m *region.Model, reg *gemeente.Registry, method ledgerv1.Verdeelmethode, year int, from, to region.Day) map[string]int64 {
	parts := participants(reg, from)
	var idx *dayIndex
	if needsDays(method) {
		idx = newDayIndex(reg, []period{{from, to}})
		for _, c := range m.Cases() {
			idx.add(c)
		}
		idx.finish()
	}
	ws := weights(method, year, parts, idx, from, to)
	out := make(map[string]int64, len(parts))
	for i, g := range parts {
		out[g.Code] = ws[i]
	}
	return out
}

// CountedWeights is Weights from the caseload- and placement-days days
// keeps as cases change (a Keeper's), instead of counting them over every
// case.
func CountedWeights(reg *gemeente.Registry, method ledgerv1.Verdeelmethode, year int, from, to region.Day, days *DayCounts) map[string]int64 {
	parts := participants(reg, from)
	ws := weights(method, year, parts, days, from, to)
	out := make(map[string]int64, len(parts))
	for i, g := range parts {
		out[g.Code] = ws[i]
	}
	return out
}

func needsDays(method ledgerv1.Verdeelmethode) bool {
	return method == ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN || method == ledgerv1.Verdeelmethode_VERDEELMETHODE_PLAATSING_DAGEN
}

// participants returns the gemeenten taking part on day d, by code.
func participants(reg *gemeente.Registry, d region.Day) []gemeente.Gemeente {
	if reg == nil {
		return nil
	}
	return reg.Participating(d.Date())
}

// daySums answers how many days of [a, b) gemeente g had an open case (or,
// with placed, an active placement): a dayIndex built for one book, or the
// DayCounts a Running keeps.
type daySums interface {
	sum(g string, placed bool, a, b region.Day) int64
}

// weights is Weights by index of parts.
func weights(method ledgerv1.Verdeelmethode, year int, parts []gemeente.Gemeente, idx daySums, from, to region.Day) []int64 {
	ws := make([]int64, len(parts))
	for i, g := range parts {
		switch method {
		case ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS:
			ws[i], _ = g.InwonersOp(year)
		case ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN:
			ws[i] = idx.sum(g.Code, false, from, to)
		case ledgerv1.Verdeelmethode_VERDEELMETHODE_PLAATSING_DAGEN:
			ws[i] = idx.sum(g.Code, true, from, to)
		}
	}
	return ws
}

type period struct{ from, to region.Day }

// dayIndex answers "how many open-case days (or placement days) did gemeente
// g have in [a, b)" in constant time per year, so that weighing a booking
// does not walk every case again: one pass over all spells fills, per
// calendar year touched by a booking and per gemeente, prefix sums of the
// daily counts.
type dayIndex struct {
	col    map[string]int
	years  []*yearCounts // ascending
	lo, hi region.Day    // the years' span
}

type yearCounts struct {
	start, end region.Day
	// [column][i]: days before start+i, summed; length end−start+1.
	open, placed [][]int64
}

// newDayIndex returns an empty index for the calendar years the periods
// touch; add every case, then finish.
func newDayIndex(reg *gemeente.Registry, periods []period) *dayIndex {
	idx := &dayIndex{col: map[string]int{}}
	if reg == nil {
		return idx
	}
	for i, c := range reg.Codes() {
		idx.col[c] = i
	}
	n := len(idx.col)
	seen := map[int]bool{}
	for _, p := range periods {
		if p.from >= p.to {
			continue
		}
		y1, _, _ := civil(p.from)
		y2, _, _ := civil(p.to - 1)
		for y := y1; y <= y2; y++ {
			if seen[y] {
				continue
			}
			seen[y] = true
			start, end := dayOf(y, 1, 1), dayOf(y+1, 1, 1)
			yc := &yearCounts{start: start, end: end, open: make([][]int64, n), placed: make([][]int64, n)}
			for c := range n {
				yc.open[c] = make([]int64, end-start+1)
				yc.placed[c] = make([]int64, end-start+1)
			}
			idx.years = append(idx.years, yc)
		}
	}
	sortYears(idx.years)
	if len(idx.years) > 0 {
		idx.lo, idx.hi = idx.years[0].start, idx.years[len(idx.years)-1].end
	}
	return idx
}

// add counts the case's open and placed days, for the gemeente responsible
// on each.
func (idx *dayIndex) add(c *region.Case) {
	if len(idx.years) == 0 {
		return
	}
	for _, sp := range c.Spells() {
		col, ok := idx.col[sp.Gemeente]
		open, placed := sp.State.Open(), sp.Placement != nil
		if !ok || !(open || placed) {
			continue
		}
		a, b := region.Overlap(sp.From, sp.To, idx.lo, idx.hi)
		if a >= b {
			continue
		}
		for _, yc := range idx.years {
			ya, yb := region.Overlap(a, b, yc.start, yc.end)
			if ya >= yb {
				continue
			}
			if open {
				yc.open[col][ya-yc.start]++
				yc.open[col][yb-yc.start]--
			}
			if placed {
				yc.placed[col][ya-yc.start]++
				yc.placed[col][yb-yc.start]--
			}
		}
	}
}

// finish turns the counted stretches into prefix sums; add no more cases.
func (idx *dayIndex) finish() {
	for _, yc := range idx.years {
		for c := range yc.open {
			prefix(yc.open[c])
			prefix(yc.placed[c])
		}
	}
}

// prefix turns differences (+1 where a stretch starts, −1 where it ends)
// into prefix sums of the daily counts: p[i] = days before i.
func prefix(d []int64) {
	var count, sum int64
	for i := range d {
		count += d[i]
		d[i] = sum
		sum += count
	}
}

func sortYears(ys []*yearCounts) {
	for i := 1; i < len(ys); i++ {
		for j := i; j > 0 && ys[j].start < ys[j-1].start; j-- {
			ys[j], ys[j-1] = ys[j-1], ys[j]
		}
	}
}

// sum returns the days of gemeente g in [a, b) with an open case, or with a
// placement when placed. Years the index was not built for count 0.
func (idx *dayIndex) sum(g string, placed bool, a, b region.Day) int64 {
	if idx == nil {
		return 0
	}
	col, ok := idx.col[g]
	if !ok {
		return 0
	}
	var n int64
	for _, yc := range idx.years {
		ya, yb := region.Overlap(a, b, yc.start, yc.end)
		if ya >= yb {
			continue
		}
		p := yc.open[col]
		if placed {
			p = yc.placed[col]
		}
		n += p[yb-yc.start] - p[ya-yc.start]
	}
	return n
}
