package caseflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Command asks for one transition.
type Command struct {
	// Case is empty for an aanmelding, which opens a new case.
	CaseID   uuid.UUID
	Gemeente string // for an aanmelding the woonplaatsgemeente; else optional
	Datum    *ledgerv1.Date
	Actor    string
	// ExpectedRevision, when set, is the revision the caller last saw; the
	// command fails with store.ErrConflict if the case moved on since.
	ExpectedRevision *uint64
	// Transition carries the payload only.
	Transition *ledgerv1.Event
	// EventID, when set, is the id the event gets, so that the caller can
	// retry safely: a command whose event is already recorded succeeds
	// again without writing. For an aanmelding it also fixes the case id.
	EventID uuid.UUID
	// NewCaseID, for an aanmelding, is the id of the case it opens (the
	// import derives it from the case's id in the source system); else the
	// case id derives from EventID, or is new.
	NewCaseID uuid.UUID
	// Bron is the source record of an imported event.
	Bron *ledgerv1.Bron
	// Persoon is the personal data of an aanmelding (BSN, name, date of
	// birth): encrypted with the resident's key into the event, never
	// stored or hashed in plain.
	Persoon *ledgerv1.PersonalData
}

// caseNamespace derives a case id from the event id of its aanmelding, so a
// retried aanmelding lands in the same case instead of opening a second.
var caseNamespace = uuid.MustParse("5f0c1c8e-2b1e-4d5a-9a43-6c2d7f1e0b19")

// Result tells what was appended.
type Result struct {
	CaseID   uuid.UUID
	EventID  uuid.UUID
	Type     string
	Revision uint64
	Position store.Position
	State    State
	// Datum is the day the event is dated (occurred_on).
	Datum *ledgerv1.Date
	// Present: the event was recorded before (a retry), nothing written.
	Present bool
}

// Case is a case as loaded from the store.
type Case struct {
	State    State
	Revision uint64
	Records  []store.RecordedEvent
	Events   []*ledgerv1.Event // decoded Records
	// ChainErr is nil when every hash link holds.
	ChainErr error
	// checked, when set, is the state Replay gives for Events: the batch
	// that decided the last event knows it without judging the history
	// again.
	checked *State
}

// replayed is Replay(c.Events), from what the batch kept where it can.
func (c *Case) replayed() (State, error) {
	if c.checked != nil {
		return *c.checked, nil
	}
	return Replay(c.Events)
}

// Handler loads, decides and appends. It holds no state of its own: the
// store is the truth, so any number of handlers may run side by side.
type Handler struct {
	Store     store.Store
	Gemeenten *gemeente.Registry
	// Clock makes "today" and recorded_at; nil is the system clock.
	Clock clock.Clock
	// Retries bounds how often a command without ExpectedRevision is decided
	// again after losing a race to another writer.
	Retries int
	// Policies, when set, makes placements, terugval op vangnet and hours
	// depend on the responsible gemeente buying the product.
	Policies Policies
	// Vault encrypts personal data and free text before they enter an
	// event. Without it free text stays plain and personal data is
	// refused: only tests run without one.
	Vault Sealer
}

// Policies reads a gemeente's policy versions (beleid.Handler does).
type Policies interface {
	History(ctx context.Context, gemeente string) (beleid.History, error)
}

// policies loads the policy histories a decision on case c may need: those
// of every gemeente in its history. It keeps them in hist, which a batch
// keeps from one command to the next.
func (h *Handler) policies(ctx context.Context, c *Case, tr *ledgerv1.Event, hist map[string]beleid.History) (func(string) beleid.History, error) {
	if h.Policies == nil || c == nil {
		return nil, nil
	}
	switch tr.GetPayload().(type) {
	case *ledgerv1.Event_Plaatsing, *ledgerv1.Event_Vangnet, *ledgerv1.Event_Uren, *ledgerv1.Event_Correctie:
	default:
		return nil, nil
	}
	var load func(g string) error
	load = func(g string) error {
		if _, done := hist[g]; done || g == "" {
			return nil
		}
		hs, err := h.Policies.History(ctx, g)
		if err != nil {
			return fmt.Errorf("policy of %s: %w", g, err)
		}
		hist[g] = hs
		if h.Gemeenten != nil {
			// After a herindeling the successor's policy prices the case.
			if hr, ok := h.Gemeenten.HerindelingVan(g); ok && !hr.Buiten {
				return load(hr.Naar)
			}
		}
		return nil
	}
	if err := load(c.State.Gemeente); err != nil {
		return nil, err
	}
	for _, ev := range c.Events {
		if err := load(ev.GetEnvelope().GetGemeente()); err != nil {
			return nil, err
		}
	}
	return func(g string) beleid.History { return hist[g] }, nil
}

// Load reads and decodes one case.
func (h *Handler) Load(ctx context.Context, caseID uuid.UUID) (*Case, error) {
	recs, err := h.Store.ReadStream(ctx, event.Stream(caseID))
	if errors.Is(err, store.ErrStreamNotFound) {
		return nil, fmt.Errorf("load case %s: %w", caseID, ErrCaseNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load case %s: %w", caseID, err)
	}
	c := &Case{Records: recs, Revision: recs[len(recs)-1].Revision}
	raw := make([][]byte, len(recs))
	for i, rec := range recs {
		ev, err := event.Decode(rec.Data)
		if err != nil {
			return nil, fmt.Errorf("load case %s: revision %d: %w", caseID, rec.Revision, err)
		}
		c.Events = append(c.Events, ev)
		raw[i] = rec.Data
	}
	c.ChainErr = event.CheckChain(raw)
	if c.State, err = Fold(c.Events); err != nil {
		return nil, fmt.Errorf("load case %s: %w", caseID, err)
	}
	return c, nil
}

// Handle decides cmd and appends the resulting event.
func (h *Handler) Handle(ctx context.Context, cmd Command) (Result, error) {
	caseID, aanmelding, err := target(cmd)
	if err != nil {
		return Result{}, err
	}
	if err := checkUnsealed(cmd); err != nil {
		return Result{}, err
	}
	// The digest of what was asked; the same for every attempt below.
	digest := h.digest(cmd)
	if aanmelding {
		if cmd.EventID != uuid.Nil {
			// The case id follows from the event id: a case of that id is
			// this aanmelding's retry, or another command reusing its id.
			switch c, err := h.Load(ctx, caseID); {
			case err == nil:
				if res, done, err := c.recorded(cmd, digest); done || err != nil {
					return res, err
				}
				return Result{}, refuse(c.State, RuleEventIDHergebruikt, "event-id %s hoort al bij een andere zaak; een nieuwe aanmelding krijgt een nieuwe event-id", cmd.EventID)
			case !errors.Is(err, ErrCaseNotFound):
				return Result{}, err
			}
		}
		return h.append(ctx, cmd, caseID, nil, digest)
	}
	retries := h.Retries
	if retries <= 0 {
		retries = 5
	}
	for attempt := 0; ; attempt++ {
		c, err := h.Load(ctx, cmd.CaseID)
		if err != nil {
			if errors.Is(err, ErrCaseNotFound) {
				return Result{}, &Refusal{Rule: RuleZaakOnbekend, CaseID: cmd.CaseID.String(), Reden: "deze zaak bestaat niet", Err: ErrCaseNotFound}
			}
			return Result{}, err
		}
		if cmd.EventID != uuid.Nil {
			if res, done, err := c.recorded(cmd, digest); done || err != nil {
				return res, err // a retry of a command that already landed
			}
		}
		if cmd.ExpectedRevision != nil && *cmd.ExpectedRevision != c.Revision {
			return Result{}, &store.ConflictError{Stream: event.Stream(cmd.CaseID), Expected: store.Exactly(*cmd.ExpectedRevision), Actual: int64(c.Revision)}
		}
		res, err := h.append(ctx, cmd, cmd.CaseID, c, digest)
		var conflict *store.ConflictError
		if cmd.EventID != uuid.Nil && errors.As(err, &conflict) && conflict.Actual == int64(c.Revision) {
			// The case did not move: the store holds the event id already,
			// on another case.
			return Result{}, refuse(c.State, RuleEventIDHergebruikt, "event-id %s is al vastgelegd bij een andere zaak; een nieuwe opgave krijgt een nieuwe event-id", cmd.EventID)
		}
		// Another writer got there first: decide again on the new state,
		// unless the caller pinned the revision it saw.
		if errors.Is(err, store.ErrConflict) && cmd.ExpectedRevision == nil && attempt < retries {
			continue
		}
		return res, err
	}
}

// target is the case cmd acts on, and whether it opens it (an aanmelding),
// or the refusal of a command that names no transition or no fitting case.
func target(cmd Command) (caseID uuid.UUID, aanmelding bool, err error) {
	if cmd.Transition == nil || event.Type(cmd.Transition) == "" {
		return uuid.Nil, false, &Refusal{Rule: RuleTransitieOnbekend, Reden: "geen transitie opgegeven"}
	}
	if _, ok := cmd.Transition.GetPayload().(*ledgerv1.Event_Aanmelding); ok {
		if cmd.CaseID != uuid.Nil {
			return uuid.Nil, true, &Refusal{Rule: RuleAanmeldingNieuweZaak, CaseID: cmd.CaseID.String(), Reden: "een aanmelding opent een nieuwe zaak; laat de zaak leeg"}
		}
		return newCaseID(cmd), true, nil
	}
	if cmd.CaseID == uuid.Nil {
		return uuid.Nil, false, &Refusal{Rule: RuleZaakOnbekend, Reden: "geef de zaak (case id)", Err: ErrCaseNotFound}
	}
	return cmd.CaseID, false, nil
}

// newCaseID is the id of the case an aanmelding opens.
func newCaseID(cmd Command) uuid.UUID {
	switch {
	case cmd.NewCaseID != uuid.Nil:
		return cmd.NewCaseID
	case cmd.EventID != uuid.Nil:
		return uuid.NewSHA1(caseNamespace, cmd.EventID[:])
	}
	return uuid.New()
}

func (h *Handler) append(ctx context.Context, cmd Command, caseID uuid.UUID, c *Case, digest []byte) (Result, error) {
	policy, err := h.policies(ctx, c, cmd.Transition, map[string]beleid.History{})
	if err != nil {
		return Result{}, err
	}
	p, err := h.prepare(ctx, cmd, caseID, c, policy, digest)
	if err != nil {
		return Result{}, err
	}
	res, err := h.Store.Append(ctx, event.Stream(caseID), p.expected, p.data)
	if err != nil {
		return Result{}, fmt.Errorf("record %s on case %s: %w", p.data.Type, caseID, err)
	}
	p.result.Revision, p.result.Position = res.Revision, res.Position
	return p.result, nil
}

// prepared is a decided event, ready to append.
type prepared struct {
	ev       *ledgerv1.Event
	data     store.EventData
	expected store.Expected
	result   Result // without Position, known only once stored
	// checked: result.State is what Replay gives for the history with ev.
	checked bool
}

// prepare decides cmd on case c (nil for a new case) and makes the event
// to append: the one place where a command becomes an event, for a single
// command and for a batch alike.
func (h *Handler) prepare(ctx context.Context, cmd Command, caseID uuid.UUID, c *Case, policy func(string) beleid.History, digest []byte) (prepared, error) {
	t := h.Clock.Now()
	today := event.Date(t.In(clock.Location()))
	datum := cmd.Datum
	if datum == nil && cmd.Transition.GetCorrectie() == nil {
		// Without a date the transition happened today, as the server
		// knows it: never the caller's clock.
		datum = today
	}
	draft := &ledgerv1.Event{
		Envelope: &ledgerv1.Envelope{CaseId: caseID.String(), Gemeente: cmd.Gemeente, OccurredOn: datum},
		Payload:  cmd.Transition.GetPayload(),
	}
	var history []*ledgerv1.Event
	var before State // Replay(history)
	expected := store.NoStream()
	var prevHash []byte
	var rev uint64
	if c != nil {
		var err error
		if before, err = c.replayed(); err != nil {
			return prepared{}, err
		}
		history = c.Events
		expected = store.Exactly(c.Revision)
		prevHash = event.Hash(c.Records[len(c.Records)-1].Data)
		rev = c.Revision + 1
	}
	ev, err := decide(history, before, draft, Rules{Gemeenten: h.Gemeenten, Today: today, Policy: policy, History: cmd.Bron != nil})
	if err != nil {
		return prepared{}, err
	}
	id := cmd.EventID
	if id == uuid.Nil {
		id = uuid.New()
	}
	ev.Envelope.EventId = id.String()
	ev.Envelope.RecordedAt = timestamppb.New(t)
	ev.Envelope.Actor = cmd.Actor
	ev.Envelope.SchemaVersion = event.SchemaVersion
	ev.Envelope.PrevHash = prevHash
	ev.Envelope.Bron = cmd.Bron
	ev.Envelope.CommandDigest = digest
	resident := ev.GetAanmelding().GetResidentId()
	if c != nil {
		resident = c.State.ResidentID
	}
	// Encrypt before hashing: the next event's prev_hash is of these
	// bytes, so the chain still verifies after the key is destroyed.
	if h.Vault != nil {
		// The decided event may share messages with the command, which a
		// retry needs unchanged.
		ev = proto.Clone(ev).(*ledgerv1.Event)
	}
	if err := h.seal(ctx, ev, resident, cmd.Persoon); err != nil {
		return prepared{}, err
	}
	data, err := event.Marshal(ev)
	if err != nil {
		return prepared{}, err
	}
	typ := event.Type(ev)
	p := prepared{
		ev:       ev,
		data:     store.EventData{ID: id, Type: typ, Data: data},
		expected: expected,
		result:   Result{CaseID: caseID, EventID: id, Type: typ, Revision: rev, Datum: ev.GetEnvelope().GetOccurredOn()},
	}
	if ev.GetCorrectie() == nil {
		// decide judged ev on before with Check: Replay of the history
		// with ev ends in this state, as Fold does.
		p.result.State = Evolve(before, ev)
		p.checked = true
		return p, nil
	}
	// A correctie changes what came before it: fold it all again.
	if p.result.State, err = Fold(append(slices.Clip(history), ev)); err != nil {
		return prepared{}, fmt.Errorf("record %s on case %s: %w", typ, caseID, err)
	}
	return p, nil
}

// recorded returns the result of cmd's event if the case holds it: a
// retry. The event id of another command (another digest) is a refusal.
func (c *Case) recorded(cmd Command, digest []byte) (Result, bool, error) {
	id := cmd.EventID
	for i, rec := range c.Records {
		if rec.ID == id {
			if d := c.Events[i].GetEnvelope().GetCommandDigest(); len(d) > 0 && !bytes.Equal(d, digest) && !bytes.Equal(d, legacyDigest(cmd)) {
				return Result{}, false, refuse(c.State, RuleEventIDHergebruikt, "event-id %s is al gebruikt voor een andere opgave (%s, revisie %d); een nieuwe opgave krijgt een nieuwe event-id, alleen een herhaling van precies dezelfde opgave houdt de oude", id, rec.Type, rec.Revision)
			}
			caseID, _ := uuid.Parse(c.State.CaseID)
			state, err := Fold(c.Events[:i+1])
			if err != nil {
				state = c.State
			}
			return Result{CaseID: caseID, EventID: id, Type: rec.Type, Revision: rec.Revision, Position: rec.Position, State: state, Datum: c.Events[i].GetEnvelope().GetOccurredOn(), Present: true}, true, nil
		}
	}
	return Result{}, false, nil
}
