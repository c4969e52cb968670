package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/projections/beleidsview"
	"github.com/gooi-vechtstreek/ledger/projections/caseload"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/access"
	"github.com/gooi-vechtstreek/ledger/services/api"
	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/lag"
	"github.com/gooi-vechtstreek/ledger/services/logboek"
	"github.com/gooi-vechtstreek/ledger/services/presence"
	"github.com/gooi-vechtstreek/ledger/services/quorum"
	"github.com/gooi-vechtstreek/ledger/services/relay"
	"github.com/gooi-vechtstreek/ledger/services/resident"
	"github.com/gooi-vechtstreek/ledger/services/retention"
	"github.com/gooi-vechtstreek/ledger/services/secret"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/kurrentdb"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore"
	"github.com/gooi-vechtstreek/ledger/services/vault"
	"github.com/gooi-vechtstreek/ledger/services/web"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

type serveConfig struct {
	data      string
	http      string
	natsAddr  string
	natsURL   string
	natsBatch int
	gemeenten string
	srg       string
	retention string
	store     string
	// kurrentURL and kurrentPrefix say where the KurrentDB store is
	// (--store kurrentdb).
	kurrentURL, kurrentPrefix string
	replicas                  int
	// instance names this process among several on one NATS cluster and
	// store (--instance); empty with the embedded broker.
	instance string
	logJSON  bool
	// demo loads a seeded demo region into an empty ledger (make demo).
	demo bool
	// clock makes "today"; nil is the system clock. Tests that simulate
	// years of operation set it; there is no flag for it.
	clock clock.Clock
	// archiveCheck is how often the server looks whether a herindeling
	// has come into force; a minute when zero.
	archiveCheck time.Duration
	// snapshotEvery is how often the regional model's snapshot is written
	// while it moves (and always on a clean stop); five minutes when zero.
	snapshotEvery time.Duration
	// quorumEvery is how often a ledger on an external NATS checks that
	// its server reaches the cluster's meta leader (services/quorum); two
	// seconds when zero.
	quorumEvery time.Duration
	// noSync runs the embedded broker without fsync before each
	// acknowledgement: only for a benchmark that fills a history fast.
	// There is no flag for it.
	noSync bool
	// minFree is the disk space kept free under the store.
	minFree int64
	// benchNoAccess runs without authentication, encryption and the
	// logboek, every caller taken as a centrum user: only for the
	// benchmark that measures what they cost. There is no flag for it.
	benchNoAccess bool
	// TLS for the API: certificate and key of the server, and the CA whose
	// client certificates may authenticate (mTLS).
	tlsCert, tlsKey, clientCA string
	// secureCookie marks the pages' session cookie Secure without
	// --tls-cert: HTTPS ends at a reverse proxy in front.
	secureCookie bool
}

// serveFlags are the flags of ledger serve, into cfg.
func serveFlags(cfg *serveConfig, stderr io.Writer) *flag.FlagSet {
	fs := newFlags("ledger serve", "ledger serve [--data DIR] [--http ADRES] [--nats ADRES | --nats-url URL] [--gemeenten BESTAND]", stderr)
	fs.StringVar(&cfg.data, "data", "./data", "map voor alle gegevens: JetStream-bestanden, projecties, sleutels")
	fs.StringVar(&cfg.http, "http", "127.0.0.1:8080", "adres van de API (Connect: gRPC en HTTP/JSON); poort 0 kiest een vrije poort")
	fs.StringVar(&cfg.natsAddr, "nats", "127.0.0.1:4222", "adres waarop de ingebouwde NATS-server luistert (poort 0: vrije poort, -1: alleen intern)")
	fs.StringVar(&cfg.natsURL, "nats-url", "", "gebruik een extern NATS-cluster in plaats van de ingebouwde server (bijv. nats://n1:4222,nats://n2:4222)")
	fs.IntVar(&cfg.natsBatch, "nats-batch", natsstore.DefaultMaxAppend, fmt.Sprintf("met --nats-url: de grootste atomaire batch die het cluster aanneemt (jetstream { limits { batch { max_msgs } } } in de NATS-configuratie, standaard %d; deploy/nats/cluster.conf zet 10000); een import schrijft zoveel gebeurtenissen in één stap. De ingebouwde server neemt er %d", natsstore.DefaultMaxAppend, broker.MaxBatch))
	fs.StringVar(&cfg.gemeenten, "gemeenten", "deploy/gemeenten.json", "databestand met de deelnemende gemeenten")
	fs.StringVar(&cfg.retention, "bewaartermijnen", "deploy/bewaartermijnen.json", "databestand met de bewaartermijnen (VNG Selectielijst 2020, procestype 8)")
	fs.StringVar(&cfg.srg, "srg", "deploy/srg.json", "databestand met de koppeling van plaatsingssoort naar CBS SRG-voorziening")
	fs.BoolVar(&cfg.demo, "demo", false, "laad bij de eerste start een gegenereerde voorbeeldregio (drie jaar, acht deelnemers) via de import; alleen voor een eigen map zoals ./demo-data (make demo), nooit ./data")
	fs.StringVar(&cfg.store, "store", "jetstream", "event store: jetstream (in de NATS-broker) of kurrentdb (KurrentDB/EventStoreDB, met --kurrentdb-url); de bus blijft NATS")
	fs.StringVar(&cfg.kurrentURL, "kurrentdb-url", os.Getenv("LEDGER_KURRENTDB_URL"), "verbindingsstring van KurrentDB (standaard $LEDGER_KURRENTDB_URL), bijv. kurrentdb+discover://kdb.regio.local:2113 of kurrentdb://k1:2113,k2:2113,k3:2113?tlsCAFile=ca.pem; gebruiker en wachtwoord uit $LEDGER_KURRENTDB_USERNAME en $LEDGER_KURRENTDB_PASSWORD")
	fs.StringVar(&cfg.kurrentPrefix, "kurrentdb-prefix", os.Getenv("LEDGER_KURRENTDB_PREFIX"), "voorvoegsel van de streams van deze ledger in KurrentDB (standaard $LEDGER_KURRENTDB_PREFIX, leeg: geen), als meer ledgers één KurrentDB delen")
	fs.IntVar(&cfg.replicas, "replicas", 1, "JetStream-replica's per stream (3 op een cluster)")
	fs.StringVar(&cfg.instance, "instance", "", "naam van dit proces als meer ledger-processen één NATS-cluster en store delen (standaard met --nats-url: de hostnaam); elk houdt zijn eigen overzichten bij en één relay publiceert tegelijk")
	fs.BoolVar(&cfg.logJSON, "log-json", false, "log als JSON in plaats van tekst")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "certificaat (PEM) van de API: de API spreekt dan alleen HTTPS")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "sleutel (PEM) bij --tls-cert")
	fs.BoolVar(&cfg.secureCookie, "secure-cookie", false, "markeer het sessiecookie van de webpagina's Secure ook zonder --tls-cert: achter een reverse proxy die HTTPS afhandelt (met --tls-cert altijd)")
	fs.StringVar(&cfg.clientCA, "client-ca", "", "CA (PEM) van clientcertificaten die zich mogen aanmelden (mTLS, voor systeem-tot-systeem); elk certificaat krijgt toegang met ledger toegang uitgeven --certificaat")
	cfg.minFree = broker.DefaultMinFree
	fs.Var(sizeFlag{&cfg.minFree}, "min-free", "de vrije schijfruimte (`grootte`, bijv. 64MiB) onder --data die de ledger vrijhoudt: daaronder weigert hij nieuwe gebeurtenissen (opslag.vol) tot er ruimte is, en start hij niet (ingebouwde broker)")
	return fs
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg serveConfig
	fs := serveFlags(&cfg, stderr)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if cfg.instance == "" && cfg.natsURL != "" {
		host, err := os.Hostname()
		if err != nil {
			return usageErrorf("--instance: geen hostnaam (%v); geef een naam", err)
		}
		cfg.instance = host
	}
	if cfg.instance = natsName(cfg.instance); cfg.instance == "" && cfg.natsURL != "" {
		return usageErrorf("--instance: geef een naam met letters of cijfers")
	}
	if cfg.natsBatch < 1 {
		return usageErrorf("--nats-batch %d: geef ten minste 1 (en niet meer dan jetstream { limits { batch { max_msgs } } } van het NATS-cluster)", cfg.natsBatch)
	}
	// Said of the embedded server, it would be silently ignored: that
	// server takes what the ledger configures it with.
	if given(fs, "nats-batch") && cfg.natsURL == "" {
		return usageErrorf("--nats-batch geldt alleen met --nats-url (een extern NATS-cluster); de ingebouwde server neemt atomaire batches van %d", broker.MaxBatch)
	}
	if given(fs, "nats-batch") && cfg.store != "jetstream" {
		return usageErrorf("--nats-batch geldt alleen voor de store in JetStream (--store jetstream), niet voor --store %s", cfg.store)
	}
	if cfg.demo && filepath.Clean(cfg.data) == "data" {
		return usageErrorf("--demo laadt een gegenereerde voorbeeldregio; kies een eigen map (--data ./demo-data, zoals make demo doet), nooit ./data")
	}
	switch cfg.store {
	case "jetstream":
	case "kurrentdb":
		if cfg.kurrentURL == "" {
			return usageErrorf("--store kurrentdb: geef --kurrentdb-url (of $LEDGER_KURRENTDB_URL)")
		}
	default:
		return usageErrorf("--store %q: kies jetstream of kurrentdb", cfg.store)
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if cfg.logJSON {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)
	percent, limit, _ := tuneGC()
	log.Info("garbage collector tuned for a long-lived heap (GOGC and GOMEMLIMIT override)", "gc_percent", percent, "memory_limit_bytes", limit)
	return runServer(ctx, cfg, log, stdout)
}

// openVault opens the residents' key store in the data directory: data keys
// under keys/personen, wrapped by keys/kek.key. Back both up with the data;
// losing the key-encryption key makes every resident unreadable.
func openVault(data string) (*vault.Vault, error) {
	kek, err := secret.LoadOrCreate(filepath.Join(data, "keys", "kek.key"), 32)
	if err != nil {
		return nil, err
	}
	ks, err := vault.NewFileKeyStore(filepath.Join(data, "keys", "personen"), kek)
	if err != nil {
		return nil, err
	}
	mac, err := secret.LoadOrCreate(filepath.Join(data, "keys", "vingerafdruk.key"), 32)
	if err != nil {
		return nil, err
	}
	return vault.New(ks, mac)
}

// apiTLS is the API's TLS configuration: the server's certificate and, with
// --client-ca, client certificates verified when given (a caller may still
// use a bearer token instead).
func apiTLS(cfg serveConfig) (*tls.Config, error) {
	if cfg.tlsKey == "" {
		return nil, usageErrorf("--tls-cert zonder --tls-key")
	}
	cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("API TLS: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if cfg.clientCA != "" {
		pem, err := os.ReadFile(cfg.clientCA)
		if err != nil {
			return nil, fmt.Errorf("client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA %s: geen PEM-certificaat", cfg.clientCA)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return tc, nil
}

// snapshotEvery writes the regional model's snapshot every interval in
// which it moved, until ctx ends. A kill loses at most an interval of it:
// the next start reads that much more of the store.
func snapshotEvery(ctx context.Context, live *region.Live, path string, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		every = 5 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var last store.Position
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var at store.Position
		_ = live.Read(func(m *region.Model) { at = m.Position() })
		if at == last {
			continue
		}
		start := time.Now()
		written, err := live.WriteSnapshot(path)
		if err != nil {
			log.Warn("regional snapshot not written", "err", err)
			continue
		}
		last = written
		log.Info("regional snapshot written", "position", written.String(), "took", time.Since(start).Round(time.Millisecond))
	}
}

// runServer wires the parts: broker, store, decision, relay, projections,
// API. It returns when ctx ends, after a clean stop of each part.
func runServer(ctx context.Context, cfg serveConfig, log *slog.Logger, stdout io.Writer) error {
	reg, err := gemeente.Load(cfg.gemeenten)
	if err != nil {
		return err
	}
	srg, err := beleidsview.LoadSRG(cfg.srg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if cfg.natsURL == "" {
		// Before anything is written: a start on a full disk would fail
		// on whatever it writes first, in words that do not help.
		if err := broker.CheckSpace(cfg.data, cfg.minFree); err != nil {
			return fmt.Errorf("start: %w; start de ledger daarna opnieuw", err)
		}
	}

	var nc *nats.Conn
	var natsInfo string
	storeOpts := []natsstore.Option{natsstore.WithReplicas(cfg.replicas)}
	if cfg.natsURL != "" {
		if cfg.natsBatch > 0 { // 0: the store's default
			storeOpts = append(storeOpts, natsstore.WithMaxAppend(cfg.natsBatch))
		}
		nc, err = nats.Connect(cfg.natsURL, nats.Name("ledger"), nats.MaxReconnects(-1))
		if err != nil {
			return fmt.Errorf("connect to NATS %s: %w", cfg.natsURL, err)
		}
		natsInfo = cfg.natsURL
	} else {
		granted := archives(reg, cfg.clock.Today())
		auth, err := natsAuth(cfg.data, reg.Codes(), granted)
		if err != nil {
			return err
		}
		began := time.Now()
		srv, err := broker.Start(broker.Config{Dir: cfg.data, Listen: cfg.natsAddr, Auth: auth, NoSync: cfg.noSync, MinFree: cfg.minFree, Logger: log})
		if err != nil {
			return err
		}
		log.Info("embedded NATS broker started", "took", time.Since(began).Round(time.Millisecond))
		storeOpts = append(storeOpts, natsstore.WithSpaceCheck(srv.CheckSpace), natsstore.WithMaxAppend(broker.MaxBatch))
		defer srv.Shutdown()
		go watchArchives(ctx, reg, cfg, log, granted)
		if nc, err = srv.Connect(); err != nil {
			return err
		}
		natsInfo = "ingebouwd"
		if u := srv.ClientURL(); u != "" {
			natsInfo += ", " + u
		}
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if cfg.natsURL != "" && cfg.instance != "" { // serve always names one with --nats-url
		// The caseload views' consumers and the relay's lease go by the
		// instance name: a second live process under it would take half
		// of every view's events.
		claim, err := presence.Acquire(ctx, js, cfg.instance, 0, cfg.replicas, log)
		if errors.Is(err, presence.ErrInUse) {
			return fmt.Errorf("start: --instance %s is in gebruik door een ander draaiend ledger-proces op dit NATS-cluster; geef elk proces een eigen --instance (zijn overzichten en zijn relay gaan op die naam): %w", cfg.instance, err)
		}
		if err != nil {
			return fmt.Errorf("start: %w", err)
		}
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			claim.Release(rctx)
			cancel()
		}()
	}

	// Both stores also tell their head and what lies between two
	// positions, for the freshness of the figures.
	var st interface {
		store.Store
		lag.Store
	}
	if cfg.store == "kurrentdb" {
		kdb, err := kurrentdb.Open(ctx, kurrentdb.Config{
			URL: cfg.kurrentURL, Prefix: cfg.kurrentPrefix,
			Username: os.Getenv("LEDGER_KURRENTDB_USERNAME"), Password: os.Getenv("LEDGER_KURRENTDB_PASSWORD"),
			Metadata: event.KurrentMetadata, Logger: log,
		})
		if err != nil {
			return fmt.Errorf("start: %w", err)
		}
		defer kdb.Close()
		st = kdb
	} else if st, err = natsstore.New(ctx, js, storeOpts...); err != nil {
		return err
	}
	key, err := resident.LoadOrCreateKey(filepath.Join(cfg.data, "keys", "pseudoniem.key"))
	if err != nil {
		return err
	}
	pseudonyms, err := resident.NewPseudonymizer(key)
	if err != nil {
		return err
	}
	relayID, err := relayInstance(cfg)
	if err != nil {
		return err
	}
	rl, err := relay.New(ctx, relay.Config{Store: st, JS: js, Gemeenten: reg.Codes(), Replicas: cfg.replicas, Instance: relayID, Logger: log})
	if err != nil {
		return err
	}
	live := region.NewLive(st, reg, log)
	figures := beleidsview.NewKeeper(reg, "")
	live.Watch(figures)
	// Start the regional model from its snapshot when it matches the store,
	// so that a start reads only the store's tail. It is read while the
	// caseload views read their bases: the two are independent, and at a
	// million events each takes seconds.
	snapshot := filepath.Join(cfg.data, "projections", "region.snap")
	regionLoaded := make(chan struct{})
	go func() {
		defer close(regionLoaded)
		began := time.Now()
		if ok, err := live.LoadSnapshot(ctx, snapshot); err != nil {
			log.Warn("regional snapshot not used; the model is built from the store", "err", err)
		} else if ok {
			log.Info("regional model starts from its snapshot", "path", snapshot, "took", time.Since(began).Round(time.Millisecond))
		}
	}()
	began := time.Now()
	views, err := caseload.NewProjector(caseload.Config{JS: js, Gemeenten: reg, Today: cfg.clock.Today, Dir: filepath.Join(cfg.data, "projections"), Replicas: cfg.replicas, Instance: cfg.instance, Logger: log})
	<-regionLoaded
	if err != nil {
		return err
	}
	log.Info("caseload views loaded", "took", time.Since(began).Round(time.Millisecond))

	bewaar, err := retention.Load(cfg.retention)
	if err != nil {
		return err
	}
	vlt, err := openVault(cfg.data)
	if err != nil {
		return err
	}
	lmac, err := secret.LoadOrCreate(filepath.Join(cfg.data, "keys", "logboek.key"), 32)
	if err != nil {
		return err
	}
	lb, err := logboek.New(ctx, js, vlt, lmac, cfg.replicas)
	if err != nil {
		return err
	}
	creds, err := access.OpenCredentials(filepath.Join(cfg.data, "keys", "toegang.json"))
	if err != nil {
		return err
	}
	beheerToken := filepath.Join(cfg.data, "keys", "beheer.token")
	firstStart, err := creds.Bootstrap(beheerToken, cfg.clock.Now())
	if err != nil {
		return fmt.Errorf("first beheer credential: %w", err)
	}
	if firstStart && cfg.demo {
		if err := demoTokens(creds, reg, cfg.data, cfg.clock); err != nil {
			return err
		}
	}

	// A policy may start in the past where the regional model shows nothing
	// of the gemeente priced yet.
	pol := &beleid.Handler{Store: st, Gemeenten: reg, Clock: cfg.clock, Priced: live}
	handler := &caseflow.Handler{Store: st, Gemeenten: reg, Clock: cfg.clock, Policies: pol, Vault: vlt}
	if cfg.benchNoAccess {
		handler.Vault = nil
	}
	tracker := &lag.Tracker{Store: st, Region: live, Relay: rl, Views: views, JS: js}
	srv := &api.Server{
		Beleid:     pol,
		Clock:      cfg.clock,
		Region:     live,
		Figures:    figures,
		Store:      st,
		SRG:        &srg,
		Cases:      handler,
		Views:      views,
		Gemeenten:  reg,
		Pseudonyms: pseudonyms,
		Logger:     log,
		Access:     creds,
		Vault:      vlt,
		Logboek:    lb,
		Retention:  bewaar,
		Lag:        tracker,
		Replay: func(ctx context.Context, g string) (*ledgerv1.CaseloadView, *ledgerv1.Certificaat, error) {
			rp, err := caseload.Replay(ctx, st, reg)
			if err != nil {
				return nil, nil, err
			}
			// Composed as of today, exactly as the live view is.
			today := cfg.clock.Today()
			v, ok := rp.View(g, reg, today)
			if !ok {
				return nil, nil, fmt.Errorf("no replayed view for %s", g)
			}
			cert := rp.Certificate()
			cert.Peildatum = today
			return v, cert, nil
		},
	}
	srv.Metrics = serverMetrics(st, tracker, rl, reg.Codes())
	if cfg.benchNoAccess {
		srv.Access, srv.Vault, srv.Logboek = nil, nil, nil
		srv.Unauthenticated = &access.Identity{Gebruiker: "bench", Organisatie: "bench", Rol: access.Centrum}
	}
	mux := http.NewServeMux()
	apiMux := http.NewServeMux()
	path, h := srv.Handler()
	mux.Handle(path, h)
	apiMux.Handle(path, h)
	path, h = srv.AccessHandler()
	mux.Handle(path, h)
	apiMux.Handle(path, h)
	// The pages ask the same API, in process, with the visitor's token.
	pages := &web.Server{API: apiMux, Clock: cfg.clock, Logger: log, Secure: cfg.tlsCert != "" || cfg.secureCookie,
		Head: func(ctx context.Context) (string, error) {
			p, err := st.Head(ctx)
			return p.String(), err
		},
		Verify: func(ctx context.Context) (*audit.Report, error) {
			v := audit.New(audit.Config{Participants: reg.Codes()})
			var batch []store.RecordedEvent
			for rec, err := range st.ReadAll(ctx, store.Start) {
				if err != nil {
					return nil, err
				}
				if batch = append(batch, rec); len(batch) == 4096 {
					v.AddAll(batch)
					batch = make([]store.RecordedEvent, 0, 4096)
				}
			}
			v.AddAll(batch)
			return v.Report(), nil
		},
	}
	mux.Handle("/", pages.Handler())
	// Liveness: the process answers. Readiness: it can take commands and
	// answer from figures (the store answers, the regional model is live).
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context(), st, live); err != nil {
			http.Error(w, "niet gereed: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	// The operator's numbers (Prometheus text format); like /healthz it
	// tells nothing about a case or a resident.
	mux.Handle("/metrics", srv.Metrics.Handler())

	ln, err := net.Listen("tcp", cfg.http)
	if err != nil {
		return fmt.Errorf("API listen %s: %w", cfg.http, err)
	}
	scheme := "http"
	if cfg.tlsCert == "" && (cfg.tlsKey != "" || cfg.clientCA != "") {
		ln.Close()
		return usageErrorf("--tls-key en --client-ca werken alleen met --tls-cert; zonder zou de API onversleuteld luisteren")
	}
	if cfg.tlsCert != "" {
		tc, err := apiTLS(cfg)
		if err != nil {
			ln.Close()
			return err
		}
		ln, scheme = tls.NewListener(ln, tc), "https"
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	// gRPC clients speak HTTP/2 without TLS on a trusted network; put TLS in
	// front (a reverse proxy) anywhere else.
	protocols.SetUnencryptedHTTP2(true)
	protocols.SetHTTP2(true) // gRPC over TLS, with --tls-cert
	// ReadTimeout bounds a whole request body: the largest (an import call
	// of 8 MiB) arrives well within it on any working link.
	hs := &http.Server{Handler: mux, Protocols: protocols, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	wg.Add(4)
	go func() { defer wg.Done(); errs <- rl.Run(runCtx) }()
	go func() { defer wg.Done(); errs <- live.Run(runCtx) }()
	go func() { defer wg.Done(); errs <- views.Run(runCtx) }()
	wg.Add(1)
	go func() { defer wg.Done(); snapshotEvery(runCtx, live, snapshot, cfg.snapshotEvery, log) }()
	if cfg.natsURL != "" {
		// On a cluster: off a node that is cut off from the others.
		wg.Go(func() { quorum.Watch(runCtx, nc, js, quorum.Config{Every: cfg.quorumEvery, Logger: log}) })
	}
	go func() {
		defer wg.Done()
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("API: %w", err)
			return
		}
		errs <- nil
	}()
	fmt.Fprintf(stdout, "ledger luistert op %s://%s (NATS: %s, data: %s)\n", scheme, ln.Addr(), natsInfo, cfg.data)
	if firstStart && cfg.demo {
		fmt.Fprintf(stdout, "demo: toegangssleutels voor elke rol staan in %s (centrum, auditor, en per gemeente, bijv. GM0402)\n", demoTokenPath(cfg.data, "*"))
	}
	if firstStart {
		fmt.Fprintf(stdout, "eerste start: de toegangssleutel van beheer staat in %s; geef daarmee toegang uit: LEDGER_TOKEN=$(cat %s) ledger toegang uitgeven --help\n", beheerToken, beheerToken)
	}
	if cfg.demo {
		go func() {
			if err := loadDemo(runCtx, st, srv, reg, cfg.clock, cfg.data, stdout); err != nil && runCtx.Err() == nil {
				errs <- err
			}
		}()
	}
	log.Info("ledger started", "api", ln.Addr().String(), "nats", natsInfo, "data", cfg.data, "gemeenten", len(reg.Codes()))

	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
	}
	cancel()
	shutCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer done()
	_ = hs.Shutdown(shutCtx)
	wg.Wait()
	// The model is still now: the snapshot a next start begins from.
	if at, err := live.WriteSnapshot(snapshot); err != nil {
		log.Warn("regional snapshot not written on stop", "err", err)
	} else {
		log.Info("regional snapshot written", "position", at.String())
	}
	log.Info("ledger stopped")
	if first != nil && !errors.Is(first, context.Canceled) {
		return first
	}
	return nil
}

// archives are, by successor, the gemeenten whose history it keeps on
// the server's today (Archiefwet): its NATS user reads their bus streams.
func archives(reg *gemeente.Registry, today *ledgerv1.Date) map[string][]string {
	out := map[string][]string{}
	for _, g := range reg.Codes() {
		for _, h := range reg.Archieven(g, today) {
			out[g] = append(out[g], h.Van)
		}
	}
	return out
}

// watchArchives says, on the day a herindeling comes into force while the
// server runs, that a restart gives the successor its archive rights. The
// broker's permissions are set at start only: reloading them in a running
// nats-server (v2.15.2) races with its direct gets (server.opts is read
// without its lock), which the race detector reports.
func watchArchives(ctx context.Context, reg *gemeente.Registry, cfg serveConfig, log *slog.Logger, granted map[string][]string) {
	every := cfg.archiveCheck
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if next := archives(reg, cfg.clock.Today()); !maps.EqualFunc(next, granted, slices.Equal) {
			log.Warn("herindeling in force: restart the server to give the successor read rights on the archived bus streams", "archieven", next)
			granted = next
		}
	}
}

// natsAuth gives the embedded server a user for the ledger itself and one per
// gemeente, each limited to its own bus stream. Passwords are created once
// under data/keys/nats-<user>.pass; hand a gemeente its own file to let its
// systems read its events.
func natsAuth(data string, gemeenten []string, archieven map[string][]string) (*broker.Auth, error) {
	password := func(name string) (string, error) {
		b, err := secret.LoadOrCreate(filepath.Join(data, "keys", "nats-"+name+".pass"), 24)
		if err != nil {
			return "", err
		}
		return hex.EncodeToString(b), nil
	}
	pw, err := password("ledger")
	if err != nil {
		return nil, err
	}
	auth := &broker.Auth{Service: broker.User{Name: "ledger", Password: pw}}
	for _, g := range gemeenten {
		pw, err := password(g)
		if err != nil {
			return nil, err
		}
		auth.Gemeenten = append(auth.Gemeenten, broker.User{Name: g, Password: pw, Archieven: archieven[g]})
	}
	return auth, nil
}

// natsName makes a name usable in a NATS consumer name: letters, digits,
// '-' and '_' (a host name's dots become '_').
func natsName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		case r == '.':
			return '_'
		}
		return -1
	}, s)
}

// relayInstance is the name this process's relay holds the lease under:
// --instance, or one kept in the data directory, so that after a crash the
// same process takes its lease back at once instead of waiting for it to
// expire.
func relayInstance(cfg serveConfig) (string, error) {
	if cfg.instance != "" {
		return cfg.instance, nil
	}
	b, err := secret.LoadOrCreate(filepath.Join(cfg.data, "keys", "relay-instance"), 12)
	if err != nil {
		return "", fmt.Errorf("relay instance: %w", err)
	}
	return "ledger-" + hex.EncodeToString(b), nil
}
