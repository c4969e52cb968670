package region

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Live keeps a Model up to date with the store: it starts empty, applies
// the whole store, then every new event as it is appended. The model is in
// memory only; it is rebuilt from the store on every start, which is what
// makes it disposable.
type Live struct {
	st  store.Store
	log *slog.Logger
	// watch, when set, is told of every event the model applies (see
	// Watcher).
	watch Watcher

	mu        sync.Mutex // guards m; reads fill per-case caches, so they lock too
	fromStore uint64     // events applied from the store (not a snapshot)
	m         *Model
	err       error // a stored event that can not be applied
	notify    chan struct{}
}

// NewLive follows st.
func NewLive(st store.Store, reg *gemeente.Registry, log *slog.Logger) *Live {
	if log == nil {
		log = slog.Default()
	}
	return &Live{st: st, log: log.With("component", "region"), m: New(reg), notify: make(chan struct{})}
}

// Watcher keeps figures derived from the model up to date as it changes,
// instead of computing them from every case on every read. Both calls run
// under the model's lock, in the order of the events.
type Watcher interface {
	// Changing is called before a case event changes case c (not for the
	// first event of a case): the moment to take away what c counted.
	Changing(m *Model, c *Case)
	// Changed is called after every event applied; c is the case it
	// changed, nil for an event that is not a case's.
	Changed(m *Model, ev *ledgerv1.Event, c *Case)
}

// Watch sets the watcher; call it before Run.
func (l *Live) Watch(w Watcher) { l.watch = w }

// apply applies one stored event, telling the watcher.
func (l *Live) apply(rec store.RecordedEvent) error {
	if l.watch == nil {
		return l.m.ApplyRecord(rec)
	}
	return l.m.ApplyWatched(rec, l.watch)
}

// Run follows the store until ctx ends, resuming after failures.
func (l *Live) Run(ctx context.Context) error {
	backoff := 50 * time.Millisecond
	for {
		l.mu.Lock()
		after := l.m.Position()
		l.mu.Unlock()
		err := l.st.Subscribe(ctx, after, func(rec store.RecordedEvent) error {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.fromStore++
			if err := l.apply(rec); err != nil {
				// Figures that skip an event are not auditable: stop here
				// and say so on every read, rather than go on without it.
				l.err = err
				return err
			}
			close(l.notify)
			l.notify = make(chan struct{})
			return nil
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.mu.Lock()
		stuck := l.err
		l.mu.Unlock()
		if stuck != nil {
			l.log.Error("regional model stopped at an event it can not apply", "err", stuck)
			<-ctx.Done()
			return ctx.Err()
		}
		l.log.Warn("regional model lost the store; resuming", "err", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// FromStore counts the events the model applied from the store, after
// any snapshot it started from.
func (l *Live) FromStore() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fromStore
}

// Read runs fn with the model, which fn must not keep. It reports the error
// that stopped the model, if any: then the figures are incomplete.
func (l *Live) Read(fn func(m *Model)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	fn(l.m)
	return l.err
}

// WaitFor blocks until the model has applied everything up to p.
func (l *Live) WaitFor(ctx context.Context, p store.Position) error {
	for {
		l.mu.Lock()
		done, ch := !l.m.Position().Less(p), l.notify
		l.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
