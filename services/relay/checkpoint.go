package relay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/bus"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// checkpointStoreKey names the store the checkpoint's position is of, once
// a migration moved it; without it the position is of the store the relay
// has always run on.
const checkpointStoreKey = "checkpoint-store"

// ErrPublishedAfterCheckpoint: the bus holds events after the relay's
// checkpoint, so the checkpoint does not say exactly what is on the bus.
// A relay that stops cleanly saves a checkpoint that does.
var ErrPublishedAfterCheckpoint = errors.New("events on the bus after the relay's checkpoint")

// MoveCheckpoint points the relay's checkpoint at the same event in
// another store, for a migration from one store to another (ledger
// migrate): a relay on the new store then resumes after exactly the events
// already on the bus. translate gives the new store's position of the event
// at a position of the old one. The relay must have stopped cleanly, so
// that nothing is on the bus after its checkpoint; otherwise
// ErrPublishedAfterCheckpoint and nothing is changed. Without a checkpoint
// (no relay ran), or with one already moved to target, it moves nothing and
// reports false. source and target name the stores ("jetstream",
// "kurrentdb").
func MoveCheckpoint(ctx context.Context, js jetstream.JetStream, source, target string, translate func(store.Position) (store.Position, error)) (from, to store.Position, moved bool, err error) {
	kv, err := js.KeyValue(ctx, CheckpointBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return store.Start, store.Start, false, nil
	}
	if err != nil {
		return store.Start, store.Start, false, fmt.Errorf("relay checkpoint: %w", err)
	}
	e, err := kv.Get(ctx, checkpointKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return store.Start, store.Start, false, nil
	}
	if err != nil {
		return store.Start, store.Start, false, fmt.Errorf("relay checkpoint: %w", err)
	}
	if from, err = store.ParsePosition(string(e.Value())); err != nil {
		return store.Start, store.Start, false, fmt.Errorf("relay checkpoint: %w", err)
	}
	switch k, err := kv.Get(ctx, checkpointStoreKey); {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return from, store.Start, false, fmt.Errorf("relay checkpoint: %w", err)
	case string(k.Value()) == target:
		return from, from, false, nil // moved before: a migration run again
	case string(k.Value()) != source:
		return from, store.Start, false, fmt.Errorf("relay checkpoint %s is of store %s, not of %s", from, k.Value(), source)
	}
	names := js.StreamNames(ctx, jetstream.WithStreamListSubject(bus.SubjectPrefix+".>"))
	for name := range names.Name() {
		if !strings.HasPrefix(name, "LEDGER_EVENTS_") {
			continue
		}
		s, err := js.Stream(ctx, name)
		if err != nil {
			return from, store.Start, false, fmt.Errorf("bus stream %s: %w", name, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			return from, store.Start, false, fmt.Errorf("bus stream %s: %w", name, err)
		}
		if info.State.Msgs == 0 {
			continue
		}
		m, err := s.GetMsg(ctx, info.State.LastSeq)
		if err != nil {
			return from, store.Start, false, fmt.Errorf("bus stream %s: last message: %w", name, err)
		}
		p, err := store.ParsePosition(m.Header.Get(bus.HeaderPosition))
		if err != nil {
			return from, store.Start, false, fmt.Errorf("bus stream %s: %w", name, err)
		}
		if from.Less(p) {
			return from, store.Start, false, fmt.Errorf("%w: %s holds position %s, the checkpoint is %s", ErrPublishedAfterCheckpoint, name, p, from)
		}
	}
	if err := names.Err(); err != nil {
		return from, store.Start, false, fmt.Errorf("list bus streams: %w", err)
	}
	if from == store.Start {
		return from, store.Start, false, nil
	}
	if to, err = translate(from); err != nil {
		return from, store.Start, false, fmt.Errorf("relay checkpoint %s in the new store: %w", from, err)
	}
	// The position first: a migration stopped between the two puts has a
	// position of the target named as the source's, which the source does
	// not have (EventAt fails), so the next run refuses instead of moving
	// it twice.
	if _, err := kv.PutString(ctx, checkpointKey, to.String()); err != nil {
		return from, to, false, fmt.Errorf("relay checkpoint: save %s: %w", to, err)
	}
	if _, err := kv.PutString(ctx, checkpointStoreKey, target); err != nil {
		return from, to, false, fmt.Errorf("relay checkpoint: save its store: %w", err)
	}
	return from, to, true, nil
}
