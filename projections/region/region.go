// Package region is the regional model: everything the store holds, folded
// in global order into cases (with their spells and placements), each
// gemeente's policy history, the verdeelsleutels and the shared-cost
// bookings. Cost allocation and the beleidsview are computed from it.
//
// It is regional on purpose: dividing shared costs by caseload-days needs
// every gemeente's caseload. Each gemeente is still shown only its own
// figures and its own share.
//
// The live model follows the store (Subscribe); an auditor's replay builds
// a new one from the store (ReadAll). Both apply the same events with the
// same code, so they give the same figures.
package region

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// KeyVersion is one recorded verdeelsleutel.
type KeyVersion struct {
	Jaar    int32
	Methode ledgerv1.Verdeelmethode
	// Versie counts the versions of this year from 1.
	Versie  uint64
	EventID string
}

// Ref names the version in cost lines: "2026/v2".
func (k *KeyVersion) Ref() string { return fmt.Sprintf("%d/v%d", k.Jaar, k.Versie) }

// Booking is shared costs booked by the centrumgemeente.
type Booking struct {
	EventID      string
	Van, Tot     Day // inclusive period: Tot is the last day
	Cent         int64
	Budgetstroom ledgerv1.Budgetstroom
	Omschrijving string
	// keyAt is the verdeelsleutel of the booking's year that was in force
	// when the booking was recorded.
	keyAt *KeyVersion
}

// Model is the regional model. It is not safe for concurrent use; the live
// owner guards it.
type Model struct {
	cases    map[string]*Case
	sorted   []*Case // cases by id; nil when a case was added since
	policies map[string]beleid.History
	keys     map[int32][]*KeyVersion
	bookings []*Booking
	incomes  []Income
	targets  []*ledgerv1.Doelen
	settle   []*ledgerv1.Resultaatverdeling
	carry    *carrier // herindelingen from the data file; nil for none
	// regional are the events that are not a case's, in store order, with
	// their revisions: what a snapshot keeps of them.
	regional []regionalEvent
	position store.Position
	lastID   uuid.UUID // id of the event at position
	// digest is the running hash of the stored bytes of every event
	// applied (audit.Chain), for the figures' certificate.
	digest audit.Hash
	events uint64
	// latest is the latest date a case fact took effect (corrections,
	// dated when recorded, aside): how far the recorded history reaches.
	latest Day
}

// Income is a gemeente's income for a budget stream and year, as recorded.
type Income struct {
	EventID string
	*ledgerv1.Inkomsten
}

// Income returns gemeente g's income per budget stream in year y: for each
// stream the last record, which replaces the ones before it.
func (m *Model) Income(g string, y int32) map[ledgerv1.Budgetstroom]*ledgerv1.Inkomsten {
	out := map[ledgerv1.Budgetstroom]*ledgerv1.Inkomsten{}
	for _, in := range m.incomes {
		if in.GetGemeente() == g && in.GetJaar() == y {
			out[in.GetBudgetstroom()] = in.Inkomsten
		}
	}
	return out
}

// Targets returns gemeente g's targets for year y: the last record, nil
// when there is none.
func (m *Model) Targets(g string, y int32) *ledgerv1.Doelen {
	var out *ledgerv1.Doelen
	for _, d := range m.targets {
		if d.GetGemeente() == g && d.GetJaar() == y {
			out = d
		}
	}
	return out
}

// Settlement returns the regional agreement on settling year y's result:
// the last one recorded for that year, nil when there is none.
func (m *Model) Settlement(y int32) *ledgerv1.Resultaatverdeling {
	var out *ledgerv1.Resultaatverdeling
	for _, r := range m.settle {
		if r.GetJaar() == y {
			out = r
		}
	}
	return out
}

// New returns an empty model. The registry's herindelingen decide who
// carries a case after its gemeente ended (see carrier); nil knows none.
func New(reg *gemeente.Registry) *Model {
	return &Model{cases: map[string]*Case{}, policies: map[string]beleid.History{}, keys: map[int32][]*KeyVersion{}, carry: newCarrier(reg)}
}

// Build reads the whole store into a new model: the auditor's replay.
// Reading and decoding run beside applying, so a rebuild uses both cores.
func Build(ctx context.Context, s store.Store, reg *gemeente.Registry) (*Model, error) {
	type item struct {
		rec store.RecordedEvent
		ev  *ledgerv1.Event
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []item, 8)
	go func() {
		defer close(batches)
		buf := make([]item, 0, 512)
		for rec, err := range s.ReadAll(ctx, store.Start) {
			it := item{rec: rec, err: err}
			if err == nil {
				it.ev, it.err = decode(rec)
			} else {
				it.err = fmt.Errorf("build regional model: %w", err)
			}
			buf = append(buf, it)
			if it.err != nil || len(buf) == cap(buf) {
				select {
				case batches <- buf:
				case <-ctx.Done():
					return
				}
				if it.err != nil {
					return
				}
				buf = make([]item, 0, 512)
			}
		}
		if len(buf) > 0 {
			select {
			case batches <- buf:
			case <-ctx.Done():
			}
		}
	}()
	m := New(reg)
	for batch := range batches {
		for _, it := range batch {
			if it.err != nil {
				cancel()
				for range batches {
				}
				return nil, it.err
			}
			m.Apply(it.rec, it.ev)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

// ApplyRecord decodes and applies one stored event. A stored event that does
// not decode is an error naming it: figures that silently skip an event
// would not be auditable.
func (m *Model) ApplyRecord(rec store.RecordedEvent) error {
	ev, err := decode(rec)
	if err != nil {
		return err
	}
	m.Apply(rec, ev)
	return nil
}

// ApplyWatched is ApplyRecord that tells w of the change: Changing before
// a case event changes its case, Changed after every event applied.
func (m *Model) ApplyWatched(rec store.RecordedEvent, w Watcher) error {
	if !m.Takes(rec.Position) {
		return nil
	}
	ev, err := decode(rec)
	if err != nil {
		return err
	}
	var c *Case
	isCase := IsCaseEvent(ev)
	if isCase {
		if c = m.cases[ev.GetEnvelope().GetCaseId()]; c != nil {
			w.Changing(m, c)
		}
	}
	m.Apply(rec, ev)
	if isCase && c == nil {
		c = m.cases[ev.GetEnvelope().GetCaseId()]
	}
	w.Changed(m, ev, c)
	return nil
}

func decode(rec store.RecordedEvent) (*ledgerv1.Event, error) {
	ev := new(ledgerv1.Event)
	if err := proto.Unmarshal(rec.Data, ev); err != nil {
		return nil, fmt.Errorf("regional model: event %s at %s (stream %s): %w: %v", rec.ID, rec.Position, rec.Stream, event.ErrMalformed, err)
	}
	if err := event.Validate(ev); err != nil {
		return nil, fmt.Errorf("regional model: event %s at %s (stream %s): %w", rec.ID, rec.Position, rec.Stream, err)
	}
	return ev, nil
}

// Takes reports whether Apply would apply an event at p: one that is not
// after the last applied position is ignored.
func (m *Model) Takes(p store.Position) bool { return m.events == 0 || m.position.Less(p) }

// IsCaseEvent reports whether ev is a fact of a case (the rest is policy,
// verdeelsleutels and shared costs).
func IsCaseEvent(ev *ledgerv1.Event) bool {
	switch ev.GetPayload().(type) {
	case *ledgerv1.Event_Beleid, *ledgerv1.Event_Verdeelsleutel, *ledgerv1.Event_GedeeldeKosten, *ledgerv1.Event_Vergeten, *ledgerv1.Event_Rapportage,
		*ledgerv1.Event_Inkomsten, *ledgerv1.Event_Doelen, *ledgerv1.Event_Resultaatverdeling:
		return false
	}
	return true
}

// Apply adds one decoded event. Events must come in global order; one that
// is not after the last applied position is ignored, so replaying a
// stretch twice changes nothing.
func (m *Model) Apply(rec store.RecordedEvent, ev *ledgerv1.Event) {
	if !m.Takes(rec.Position) {
		return
	}
	m.put(rec, ev)
	m.position, m.lastID = rec.Position, rec.ID
	m.digest = audit.Chain(m.digest, rec.Data)
}

// Certificate says which history the model's figures are of: the store
// position it reflects, the number of events it read, and the digest of
// the history up to there, as `ledger audit verify --tot --digest` checks
// it (services/audit).
func (m *Model) Certificate() *ledgerv1.Certificaat {
	return &ledgerv1.Certificaat{Positie: m.position.String(), Gebeurtenissen: m.events, Digest: audit.DigestOf(m.digest)}
}

// put adds one event, wherever it comes from: the store (Apply) or a
// snapshot (which keeps, of a stored event, only what put reads).
func (m *Model) put(rec store.RecordedEvent, ev *ledgerv1.Event) {
	m.events++
	if ev.GetVergeten() != nil || ev.GetRapportage() != nil {
		return // forgetting a resident, or delivering a report, changes no figure
	}
	env := ev.GetEnvelope()
	if !IsCaseEvent(ev) {
		m.regional = append(m.regional, regionalEvent{rec.Revision, ev})
	}
	switch p := ev.GetPayload().(type) {
	case *ledgerv1.Event_Beleid:
		g := env.GetGemeente()
		m.policies[g] = m.policies[g].Add(&beleid.Version{
			Gemeente: g,
			Versie:   rec.Revision + 1,
			EventID:  env.GetEventId(),
			Recorded: env.GetRecordedAt().AsTime(),
			Actor:    env.GetActor(),
			Beleid:   p.Beleid,
		})
	case *ledgerv1.Event_Verdeelsleutel:
		y := p.Verdeelsleutel.GetJaar()
		m.keys[y] = append(m.keys[y], &KeyVersion{Jaar: y, Methode: p.Verdeelsleutel.GetMethode(), Versie: uint64(len(m.keys[y]) + 1), EventID: env.GetEventId()})
	case *ledgerv1.Event_GedeeldeKosten:
		b := &Booking{
			EventID:      env.GetEventId(),
			Van:          DayOf(p.GedeeldeKosten.GetVan()),
			Tot:          DayOf(env.GetOccurredOn()),
			Cent:         p.GedeeldeKosten.GetCent(),
			Budgetstroom: p.GedeeldeKosten.GetBudgetstroom(),
			Omschrijving: p.GedeeldeKosten.GetOmschrijving(),
		}
		b.keyAt, _ = m.Key(int32(b.Van.Year()))
		m.bookings = append(m.bookings, b)
	case *ledgerv1.Event_Inkomsten:
		m.incomes = append(m.incomes, Income{EventID: env.GetEventId(), Inkomsten: p.Inkomsten})
	case *ledgerv1.Event_Doelen:
		m.targets = append(m.targets, p.Doelen)
	case *ledgerv1.Event_Resultaatverdeling:
		m.settle = append(m.settle, p.Resultaatverdeling)
	default:
		if d := DayOf(env.GetOccurredOn()); ev.GetCorrectie() == nil && d > m.latest {
			m.latest = d
		}
		id := env.GetCaseId()
		c := m.cases[id]
		if c == nil {
			c = &Case{ID: id, carry: m.carry}
			m.cases[id] = c
			m.sorted = nil
		}
		c.add(minimise(ev))
		c.Revision = rec.Revision
	}
}

// Revision is the store revision of case id's last event applied.
func (m *Model) Revision(id string) (uint64, bool) {
	c, ok := m.cases[id]
	if !ok {
		return 0, false
	}
	return c.Revision, true
}

// Latest is the latest day on which a recorded case fact took effect;
// ok is false before any.
func (m *Model) Latest() (Day, bool) { return m.latest, m.latest != 0 }

// Position is the store position of the last event applied.
func (m *Model) Position() store.Position { return m.position }

// Events counts the events applied.
func (m *Model) Events() uint64 { return m.events }

// Cases returns every case, ordered by id, so that every computation over
// them is deterministic. The slice is shared: do not modify it.
func (m *Model) Cases() []*Case {
	if m.sorted == nil {
		m.sorted = make([]*Case, 0, len(m.cases))
		for _, c := range m.cases {
			m.sorted = append(m.sorted, c)
		}
		sort.Slice(m.sorted, func(i, j int) bool { return m.sorted[i].ID < m.sorted[j].ID })
	}
	return m.sorted
}

// DeriveAll works out every case's spells, placements and hours now, on
// all cores: a case derives them on first use, one after another, and a
// pass over every case (a view's first frame after a start) would
// otherwise do it on one core. Cases are independent, so each goroutine
// derives its own.
func (m *Model) DeriveAll() {
	cases := m.Cases()
	n := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for i := w; i < len(cases); i += n {
				cases[i].derive()
			}
		})
	}
	wg.Wait()
}

// Case returns one case.
func (m *Model) Case(id string) (*Case, bool) {
	c, ok := m.cases[id]
	return c, ok
}

// Policy returns a gemeente's policy versions.
func (m *Model) Policy(gemeente string) beleid.History { return m.policies[gemeente] }

// Key returns the verdeelsleutel in force for a year: its latest version.
func (m *Model) Key(year int32) (*KeyVersion, bool) {
	ks := m.keys[year]
	if len(ks) == 0 {
		return nil, false
	}
	return ks[len(ks)-1], true
}

// BookingKey returns the verdeelsleutel that divides a booking: the version
// of its year in force when it was booked, so that a later version does not
// divide again what was divided and exported; the latest version when none
// was in force then.
func (m *Model) BookingKey(b *Booking) (*KeyVersion, bool) {
	if b.keyAt != nil {
		return b.keyAt, true
	}
	return m.Key(int32(b.Van.Year()))
}

// Bookings returns the shared-cost bookings in the order recorded.
func (m *Model) Bookings() []*Booking { return m.bookings }

// minimise drops from a case event what no figure needs and what should not
// be kept in memory beside every figure: what caseflow.Lean leaves out (the
// encrypted personal data of an aanmelding, the actor, the hash link, the
// timestamps) and the command digest. Free text stays: it is in the
// payloads the figures read.
func minimise(ev *ledgerv1.Event) *ledgerv1.Event {
	out := caseflow.Lean(ev)
	if out != ev { // its envelope is a copy of our own
		out.Envelope.CommandDigest = nil
	}
	return out
}
