// Package presence makes sure that one live process at a time uses an
// instance name on a NATS cluster. Every ledger process keeps its own
// caseload views under durable consumers named after its instance (and its
// relay's lease says which instance publishes): two live processes under
// one name would split those consumers' messages between them, and each
// would show about half of every figure, without an error anywhere.
//
// A process claims its name in a key-value bucket whose entries expire,
// renews the claim while it runs, and gives it up on a clean stop. A claim
// that is renewed belongs to a live process: a second one is refused. A
// claim that lies still belongs to a process that died; it is taken over
// after half its lifetime, so that a restart after a crash need not wait
// for it to expire.
package presence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the key-value bucket of the claims, one key per instance name.
const Bucket = "LEDGER_INSTANCES"

// DefaultTTL is how long a claim lives without renewal.
const DefaultTTL = 10 * time.Second

// ErrInUse: another live process claims the instance name.
var ErrInUse = errors.New("instance name in use by another live process")

// Claim is a process's hold on its instance name.
type Claim struct {
	kv    jetstream.KeyValue
	name  string
	value []byte // the name and a token of this run
	ttl   time.Duration
	log   *slog.Logger
	stop  context.CancelFunc
	done  chan struct{}
	rev   uint64 // written by keep, read by Release after done
}

// Acquire claims name for this process, waiting up to half of ttl (zero:
// DefaultTTL) to tell a dead holder from a live one, and keeps the claim
// renewed until Release.
func Acquire(ctx context.Context, js jetstream.JetStream, name string, ttl time.Duration, replicas int, log *slog.Logger) (*Claim, error) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if log == nil {
		log = slog.Default()
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "Which live ledger process uses which instance name; expires when not renewed.",
		Storage:     jetstream.FileStorage,
		Replicas:    max(1, replicas),
		History:     1,
		TTL:         ttl,
	})
	if err != nil {
		return nil, fmt.Errorf("presence: bucket: %w", err)
	}
	c := &Claim{kv: kv, name: name, value: []byte(name + " " + uuid.NewString()), ttl: ttl, log: log}
	for {
		rev, err := kv.Create(ctx, name, c.value)
		if err == nil {
			c.start(rev)
			return c, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fmt.Errorf("presence: claim %s: %w", name, err)
		}
		seen, err := kv.Get(ctx, name)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // expired or given up meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("presence: read claim %s: %w", name, err)
		}
		// A live holder renews every third of ttl; wait half of it.
		wait := time.NewTimer(ttl / 2)
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil, ctx.Err()
		case <-wait.C:
		}
		rev, err = kv.Update(ctx, name, c.value, seen.Revision())
		if err == nil {
			log.Warn("presence: took over the instance name from a process that no longer renews it", "instance", name)
			c.start(rev)
			return c, nil
		}
		if now, gerr := kv.Get(ctx, name); errors.Is(gerr, jetstream.ErrKeyNotFound) {
			continue
		} else if gerr == nil && now.Revision() != seen.Revision() {
			return nil, fmt.Errorf("presence: %s: %w", name, ErrInUse)
		}
		return nil, fmt.Errorf("presence: claim %s: %w", name, err)
	}
}

func (c *Claim) start(rev uint64) {
	ctx, stop := context.WithCancel(context.Background())
	c.stop, c.done, c.rev = stop, make(chan struct{}), rev
	go func() {
		defer close(c.done)
		c.keep(ctx)
	}()
}

// keep renews the claim every third of its lifetime until ctx ends.
func (c *Claim) keep(ctx context.Context) {
	every := c.ttl / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Run to its answer even when the process stops, so that the
		// release names the revision the server holds.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), every)
		rev, err := c.kv.Update(rctx, c.name, c.value, c.rev)
		cancel()
		if err == nil {
			c.rev = rev
			continue
		}
		// Renewed by someone else, or the server gone: say so, and take
		// the claim again if it is free (this process still runs).
		if e, gerr := c.kv.Get(ctx, c.name); gerr == nil && !bytes.Equal(e.Value(), c.value) {
			c.log.Error("presence: another process claims this instance name; give every process its own --instance", "instance", c.name)
			continue
		}
		if rev, err := c.kv.Create(ctx, c.name, c.value); err == nil {
			c.rev = rev
		}
	}
}

// Release stops renewing and gives the claim up, so that a restart under
// the same name starts at once.
func (c *Claim) Release(ctx context.Context) {
	c.stop()
	<-c.done
	if err := c.kv.Delete(ctx, c.name, jetstream.LastRevision(c.rev)); err != nil {
		c.log.Warn("presence: could not give up the instance name; it expires", "instance", c.name, "err", err)
	}
}
