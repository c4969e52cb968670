package natsstore

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// Both benchmarks run each mode on a server of its own, over an in-process
// connection, so that ledger appends compare with the raw publish floor.
var durability = []struct {
	name   string
	noSync bool
}{
	{"fsync", false}, // the default: fsync before every acknowledgement
	{"nosync", true}, // for context only
}

const payloadSize = 300

// BenchmarkAppend appends single events, one at a time, to new streams
// (expected NoStream) and to existing ones (Exactly).
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	payload := make([]byte, payloadSize)
	for _, d := range durability {
		b.Run(d.name, func(b *testing.B) {
			s := open(b, startBroker(b, broker.Config{Dir: b.TempDir(), Listen: "127.0.0.1:-1", NoSync: d.noSync}))
			b.Run("new-stream", func(b *testing.B) {
				var lat []time.Duration
				for b.Loop() {
					ev := store.EventData{ID: uuid.New(), Type: "aanmelding", Data: payload}
					start := time.Now()
					if _, err := s.Append(ctx, "case-"+ev.ID.String(), store.NoStream(), ev); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				report(b, lat)
			})
			b.Run("existing-stream", func(b *testing.B) {
				const streams = 256
				// -count runs this again on the same server: new names each time.
				names := make([]string, streams)
				revs := make([]uint64, streams)
				for i := range names {
					names[i] = "case-" + uuid.NewString()
					ev := store.EventData{ID: uuid.New(), Type: "aanmelding", Data: payload}
					if _, err := s.Append(ctx, names[i], store.NoStream(), ev); err != nil {
						b.Fatal(err)
					}
				}
				var lat []time.Duration
				i := 0
				for b.Loop() {
					k := i % streams
					i++
					ev := store.EventData{ID: uuid.New(), Type: "intake", Data: payload}
					start := time.Now()
					res, err := s.Append(ctx, names[k], store.Exactly(revs[k]), ev)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
					revs[k] = res.Revision
				}
				report(b, lat)
			})
		})
	}
}

// BenchmarkRawPublish is the floor: a plain synchronous JetStream publish
// into a stream configured as the store's, one message at a time.
func BenchmarkRawPublish(b *testing.B) {
	ctx := context.Background()
	payload := make([]byte, payloadSize)
	for _, d := range durability {
		b.Run(d.name, func(b *testing.B) {
			s := open(b, startBroker(b, broker.Config{Dir: b.TempDir(), Listen: "127.0.0.1:-1", NoSync: d.noSync}))
			var lat []time.Duration
			i := 0
			for b.Loop() {
				subj := s.prefix + "raw-" + strconv.Itoa(i%256)
				i++
				start := time.Now()
				if _, err := s.js.Publish(ctx, subj, payload); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			report(b, lat)
		})
	}
}

func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e3 }
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkReadAll reads the whole store in global order, as a rebuild of
// the regional model or an auditor's replay does. The store is filled
// without fsync, in batches; reading does not depend on how it was written.
func BenchmarkReadAll(b *testing.B) {
	ctx := context.Background()
	s := open(b, startBroker(b, broker.Config{Dir: b.TempDir(), Listen: "127.0.0.1:-1", NoSync: true}))
	const events, perCase = 200_000, 40
	payload := make([]byte, payloadSize)
	for c := 0; c < events/perCase; c++ {
		batch := make([]store.EventData, perCase)
		for i := range batch {
			batch[i] = store.EventData{ID: uuid.New(), Type: "uren", Data: payload}
		}
		if _, err := s.Append(ctx, "case-"+uuid.NewString(), store.NoStream(), batch...); err != nil {
			b.Fatal(err)
		}
	}
	// The broker's own ordered-consumer read of the same messages, without
	// anything the store does with them: the ceiling the store's read is
	// measured against (issue 11 asks for at least half of it).
	b.Run("broker", func(b *testing.B) {
		for b.Loop() {
			cons, err := s.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
			if err != nil {
				b.Fatal(err)
			}
			it, err := cons.Messages(jetstream.PullMaxMessages(8192))
			if err != nil {
				b.Fatal(err)
			}
			for n := 0; n < events; n++ {
				if _, err := it.Next(); err != nil {
					b.Fatal(err)
				}
			}
			it.Stop()
		}
		b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			n := 0
			for _, err := range s.ReadAll(ctx, store.Start) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != events {
				b.Fatalf("read %d events, want %d", n, events)
			}
		}
		b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkAppendMulti appends 100 new streams of 5 events each in one
// atomic step, as the import does: with fsync the server commits the whole
// step with one fsync. Compare its events/s with BenchmarkAppend/fsync.
func BenchmarkAppendMulti(b *testing.B) {
	ctx := context.Background()
	payload := make([]byte, payloadSize)
	const streams, perStream = 100, 5
	for _, d := range durability {
		b.Run(d.name, func(b *testing.B) {
			s := open(b, startBroker(b, broker.Config{Dir: b.TempDir(), Listen: "127.0.0.1:-1", NoSync: d.noSync}))
			n := 0
			for b.Loop() {
				writes := make([]store.Write, streams)
				for i := range writes {
					evs := make([]store.EventData, perStream)
					for j := range evs {
						evs[j] = store.EventData{ID: uuid.New(), Type: "intake", Data: payload}
					}
					writes[i] = store.Write{Stream: "case-" + uuid.NewString(), Expected: store.NoStream(), Events: evs}
				}
				if _, err := s.AppendMulti(ctx, writes); err != nil {
					b.Fatal(err)
				}
				n += streams * perStream
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
