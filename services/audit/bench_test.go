package audit_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// BenchmarkVerify checks a history of BENCH_EVENTS (default 1,000,000)
// chained events of 200,000 cases in nine gemeenten, as the CLI does once
// the bytes are read: every chain, the digest and every gemeente's tree.
func BenchmarkVerify(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("BENCH_EVENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("BENCH_EVENTS=%q", s)
		}
	}
	codes := []string{"GM0034", "GM0317", "GM0376", "GM0402", "GM0406", "GM0417", "GM0457", "GM1696", "GM1942"}
	cases := max(1, n/5)
	prev := make([][]byte, cases)
	ids := make([]string, cases)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	recs := make([]store.RecordedEvent, n)
	at := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := range recs {
		c := i % cases
		id := uuid.New()
		ev := &ledgerv1.Event{Envelope: &ledgerv1.Envelope{EventId: id.String(), CaseId: ids[c], Gemeente: codes[c%len(codes)],
			OccurredOn: event.YMD(2024, 1, 1+i%28), RecordedAt: timestamppb.New(at), Actor: "km-1 (Gemeente Hilversum)", SchemaVersion: 1},
			Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_ONTWIKKELBAAR, LoonwaardeProcent: 40}}}
		if prev[c] != nil {
			ev.Envelope.PrevHash = event.Hash(prev[c])
		}
		data, err := proto.Marshal(ev)
		if err != nil {
			b.Fatal(err)
		}
		prev[c] = data
		recs[i] = store.RecordedEvent{ID: id, Stream: event.Stream(uuid.MustParse(ids[c])), Revision: uint64(i / cases),
			Position: store.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}, Data: data}
	}
	b.ResetTimer()
	for b.Loop() {
		v := audit.New(audit.Config{Participants: codes})
		for i := 0; i < len(recs); i += 5000 { // the CLI's pages
			v.AddAll(recs[i:min(i+5000, len(recs))])
		}
		if rep := v.Report(); len(rep.Breaks) != 0 || rep.Events != uint64(n) {
			b.Fatalf("%d events, breaks %v", rep.Events, rep.Breaks)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
