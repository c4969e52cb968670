// Package quorum keeps a NATS connection on the side of a JetStream cluster
// that can take writes.
//
// A node cut off from the others (the minority side of a partition) stores
// nothing until it rejoins: every append and every publish through it fails
// or times out, while the other nodes go on. A client stays on its node as
// long as the connection itself holds, so a ledger connected there could not
// write until the partition healed. Watch notices and asks the client to
// reconnect, which moves it to another server of its pool: nats.go's own
// ForceReconnect, no protocol of ours.
package quorum

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config tunes Watch; the zero value is the default.
type Config struct {
	// Every is the time between checks; 2 s when zero.
	Every time.Duration
	// Misses is how many checks in a row must fail before the connection
	// moves; 3 when zero. A leader election fails a check or two.
	Misses int
	// Logger receives a line per move; slog.Default when nil.
	Logger *slog.Logger
}

// Watch checks, every cfg.Every until ctx ends, that the server nc is
// connected to reaches the cluster's JetStream meta leader: an account
// info request, which only the meta leader answers, and which a node
// without one refuses at once. After cfg.Misses failures in a row, while
// connected, it asks nc to reconnect. On a single server (a pool of one) it
// does nothing: there is nowhere to go.
func Watch(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, cfg Config) {
	if cfg.Every <= 0 {
		cfg.Every = 2 * time.Second
	}
	if cfg.Misses <= 0 {
		cfg.Misses = 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t := time.NewTicker(cfg.Every)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !nc.IsConnected() || len(nc.Servers()) < 2 {
			missed = 0
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, cfg.Every)
		_, err := js.AccountInfo(cctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			missed = 0
			continue
		}
		if missed++; missed < cfg.Misses {
			continue
		}
		missed = 0
		from := nc.ConnectedUrlRedacted()
		if err := nc.ForceReconnect(); err != nil {
			cfg.Logger.Warn("NATS server reaches no JetStream meta leader; reconnect failed", "server", from, "err", err)
			continue
		}
		cfg.Logger.Warn("NATS server reaches no JetStream meta leader (cut off from the cluster?); moving to another server", "server", from, "checks", cfg.Misses)
	}
}
