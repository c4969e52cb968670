package costs

import (
	"slices"
	"sort"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
)

// timeline is a gemeente's policy history as consecutive stretches
// [from, next from), each with the version in force: the same answer as
// beleid.History.InForce for every day, but found once per stretch of days
// instead of once per day.
type timeline []stretch

type stretch struct {
	from region.Day
	v    *beleid.Version
	ref  string // v.Ref(), formatted once
}

// newTimeline returns the stretches of h. asPriced is the timeline of the
// cost lines: a nacalculatie (a version that revises a past period) prices
// directly only from the day after it was recorded, so that every day keeps
// the price it had when it was priced; the difference is settled in
// afrekening lines (settle), priced with the timeline without asPriced, on
// which every version prices its whole period: the amounts as they are now.
func newTimeline(h beleid.History, asPriced bool) timeline {
	if asPriced && slices.ContainsFunc(h, isNacalculatie) {
		return pricedTimeline(h)
	}
	type dated struct {
		from region.Day
		v    *beleid.Version
	}
	vs := make([]dated, 0, len(h))
	for _, v := range h {
		vs = append(vs, dated{region.DayOf(v.Beleid.GetGeldigVanaf()), v})
	}
	// InForce: the latest geldig_vanaf on or before the day, the highest
	// Versie among equal dates.
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].from != vs[j].from {
			return vs[i].from < vs[j].from
		}
		return vs[i].v.Versie < vs[j].v.Versie
	})
	var t timeline
	for _, d := range vs {
		if n := len(t); n > 0 && t[n-1].from == d.from {
			t[n-1] = stretch{d.from, d.v, d.v.Ref()}
			continue
		}
		t = append(t, stretch{d.from, d.v, d.v.Ref()})
	}
	return t
}

func isNacalculatie(v *beleid.Version) bool { return v.Beleid.GetNacalculatie() != nil }

// Cutover is the first day a nacalculatie prices directly: the day after
// the one (in the ledger's calendar) on which it was recorded. The days up
// to and including that day may have been priced and reported already.
func Cutover(v *beleid.Version) region.Day {
	return region.DayOf(event.Date(v.Recorded.In(clock.Location()))) + 1
}

// pricedTimeline: on each day the version InForce picks among those that
// price that day directly (every ordinary version; a nacalculatie from its
// Cutover on). The answer changes only at a geldig_vanaf or a cutover.
func pricedTimeline(h beleid.History) timeline {
	var days []region.Day
	for _, v := range h {
		days = append(days, region.DayOf(v.Beleid.GetGeldigVanaf()))
		if isNacalculatie(v) {
			days = append(days, Cutover(v))
		}
	}
	slices.Sort(days)
	days = slices.Compact(days)
	var t timeline
	for _, d := range days {
		var best *beleid.Version
		for _, v := range h {
			from := region.DayOf(v.Beleid.GetGeldigVanaf())
			if from > d || isNacalculatie(v) && Cutover(v) > d {
				continue
			}
			if bf := region.Day(0); best != nil {
				bf = region.DayOf(best.Beleid.GetGeldigVanaf())
				if from < bf || from == bf && v.Versie < best.Versie {
					continue
				}
			}
			best = v
		}
		if best == nil || len(t) > 0 && t[len(t)-1].v == best {
			continue
		}
		t = append(t, stretch{d, best, best.Ref()})
	}
	return t
}

// at returns the stretch in force on day d (nil version before the first)
// and the first day a different one may be: the next geldig_vanaf, or
// region.Open.
func (t timeline) at(d region.Day) (*stretch, region.Day) {
	// A gemeente has a handful of versions: a linear scan beats a search.
	i := 0
	for i < len(t) && t[i].from <= d {
		i++
	}
	next := region.Open
	if i < len(t) {
		next = t[i].from
	}
	if i == 0 {
		return nil, next
	}
	return &t[i-1], next
}
