package costs

import (
	"sort"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
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

func newTimeline(h beleid.History) timeline {
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
