package natsstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/broker/natscluster"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// BenchmarkAppendR3 compares, in one run, appends to the single embedded
// server and to an R3 store on a three-node cluster in this process, both
// with fsync before every acknowledgement and both over TCP on loopback (as
// `ledger serve --nats-url` connects): one writer for the latency (p50/p99),
// eight for the throughput. On one machine the three nodes share its two
// cores and its disk, so the ratio is what to read, not the R3 figure as a
// prediction for three machines.
func BenchmarkAppendR3(b *testing.B) {
	setups := []struct {
		name string
		open func(b *testing.B) *Store
	}{
		{"single", func(b *testing.B) *Store {
			srv := startBroker(b, broker.Config{Dir: b.TempDir(), Listen: "127.0.0.1:0"})
			nc, err := nats.Connect(srv.ClientURL())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(nc.Close)
			js, err := jetstream.New(nc)
			if err != nil {
				b.Fatal(err)
			}
			s, err := New(context.Background(), js)
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"r3-cluster", func(b *testing.B) *Store {
			return openCluster(b, natscluster.Start(b), "LEDGER_BENCH")
		}},
	}
	for _, setup := range setups {
		b.Run(setup.name, func(b *testing.B) {
			s := setup.open(b)
			for _, writers := range []int{1, 8} {
				b.Run(map[int]string{1: "one-writer", 8: "eight-writers"}[writers], func(b *testing.B) {
					appendConcurrently(b, s, writers)
				})
			}
		})
	}
}

// appendConcurrently appends single events to existing case streams from
// writers goroutines, each on streams of its own.
func appendConcurrently(b *testing.B, s *Store, writers int) {
	ctx := context.Background()
	payload := make([]byte, payloadSize)
	const perWriter = 32
	type stream struct {
		name string
		rev  uint64
	}
	streams := make([][]stream, writers)
	for w := range streams {
		for range perWriter {
			st := stream{name: "case-" + uuid.NewString()}
			res, err := s.Append(ctx, st.name, store.NoStream(), store.EventData{ID: uuid.New(), Type: "aanmelding", Data: payload})
			if err != nil {
				b.Fatal(err)
			}
			st.rev = res.Revision
			streams[w] = append(streams[w], st)
		}
	}
	work := make(chan struct{})
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			var mine []time.Duration
			i := 0
			for range work {
				st := &streams[w][i%perWriter]
				i++
				start := time.Now()
				res, err := s.Append(ctx, st.name, store.Exactly(st.rev), store.EventData{ID: uuid.New(), Type: "intake", Data: payload})
				if err != nil {
					errs <- err
					for range work {
					}
					return
				}
				mine = append(mine, time.Since(start))
				st.rev = res.Revision
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	for b.Loop() {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	report(b, lat)
}
