// Package natsstoretest gives tests of other packages a real JetStream store
// on an embedded NATS server of their own (fsync on, in-process connection),
// cleaned up when the test ends.
package natsstoretest

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore"
)

// New starts a server in a temporary directory and opens a store on it as
// ledger serve does on its embedded broker (atomic steps of up to
// broker.MaxBatch events); opts come after that and may change it.
func New(tb testing.TB, opts ...natsstore.Option) *natsstore.Store {
	tb.Helper()
	srv, err := broker.Start(broker.Config{Dir: tb.TempDir(), Listen: "127.0.0.1:-1"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Shutdown)
	nc, err := srv.Connect()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := natsstore.New(context.Background(), js, append([]natsstore.Option{natsstore.WithMaxAppend(broker.MaxBatch)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}
