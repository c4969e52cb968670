package caseload

import (
	"errors"
	"fmt"
	"time"
)

// ErrBusIncomplete: the bus stream no longer holds events the view still
// needs. The bus can not rebuild the view then; Replay from the store can.
var ErrBusIncomplete = errors.New("bus stream lacks events the view needs")

// startFacts is what a follower knows when it (re)starts reading the bus of
// one gemeente.
type startFacts struct {
	// Applied is the bus stream sequence of the last message in the view;
	// 0 for an empty view.
	Applied uint64
	// ViewStream is the creation time of the bus stream the view was built
	// from. A stream's sequences mean nothing in another stream.
	ViewStream time.Time
	// SnapshotErr is set when the snapshot on disk could not be read.
	SnapshotErr error

	// The bus stream now.
	Stream      time.Time // creation time
	First, Last uint64    // first and last sequence
	Msgs        uint64

	// Consumer is the durable consumer; nil when there is none.
	Consumer *consumerFacts
	// OutOfOrder: the previous session was handed a message beyond the
	// next one the view needs, and that one is in the stream.
	OutOfOrder bool
}

type consumerFacts struct {
	AckFloor  uint64 // stream sequence every message up to which is acknowledged
	Delivered uint64 // stream sequence of the last message handed out
	ConfigOK  bool   // filter, ack policy and limits are what the follower asks for
}

type consumerAction int

const (
	keepConsumer consumerAction = iota
	createConsumer
	recreateConsumer // delete, then create
)

func (a consumerAction) String() string {
	return [...]string{"keep", "create", "recreate"}[a]
}

// startPlan is what a follower does before it reads.
type startPlan struct {
	// Rebuild: discard the view and build it again from the start of the
	// stream.
	Rebuild  bool
	Consumer consumerAction
	// StartSeq is the first stream sequence a created consumer delivers:
	// the one after the view's last.
	StartSeq uint64
	Why      string
}

// planRebuild is where a projection is rebuilt. Every (re)start of a
// gemeente's follower runs it, and nothing else decides to drop a view or to
// move the durable consumer. Rules, in order:
//
//  1. An unreadable snapshot, or one built from another incarnation of the
//     bus stream (different creation time, or a sequence beyond the stream's
//     end), is discarded: the view is rebuilt from the start of the stream.
//     Projections are disposable.
//  2. If the stream no longer starts right after the view, the events in
//     between are gone from the bus: ErrBusIncomplete.
//  3. The durable consumer is created at the view's next sequence when
//     missing, and deleted and created there again when its configuration
//     changed, when it acknowledged beyond the view (the snapshot was
//     deleted or is older than the consumer's ack floor), when it handed out
//     messages beyond the view (a crash between delivery and snapshot: they
//     would come back only after the ack wait, behind newer ones), or when
//     the last session saw a message arrive out of order.
//  4. Otherwise the consumer is kept. Whatever it hands out again at or
//     below the view's sequence is skipped and acknowledged.
func planRebuild(f startFacts) (startPlan, error) {
	var p startPlan
	applied := f.Applied
	switch {
	case f.SnapshotErr != nil:
		p.Rebuild, p.Why = true, fmt.Sprintf("snapshot unreadable (%v)", f.SnapshotErr)
	case applied > 0 && !f.ViewStream.Equal(f.Stream):
		p.Rebuild, p.Why = true, fmt.Sprintf("snapshot was built from the bus stream created %s, the stream now was created %s",
			f.ViewStream.Format(time.RFC3339Nano), f.Stream.Format(time.RFC3339Nano))
	case applied > f.Last:
		p.Rebuild, p.Why = true, fmt.Sprintf("snapshot is at sequence %d, beyond the stream's last %d", applied, f.Last)
	}
	if p.Rebuild {
		applied = 0
	}
	if f.Msgs > 0 && f.First > applied+1 {
		return startPlan{}, fmt.Errorf("%w: the view needs sequence %d, the stream starts at %d; replay from the store",
			ErrBusIncomplete, applied+1, f.First)
	}
	p.StartSeq = applied + 1

	why := ""
	c := f.Consumer
	switch {
	case c == nil:
		p.Consumer, why = createConsumer, "no durable consumer"
	case !c.ConfigOK:
		p.Consumer, why = recreateConsumer, "consumer configuration changed"
	case c.AckFloor > applied:
		p.Consumer, why = recreateConsumer, fmt.Sprintf("consumer acknowledged up to %d, beyond the view's %d", c.AckFloor, applied)
	case c.Delivered > applied:
		p.Consumer, why = recreateConsumer, fmt.Sprintf("consumer handed out up to %d, beyond the view's %d", c.Delivered, applied)
	case f.OutOfOrder:
		p.Consumer, why = recreateConsumer, "a message arrived out of order"
	default:
		p.Consumer, why = keepConsumer, fmt.Sprintf("consumer at ack floor %d, view at %d", c.AckFloor, applied)
	}
	if p.Why == "" {
		p.Why = why
	} else {
		p.Why += "; " + why
	}
	return p, nil
}
