package costs

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Book is every gemeente's cost lines for a period [From, To), computed in
// one pass over the regional model: shared costs need every gemeente's
// weights, so computing them once and handing out per-gemeente slices is
// cheaper than asking per gemeente.
type Book struct {
	From, To region.Day
	lines    map[string][]Line
}

// Lines returns the lines charged to gemeente g, in the book's order: by
// case id; within a case its placements in date order, each by month, then
// its hours as recorded; then the shared costs in booking order. The slice
// is the book's own: read it, do not modify it.
func (b *Book) Lines(g string) []Line {
	ls := b.lines[g]
	return ls[:len(ls):len(ls)]
}

// Gemeenten returns the gemeenten with at least one line, by code.
func (b *Book) Gemeenten() []string {
	out := make([]string, 0, len(b.lines))
	for g := range b.lines {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

// All returns every line, gemeente by gemeente in code order.
func (b *Book) All() []Line {
	var n int
	for _, ls := range b.lines {
		n += len(ls)
	}
	out := make([]Line, 0, n)
	for _, g := range b.Gemeenten() {
		out = append(out, b.lines[g]...)
	}
	return out
}

// Lines returns the lines charged to gemeente g for [from, to): see Book.
func Lines(m *region.Model, reg *gemeente.Registry, centrum, g string, from, to region.Day) ([]Line, error) {
	b, err := NewBook(m, reg, centrum, from, to)
	if err != nil {
		return nil, err
	}
	return b.Lines(g), nil
}

// NewBook prices the model for [from, to). centrum is the centrumgemeente,
// which keeps shared costs that cannot be divided. to must be a real day:
// an open placement is charged up to it. NewBook reads the model, whose
// cases derive their spells on first use: call it under the same guard as
// any other use of the model. The book itself is immutable and may be read
// concurrently.
func NewBook(m *region.Model, reg *gemeente.Registry, centrum string, from, to region.Day) (*Book, error) {
	return NewBookFor(m, reg, centrum, from, to, nil)
}

// Member says whether gemeente g takes part in sharing the costs of budget
// stream s: a governance variant's circles (all work, beschut only, a
// DVO). Nil: every participant takes part in every stream.
type Member func(g string, s ledgerv1.Budgetstroom) bool

// NewBookFor is NewBook with shared costs divided only over the members
// of each stream's circle (what if); a booking no member shares stays with
// the centrumgemeente, as one without a verdeelsleutel does.
func NewBookFor(m *region.Model, reg *gemeente.Registry, centrum string, from, to region.Day, member Member) (*Book, error) {
	if to == region.Open {
		return nil, fmt.Errorf("cost book from %s: the period needs an end", from)
	}
	b := &builder{
		m: m, reg: reg, centrum: centrum, from: from, to: to, member: member,
		timelines: map[string]timeline{},
		months:    monthNames{},
		gemeenten: map[string]int32{},
		book:      &Book{From: from, To: to, lines: map[string][]Line{}},
	}
	if from >= to {
		return b.book, nil
	}
	bookings, idx := b.bookings()
	for _, c := range m.Cases() {
		b.placements(c)
		b.hours(c)
		if idx != nil {
			idx.add(c)
		}
	}
	if idx != nil {
		idx.finish()
	}
	for _, bk := range bookings {
		if err := b.divide(bk, idx); err != nil {
			return nil, err
		}
	}
	if err := b.build(); err != nil {
		return nil, err
	}
	if !settles(m, reg) {
		return b.book, nil
	}
	nb := b.nowBuilder()
	for _, c := range m.Cases() {
		nb.placements(c)
		nb.hours(c)
	}
	if err := nb.build(); err != nil {
		return nil, err
	}
	for g, now := range nb.book.lines {
		priced := b.book.lines[g]
		b.book.lines[g] = append(slices.Clip(priced), b.settle(priced, now)...)
	}
	return b.book, nil
}

// nowBuilder returns a builder for the same period that prices the
// amounts as they are now (builder.now).
func (b *builder) nowBuilder() *builder {
	return &builder{
		m: b.m, reg: b.reg, centrum: b.centrum, from: b.from, to: b.to, now: true,
		timelines: map[string]timeline{},
		months:    monthNames{},
		gemeenten: map[string]int32{},
		book:      &Book{From: b.from, To: b.to, lines: map[string][]Line{}},
	}
}

type builder struct {
	m         *region.Model
	reg       *gemeente.Registry
	centrum   string
	from, to  region.Day
	timelines map[string]timeline
	months    monthNames
	book      *Book
	// now prices every version over its whole period, nacalculaties
	// included: the amounts as they are now, which settle compares with
	// the lines as priced.
	now bool
	// member: the circles shared costs are divided over (nil: all).
	member Member

	// Lines are gathered as compact records first and built once, in
	// place, in one array for the whole book: growing per-gemeente slices
	// of full lines cost more (copying, garbage) than pricing them. The
	// records sit in fixed-size chunks, so gathering never copies them.
	chunks    [][]rec
	nrecs     int
	pieces    []rec // the current case's placement lines, reused
	gemeenten map[string]int32
	codes     []string // by gemeente index
	moves     []move   // the current case's verhuizingen, reused
	arena     []string // backing store of Line.Events
}

// rec is a line to be built: a placement line being gathered (days of one
// placement, gemeente, version and month), an hours line, or a shared line
// already built.
type rec struct {
	kind     kind
	g        int32 // gemeente index
	c        *region.Case
	p        *region.Placement
	h        *region.Hours
	st       *stretch // policy version; nil when none in force
	month    month
	from, to region.Day // inclusive
	days     int64
	events   []string
	shared   *Line
}

type kind uint8

const (
	kindPlaatsing kind = iota
	kindUren
	kindGedeeld
	kindLKS
)

const chunkSize = 8192

// keep stores a record.
func (b *builder) keep(r rec) {
	n := len(b.chunks)
	if n == 0 || len(b.chunks[n-1]) == cap(b.chunks[n-1]) {
		b.chunks = append(b.chunks, make([]rec, 0, chunkSize))
		n++
	}
	b.chunks[n-1] = append(b.chunks[n-1], r)
	b.nrecs++
}

type move struct {
	day       region.Day
	id        string
	van, naar string
}

func (b *builder) timeline(g string) timeline {
	t, ok := b.timelines[g]
	if !ok {
		t = newTimeline(b.m.Policy(g), !b.now)
		b.timelines[g] = t
	}
	return t
}

func (b *builder) gemeente(g string) int32 {
	i, ok := b.gemeenten[g]
	if !ok {
		i = int32(len(b.codes))
		b.gemeenten[g] = i
		b.codes = append(b.codes, g)
	}
	return i
}

// events returns ids as a Line.Events slice cut from a shared arena: one
// allocation per few thousand lines instead of one per line.
func (b *builder) events(ids ...string) []string {
	if cap(b.arena)-len(b.arena) < len(ids) {
		b.arena = make([]string, 0, max(4096, len(ids)))
	}
	start := len(b.arena)
	b.arena = append(b.arena, ids...)
	return b.arena[start:len(b.arena):len(b.arena)]
}

// placements gathers the days of the case's placements in [from, to). It
// walks the spells (who is responsible, which placement is active) and cuts
// each at policy changes and month boundaries: per stretch of days, never
// per day.
func (b *builder) placements(c *region.Case) {
	b.pieces = b.pieces[:0]
	for _, sp := range c.Spells() {
		if sp.Placement == nil {
			continue
		}
		a, e := region.Overlap(sp.From, sp.To, b.from, b.to)
		if a >= e {
			continue
		}
		tl := b.timeline(sp.Gemeente)
		g := b.gemeente(sp.Gemeente)
		for d := a; d < e; {
			st, change := tl.at(d)
			mo := monthOf(d)
			end := min(e, change, (mo + 1).start())
			b.gather(c, sp.Placement, g, st, mo, d, end)
			d = end
		}
	}
	if len(b.pieces) == 0 {
		return
	}
	b.moves = b.moves[:0]
	for _, ev := range c.Effective() {
		if v := ev.GetVerhuizing(); v != nil {
			b.moves = append(b.moves, move{region.DayOf(ev.GetEnvelope().GetOccurredOn()), ev.GetEnvelope().GetEventId(), v.GetVanGemeente(), v.GetNaarGemeente()})
		}
	}
	var ids []string
	for i := range b.pieces {
		r := &b.pieces[i]
		g := b.codes[r.g]
		ids = append(ids[:0], r.p.ID)
		if r.p.EndedBy != "" && r.p.End == r.to+1 {
			ids = append(ids, r.p.EndedBy)
		}
		for _, mv := range b.moves {
			if (mv.van == g || mv.naar == g) && r.from <= mv.day && mv.day <= r.to+1 {
				ids = append(ids, mv.id)
			}
		}
		r.events = b.events(ids...)
		b.keep(*r)
	}
	b.subsidies()
}

// subsidies adds the loonkostensubsidie of the placements gathered: per
// placement, gemeente and month one line over the same days as the
// placement's, which a policy change within the month does not cut, since
// the amount is the placement's own. A vangnet placement has none.
func (b *builder) subsidies() {
	var ids []string
	for i := 0; i < len(b.pieces); {
		r := b.pieces[i]
		if r.p.LKSCentPerMaand <= 0 || r.p.Vangnet {
			i++
			continue
		}
		l := r
		l.kind, l.st = kindLKS, nil
		ids = append(ids[:0], r.events...)
		j := i + 1
		for ; j < len(b.pieces) && b.pieces[j].p == r.p && b.pieces[j].g == r.g && b.pieces[j].month == r.month; j++ {
			n := &b.pieces[j]
			l.from, l.to, l.days = min(l.from, n.from), max(l.to, n.to), l.days+n.days
			for _, id := range n.events {
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
		l.events = b.events(ids...)
		b.keep(l)
		i = j
	}
}

// gather adds the days [from, to) to the line of their key (placement,
// gemeente, version, month): a new one, or an earlier one of the same month
// when the case moved away and back, or a spell was split by an event that
// changes neither (an intake during a placement).
func (b *builder) gather(c *region.Case, p *region.Placement, g int32, st *stretch, mo month, from, to region.Day) {
	for i := len(b.pieces) - 1; i >= 0; i-- {
		r := &b.pieces[i]
		if r.p != p || r.month != mo {
			break
		}
		if r.g == g && r.st == st {
			r.from, r.to = min(r.from, from), max(r.to, to-1)
			r.days += int64(to - from)
			return
		}
	}
	b.pieces = append(b.pieces, rec{kind: kindPlaatsing, g: g, c: c, p: p, st: st, month: mo, from: from, to: to - 1, days: int64(to - from)})
}

// hours gathers the case's hours whose last day is in [from, to).
func (b *builder) hours(c *region.Case) {
	hs := c.Hours()
	for i := range hs {
		h := &hs[i]
		if h.Tot < b.from || h.Tot >= b.to {
			continue
		}
		st, _ := b.timeline(h.Gemeente).at(h.Tot)
		b.keep(rec{kind: kindUren, g: b.gemeente(h.Gemeente), c: c, h: h, st: st, month: monthOf(h.Tot), events: b.events(h.EventID)})
	}
}

// build prices the records into the book: one array of lines, each
// gemeente's a contiguous part of it in record order.
func (b *builder) build() error {
	count := make([]int, len(b.codes))
	for _, ch := range b.chunks {
		for i := range ch {
			count[ch[i].g]++
		}
	}
	all := make([]Line, b.nrecs)
	next := make([]int, len(b.codes))
	for g, n := 0, 0; g < len(b.codes); g++ {
		next[g] = n
		b.book.lines[b.codes[g]] = all[n : n+count[g] : n+count[g]]
		n += count[g]
	}
	for _, ch := range b.chunks {
		for i := range ch {
			r := &ch[i]
			l := &all[next[r.g]]
			next[r.g]++
			if err := b.line(l, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// line prices one record.
func (b *builder) line(l *Line, r *rec) error {
	switch r.kind {
	case kindPlaatsing:
		return b.placementLine(l, r)
	case kindUren:
		return b.hoursLine(l, r)
	case kindLKS:
		return b.lksLine(l, r)
	default:
		*l = *r.shared
		return nil
	}
}

func (b *builder) placementLine(l *Line, r *rec) error {
	*l = Line{
		Kind: Plaatsing, Gemeente: b.codes[r.g], Month: b.months.name(r.month),
		Case: r.c.ID, Placement: r.p.ID, Product: r.p.Product,
		From: r.from, To: r.to, Days: r.days, Events: r.events,
	}
	if t := b.tariff(l, r.st); t != nil {
		l.Tariff = t.GetCentPerJaar()
		if l.Tariff == 0 && t.GetCentPerUur() != 0 {
			l.Remark = remarkNoYearTariff
		}
		cents, err := MulDiv(l.Tariff, l.Days, daysInYear(r.month.year()))
		if err != nil {
			return fmt.Errorf("price placement %s of case %s for %s in %s: %w", r.p.ID, r.c.ID, l.Gemeente, l.Month, err)
		}
		l.Cents = cents
	}
	return nil
}

// lksLine prices a placement's loonkostensubsidie for its days in a month:
//
//	cents = round_half_even(lks_cent_per_maand × days / days_in_month)
//
// BUIG, taakveld 6.3, charged to the gemeente responsible on those days.
func (b *builder) lksLine(l *Line, r *rec) error {
	*l = Line{
		Kind: LKS, Gemeente: b.codes[r.g], Month: b.months.name(r.month),
		Case: r.c.ID, Placement: r.p.ID, Product: ProductLKS,
		Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG, Taakveld: beleid.Taakveld(ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG),
		From: r.from, To: r.to, Days: r.days, Tariff: r.p.LKSCentPerMaand, Events: r.events,
	}
	cents, err := MulDiv(l.Tariff, l.Days, r.month.days())
	if err != nil {
		return fmt.Errorf("price the loonkostensubsidie of placement %s of case %s for %s in %s: %w", r.p.ID, r.c.ID, l.Gemeente, l.Month, err)
	}
	l.Cents = cents
	return nil
}

func (b *builder) hoursLine(l *Line, r *rec) error {
	h := r.h
	*l = Line{
		Kind: Uren, Gemeente: h.Gemeente, Month: b.months.name(r.month),
		Case: h.Case, Product: h.Product, From: h.Van, To: h.Tot,
		Minutes: int64(h.Minuten), Events: r.events,
	}
	if t := b.tariff(l, r.st); t != nil {
		l.Tariff = t.GetCentPerUur()
		if l.Tariff == 0 && t.GetCentPerJaar() != 0 {
			l.Remark = remarkNoHourTariff
		}
		cents, err := MulDiv(l.Minutes, l.Tariff, 60)
		if err != nil {
			return fmt.Errorf("price hours %s of case %s for %s: %w", h.EventID, h.Case, h.Gemeente, err)
		}
		l.Cents = cents
	}
	return nil
}

// tariff finds the line's product in the policy version st, filling in the
// policy, the budget stream and taakveld, or the remark why there is no
// tariff. The budget stream of a product not bought is the catalogue's, so
// that the line still lands where a controller would look for it.
func (b *builder) tariff(l *Line, st *stretch) *ledgerv1.ProductTarief {
	var t *ledgerv1.ProductTarief
	if st == nil {
		l.Remark = RemarkNoPolicy
	} else {
		l.Policy, l.PolicyEvent = st.ref, st.v.EventID
		var ok bool
		if t, ok = st.v.Tarief(l.Product); !ok {
			l.Remark = RemarkNotBought
		}
	}
	if t != nil {
		l.Budgetstroom = beleid.Budgetstroom(t)
	} else {
		p, _ := beleid.LookupProduct(l.Product)
		l.Budgetstroom = p.Budgetstroom
	}
	l.Taakveld = beleid.Taakveld(l.Budgetstroom)
	return t
}

// bookings returns the bookings whose last day is in [from, to), and an
// empty day index when one of them is divided by days: the caller fills it
// in its pass over the cases.
func (b *builder) bookings() ([]*region.Booking, *dayIndex) {
	return b.bookingsIn(b.m.Bookings())
}

func (b *builder) bookingsIn(all []*region.Booking) ([]*region.Booking, *dayIndex) {
	var bookings []*region.Booking
	var periods []period
	for _, bk := range all {
		if bk.Tot < b.from || bk.Tot >= b.to {
			continue
		}
		bookings = append(bookings, bk)
		if k, ok := b.m.BookingKey(bk); ok && needsDays(k.Methode) {
			periods = append(periods, period{bk.Van, bk.Tot + 1})
		}
	}
	if len(periods) == 0 {
		return bookings, nil
	}
	return bookings, newDayIndex(b.reg, periods)
}

func (b *builder) divide(bk *region.Booking, idx daySums) error {
	year, _, _ := civil(bk.Van)
	base := Line{
		Kind: Gedeeld, Month: b.months.name(monthOf(bk.Tot)),
		Budgetstroom: bk.Budgetstroom, Taakveld: beleid.Taakveld(bk.Budgetstroom),
		From: bk.Van, To: bk.Tot, Booking: bk.EventID,
	}
	key, ok := b.m.BookingKey(bk)
	if !ok {
		base.Events = b.events(bk.EventID)
		return b.undivided(base, bk, fmt.Sprintf("geen verdeelsleutel voor %d", year))
	}
	base.Key, base.Method = key.Ref(), key.Methode
	base.Events = b.events(bk.EventID, key.EventID)
	if key.Methode == ledgerv1.Verdeelmethode_VERDEELMETHODE_UNSPECIFIED {
		return b.undivided(base, bk, fmt.Sprintf("verdeelsleutel %s noemt geen methode", base.Key))
	}
	parts := participants(b.reg, bk.Van)
	if b.member != nil {
		parts = slices.DeleteFunc(slices.Clone(parts), func(g gemeente.Gemeente) bool { return !b.member(g.Code, bk.Budgetstroom) })
	}
	if len(parts) == 0 {
		return b.undivided(base, bk, fmt.Sprintf("geen deelnemers op %s", bk.Van))
	}
	codes := make([]string, len(parts))
	for i, g := range parts {
		codes[i] = g.Code
	}
	ws := weights(key.Methode, year, parts, idx, bk.Van, bk.Tot+1)
	shares, total, err := allocate(bk.Cent, codes, ws)
	if errors.Is(err, ErrNoWeight) {
		return b.undivided(base, bk, fmt.Sprintf("totaal gewicht is 0 (%s, verdeelsleutel %s)", methodName(key.Methode), base.Key))
	}
	if err != nil {
		return fmt.Errorf("divide booking %s: %w", bk.EventID, err)
	}
	for i, g := range codes {
		l := base
		l.Gemeente, l.Weight, l.TotalWeight, l.Cents = g, ws[i], total, shares[i]
		b.add(l)
	}
	return nil
}

// undivided leaves the whole booking with the centrumgemeente. It returns
// nil so that callers can return it.
func (b *builder) undivided(l Line, bk *region.Booking, why string) error {
	l.Gemeente, l.Cents, l.Remark = b.centrum, bk.Cent, RemarkNotDivided+why
	b.add(l)
	return nil
}

func methodName(m ledgerv1.Verdeelmethode) string {
	switch m {
	case ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS:
		return "inwoners"
	case ledgerv1.Verdeelmethode_VERDEELMETHODE_CASELOAD_DAGEN:
		return "caseloaddagen"
	case ledgerv1.Verdeelmethode_VERDEELMETHODE_PLAATSING_DAGEN:
		return "plaatsingsdagen"
	}
	return m.String()
}

// add adds a built shared line.
func (b *builder) add(l Line) {
	b.keep(rec{kind: kindGedeeld, g: b.gemeente(l.Gemeente), shared: &l})
}
