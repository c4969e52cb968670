package caseload

import (
	"errors"
	"testing"
	"time"
)

func TestPlanRebuild(t *testing.T) {
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	stream := func(f startFacts) startFacts {
		f.Stream, f.First, f.Last, f.Msgs = created, 1, 100, 100
		if f.ViewStream.IsZero() && f.Applied > 0 {
			f.ViewStream = created
		}
		return f
	}
	cons := func(ackFloor, delivered uint64) *consumerFacts {
		return &consumerFacts{AckFloor: ackFloor, Delivered: delivered, ConfigOK: true}
	}
	for _, tc := range []struct {
		name     string
		facts    startFacts
		rebuild  bool
		consumer consumerAction
		start    uint64
		err      error
	}{
		{"first start", stream(startFacts{}), false, createConsumer, 1, nil},
		{"snapshot, no consumer", stream(startFacts{Applied: 40}), false, createConsumer, 41, nil},
		{"clean restart", stream(startFacts{Applied: 40, Consumer: cons(40, 40)}), false, keepConsumer, 41, nil},
		{"crash after snapshot, before ack", stream(startFacts{Applied: 40, Consumer: cons(30, 40)}), false, keepConsumer, 41, nil},
		{"crash before snapshot", stream(startFacts{Applied: 40, Consumer: cons(30, 55)}), false, recreateConsumer, 41, nil},
		{"snapshot deleted", stream(startFacts{Consumer: cons(100, 100)}), false, recreateConsumer, 1, nil},
		{"snapshot older than ack floor", stream(startFacts{Applied: 20, Consumer: cons(60, 60)}), false, recreateConsumer, 21, nil},
		{"snapshot unreadable", stream(startFacts{SnapshotErr: errors.New("bad json"), Consumer: cons(100, 100)}), true, recreateConsumer, 1, nil},
		{"bus stream recreated", stream(startFacts{Applied: 40, ViewStream: created.Add(-time.Hour), Consumer: cons(0, 0)}), true, keepConsumer, 1, nil},
		{"snapshot beyond the stream", stream(startFacts{Applied: 400, Consumer: cons(100, 100)}), true, recreateConsumer, 1, nil},
		{"consumer config changed", stream(startFacts{Applied: 40, Consumer: &consumerFacts{AckFloor: 40, Delivered: 40}}), false, recreateConsumer, 41, nil},
		{"out of order", stream(startFacts{Applied: 40, Consumer: cons(40, 40), OutOfOrder: true}), false, recreateConsumer, 41, nil},
		{"bus lost events", startFacts{Applied: 10, ViewStream: created, Stream: created, First: 20, Last: 100, Msgs: 81}, false, 0, 0, ErrBusIncomplete},
		{"empty stream", startFacts{Stream: created}, false, createConsumer, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := planRebuild(tc.facts)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Rebuild != tc.rebuild || p.Consumer != tc.consumer || p.StartSeq != tc.start || p.Why == "" {
				t.Errorf("plan %+v, want rebuild %v, %v consumer at %d, with a reason", p, tc.rebuild, tc.consumer, tc.start)
			}
		})
	}
}
