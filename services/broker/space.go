package broker

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultMinFree is the space kept free on the disk under the store when
// Config.MinFree is 0: room for JetStream to close its blocks and for the
// ledger to write its snapshots after the last write it took.
const DefaultMinFree = 64 << 20

// ErrNoSpace: the disk under the store has less free space than the
// reserve. A *SpaceError says how much.
var ErrNoSpace = errors.New("too little free disk space")

// SpaceError reports a disk under the store with less free space than the
// reserve, in words for the beheerder who has to make room.
type SpaceError struct {
	Dir     string
	Free    int64
	MinFree int64
}

func (e *SpaceError) Error() string {
	return fmt.Sprintf("de schijf onder %s heeft %s vrij, minder dan de %s die de ledger vrijhoudt: "+
		"maak ruimte vrij (of zet de opslag op een grotere schijf, of verlaag --min-free)",
		e.Dir, bytesNL(e.Free), bytesNL(e.MinFree))
}

func (e *SpaceError) Unwrap() error { return ErrNoSpace }

func bytesNL(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// CheckSpace returns a *SpaceError when the disk under dir has less than
// minFree bytes free (DefaultMinFree when 0), nil otherwise and where the
// platform can not tell.
func CheckSpace(dir string, minFree int64) error {
	if minFree <= 0 {
		minFree = DefaultMinFree
	}
	free, _, ok := statfs(dir)
	if !ok || free >= minFree {
		return nil
	}
	return &SpaceError{Dir: dir, Free: free, MinFree: minFree}
}

// CheckSpace checks the reserve on the disk under the store. The store
// calls it before every append: JetStream itself notices a full disk only
// when a write fails, and then refuses every write until it is restarted.
func (s *Server) CheckSpace() error { return CheckSpace(s.cfg.Dir, s.cfg.MinFree) }

// keep brings JetStream back after a full disk, without a restart. The
// reserve is the first defence, but another process can still take the
// last byte, and then JetStream fails in one of two ways: a stream whose
// write failed keeps that error and refuses (without an answer) every
// later write, or JetStream switches itself off. Once space is back, keep
// restarts JetStream on the same directory, which reopens every stream
// from its files: what was acknowledged was on disk, so nothing is lost.
func (s *Server) keep(every time.Duration) {
	defer close(s.kept)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		if s.CheckSpace() != nil {
			continue // reads go on; the store refuses writes until then
		}
		switch {
		case s.ns.JetStreamEnabled():
			werr := s.writeError()
			if werr == "" {
				continue
			}
			s.ns.Warnf("ledger: restarting JetStream after a write error: %s", werr)
			if err := s.ns.ShutdownJetStream(); err != nil {
				s.ns.Errorf("ledger: stop JetStream: %v", err)
				continue
			}
		case s.ns.JetStreamConfig() != nil:
			continue // still shutting down
		}
		if err := s.ns.EnableJetStream(s.jsConfig()); err != nil {
			s.ns.Errorf("ledger: restart JetStream: %v", err)
			continue
		}
		s.ns.Noticef("ledger: JetStream restarted; writes go on")
	}
}

// writeError returns the first write error a stream or consumer holds,
// empty when none does.
func (s *Server) writeError() string {
	h := s.ns.Healthz(&server.HealthzOptions{Details: true})
	for _, e := range h.Errors {
		if strings.Contains(e.Error, "write error") {
			return e.Error
		}
	}
	return ""
}

// jsConfig is the JetStream configuration for EnableJetStream, equal to the
// one the server starts with.
func (s *Server) jsConfig() *server.JetStreamConfig {
	o := s.opts
	return &server.JetStreamConfig{
		StoreDir:   o.StoreDir,
		SyncAlways: o.SyncAlways,
		MaxStore:   o.JetStreamMaxStore,
		MaxMemory:  o.JetStreamMaxMemory,
		Strict:     !o.NoJetStreamStrict,
		CompressOK: true,
	}
}

// maxStore is JetStream's storage limit: the size of the whole file system.
// Left to itself JetStream takes 75% of the space free when it starts and
// never raises it, so a ledger that started on a nearly full disk would
// refuse writes for good after space was freed; the reserve is the limit
// that matters instead.
func (s *Server) maxStore() int64 {
	_, total, ok := statfs(s.cfg.Dir)
	if !ok || total <= 0 {
		return 1 << 50
	}
	return total
}
