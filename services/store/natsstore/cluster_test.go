package natsstore

import (
	"context"
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
			MaxAppend: MaxAppend,
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
