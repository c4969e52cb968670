// Package broker runs the embedded NATS server: the real nats-server with
// JetStream on local disk, in the ledger's own process. It is the default
// for `ledger serve` and for every test that needs a broker.
package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// MaxBatch is the most messages the embedded server takes in one atomic
// batch (ten times nats-server's default). The server stages every batch
// in a file store of its own and commits it with one fsync; in steps of
// 1,000 that was about 20 s of a million-event import's 314 s of CPU, and
// steps of 10,000 make a tenth of the staging stores and fsyncs. A client
// of this server may append this many events at once
// (natsstore.WithMaxAppend).
const MaxBatch = 10_000

// Config configures the embedded server.
type Config struct {
	// Dir holds JetStream's files; it is created when missing.
	Dir string
	// Listen is host:port for NATS clients ("127.0.0.1:4222"). Empty or a
	// port of 0 picks a free port. Port -1 accepts no network clients, only
	// in-process connections.
	Listen string
	// NoSync lets the server fsync on an interval instead of before each
	// acknowledgement. Only benchmarks that measure the difference set it: with
	// it, an acknowledged append is not yet proof of durability.
	NoSync bool
	// Name of the server; "ledger" when empty.
	Name string
	// Auth, when set, requires credentials and limits each gemeente to its
	// own bus stream. Without it every client may do everything, which is
	// fine only when nothing but the ledger itself can connect.
	Auth *Auth
	// Logger receives nats-server's warnings and errors (and the keeper's
	// notes); nil discards them.
	Logger *slog.Logger
	// MinFree is the free disk space, in bytes, below which the store takes
	// no more writes (DefaultMinFree when 0), and without which the server
	// does not start.
	MinFree int64
}

// Server is a running embedded NATS server.
type Server struct {
	ns   *server.Server
	cfg  Config
	opts *server.Options
	quit chan struct{}
	kept chan struct{}
	once sync.Once
}

// Start starts the server and waits until it accepts connections.
func Start(cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("start broker: no data directory")
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	s := &Server{cfg: cfg, quit: make(chan struct{}), kept: make(chan struct{})}
	// JetStream on a full disk fails in ways that say nothing of the disk.
	if err := s.CheckSpace(); err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	host, port, err := splitListen(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("start broker: listen %q: %w", cfg.Listen, err)
	}
	dontListen := port == -1
	if port == 0 {
		port = server.RANDOM_PORT
	}
	name := cfg.Name
	if name == "" {
		name = "ledger"
	}
	opts := &server.Options{}
	if cfg.Auth != nil {
		// Accounts, with their exports and imports, are nats-server
		// configuration: the same text the ledger writes out for an
		// external cluster, read by the server's own parser.
		conf := filepath.Join(cfg.Dir, "nats-accounts.conf")
		// The gemeenten' copies may take a quarter of the disk together, a
		// gibibyte each at most: their history is a small part of the ledger's.
		copyLimit := min(int64(1<<30), s.maxStore()/int64(4*(len(cfg.Auth.Gemeenten)+1)))
		text := cfg.Auth.AccountsConfig(func(u User) string { return fmt.Sprintf("%q", u.Password) }, copyLimit)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			return nil, fmt.Errorf("start broker: %w", err)
		}
		if opts, err = server.ProcessConfigFile(conf); err != nil {
			return nil, fmt.Errorf("start broker: accounts: %w", err)
		}
		if err := migrateGlobalAccount(filepath.Join(cfg.Dir, "jetstream")); err != nil {
			return nil, fmt.Errorf("start broker: %w", err)
		}
	}
	opts.ServerName, opts.Host, opts.Port = name, host, port
	opts.JetStream, opts.StoreDir = true, filepath.Join(cfg.Dir, "jetstream")
	// An acknowledged append must survive a power cut on this one node.
	opts.SyncAlways = !cfg.NoSync
	opts.NoSigs, opts.NoLog = true, true
	// A ledger event is small; this bounds a damaged or hostile publish.
	opts.MaxPayload = 1 << 20
	opts.JetStreamLimits.MaxBatchSize = MaxBatch
	// The reserve (MinFree), not JetStream's own guess, bounds storage.
	opts.JetStreamMaxStore = s.maxStore()
	opts.DontListen = dontListen
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	nl := &natsLog{log: logger}
	ns.SetLogger(nl, false, false)
	ns.Start()
	why := func() string {
		if e := nl.lastError(); e != "" {
			return ": " + e
		}
		return ""
	}
	ready := false
	for deadline := time.Now().Add(10 * time.Second); !ready && !nl.failed() && time.Now().Before(deadline); {
		ready = ns.ReadyForConnections(100 * time.Millisecond)
	}
	if !ready {
		ns.Shutdown()
		return nil, fmt.Errorf("start broker: not ready for connections%s", why())
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		return nil, fmt.Errorf("start broker: JetStream did not start%s", why())
	}
	s.ns, s.opts = ns, opts
	go s.keep(time.Second)
	return s, nil
}

func splitListen(listen string) (string, int, error) {
	if listen == "" {
		return "127.0.0.1", 0, nil
	}
	host, p, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// ClientURL is the nats:// URL network clients connect to; empty when the
// server listens for in-process connections only.
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// Connect opens an in-process client connection (no TCP) as the ledger's
// own user. Options are applied after the defaults, so callers may override
// the name or the user.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	all := []nats.Option{
		nats.InProcessServer(s.ns),
		nats.Name("ledger"),
		// The embedded server goes away only when the process stops or a test
		// restarts it; keep trying rather than losing the connection.
		nats.MaxReconnects(-1),
	}
	if s.cfg.Auth != nil {
		all = append(all, nats.UserInfo(s.cfg.Auth.Service.Name, s.cfg.Auth.Service.Password))
	}
	all = append(all, opts...)
	nc, err := nats.Connect("", all...)
	if err != nil {
		return nil, fmt.Errorf("connect to embedded broker: %w", err)
	}
	return nc, nil
}

// Shutdown stops the server and waits until it has.
func (s *Server) Shutdown() {
	s.once.Do(func() {
		close(s.quit)
		<-s.kept
	})
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// Config returns the configuration the server was started with.
func (s *Server) Config() Config { return s.cfg }

// NATS exposes the underlying server for tests that inspect it.
func (s *Server) NATS() *server.Server { return s.ns }
