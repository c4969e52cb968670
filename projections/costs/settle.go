package costs

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// settles reports whether any participant's policy holds a nacalculatie:
// only then do the amounts now differ from the amounts as priced.
func settles(m *region.Model, reg *gemeente.Registry) bool {
	if reg == nil {
		return false
	}
	for _, g := range reg.All() {
		if slices.ContainsFunc(m.Policy(g.Code), isNacalculatie) {
			return true
		}
	}
	return false
}

// settleKey: an afrekening line per gemeente, month, product and post. The
// post is part of it because a nacalculatie may pay a product from another
// budget stream: the amount as priced then leaves the old post and the
// amount now arrives on the new one, and settling case by case (Running)
// gives the same posts as settling a gemeente at once (Book).
type settleKey struct {
	gemeente, month, product string
	budgetstroom             ledgerv1.Budgetstroom
	taakveld                 string
}

func (k settleKey) compare(o settleKey) int {
	return cmp.Or(strings.Compare(k.gemeente, o.gemeente), strings.Compare(k.month, o.month), strings.Compare(k.product, o.product),
		cmp.Compare(k.budgetstroom, o.budgetstroom), strings.Compare(k.taakveld, o.taakveld))
}

// settle returns the afrekening lines of a nacalculatie: per gemeente,
// month and product, the placement and hours lines as they are now (now,
// every version over its whole period) less the same lines as they were
// priced (priced, each nacalculatie only from its Cutover), where the two
// differ. The lines already priced stay as they were, so a report made
// before the nacalculatie is made again unchanged, and the afrekening lines
// add up to the difference between the two, exactly. Shared lines in either
// slice are left out: a booking is divided as it was booked.
func (b *builder) settle(priced, now []Line) []Line {
	type acc struct {
		line        Line // the afrekening line being built
		priced, now int64
		pricedRefs  []string
	}
	accs := map[settleKey]*acc{}
	var keys []settleKey
	// The versions pricing a gemeente's month and product now, whatever
	// the post: the line that takes an amount off the old post names them
	// too.
	revising := map[settleKey][]string{}
	get := func(l *Line) *acc {
		k := settleKey{l.Gemeente, l.Month, l.Product, l.Budgetstroom, l.Taakveld}
		a := accs[k]
		if a == nil {
			a = &acc{line: Line{Kind: Afrekening, Gemeente: l.Gemeente, Month: l.Month, Product: l.Product, From: l.From, To: l.To,
				Budgetstroom: l.Budgetstroom, Taakveld: l.Taakveld}}
			accs[k] = a
			keys = append(keys, k)
		}
		a.line.From, a.line.To = min(a.line.From, l.From), max(a.line.To, l.To)
		return a
	}
	for i := range priced {
		if l := &priced[i]; l.Kind == Plaatsing || l.Kind == Uren {
			a := get(l)
			a.priced += l.Cents
			if l.Policy != "" && !slices.Contains(a.pricedRefs, l.Policy) {
				a.pricedRefs = append(a.pricedRefs, l.Policy)
			}
		}
	}
	for i := range now {
		if l := &now[i]; l.Kind == Plaatsing || l.Kind == Uren {
			a := get(l)
			a.now += l.Cents
			a.line.Days += l.Days
			a.line.Minutes += l.Minutes
			m := settleKey{gemeente: l.Gemeente, month: l.Month, product: l.Product}
			if l.Policy != "" && !slices.Contains(revising[m], l.Policy) {
				revising[m] = append(revising[m], l.Policy)
			}
		}
	}
	slices.SortFunc(keys, settleKey.compare)
	var out []Line
	for _, k := range keys {
		a := accs[k]
		if a.now == a.priced {
			continue
		}
		l := a.line
		l.Cents = a.now - a.priced
		// The nacalculaties that price the month now, and what they say.
		var refs, why []string
		for _, ref := range revising[settleKey{gemeente: k.gemeente, month: k.month, product: k.product}] {
			v := b.version(ref)
			if n := v.GetNacalculatie(); n != nil {
				refs = append(refs, ref)
				l.Events = append(l.Events, v.EventID)
				l.PolicyEvent = v.EventID
				why = append(why, fmt.Sprintf("%s (besluit %s)", ref, n.GetBesluit()))
			}
		}
		l.Policy = strings.Join(refs, " ")
		l.Remark = fmt.Sprintf("nacalculatie %s: nu %s, zoals geprijsd %s (%s)", strings.Join(why, ", "), centen(a.now), centen(a.priced), strings.Join(a.pricedRefs, " "))
		out = append(out, l)
	}
	return out
}

// version finds a policy version by its reference ("GM0402/v3"); nil when
// there is none.
func (b *builder) version(ref string) *versionInfo {
	code, _, _ := strings.Cut(ref, "/")
	for _, v := range b.m.Policy(code) {
		if v.Ref() == ref {
			return &versionInfo{EventID: v.EventID, Beleid: v.Beleid}
		}
	}
	return nil
}

type versionInfo struct {
	EventID string
	Beleid  *ledgerv1.Beleid
}

// GetNacalculatie is nil-safe, as protobuf getters are.
func (v *versionInfo) GetNacalculatie() *ledgerv1.Nacalculatie {
	if v == nil {
		return nil
	}
	return v.Beleid.GetNacalculatie()
}

// centen writes an amount of cents for a remark: "1234,56".
func centen(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("€ %s%d,%02d", sign, c/100, c%100)
}

// LinesNow returns gemeente g's placement and hours lines for [from, to)
// as they are priced now: every policy version over its whole period,
// nacalculaties included, which is what settle compares with the lines as
// priced. It is for tracing an afrekening line; the export is Lines.
func LinesNow(m *region.Model, reg *gemeente.Registry, centrum, g string, from, to region.Day) ([]Line, error) {
	b := (&builder{m: m, reg: reg, centrum: centrum, from: from, to: to}).nowBuilder()
	if from >= to {
		return nil, nil
	}
	for _, c := range m.Cases() {
		b.placements(c)
		b.hours(c)
	}
	if err := b.build(); err != nil {
		return nil, err
	}
	return b.book.Lines(g), nil
}
