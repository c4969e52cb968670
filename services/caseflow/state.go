// Package caseflow decides client transitions: it is the one place where the
// client journey of a case (aanmelding, intake, plaatsing, uitval, terugval op
// vangnet, uitstroom, verhuizing, correctie) is allowed or refused.
//
// The package has three layers, all plain functions of events:
//
//   - Evolve folds one event into a State without judging it. Projections use
//     it, so the live views, the auditor's replay and the decision agree on
//     what a case's state is.
//   - Check judges one event against a State: the state machine. Decide runs
//     it on a new command; Replay runs it over a whole history, which is how a
//     correctie is refused when it would leave an impossible history.
//   - Handler loads a case from the store, decides, and appends with the
//     expected revision, so that of two concurrent writers one wins.
package caseflow

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// State is what the ledger knows about one case now.
type State struct {
	Exists     bool
	CaseID     string
	Gemeente   string // responsible now
	ResidentID string
	Toestand   ledgerv1.Toestand
	Doelgroep  ledgerv1.Doelgroep
	Trede      ledgerv1.Trede
	Loonwaarde uint32 // latest measured, percent
	Intake     bool   // an intake was done
	// Event id and type of the current placement (plaatsing or vangnet);
	// empty when not placed.
	Plaatsing     string
	PlaatsingType ledgerv1.PlaatsingType
	// Last placement ever, kept after an uitval for a later terugval op
	// vangnet.
	LaatstePlaatsing string
	AanmeldDatum     *ledgerv1.Date
	// Why the case ended, while it is closed: after an uitstroom to
	// regular work it may reopen on the vangnet (Terugkeer).
	Uitstroom ledgerv1.UitstroomReden
	// Date of the last transition; a new one may not be dated earlier.
	Sinds *ledgerv1.Date
}

// Open reports whether the case takes transitions.
func (s State) Open() bool { return s.Exists && s.Toestand != ledgerv1.Toestand_TOESTAND_UITGESTROOMD }

// Terugkeer reports whether the case, closed, may reopen on the vangnet:
// its resident left for regular work. Whether it is still in time is the
// policy's (Decide).
func (s State) Terugkeer() bool {
	return s.Exists && s.Toestand == ledgerv1.Toestand_TOESTAND_UITGESTROOMD && s.Uitstroom == ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK
}

// Placed reports whether the resident is in a placement, vangnet included.
func (s State) Placed() bool {
	return s.Toestand == ledgerv1.Toestand_TOESTAND_GEPLAATST || s.Toestand == ledgerv1.Toestand_TOESTAND_VANGNET
}

// Evolve returns the state after ev. It does not judge ev: stored events are
// facts. A correctie changes nothing here; Fold applies corrections by
// folding the corrected history.
func Evolve(s State, ev *ledgerv1.Event) State {
	env := ev.GetEnvelope()
	date := env.GetOccurredOn()
	switch p := ev.GetPayload().(type) {
	case *ledgerv1.Event_Aanmelding:
		s = State{
			Exists:       true,
			CaseID:       env.GetCaseId(),
			Gemeente:     env.GetGemeente(),
			ResidentID:   p.Aanmelding.GetResidentId(),
			Toestand:     ledgerv1.Toestand_TOESTAND_AANGEMELD,
			Doelgroep:    p.Aanmelding.GetDoelgroep(),
			AanmeldDatum: date,
		}
	case *ledgerv1.Event_Intake:
		s.Intake = true
		s.Trede = p.Intake.GetTrede()
		s.Loonwaarde = p.Intake.GetLoonwaardeProcent()
		if !s.Placed() {
			s.Toestand = ledgerv1.Toestand_TOESTAND_IN_TRAJECT
		}
	case *ledgerv1.Event_Plaatsing:
		s.Toestand = ledgerv1.Toestand_TOESTAND_GEPLAATST
		s.Plaatsing = env.GetEventId()
		s.LaatstePlaatsing = s.Plaatsing
		s.PlaatsingType = p.Plaatsing.GetType()
		if lw := p.Plaatsing.GetLoonwaardeProcent(); lw > 0 {
			s.Loonwaarde = lw
		}
	case *ledgerv1.Event_Uitval:
		s.Toestand = ledgerv1.Toestand_TOESTAND_UITGEVALLEN
		s.Plaatsing, s.PlaatsingType = "", ledgerv1.PlaatsingType_PLAATSING_TYPE_UNSPECIFIED
	case *ledgerv1.Event_Vangnet:
		s.Uitstroom = ledgerv1.UitstroomReden_UITSTROOM_REDEN_UNSPECIFIED
		s.Toestand = ledgerv1.Toestand_TOESTAND_VANGNET
		s.Plaatsing = env.GetEventId()
		s.LaatstePlaatsing = s.Plaatsing
		s.PlaatsingType = p.Vangnet.GetVangnetType()
	case *ledgerv1.Event_Uitstroom:
		s.Uitstroom = p.Uitstroom.GetReden()
		s.Toestand = ledgerv1.Toestand_TOESTAND_UITGESTROOMD
		s.Plaatsing, s.PlaatsingType = "", ledgerv1.PlaatsingType_PLAATSING_TYPE_UNSPECIFIED
	case *ledgerv1.Event_Verhuizing:
		if !s.Exists {
			// The new gemeente's view starts here: it sees the case only
			// from the verhuizing on, through the snapshot.
			s = fromSnapshot(env.GetCaseId(), p.Verhuizing.GetSnapshot())
		}
		s.Gemeente = p.Verhuizing.GetNaarGemeente()
	case *ledgerv1.Event_Correctie, *ledgerv1.Event_Uren:
		// Neither changes what the case is; hours are often recorded after
		// the fact, so they do not move Sinds either. Neither says who is
		// responsible now: a correctie is the corrected event's gemeente's,
		// hours the gemeente's of their last day.
		return s
	}
	if g := env.GetGemeente(); g != "" && ev.GetAanmelding() == nil && ev.GetVerhuizing() == nil {
		// A transition is recorded under the gemeente responsible when it
		// happened; after a herindeling that is the successor.
		s.Gemeente = g
	}
	s.Sinds = date
	return s
}

func fromSnapshot(caseID string, snap *ledgerv1.CaseSnapshot) State {
	s := State{
		Exists:        true,
		CaseID:        caseID,
		ResidentID:    snap.GetResidentId(),
		Toestand:      snap.GetToestand(),
		Doelgroep:     snap.GetDoelgroep(),
		Trede:         snap.GetTrede(),
		Loonwaarde:    snap.GetLoonwaardeProcent(),
		Intake:        snap.GetToestand() != ledgerv1.Toestand_TOESTAND_AANGEMELD,
		Plaatsing:     snap.GetPlaatsing(),
		PlaatsingType: snap.GetPlaatsingType(),
		AanmeldDatum:  snap.GetAanmeldDatum(),
	}
	s.LaatstePlaatsing = s.Plaatsing
	return s
}

// Summary describes the state for the API and the views. Its dates are
// copies, so a caller may hand it out while the state lives on.
func (s State) Summary(revision uint64) *ledgerv1.CaseSummary {
	date := func(d *ledgerv1.Date) *ledgerv1.Date {
		if d == nil {
			return nil
		}
		return proto.Clone(d).(*ledgerv1.Date)
	}
	return &ledgerv1.CaseSummary{
		CaseId:            s.CaseID,
		Gemeente:          s.Gemeente,
		ResidentId:        s.ResidentID,
		Toestand:          s.Toestand,
		Doelgroep:         s.Doelgroep,
		Trede:             s.Trede,
		LoonwaardeProcent: s.Loonwaarde,
		PlaatsingType:     s.PlaatsingType,
		AanmeldDatum:      date(s.AanmeldDatum),
		Sinds:             date(s.Sinds),
		Revision:          revision,
	}
}

// Snapshot is the state handed to the new gemeente at a verhuizing.
func (s State) Snapshot() *ledgerv1.CaseSnapshot {
	return &ledgerv1.CaseSnapshot{
		ResidentId:        s.ResidentID,
		Toestand:          s.Toestand,
		Doelgroep:         s.Doelgroep,
		Trede:             s.Trede,
		LoonwaardeProcent: s.Loonwaarde,
		PlaatsingType:     s.PlaatsingType,
		Plaatsing:         s.Plaatsing,
		AanmeldDatum:      s.AanmeldDatum,
	}
}

// Effective returns the history as it should have been: every corrected
// event replaced by its correction (same id and position, corrected payload
// and date), and the correctie events themselves left out. Later corrections
// of the same event win.
func Effective(history []*ledgerv1.Event) ([]*ledgerv1.Event, error) {
	if !slices.ContainsFunc(history, func(ev *ledgerv1.Event) bool { return ev.GetCorrectie() != nil }) {
		// Nearly every case: nothing to fold in. The caller must not
		// modify the slice it gets back.
		return history, nil
	}
	index := make(map[string]int, len(history))
	out := make([]*ledgerv1.Event, 0, len(history))
	for _, ev := range history {
		c := ev.GetCorrectie()
		if c == nil {
			index[ev.GetEnvelope().GetEventId()] = len(out)
			out = append(out, ev)
			continue
		}
		handed := false
		for _, o := range c.GetOverdrachten() {
			// The snapshot a later verhuizing should have handed over. In
			// the view of the gemeente moved to, the verhuizing is the
			// start and the corrected event is not there at all.
			if j, ok := index[o.GetVerhuizing()]; ok && out[j].GetVerhuizing() != nil {
				out[j] = handedOver(out[j], o.GetSnapshot())
				handed = true
			}
		}
		i, ok := index[c.GetCorrigeert()]
		if !ok {
			if handed {
				continue
			}
			return nil, fmt.Errorf("correctie %s: corrects unknown event %s", ev.GetEnvelope().GetEventId(), c.GetCorrigeert())
		}
		fixed, err := Corrected(out[i], c)
		if err != nil {
			return nil, fmt.Errorf("correctie %s: %w", ev.GetEnvelope().GetEventId(), err)
		}
		out[i] = fixed
	}
	return out, nil
}

// handedOver returns a copy of verhuizing v that hands over snap.
func handedOver(v *ledgerv1.Event, snap *ledgerv1.CaseSnapshot) *ledgerv1.Event {
	vh := v.GetVerhuizing()
	return &ledgerv1.Event{Envelope: v.GetEnvelope(), Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{
		VanGemeente: vh.GetVanGemeente(), NaarGemeente: vh.GetNaarGemeente(), Snapshot: snap,
	}}}
}

// Overdrachten returns, for every verhuizing in history, the snapshot that
// history with correctie corr appended hands over, where it differs from the
// one handed over now: what the gemeenten moved to must be told with corr.
func Overdrachten(history []*ledgerv1.Event, corr *ledgerv1.Event) ([]*ledgerv1.Overdracht, error) {
	now, err := Effective(history)
	if err != nil {
		return nil, err
	}
	after, err := Effective(append(slices.Clip(history), corr))
	if err != nil {
		return nil, err
	}
	var out []*ledgerv1.Overdracht
	var s State
	for i, ev := range after {
		if vh := ev.GetVerhuizing(); vh != nil && s.Exists {
			snap := s.Snapshot()
			if !proto.Equal(snap, now[i].GetVerhuizing().GetSnapshot()) {
				out = append(out, &ledgerv1.Overdracht{Verhuizing: ev.GetEnvelope().GetEventId(), NaarGemeente: vh.GetNaarGemeente(), Snapshot: snap})
			}
		}
		s = Evolve(s, ev)
	}
	return out, nil
}

// Corrected returns a copy of orig with the fact of correctie c.
func Corrected(orig *ledgerv1.Event, c *ledgerv1.Correctie) (*ledgerv1.Event, error) {
	env := proto.Clone(orig.GetEnvelope()).(*ledgerv1.Envelope)
	if c.GetDatum() != nil {
		env.OccurredOn = c.GetDatum()
	}
	fixed := &ledgerv1.Event{Envelope: env}
	switch v := c.GetVervanging().(type) {
	case *ledgerv1.Correctie_Aanmelding:
		fixed.Payload = &ledgerv1.Event_Aanmelding{Aanmelding: v.Aanmelding}
	case *ledgerv1.Correctie_Intake:
		fixed.Payload = &ledgerv1.Event_Intake{Intake: v.Intake}
	case *ledgerv1.Correctie_Plaatsing:
		fixed.Payload = &ledgerv1.Event_Plaatsing{Plaatsing: v.Plaatsing}
	case *ledgerv1.Correctie_Uitval:
		fixed.Payload = &ledgerv1.Event_Uitval{Uitval: v.Uitval}
	case *ledgerv1.Correctie_Vangnet:
		fixed.Payload = &ledgerv1.Event_Vangnet{Vangnet: v.Vangnet}
	case *ledgerv1.Correctie_Uitstroom:
		fixed.Payload = &ledgerv1.Event_Uitstroom{Uitstroom: v.Uitstroom}
	case *ledgerv1.Correctie_Uren:
		fixed.Payload = &ledgerv1.Event_Uren{Uren: v.Uren}
	case nil:
		// Only the date is corrected.
		fixed.Payload = orig.GetPayload()
	default:
		return nil, fmt.Errorf("unknown vervanging %T", v)
	}
	if got, want := event.Type(fixed), event.Type(orig); got != want {
		return nil, fmt.Errorf("replaces a %s with a %s", want, got)
	}
	return fixed, nil
}

// Fold returns the state after a stored history, corrections applied,
// without judging it.
func Fold(history []*ledgerv1.Event) (State, error) {
	eff, err := Effective(history)
	if err != nil {
		return State{}, err
	}
	var s State
	for _, ev := range eff {
		s = Evolve(s, ev)
	}
	return s, nil
}

// Replay folds a history and judges every step with Check: it fails with the
// first refusal, the way the history would have been refused live.
func Replay(history []*ledgerv1.Event) (State, error) {
	eff, err := Effective(history)
	if err != nil {
		return State{}, err
	}
	var s State
	for _, ev := range eff {
		if err := Check(s, ev); err != nil {
			return s, err
		}
		s = Evolve(s, ev)
	}
	return s, nil
}
