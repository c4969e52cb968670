package natsstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker/natscluster"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/storetest"
)

// TestStoreOnCluster runs the whole conformance suite against R3 stores on
// a real three-node cluster, every client connected over TCP with the URL
// list of all nodes, as `ledger serve --nats-url ... --replicas 3` is.
// One cluster serves every case; each case gets a JetStream stream of its
// own, which is an empty store.
func TestStoreOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the cluster suite takes a while")
	}
	c := natscluster.Start(t)
	var n atomic.Int64
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			name := fmt.Sprintf("LEDGER_STORE_%d", n.Add(1))
			s := openCluster(t, c, name)
			t.Cleanup(func() {
				// Every case's stream is a Raft group on every node; drop
				// it so that later cases do not pay for earlier ones.
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := s.js.DeleteStream(ctx, name); err != nil {
					t.Logf("delete stream %s: %v", name, err)
				}
			})
			return s
		},
		Features: storetest.Features{
			MaxAppend: DefaultMaxAppend,
			Reopen: func(t *testing.T, st store.Store) store.Store {
				return openCluster(t, c, st.(*Store).name)
			},
			InterruptAppend: func(t *testing.T, st store.Store, stream string, expected store.Expected, events []store.EventData, after int) {
				nc, err := nats.Connect(c.URL(), nats.MaxReconnects(0))
				if err != nil {
					t.Fatal(err)
				}
				interruptAppendOn(t, nc, st.(*Store), stream, expected, events, after)
			},
		},
	})
}

// openCluster opens an R3 store on stream name of c, on a connection of
// its own.
func openCluster(t testing.TB, c *natscluster.Cluster, name string) *Store {
	t.Helper()
	return openClusterVia(t, c, name, c.URL())
}

// openClusterVia is openCluster connecting with the URL list urls.
func openClusterVia(t testing.TB, c *natscluster.Cluster, name, urls string, opts ...nats.Option) *Store {
	t.Helper()
	nc, err := nats.Connect(urls, append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), natscluster.Timeout)
	defer cancel()
	// Creating an R3 stream needs a meta leader; right after a fault the
	// cluster may still be electing one.
	var s *Store
	err = natscluster.Eventually(natscluster.Timeout, func() error {
		var err error
		s, err = New(ctx, js, WithStreamName(name), WithSubjectPrefix("ledger."+name), WithReplicas(3))
		return err
	})
	if err != nil {
		t.Fatalf("open store %s on the cluster: %v", name, err)
	}
	return s
}

// TestSettleOnOldLeaderAnswer: a retry of an append that landed, told a
// duplicate by the server while the leader's answer about the stream is
// still from before the append (as right after a partition heals), is the
// retry it is, not a conflict; ids that are stored in another stream stay
// a conflict. Each case is one append of events: a single one, whose
// duplicate answer carries its sequence, and a batch, whose does not.
func TestSettleOnOldLeaderAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs a cluster")
	}
	c := natscluster.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d events", n), func(t *testing.T) {
			name := fmt.Sprintf("LEDGER_OLD_%d", n)
			// retry makes the first append and knows the stream up to it;
			// the append it then retries lands through another handle (as
			// its first attempt, whose answer was lost, did).
			retry, first := openCluster(t, c, name), openCluster(t, c, name)
			pre := testEvents(1)
			if _, err := retry.Append(ctx, "case-1", store.NoStream(), pre...); err != nil {
				t.Fatal(err)
			}
			evs := testEvents(n)
			landed, err := first.Append(ctx, "case-1", store.Exactly(0), evs...)
			if err != nil {
				t.Fatal(err)
			}
			old, _, err := first.leaderLast(ctx, first.prefix+"case-1")
			if err != nil {
				t.Fatal(err)
			}
			// The leader answers for the stream's last event as it was
			// before the append: revision 0.
			before := tip{0, landed.Position.Commit - uint64(n)}
			var asked atomic.Int64
			retry.testHookLeaderLast = func(subj string, t tip, ok bool) (tip, bool) {
				asked.Add(1)
				return before, true
			}
			res, err := retry.Append(ctx, "case-1", store.Exactly(0), evs...)
			if err != nil {
				t.Fatalf("retry of an append that landed, with an old answer from the leader (last %+v, really %+v): %v", before, old, err)
			}
			if res != landed {
				t.Fatalf("retry returned %+v, want what the append returned: %+v", res, landed)
			}
			if asked.Load() == 0 {
				t.Fatal("the retry never asked the leader: the old answer was not tested")
			}

			// The same ids at the end of another stream: a conflict, even
			// with an answer that puts that stream where they would go.
			retry.testHookLeaderLast = nil
			if _, err := retry.Append(ctx, "case-2", store.NoStream(), testEvents(1)...); err != nil {
				t.Fatal(err)
			}
			_, err = retry.Append(ctx, "case-2", store.Exactly(0), evs...)
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("ids stored in another stream: %v, want a conflict", err)
			}
			recs, err := retry.ReadStream(ctx, "case-2")
			if err != nil || len(recs) != 1 {
				t.Fatalf("case-2 holds %d events (%v), want only its first", len(recs), err)
			}
		})
	}
}
