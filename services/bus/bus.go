// Package bus names and creates the per-gemeente event streams on NATS
// JetStream: the relay publishes into them, the projections read from them.
//
// Each participating gemeente has its own JetStream stream holding only its
// own subjects, ledger.events.<GMxxxx>.<type>. A gemeente's credentials can
// be limited to its stream and subjects, and its own NATS account or leaf
// node can mirror exactly that stream. Separate streams also let one event
// that concerns two gemeenten (a verhuizing) carry the same Nats-Msg-Id, the
// event id, in each: de-duplication is per stream.
package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Headers the relay sets on every bus message besides Nats-Msg-Id.
const (
	// HeaderPosition is the event's position in the store, "commit/prepare".
	HeaderPosition = "Ledger-Store-Position"
	HeaderCaseID   = "Ledger-Case-Id"
	HeaderType     = "Ledger-Type"
)

// SubjectPrefix is the root of every bus subject.
const SubjectPrefix = "ledger.events"

// DuplicateWindow is how long the bus remembers a Nats-Msg-Id. The relay
// does not depend on it (it reconciles with the stream's tail on start), it
// is a second guard against a republish.
const DuplicateWindow = 2 * time.Hour

// StreamName is the JetStream stream of one gemeente.
func StreamName(gemeente string) string { return "LEDGER_EVENTS_" + gemeente }

// Subject is where an event of a type is published for a gemeente.
func Subject(gemeente, typ string) string { return SubjectPrefix + "." + gemeente + "." + typ }

// Filter matches every event subject of one gemeente.
func Filter(gemeente string) string { return SubjectPrefix + "." + gemeente + ".>" }

// LedgerConsumer is the durable consumer the ledger's own projection keeps
// on a gemeente's stream. The gemeente's credentials may not touch it.
func LedgerConsumer(gemeente string) string { return "caseload-" + gemeente }

// EnsureStream creates or updates the stream of one gemeente.
func EnsureStream(ctx context.Context, js jetstream.JetStream, gemeente string, replicas int) (jetstream.Stream, error) {
	if replicas < 1 {
		replicas = 1
	}
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName(gemeente),
		Description: "Ledger events of gemeente " + gemeente + ", published by the relay from the store.",
		Subjects:    []string{Filter(gemeente)},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Replicas:    replicas,
		Duplicates:  DuplicateWindow,
		// The bus is derived from the store, but a gemeente's auditors read
		// it too: nothing is deleted from it by hand.
		DenyDelete: true,
		DenyPurge:  true,
		// The relay publishes a backlog as atomic batches: one fsync per
		// batch, not per event.
		AllowAtomicPublish: true,
	})
	if err != nil {
		return nil, fmt.Errorf("ensure bus stream %s: %w", StreamName(gemeente), err)
	}
	return s, nil
}
