package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/services/broker/natscluster"
	"github.com/gooi-vechtstreek/ledger/services/bus"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore"
)

// TestLedgerOnClusterThroughFaults runs ledger serve --nats-url
// --replicas 3 on a real three-node JetStream cluster while commands
// stream in, and kills a node, then the store's stream leader, restarting
// each, then partitions a node off and heals it. A command is retried with its own event id until it is
// acknowledged. After the faults: every acknowledged command is in the
// store exactly once, every gemeente's bus stream holds exactly its events
// once (the relay skipped and duplicated nothing), and the live caseload
// views equal their replay from the store.
func TestLedgerOnClusterThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the ledger through cluster faults takes a while")
	}
	c := natscluster.Start(t)
	clk := clock.NewManual(2026, time.March, 2)
	addr := startServerWith(t, t.TempDir(), clk, func(cfg *serveConfig) { cfg.natsURL, cfg.replicas = c.URL(), 3 })
	api := apiClient(t, addr, 30*time.Second)

	gemeenten := []string{"GM0402", "GM1942", "GM0406"}
	var mu sync.Mutex
	acked := map[uuid.UUID]bool{}
	retries := 0
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			// Paced at 50 commands a second each, as a busy region, not as
			// fast as the machine goes: every check reads the whole store.
			pace := time.NewTicker(20 * time.Millisecond)
			defer pace.Stop()
			for i := 0; ctx.Err() == nil; i++ {
				select {
				case <-pace.C:
				case <-ctx.Done():
					return
				}
				id := uuid.New()
				req := &ledgerv1.RecordRequest{Gemeente: gemeenten[w], EventId: id.String(), Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
					ResidentId: fmt.Sprintf("R-cluster-%d-%d", w, i), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}
				// The same request again after a lost answer or an
				// unavailable store: the event id makes it the same event.
				for attempt := 0; ctx.Err() == nil; attempt++ {
					if attempt > 0 {
						// Retries at the same pace: a ledger on the minority
						// side of a partition refuses at once.
						select {
						case <-pace.C:
						case <-ctx.Done():
							return
						}
					}
					_, err := api.Record(context.Background(), connect.NewRequest(req))
					if err == nil {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
						break
					}
					if code := connect.CodeOf(err); code != connect.CodeUnavailable && code != connect.CodeDeadlineExceeded && code != connect.CodeUnknown && code != connect.CodeAborted {
						t.Errorf("writer %d: %v", w, err)
						return
					}
					mu.Lock()
					retries++
					mu.Unlock()
				}
			}
		})
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	progress := func(what string) {
		t.Helper()
		before := count()
		if err := natscluster.Eventually(natscluster.Timeout, func() error {
			if count() < before+20 {
				return fmt.Errorf("%d commands acknowledged since %s", count()-before, what)
			}
			return nil
		}); err != nil {
			t.Fatalf("no progress after %s: %v\n%s", what, err, c.Describe())
		}
	}
	progress("the start")
	// Per cycle a node, then the store's stream leader, each killed and
	// restarted: one cycle in a test run, LEDGER_CHAOS_CYCLES in make chaos.
	cycles := 1
	if s := os.Getenv("LEDGER_CHAOS_CYCLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("LEDGER_CHAOS_CYCLES=%q", s)
		}
		cycles = n
	}
	nc, err := nats.Connect(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := natsstore.New(context.Background(), js, natsstore.WithReplicas(3))
	if err != nil {
		t.Fatal(err)
	}
	stored := map[uuid.UUID]int{}
	// check, after a fault and while the writers go on: every command
	// acknowledged so far is in the store once, nothing is in it twice,
	// and once the relay holds the store's last event, each gemeente's bus
	// stream holds its events up to there, each once.
	check := func(after string) {
		t.Helper()
		mu.Lock()
		sofar := maps.Clone(acked)
		mu.Unlock()
		perGemeente := map[string]map[string]bool{}
		var last store.Position
		// Right after a fault the test's own reader may meet a node that
		// is still catching up: a failed read is read again, whole.
		if err := natscluster.Eventually(natscluster.Timeout, func() error {
			clear(stored)
			clear(perGemeente)
			last = store.Start
			for rec, err := range st.ReadAll(context.Background(), store.Start) {
				if err != nil {
					return err
				}
				stored[rec.ID]++
				last = rec.Position
				ev, err := event.Decode(rec.Data)
				if err != nil {
					return fmt.Errorf("event %s: %w", rec.ID, err)
				}
				for _, g := range event.Audience(ev, gemeenten) {
					if perGemeente[g] == nil {
						perGemeente[g] = map[string]bool{}
					}
					perGemeente[g][rec.ID.String()] = true
				}
			}
			return nil
		}); err != nil {
			t.Fatalf("after %s: read the store: %v", after, err)
		}
		for id := range sofar {
			if stored[id] != 1 {
				t.Errorf("after %s: acknowledged event %s is in the store %d times", after, id, stored[id])
			}
		}
		for id, n := range stored {
			if n != 1 {
				t.Errorf("after %s: event %s is in the store %d times", after, id, n)
			}
		}
		for _, g := range gemeenten {
			// Each wait is a few seconds at most, then says how far behind
			// the view is (thousands of events after a fault): ask again.
			if err := natscluster.Eventually(natscluster.Timeout, func() error {
				_, err := api.GetView(context.Background(), connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: g, NaPositie: last.String()}))
				return err
			}); err != nil {
				t.Fatalf("after %s: view %s at %s: %v", after, g, last, err)
			}
			onBus := busMessages(t, js, g, last)
			for id := range perGemeente[g] {
				if onBus[id] != 1 {
					t.Errorf("after %s: %s: event %s on the bus %d times", after, g, id, onBus[id])
				}
			}
			if len(onBus) != len(perGemeente[g]) {
				t.Errorf("after %s: %s: %d events on the bus up to %s, %d in the store", after, g, len(onBus), last, len(perGemeente[g]))
			}
		}
	}

	faults := 0
	for cycle := range cycles {
		node := (cycle + 2) % 3
		c.Kill(node)
		progress("killing a node")
		c.Restart(node)
		progress("its restart")
		check("a node's kill and restart")
		leader, ok := c.StreamLeader(natsstore.DefaultStreamName)
		if !ok {
			t.Fatalf("no leader of the store's stream\n%s", c.Describe())
		}
		c.Kill(leader)
		progress("killing the store's leader")
		c.Restart(leader)
		progress("its restart")
		check("the store leader's kill and restart")
		// A node cut off from the other two: if the ledger's connection is
		// on it, the ledger can not write until the heal (the minority side
		// commits nothing), so progress is asked for after the heal.
		c.Partition(node)
		c.Heal(node)
		progress("healing a partition")
		check("a partition and its heal")
		faults += 3
	}
	stop()
	wg.Wait()
	check("the writers stopped")

	// With nothing moving: every live caseload view and beleidsview equals
	// its replay from the store.
	for _, g := range gemeenten {
		live, replay := getCaseload(t, api, g, false), getCaseload(t, api, g, true)
		live.Bron, replay.Bron = "", ""
		if !proto.Equal(live, replay) {
			t.Errorf("%s: the live caseload differs from its replay:\nlive %v\nreplay %v", g, live, replay)
		}
		var a, b *ledgerv1.Beleidsview
		eventually(t, "the live beleidsview at the store's position", func() bool {
			a, b = getView(t, api, g, 2026, false), getView(t, api, g, 2026, true)
			return a.GetBijgewerktTot() == b.GetBijgewerktTot()
		})
		a.Bron, b.Bron = "", ""
		if !proto.Equal(a, b) {
			t.Errorf("%s: the live beleidsview differs from its replay", g)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("cycles %d, faults %d (a node and the store's leader killed and restarted, a node partitioned and healed), commands acknowledged %d, events stored %d, retries %d", cycles, faults, len(acked), len(stored), retries)
}

// busMessages counts, per event id, the messages on gemeente g's bus stream
// with a store position up to upTo (all of them when upTo is Start).
func busMessages(t *testing.T, js jetstream.JetStream, g string, upTo store.Position) map[string]int {
	t.Helper()
	s, err := js.Stream(context.Background(), bus.StreamName(g))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(context.Background(), seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if upTo != store.Start {
			if p, err := store.ParsePosition(m.Header.Get(bus.HeaderPosition)); err != nil || upTo.Less(p) {
				continue
			}
		}
		out[m.Header.Get(jetstream.MsgIDHeader)]++
	}
	return out
}
