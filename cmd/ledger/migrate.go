package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/relay"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/kurrentdb"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore"
)

const migrateSynopsis = `ledger migrate --van jetstream|kurrentdb --naar kurrentdb|jetstream [--data MAP | --nats-url URL] [--kurrentdb-url URL]

Kopieert de hele geschiedenis van de ene event store naar de andere: elke
gebeurtenis met haar event-id, stroom, revisie en bytes, in dezelfde volgorde,
zodat de hashketens en het digest van de geschiedenis gelijk blijven. Stop
ledger serve eerst (netjes: de relay bewaart dan zijn checkpoint).

Een onderbroken migratie start men opnieuw met dezelfde opdracht: wat het doel
al heeft, wordt gebeurtenis voor gebeurtenis met de bron vergeleken en
overgeslagen; is het doel geen begin van deze geschiedenis, dan stopt de
migratie zonder iets te schrijven. Aan het eind worden beide kanten helemaal
opnieuw gelezen en vergeleken, en staat het digest van elk er (zoals ledger
audit verify het maakt): ze zijn gelijk, anders is het een bevinding
(afsluitcode 3). Het checkpoint van de relay in de NATS van --data (of
--nats-url) wordt naar dezelfde gebeurtenis in het doel verplaatst, zodat
ledger serve --store <doel> daarna precies verder publiceert.

De JetStream-store is die van de ingebouwde broker in --data, of die van het
cluster in --nats-url; KurrentDB zoals bij ledger serve (--kurrentdb-url of
$LEDGER_KURRENTDB_URL, gebruiker en wachtwoord uit $LEDGER_KURRENTDB_USERNAME
en $LEDGER_KURRENTDB_PASSWORD).`

func migrateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger migrate", migrateSynopsis, stderr)
	van := fs.String("van", "", "de store waaruit gekopieerd wordt: jetstream of kurrentdb")
	naar := fs.String("naar", "", "de store waarnaar gekopieerd wordt: kurrentdb of jetstream")
	data := fs.String("data", "./data", "map van de ledger (de ingebouwde JetStream, zoals bij ledger serve)")
	natsURL := fs.String("nats-url", "", "een extern NATS-cluster in plaats van de ingebouwde broker in --data")
	replicas := fs.Int("replicas", 1, "JetStream-replica's als de JetStream-store nog gemaakt moet worden (3 op een cluster)")
	kurrentURL := fs.String("kurrentdb-url", os.Getenv("LEDGER_KURRENTDB_URL"), "verbindingsstring van KurrentDB (standaard $LEDGER_KURRENTDB_URL)")
	file := fs.String("gemeenten", "deploy/gemeenten.json", "databestand met de deelnemende gemeenten, zoals de server het gebruikt (voor de toegang tot de ingebouwde broker)")
	kurrentPrefix := fs.String("kurrentdb-prefix", os.Getenv("LEDGER_KURRENTDB_PREFIX"), "voorvoegsel van de streams in KurrentDB (standaard $LEDGER_KURRENTDB_PREFIX)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	kinds := map[string]bool{"jetstream": true, "kurrentdb": true}
	if !kinds[*van] || !kinds[*naar] || *van == *naar {
		return usageErrorf("--van en --naar: de ene jetstream, de andere kurrentdb (nu %q en %q)", *van, *naar)
	}
	if *kurrentURL == "" {
		return usageErrorf("geef --kurrentdb-url (of $LEDGER_KURRENTDB_URL)")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// The JetStream side: the embedded broker on the data directory (no
	// network listener: nothing else may write meanwhile), or a cluster.
	var nc *nats.Conn
	var err error
	if *natsURL != "" {
		if nc, err = nats.Connect(*natsURL, nats.Name("ledger migrate")); err != nil {
			return fmt.Errorf("connect to NATS %s: %w", *natsURL, err)
		}
	} else {
		// With the same accounts as ledger serve: the ledger's streams are
		// in its own account.
		reg, err := gemeente.Load(*file)
		if err != nil {
			return usageErrorf("--gemeenten: %v", err)
		}
		auth, err := natsAuth(*data, reg.Codes(), archives(reg, clock.Clock(nil).Today()))
		if err != nil {
			return err
		}
		srv, err := broker.Start(broker.Config{Dir: *data, Listen: "127.0.0.1:-1", Auth: auth, Logger: log})
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		if nc, err = srv.Connect(); err != nil {
			return err
		}
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	jst, err := natsstore.New(ctx, js, natsstore.WithReplicas(*replicas))
	if err != nil {
		return err
	}
	kdb, err := kurrentdb.Open(ctx, kurrentdb.Config{
		URL: *kurrentURL, Prefix: *kurrentPrefix,
		Username: os.Getenv("LEDGER_KURRENTDB_USERNAME"), Password: os.Getenv("LEDGER_KURRENTDB_PASSWORD"),
		Metadata: event.KurrentMetadata, Logger: log,
	})
	if err != nil {
		return err
	}
	defer kdb.Close()
	var src, dst migrationStore = jst, kdb
	if *van == "kurrentdb" {
		src, dst = kdb, jst
	}

	res, err := migrateHistory(ctx, src, dst, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "gekopieerd: %d gebeurtenissen, al aanwezig: %d, in beide: %d\n", res.copied, res.present, res.compared)
	fmt.Fprintf(stdout, "digest %s: %s\n", *van, res.srcDigest)
	fmt.Fprintf(stdout, "digest %s: %s\n", *naar, res.dstDigest)
	if res.srcDigest != res.dstDigest {
		return &finding{msg: "BEVINDING: de digests van bron en doel verschillen"}
	}
	from, to, moved, err := relay.MoveCheckpoint(ctx, js, *van, *naar, func(p store.Position) (store.Position, error) {
		return samePlace(ctx, src, dst, p)
	})
	switch {
	case errors.Is(err, relay.ErrPublishedAfterCheckpoint):
		return fmt.Errorf("de geschiedenis is gekopieerd, maar het checkpoint van de relay is niet verplaatst: %w; start ledger serve, stop het netjes en migreer opnieuw (er wordt niets dubbel gekopieerd)", err)
	case err != nil:
		return err
	case moved:
		fmt.Fprintf(stdout, "checkpoint van de relay: %s in %s is %s in %s\n", from, *van, to, *naar)
	}
	fmt.Fprintf(stdout, "start de ledger nu met --store %s\n", *naar)
	return nil
}

// migrationStore is a store whose events can be found by position.
type migrationStore interface {
	store.Store
	EventAt(ctx context.Context, p store.Position) (store.RecordedEvent, error)
}

type migration struct {
	copied, present, compared uint64
	srcDigest, dstDigest      string
}

// migrateStep bounds the events of one multi-stream append of a migration
// (natsstore.MaxAppend).
const migrateStep = 1000

// migrateHistory copies what dst lacks of src's history, in src's order,
// then reads both again and compares them event by event.
func migrateHistory(ctx context.Context, src, dst store.Store, stderr io.Writer) (migration, error) {
	var res migration
	have, stop := iter.Pull2(dst.ReadAll(ctx, store.Start))
	defer stop()
	prog := newProgress(stderr, "gemigreerd")
	defer prog.done()
	multi, _ := dst.(store.MultiAppender)
	// A run is adjacent events of one stream: one append, as they may have
	// been one atomic append in the source. A step is runs of distinct
	// streams for one multi-stream append, where the store has it.
	var step []store.Write
	inStep := map[string]bool{}
	flush := func() error {
		if len(step) == 0 {
			return nil
		}
		defer func() { step, inStep = step[:0], map[string]bool{} }()
		if multi != nil && len(step) > 1 {
			if _, err := multi.AppendMulti(ctx, step); err == nil {
				return nil
			}
			// All or nothing: the runs one by one say which was refused.
		}
		for _, w := range step {
			if _, err := dst.Append(ctx, w.Stream, w.Expected, w.Events...); err != nil {
				return fmt.Errorf("migrate %s revision %d..: %w", w.Stream, first(w.Expected), err)
			}
		}
		return nil
	}
	events := 0
	for rec, err := range src.ReadAll(ctx, store.Start) {
		if err != nil {
			return res, fmt.Errorf("read source: %w", err)
		}
		prog.step(rec.Position)
		if t, err, ok := have(); ok {
			if err != nil {
				return res, fmt.Errorf("read target: %w", err)
			}
			if !sameEvent(t, rec) {
				return res, fmt.Errorf("het doel is geen begin van deze geschiedenis: op plaats %d heeft het %s %s/%d, de bron %s %s/%d; er is niets geschreven",
					res.present+1, t.ID, t.Stream, t.Revision, rec.ID, rec.Stream, rec.Revision)
			}
			res.present++
			continue
		}
		ev := store.EventData{ID: rec.ID, Type: rec.Type, Data: rec.Data}
		if n := len(step); n > 0 && step[n-1].Stream == rec.Stream {
			step[n-1].Events = append(step[n-1].Events, ev)
		} else {
			if inStep[rec.Stream] || events >= migrateStep {
				if err := flush(); err != nil {
					return res, err
				}
				events = 0
			}
			exp := store.NoStream()
			if rec.Revision > 0 {
				exp = store.Exactly(rec.Revision - 1)
			}
			step = append(step, store.Write{Stream: rec.Stream, Expected: exp, Events: []store.EventData{ev}})
			inStep[rec.Stream] = true
		}
		events++
		res.copied++
	}
	if err := flush(); err != nil {
		return res, err
	}
	prog.done()
	stop()
	return compareHistories(ctx, src, dst, res, stderr)
}

func first(e store.Expected) uint64 {
	n, _ := e.Next()
	return n
}

func sameEvent(a, b store.RecordedEvent) bool {
	return a.ID == b.ID && a.Stream == b.Stream && a.Revision == b.Revision && a.Type == b.Type && bytes.Equal(a.Data, b.Data)
}

// compareHistories reads both stores in order and compares every event;
// the digests are the running hash of ledger audit verify over each side.
func compareHistories(ctx context.Context, src, dst store.Store, res migration, stderr io.Writer) (migration, error) {
	other, stop := iter.Pull2(dst.ReadAll(ctx, store.Start))
	defer stop()
	prog := newProgress(stderr, "vergeleken")
	defer prog.done()
	var a, b audit.Hash
	for rec, err := range src.ReadAll(ctx, store.Start) {
		if err != nil {
			return res, fmt.Errorf("compare: read source: %w", err)
		}
		prog.step(rec.Position)
		t, err, ok := other()
		if err != nil {
			return res, fmt.Errorf("compare: read target: %w", err)
		}
		if !ok {
			return res, &finding{msg: fmt.Sprintf("BEVINDING: het doel houdt op na %d gebeurtenissen; de bron heeft %s %s/%d", res.compared, rec.ID, rec.Stream, rec.Revision)}
		}
		if !sameEvent(t, rec) {
			return res, &finding{msg: fmt.Sprintf("BEVINDING: op plaats %d heeft het doel %s %s/%d, de bron %s %s/%d", res.compared+1, t.ID, t.Stream, t.Revision, rec.ID, rec.Stream, rec.Revision)}
		}
		a, b = audit.Chain(a, rec.Data), audit.Chain(b, t.Data)
		res.compared++
	}
	if t, err, ok := other(); ok && err == nil {
		return res, &finding{msg: fmt.Sprintf("BEVINDING: het doel heeft na de hele bron nog %s %s/%d", t.ID, t.Stream, t.Revision)}
	}
	res.srcDigest, res.dstDigest = audit.DigestOf(a), audit.DigestOf(b)
	return res, nil
}

// samePlace is the position in dst of the event at position p in src.
func samePlace(ctx context.Context, src migrationStore, dst store.Store, p store.Position) (store.Position, error) {
	e, err := src.EventAt(ctx, p)
	if err != nil {
		return store.Start, err
	}
	recs, err := dst.ReadStream(ctx, e.Stream)
	if err != nil {
		return store.Start, err
	}
	if e.Revision >= uint64(len(recs)) || recs[e.Revision].ID != e.ID {
		return store.Start, fmt.Errorf("event %s (%s/%d) is not in the target", e.ID, e.Stream, e.Revision)
	}
	return recs[e.Revision].Position, nil
}
