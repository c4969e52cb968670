// Package caseload is the first per-gemeente projection: what a gemeente's
// beleidsmedewerker sees of its own caseload. Active cases by toestand and
// by doelgroep, and instroom and uitstroom per month by reason.
//
// The figures are a plain function of events: View.Apply. The live Projector
// feeds it from the bus, Replay feeds it from the store (the auditor's path),
// and the tests feed it directly. All three run the same code, so the live
// view and the auditor's replay agree by construction.
//
// Where a projection is rebuilt (snapshot lost, bus stream recreated,
// consumer ahead of the snapshot) is decided in one place: planRebuild in
// rebuild.go.
package caseload

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Sources of a view, as the API reports them in CaseloadView.bron.
const (
	BronLive   = "live"
	BronReplay = "replay"
)

// Reasons of instroom and uitstroom besides the uitstroom reden itself. They
// are keys a beleidsmedewerker reads, so they are Dutch.
const (
	RedenAanmelding = "aanmelding"
	RedenVerhuizing = "verhuizing"
	// RedenHerindeling: the case passed to the successor of its gemeente
	// (instroom at the successor, uitstroom at the ended gemeente).
	RedenHerindeling = "herindeling"
	// RedenHerindelingBuiten: the gemeente went into one outside the
	// arrangement, and its open cases ended with it.
	RedenHerindelingBuiten = "herindeling-buiten-regeling"
	// RedenTerugkeer: back on the vangnet in the same case after an
	// uitstroom to regular work that did not work out (instroom).
	RedenTerugkeer = "terugkeer"
	// RedenOnbekend is an uitstroom without a (known) reden.
	RedenOnbekend = "onbekend"
)

// View is the caseload of one gemeente G, built from the events G receives
// (event.Audience contains G): its own events and the verhuizingen to G.
//
// Per case the view keeps segments: a segment starts at an aanmelding or at
// a verhuizing to G and collects the case's later events that G receives,
// the verhuizing away from G included. A case that moves A→B→A has two
// segments in A: A's second period starts from the snapshot handed over by
// B, as if A had never seen the case. Each segment is folded on its own with
// caseflow.Fold, so corrections and the state machine are exactly the
// command side's.
//
// Totals are kept incrementally: Apply folds an event onto the segment it
// belongs to (a correctie: folds the segments it touches again, from their
// events) and swaps that case's old contribution for the new one.
//
// A View is not safe for concurrent use. Its snapshot (snapshot.go) holds
// the events per segment and the counters; the figures are derived again on
// load, so a snapshot can not disagree with the events it holds.
type View struct {
	gemeente string
	naam     string
	cases    map[string]*caseEntry
	// held are events of cases the view has no start of, by case id. After
	// a herindeling they are the successor's events of a carried case
	// (whose start is in the ended gemeente's view; see Compose); anything
	// else is an orphan.
	held      map[string][]kept
	verwerkt  uint64
	anomalies Anomalies
	totals    totals
	// tot is the store position of the last event the view took in, when
	// it was told (noteAt): what a replay up to there makes of the view.
	tot store.Position
}

// Anomalies counts events a view received but could not use. They are not in
// the figures; the figures are only as complete as these are zero.
type Anomalies struct {
	// Corrections of an event this gemeente never received, or that the
	// corrected event does not accept (a different type, a correctie of a
	// correctie).
	SkippedCorrecties uint64 `json:"skipped_correcties,omitempty"`
	// Events of a case whose start (aanmelding or verhuizing to this
	// gemeente) the view never received.
	Orphans uint64 `json:"orphans,omitempty"`
	// Events whose id the view already holds: a republish outside the bus's
	// de-duplication window.
	Duplicates uint64 `json:"duplicates,omitempty"`
	// Events not addressed to this gemeente: a routing error upstream.
	NotAddressed uint64 `json:"not_addressed,omitempty"`
	// Bus messages that could not be decoded. Only the live view records
	// them; Replay fails on the first one, since the store is the truth.
	Malformed     uint64 `json:"malformed,omitempty"`
	LastMalformed string `json:"last_malformed,omitempty"`
}

type caseEntry struct {
	segments []*segment
}

type segment struct {
	// The events as G received them, minimised, in arrival order;
	// corrections sit after the event they correct.
	events []kept
	// Derived from events: folded on as they arrive, folded again from
	// all of them after a correctie.
	state caseflow.State
	flows []flow
}

// kept is an event as a view holds it: encoded, minimised (see minimise),
// deterministically. A view holds every event it received, and decoded
// they took about 670 bytes each, pointers the collector walks on every
// cycle; a figure needs an event once, when it arrives, and the whole
// history of a segment again only after a correctie.
type kept struct {
	id   uuid.UUID
	kind keptKind
	data []byte
}

// keptKind is what the view must know of a kept event without decoding it.
type keptKind uint8

const (
	keptOther keptKind = iota
	keptCorrectie
	keptVerhuizing
)

// keep is ev, whose id is id, minimised as the view holds it; data is its
// deterministic encoding when the caller has it already (the follower
// wrote it to its journal), else nil.
func keep(ev *ledgerv1.Event, id uuid.UUID, data []byte) (kept, error) {
	k := kept{id: id, data: data}
	switch {
	case ev.GetCorrectie() != nil:
		k.kind = keptCorrectie
	case ev.GetVerhuizing() != nil:
		k.kind = keptVerhuizing
	}
	if k.data == nil {
		var err error
		if k.data, err = (proto.MarshalOptions{Deterministic: true}).Marshal(minimise(ev)); err != nil {
			return kept{}, err
		}
	}
	return k, nil
}

// idOf is an event id as a view compares it. Every stored event's id is a
// UUID (event.Validate); any other string still gets an id of its own.
func idOf(s string) uuid.UUID {
	if id, err := uuid.Parse(s); err == nil {
		return id
	}
	return uuid.NewSHA1(uuid.Nil, []byte(s))
}

// decodeAll decodes kept events, for a fold of a whole segment.
func decodeAll(ks []kept) ([]*ledgerv1.Event, error) {
	out := make([]*ledgerv1.Event, len(ks))
	for i, k := range ks {
		ev, err := event.Decode(k.data)
		if err != nil {
			return nil, fmt.Errorf("kept event %s: %w", k.id, err)
		}
		out[i] = ev
	}
	return out, nil
}

// flow is one instroom or uitstroom of a segment.
type flow struct {
	maand string // "YYYY-MM"
	uit   bool
	reden string
}

// NewView returns an empty view of gemeente code (GMxxxx) named naam.
func NewView(code, naam string) *View {
	return &View{gemeente: code, naam: naam, cases: make(map[string]*caseEntry), held: make(map[string][]kept), totals: newTotals()}
}

// Gemeente is the CBS code of the view's gemeente.
func (v *View) Gemeente() string { return v.gemeente }

// Naam is the gemeente's name.
func (v *View) Naam() string { return v.naam }

// Verwerkt is the number of events addressed to the gemeente that the view
// has taken in, duplicates not counted.
func (v *View) Verwerkt() uint64 { return v.verwerkt }

// Anomalies returns what the view received but could not use.
func (v *View) Anomalies() Anomalies { return v.anomalies }

// Tot is the store position of the last event the view took in (Start
// when none, or not told).
func (v *View) Tot() store.Position { return v.tot }

// noteAt records that the view holds the stored event at p.
func (v *View) noteAt(p store.Position) {
	if v.tot.Less(p) {
		v.tot = p
	}
}

// Actief is the number of active cases.
func (v *View) Actief() int64 { return v.totals.actief }

// Apply takes in one event. Events not addressed to the view's gemeente are
// counted as anomalies and otherwise ignored; so are events it can not place
// (see Anomalies). Applying an event whose id the view already holds changes
// nothing.
func (v *View) Apply(ev *ledgerv1.Event) { v.apply(ev, nil) }

// ApplyAt is Apply of the event stored at position at (a bus message's
// bus.HeaderPosition): the view then says it holds the store up to there.
func (v *View) ApplyAt(ev *ledgerv1.Event, at store.Position) {
	v.apply(ev, nil)
	if event.IsCaseEvent(ev) {
		v.noteAt(at)
	}
}

// apply is Apply; data, when set, is ev minimised and deterministically
// encoded (the live follower encodes once for its journal and the view).
// The view keeps data and reads ev only now.
func (v *View) apply(ev *ledgerv1.Event, data []byte) {
	if v.cases == nil {
		v.cases, v.totals = make(map[string]*caseEntry), newTotals()
	}
	if !event.IsCaseEvent(ev) {
		// A policy or regional agreement on the bus: the beleidsview's
		// business, not the caseload's.
		return
	}
	if !slices.Contains(event.Audience(ev, nil), v.gemeente) {
		v.anomalies.NotAddressed++
		return
	}
	env := ev.GetEnvelope()
	c := v.cases[env.GetCaseId()]
	id := idOf(env.GetEventId())
	if c != nil && c.holds(id) || v.isHeld(env.GetCaseId(), id) {
		v.anomalies.Duplicates++
		return
	}
	k, err := keep(ev, id, data)
	if err != nil {
		// An event that decoded but does not encode: nothing the view
		// can hold, so nothing it counts.
		v.recordMalformed(fmt.Sprintf("event %s: %v", env.GetEventId(), err))
		return
	}
	v.verwerkt++
	if c == nil && !v.startsSegment(ev) {
		// Kept, not dropped: after a herindeling this is the successor's
		// part of a carried case's history.
		if v.held == nil {
			v.held = make(map[string][]kept)
		}
		v.held[env.GetCaseId()] = append(v.held[env.GetCaseId()], k)
		if ev.GetCorrectie() != nil {
			v.anomalies.SkippedCorrecties++
		} else {
			v.anomalies.Orphans++
		}
		return
	}

	var segs []*segment
	switch {
	case v.startsSegment(ev):
		if c == nil {
			c = &caseEntry{}
		}
		segs = []*segment{{}}
	case ev.GetCorrectie() != nil:
		if segs = c.correcting(ev.GetCorrectie(), v.gemeente); len(segs) == 0 {
			v.anomalies.SkippedCorrecties++
			return
		}
	default:
		if c == nil || len(c.segments) == 0 {
			v.anomalies.Orphans++
			return
		}
		segs = []*segment{c.segments[len(c.segments)-1]}
	}

	before := v.activeOf(c)
	for _, seg := range segs {
		if ev.GetCorrectie() == nil {
			// Any other event comes after what the segment holds, in
			// its effective history too (caseflow.Effective): fold it on.
			from := seg.state
			seg.state = caseflow.Evolve(from, ev)
			n := len(seg.flows)
			seg.flows = v.stepFlows(seg.flows, from, seg.state, ev, nil, "")
			v.totals.flows(seg.flows[n:], +1)
			seg.events = append(seg.events, k)
			if len(seg.events) == 1 {
				c.segments = append(c.segments, seg)
				v.cases[env.GetCaseId()] = c
			}
			continue
		}
		evs, err := decodeAll(seg.events)
		if err != nil {
			v.recordMalformed(fmt.Sprintf("case %s: %v", env.GetCaseId(), err))
			continue
		}
		state, flows, err := v.fold(append(evs, ev))
		if err != nil {
			// Only a correctie can make a fold fail: it does not fit the
			// event it names. Leave the segment as it was.
			v.anomalies.SkippedCorrecties++
			continue
		}
		seg.events = append(seg.events, k)
		v.totals.flows(seg.flows, -1)
		seg.state, seg.flows = state, flows
		v.totals.flows(seg.flows, +1)
	}
	v.totals.active(before, -1)
	v.totals.active(v.activeOf(c), +1)
}

func (v *View) isHeld(caseID string, id uuid.UUID) bool {
	for _, k := range v.held[caseID] {
		if k.id == id {
			return true
		}
	}
	return false
}

// startsSegment reports whether ev opens a period of responsibility of G.
func (v *View) startsSegment(ev *ledgerv1.Event) bool {
	if ev.GetAanmelding() != nil {
		return true
	}
	vh := ev.GetVerhuizing()
	return vh != nil && vh.GetNaarGemeente() == v.gemeente && ev.GetEnvelope().GetGemeente() != v.gemeente
}

func (c *caseEntry) holds(id uuid.UUID) bool {
	for _, s := range c.segments {
		for _, k := range s.events {
			if k.id == id {
				return true
			}
		}
	}
	return false
}

// correcting returns the segments a correctie changes in gemeente g's
// view: the one with the (non-correctie) event it names, and those that
// start with a verhuizing to g whose snapshot it revises (the fact was
// handed over). A correctie of a correctie is not a thing Effective knows.
func (c *caseEntry) correcting(corr *ledgerv1.Correctie, g string) []*segment {
	if c == nil {
		return nil
	}
	target := idOf(corr.GetCorrigeert())
	// The verhuizingen to g whose snapshot the correctie revises.
	var handed []uuid.UUID
	for _, o := range corr.GetOverdrachten() {
		if o.GetNaarGemeente() == g {
			handed = append(handed, idOf(o.GetVerhuizing()))
		}
	}
	var out []*segment
	for _, seg := range c.segments {
		for _, k := range seg.events {
			if k.id == target && k.kind != keptCorrectie || k.kind == keptVerhuizing && slices.Contains(handed, k.id) {
				out = append(out, seg)
				break
			}
		}
	}
	return out
}

// fold derives a segment's state and flows from its events.
func (v *View) fold(events []*ledgerv1.Event) (caseflow.State, []flow, error) {
	state, err := caseflow.Fold(events)
	if err != nil {
		return caseflow.State{}, nil, err
	}
	eff := events
	if slices.ContainsFunc(events, func(ev *ledgerv1.Event) bool { return ev.GetCorrectie() != nil }) {
		if eff, err = caseflow.Effective(events); err != nil {
			return caseflow.State{}, nil, err
		}
	}
	return state, v.flowsOf(eff, nil, ""), nil
}

// flowsOf returns G's instroom and uitstroom in an effective history, by
// the one definition (caseflow.Stromen), from day from on when from is set.
// carriedFrom, when set, is a gemeente whose cases G carries after a
// herindeling: what the history says of it is G's.
func (v *View) flowsOf(eff []*ledgerv1.Event, from *ledgerv1.Date, carriedFrom string) []flow {
	var flows []flow
	var s caseflow.State
	for _, ev := range eff {
		before := s
		s = caseflow.Evolve(s, ev)
		flows = v.stepFlows(flows, before, s, ev, from, carriedFrom)
	}
	return flows
}

// stepFlows appends to flows G's instroom and uitstroom of one step of an
// effective history, ev taking the case from before to after (see flowsOf
// for from and carriedFrom).
func (v *View) stepFlows(flows []flow, before, after caseflow.State, ev *ledgerv1.Event, from *ledgerv1.Date, carriedFrom string) []flow {
	if from != nil && event.CompareDates(ev.GetEnvelope().GetOccurredOn(), from) < 0 {
		return flows
	}
	st, n := caseflow.Stromen(before, after, ev)
	for _, x := range st[:n] {
		if x.Gemeente != v.gemeente && (carriedFrom == "" || x.Gemeente != carriedFrom) {
			continue
		}
		f := flow{maand: event.Month(ev.GetEnvelope().GetOccurredOn()), uit: x.Uit}
		switch x.Soort {
		case caseflow.StroomAanmelding:
			f.reden = RedenAanmelding
		case caseflow.StroomVerhuizing:
			f.reden = RedenVerhuizing
		case caseflow.StroomTerugkeer:
			f.reden = RedenTerugkeer
		case caseflow.StroomUitstroom:
			f.reden = UitstroomReden(x.Reden)
		}
		flows = append(flows, f)
	}
	return flows
}

// UitstroomReden is the reason key of an uitstroom reden: the enum name
// without its prefix, in lower case ("regulier-werk").
func UitstroomReden(r ledgerv1.UitstroomReden) string {
	name, ok := strings.CutPrefix(r.String(), "UITSTROOM_REDEN_")
	if !ok || r == ledgerv1.UitstroomReden_UITSTROOM_REDEN_UNSPECIFIED {
		return RedenOnbekend
	}
	// The same words as the command line's --reden.
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

// active is a case's contribution to the active caseload.
type active struct {
	ok        bool
	toestand  ledgerv1.Toestand
	doelgroep ledgerv1.Doelgroep
}

// activeOf: a case is active for G iff the state of its last segment says
// G is responsible and the case is open. Earlier segments are G's history.
func (v *View) activeOf(c *caseEntry) active {
	if c == nil || len(c.segments) == 0 {
		return active{}
	}
	s := c.segments[len(c.segments)-1].state
	if !s.Open() || s.Gemeente != v.gemeente {
		return active{}
	}
	return active{ok: true, toestand: s.Toestand, doelgroep: s.Doelgroep}
}

// minimise returns a copy of ev without what the caseload does not need and
// should not copy into its snapshots: the encrypted personal data, free text
// a medewerker typed (it may name a person), the actor, the hash link, the
// command digest and the source record of an imported event (the view
// holds every event it received: at a million imported events these two
// took about 100 MB of a 2.1 GB heap). Evolve reads none of these, so
// states and counts are unchanged.
func minimise(ev *ledgerv1.Event) *ledgerv1.Event {
	return strip(proto.Clone(ev).(*ledgerv1.Event))
}

// strip is minimise of an event the caller owns (one it just decoded): it
// clears in place instead of copying.
func strip(out *ledgerv1.Event) *ledgerv1.Event {
	out.Envelope.Actor = ""
	out.Envelope.PrevHash = nil
	dropKept(out.Envelope)
	// The same spots the ledger encrypts (event.Spots): one list of where
	// personal data and free text are, not a second one here.
	for _, sp := range event.Spots(out) {
		sp.Msg.Clear(sp.Sealed)
		if sp.Text != nil {
			sp.Msg.Clear(sp.Text)
		}
	}
	return out
}

// dropKept clears the envelope fields the view keeps of no event (see
// minimise); strip clears the rest.
func dropKept(env *ledgerv1.Envelope) {
	env.CommandDigest = nil
	env.Bron = nil
}

// decodeKept decodes an event as the view kept it, in its base or its
// journal, and returns it with the bytes the view keeps of it: data
// itself, which the caller must not change. One written before 763adb1 may
// still hold what the view no longer keeps; it is cleared here and encoded
// again.
func decodeKept(data []byte) (*ledgerv1.Event, []byte, error) {
	ev, err := event.Decode(data)
	if err != nil {
		return nil, nil, err
	}
	if env := ev.GetEnvelope(); env.GetCommandDigest() != nil || env.GetBron() != nil {
		dropKept(env)
		if data, err = (proto.MarshalOptions{Deterministic: true}).Marshal(ev); err != nil {
			return nil, nil, err
		}
	}
	return ev, data, nil
}

// recordMalformed notes a bus message that could not be decoded.
func (v *View) recordMalformed(desc string) {
	v.anomalies.Malformed++
	v.anomalies.LastMalformed = desc
}

// totals are the figures, kept incrementally. Entries that drop to zero are
// deleted, so incremental totals equal totals built from scratch.
type totals struct {
	actief       int64
	perToestand  map[ledgerv1.Toestand]int64
	perDoelgroep map[ledgerv1.Doelgroep]int64
	perMaand     map[string]*maandTotals
}

type maandTotals struct {
	in, uit map[string]int64 // by reden
}

func newTotals() totals {
	return totals{
		perToestand:  make(map[ledgerv1.Toestand]int64),
		perDoelgroep: make(map[ledgerv1.Doelgroep]int64),
		perMaand:     make(map[string]*maandTotals),
	}
}

func (t *totals) active(a active, sign int64) {
	if !a.ok {
		return
	}
	t.actief += sign
	addTo(t.perToestand, a.toestand, sign)
	addTo(t.perDoelgroep, a.doelgroep, sign)
}

func (t *totals) flows(fs []flow, sign int64) {
	for _, f := range fs {
		m := t.perMaand[f.maand]
		if m == nil {
			m = &maandTotals{in: map[string]int64{}, uit: map[string]int64{}}
			t.perMaand[f.maand] = m
		}
		if f.uit {
			addTo(m.uit, f.reden, sign)
		} else {
			addTo(m.in, f.reden, sign)
		}
		if len(m.in) == 0 && len(m.uit) == 0 {
			delete(t.perMaand, f.maand)
		}
	}
}

func addTo[K comparable](m map[K]int64, k K, n int64) {
	if m[k] += n; m[k] == 0 {
		delete(m, k)
	}
}

// Proto returns the view as the API serves it, with bron BronLive or
// BronReplay. Toestanden and doelgroepen are in enum order, months
// ascending, reasons alphabetical; zero counts are left out.
func (v *View) Proto(bron string) *ledgerv1.CaseloadView {
	out := &ledgerv1.CaseloadView{
		Gemeente: v.gemeente,
		Naam:     v.naam,
		Actief:   v.totals.actief,
		Bron:     bron,
		Verwerkt: v.verwerkt,
	}
	if v.tot != store.Start {
		out.BijgewerktTot = v.tot.String()
	}
	for _, t := range sortedKeys(v.totals.perToestand) {
		out.PerToestand = append(out.PerToestand, &ledgerv1.ToestandCount{Toestand: t, Aantal: v.totals.perToestand[t]})
	}
	for _, d := range sortedKeys(v.totals.perDoelgroep) {
		out.PerDoelgroep = append(out.PerDoelgroep, &ledgerv1.DoelgroepCount{Doelgroep: d, Aantal: v.totals.perDoelgroep[d]})
	}
	for _, maand := range sortedKeys(v.totals.perMaand) {
		m := v.totals.perMaand[maand]
		ms := &ledgerv1.MaandStroom{Maand: maand}
		for _, r := range sortedKeys(m.in) {
			ms.Instroom += m.in[r]
			ms.InstroomPerReden = append(ms.InstroomPerReden, &ledgerv1.RedenCount{Reden: r, Aantal: m.in[r]})
		}
		for _, r := range sortedKeys(m.uit) {
			ms.Uitstroom += m.uit[r]
			ms.UitstroomPerReden = append(ms.UitstroomPerReden, &ledgerv1.RedenCount{Reden: r, Aantal: m.uit[r]})
		}
		out.PerMaand = append(out.PerMaand, ms)
	}
	return out
}

func sortedKeys[K interface{ ~int32 | ~string }, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Cases lists the gemeente's cases by case id: the active ones, or with
// includeClosed also those that flowed out or moved away. A case is shown
// as G last saw it: a case that moved away has the new gemeente in its
// gemeente field and the toestand it had on the day it moved. Revision is
// left zero: it is the store's, which the view does not see.
func (v *View) Cases(includeClosed bool) []*ledgerv1.CaseSummary {
	ids := make([]string, 0, len(v.cases))
	for id, c := range v.cases {
		if includeClosed || v.activeOf(c).ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := make([]*ledgerv1.CaseSummary, 0, len(ids))
	for _, id := range ids {
		segs := v.cases[id].segments
		s := segs[len(segs)-1].state
		// The bus carries no store revisions: the view's summaries have 0.
		out = append(out, s.Summary(0))
	}
	return out
}

// viewJSON is the persisted form of a View: what it received, not what it
// derived from it.
type viewJSON struct {
	Gemeente  string               `json:"gemeente"`
	Naam      string               `json:"naam"`
	Verwerkt  uint64               `json:"verwerkt"`
	Tot       string               `json:"tot,omitempty"`
	Anomalies Anomalies            `json:"anomalies"`
	Cases     map[string][]segJSON `json:"cases"`
	Held      map[string]segJSON   `json:"held,omitempty"`
}

type segJSON struct {
	// Deterministically marshalled ledger.v1.Event, base64 in JSON.
	Events [][]byte `json:"events"`
}

// MarshalJSON writes the view deterministically: two views that took in the
// same events give the same bytes, which is how tests compare views. The
// snapshot on disk is the binary form of snapshot.go.
func (v *View) MarshalJSON() ([]byte, error) {
	out := viewJSON{Gemeente: v.gemeente, Naam: v.naam, Verwerkt: v.verwerkt, Anomalies: v.anomalies,
		Cases: make(map[string][]segJSON, len(v.cases))}
	if v.tot != store.Start {
		out.Tot = v.tot.String()
	}
	for id, c := range v.cases {
		segs := make([]segJSON, len(c.segments))
		for i, s := range c.segments {
			segs[i].Events = make([][]byte, len(s.events))
			for j, k := range s.events {
				segs[i].Events[j] = k.data
			}
		}
		out.Cases[id] = segs
	}
	for id, ks := range v.held {
		if out.Held == nil {
			out.Held = make(map[string]segJSON, len(v.held))
		}
		var sj segJSON
		for _, k := range ks {
			sj.Events = append(sj.Events, k.data)
		}
		out.Held[id] = sj
	}
	return json.Marshal(out)
}
