package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/store"
)

// Only one relay publishes the bus at a time, though several ledger
// processes run against one store and one NATS cluster: the one that holds
// the lease, a key in a JetStream key-value bucket whose entries expire
// (the engine's own primitive; the ledger adds no protocol of its own). The
// holder renews it well within its time; when its process dies the key
// expires and a waiting relay creates it. A relay that could not renew
// stops publishing before its lease can have expired.
const (
	LeaseBucket = "LEDGER_RELAY_LEASE"
	leaseKey    = "houder"
	// DefaultLeaseTTL is how long a lease lives without renewal: the
	// longest a dead holder blocks the others.
	DefaultLeaseTTL = 10 * time.Second
)

// leaseValue is what the lease holds: the holder's instance, and after a
// space a token of its run. A process that restarts under its name takes
// its lease back at once (acquire); a release deletes only its own run's
// lease, never that of another live process under the same name.
func leaseValue(instance, run string) []byte { return []byte(instance + " " + run) }

// Holder is the instance named by a lease value ("" for none).
func Holder(value []byte) string {
	instance, _, _ := strings.Cut(string(value), " ")
	return instance
}

// errLeaseLost: the lease could not be renewed, so another relay may
// publish now.
var errLeaseLost = errors.New("relay lease lost")

// leaseBucket is the key-value bucket of the lease: entries live ttl after
// their last put.
func leaseBucket(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      LeaseBucket,
		Description: "Which ledger process's relay publishes the bus; expires when not renewed.",
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		History:     1,
		TTL:         ttl,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: lease bucket: %w", err)
	}
	return kv, nil
}

// acquire waits until this relay holds the lease, and returns its
// revision. Meanwhile it follows the checkpoint of the relay that
// publishes, so that Published and WaitFor answer on a standby process too.
func (r *Relay) acquire(ctx context.Context) (uint64, error) {
	var updates jetstream.KeyWatcher
	defer func() {
		if updates != nil {
			_ = updates.Stop()
		}
	}()
	for {
		e, err := r.lease.Get(ctx, leaseKey)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			rev, err := r.lease.Create(ctx, leaseKey, r.holder)
			if err == nil {
				r.log.Info("relay holds the lease: it publishes the bus", "instance", r.cfg.Instance)
				return rev, nil
			}
			if !errors.Is(err, jetstream.ErrKeyExists) {
				return 0, fmt.Errorf("relay: create lease: %w", err)
			}
		case err != nil:
			return 0, fmt.Errorf("relay: read lease: %w", err)
		case Holder(e.Value()) == r.cfg.Instance:
			// Ours from before a restart of this process: take it back at
			// once instead of waiting for it to expire.
			rev, err := r.lease.Update(ctx, leaseKey, r.holder, e.Revision())
			if err == nil {
				r.log.Info("relay holds its lease again", "instance", r.cfg.Instance)
				return rev, nil
			}
		}
		if updates == nil {
			if updates, err = r.kv.Watch(ctx, checkpointKey); err != nil {
				return 0, fmt.Errorf("relay: follow the checkpoint: %w", err)
			}
			r.log.Info("relay stands by: another process publishes the bus", "instance", r.cfg.Instance)
		}
		wait := time.NewTimer(r.cfg.LeaseTTL / 4)
	follow:
		for {
			select {
			case <-ctx.Done():
				wait.Stop()
				return 0, ctx.Err()
			case <-wait.C:
				break follow
			case u := <-updates.Updates():
				if u == nil {
					continue // the watcher caught up
				}
				if p, err := store.ParsePosition(string(u.Value())); err == nil {
					r.advance(p)
				}
			}
		}
	}
}

// keep renews the lease until ctx ends, and calls lost when it could not:
// by then a third of the lease's time is left, and the relay stops before
// another can have taken over. It returns the lease's revision after its
// last renewal, which a release must name.
func (r *Relay) keep(ctx context.Context, rev uint64, lost func()) uint64 {
	every := r.cfg.LeaseTTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return rev
		case <-t.C:
		}
		// A renewal in flight when the relay stops runs to its answer:
		// cancelled halfway, the server may have applied it while this
		// side keeps the old revision, and the release would be refused.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), every)
		next, err := r.lease.Update(rctx, leaseKey, r.holder, rev)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("relay could not renew its lease; it stops publishing", "err", err)
				lost()
			}
			return rev
		}
		rev = next
	}
}

// release gives the lease up on a clean stop, so that a standby takes over
// at once.
func (r *Relay) release(ctx context.Context, rev uint64) {
	err := r.lease.Delete(ctx, leaseKey, jetstream.LastRevision(rev))
	if err != nil {
		// The revision may have moved on without this side learning it
		// (an answer lost). Still this run's by its value: give up what is
		// there. Another process under the same instance name has another
		// run token, and keeps its lease.
		if e, gerr := r.lease.Get(ctx, leaseKey); gerr == nil && bytes.Equal(e.Value(), r.holder) {
			err = r.lease.Delete(ctx, leaseKey, jetstream.LastRevision(e.Revision()))
		}
	}
	if err != nil {
		r.log.Warn("relay could not give up its lease; it expires", "err", err)
	}
}
