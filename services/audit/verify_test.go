package audit_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore/natsstoretest"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var participants = []string{"GM0402", "GM1942"}

// history records three cases of four events each through the real
// command path on a real store, interleaved, and one verhuizing.
func history(t *testing.T) (store.Store, []store.RecordedEvent) {
	t.Helper()
	ctx := context.Background()
	st := natsstoretest.New(t)
	reg, err := gemeente.Parse(strings.NewReader(`{"gemeenten": [
		{"code": "GM0402", "naam": "Hilversum", "geldig_van": "2015-01-01"},
		{"code": "GM1942", "naam": "Gooise Meren", "geldig_van": "2016-01-01"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	h := &caseflow.Handler{Store: st, Gemeenten: reg, Clock: func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) }}
	var ids []uuid.UUID
	for i := range 3 {
		res, err := h.Handle(ctx, caseflow.Command{Gemeente: participants[i%2], Datum: event.YMD(2026, 3, 2), Actor: "km-1",
			Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
				ResidentId: "R-" + string(rune('a'+i)), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.CaseID)
	}
	for d := 3; d <= 5; d++ {
		for _, id := range ids {
			if _, err := h.Handle(ctx, caseflow.Command{CaseID: id, Datum: event.YMD(2026, 3, d), Actor: "km-1",
				Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede_TREDE_ONTWIKKELBAAR, LoonwaardeProcent: uint32(40 + d)}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := h.Handle(ctx, caseflow.Command{CaseID: ids[0], Datum: event.YMD(2026, 3, 9), Actor: "km-1",
		Transition: &ledgerv1.Event{Payload: &ledgerv1.Event_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{VanGemeente: "GM0402", NaarGemeente: "GM1942"}}}}); err != nil {
		t.Fatal(err)
	}
	return st, readAll(t, st)
}

func readAll(t *testing.T, st store.Store) []store.RecordedEvent {
	t.Helper()
	var out []store.RecordedEvent
	for rec, err := range st.ReadAll(context.Background(), store.Start) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	return out
}

// copyOf writes recs into a fresh store in this order, as a tamperer with
// access to the files would leave it: the store numbers the revisions.
func copyOf(t *testing.T, recs []store.RecordedEvent) []store.RecordedEvent {
	t.Helper()
	st := natsstoretest.New(t)
	for _, r := range recs {
		if _, err := st.Append(context.Background(), r.Stream, store.Any(), store.EventData{ID: r.ID, Type: r.Type, Data: r.Data}); err != nil {
			t.Fatal(err)
		}
	}
	return readAll(t, st)
}

func verify(recs []store.RecordedEvent, cfg audit.Config) *audit.Report {
	if cfg.Participants == nil {
		cfg.Participants = participants
	}
	v := audit.New(cfg)
	for _, r := range recs {
		v.Add(r)
	}
	return v.Report()
}

// altered returns the stored bytes of rec with a changed loonwaarde and
// its hash link kept: a forged fact.
func altered(t *testing.T, rec store.RecordedEvent) []byte {
	t.Helper()
	ev, err := event.Decode(rec.Data)
	if err != nil {
		t.Fatal(err)
	}
	ev.GetIntake().LoonwaardeProcent = 99
	data, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestVerifyNamesThePlace: a copy of the store with one event altered,
// removed, moved or inserted is refused at exactly the place that no
// longer holds, and the untouched history passes with the same digest
// every time.
func TestVerifyNamesThePlace(t *testing.T) {
	_, recs := history(t)
	whole := verify(recs, audit.Config{})
	if len(whole.Breaks) != 0 || whole.Events != uint64(len(recs)) {
		t.Fatalf("untouched history: %d events, breaks %v", whole.Events, whole.Breaks)
	}
	if again := verify(copyOf(t, recs), audit.Config{}); again.Digest != whole.Digest {
		t.Fatalf("the same bytes in another store give digest %s, want %s", again.Digest, whole.Digest)
	}
	// The second event of the first case stream and the one after it.
	stream := recs[0].Stream
	var ofStream []int
	for i, r := range recs {
		if r.Stream == stream {
			ofStream = append(ofStream, i)
		}
	}
	k, next := ofStream[1], ofStream[2]

	for _, tc := range []struct {
		name     string
		tamper   func([]store.RecordedEvent) []store.RecordedEvent
		rule     string
		revision uint64 // of the event in stream where the history breaks
	}{
		{"altered", func(rs []store.RecordedEvent) []store.RecordedEvent {
			rs[k].Data = altered(t, rs[k])
			return rs
		}, audit.RuleHash, 2},
		{"removed", func(rs []store.RecordedEvent) []store.RecordedEvent {
			return append(rs[:k:k], rs[k+1:]...)
		}, audit.RuleHash, 1},
		{"moved", func(rs []store.RecordedEvent) []store.RecordedEvent {
			rs[k], rs[next] = rs[next], rs[k]
			return rs
		}, audit.RuleHash, 1},
		{"inserted", func(rs []store.RecordedEvent) []store.RecordedEvent {
			forged := rs[k]
			forged.ID = uuid.New()
			ev, _ := event.Decode(forged.Data)
			ev.Envelope.EventId = forged.ID.String()
			forged.Data, _ = proto.Marshal(ev)
			return append(rs[:k:k], append([]store.RecordedEvent{forged}, rs[k:]...)...)
		}, audit.RuleHash, 2},
		{"first link emptied", func(rs []store.RecordedEvent) []store.RecordedEvent {
			ev, _ := event.Decode(rs[k].Data)
			ev.Envelope.PrevHash = nil
			rs[k].Data, _ = proto.Marshal(ev)
			return rs
		}, audit.RuleHash, 1},
		{"other id", func(rs []store.RecordedEvent) []store.RecordedEvent {
			rs[k].ID = uuid.New()
			return rs
		}, audit.RuleID, 1},
		{"not an event", func(rs []store.RecordedEvent) []store.RecordedEvent {
			rs[k].Data = []byte{0xff, 0x01, 0x02}
			return rs
		}, audit.RuleOnleesbaar, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := tc.tamper(append([]store.RecordedEvent(nil), recs...))
			rep := verify(copyOf(t, rs), audit.Config{})
			if len(rep.Breaks) == 0 {
				t.Fatal("tampered history passes")
			}
			b := rep.Breaks[0]
			if b.Rule != tc.rule || b.Stream != stream || b.Revision != tc.revision || b.Reden == "" {
				t.Fatalf("first break %+v; want %s at %s revision %d", b, tc.rule, stream, tc.revision)
			}
			if tc.rule == audit.RuleHash && (len(b.Found) != 64 && b.Found != "" || b.Expected == b.Found) {
				t.Errorf("hashes not named: expected %q found %q", b.Expected, b.Found)
			}
			if tc.rule != audit.RuleID && rep.Digest == whole.Digest {
				t.Error("the digest did not change")
			}
		})
	}
}

// TestVerifyDigestCatchesWhatChainsCannot: the last event of a stream has
// no successor to betray it, and two streams' events can swap places
// without breaking either chain; the digest of the history up to a
// position still changes.
func TestVerifyDigestCatchesWhatChainsCannot(t *testing.T) {
	_, recs := history(t)
	whole := verify(recs, audit.Config{})
	last := len(recs) - 2 // an intake, the last event of its case
	rs := append([]store.RecordedEvent(nil), recs...)
	rs[last].Data = altered(t, rs[last])
	if rep := verify(copyOf(t, rs), audit.Config{}); len(rep.Breaks) != 0 || rep.Digest == whole.Digest {
		t.Fatalf("altered last event: breaks %v, digest %s (was %s)", rep.Breaks, rep.Digest, whole.Digest)
	}
	rs = append([]store.RecordedEvent(nil), recs...)
	rs[0], rs[1] = rs[1], rs[0] // two aanmeldingen of different cases
	if rep := verify(copyOf(t, rs), audit.Config{}); len(rep.Breaks) != 0 || rep.Digest == whole.Digest {
		t.Fatalf("swapped streams: breaks %v, digest %s (was %s)", rep.Breaks, rep.Digest, whole.Digest)
	}
	// The digest up to a position is the digest of that prefix.
	prefix := verify(recs[:5], audit.Config{})
	if prefix.Tot != recs[4].Position || prefix.Digest == whole.Digest {
		t.Errorf("prefix to %s: tot %s digest %s", recs[4].Position, prefix.Tot, prefix.Digest)
	}
}

// TestVerifyGemeentePart: a gemeente's auditor, given only the events its
// gemeente receives, finds them whole, gets the same tree root as the
// full verification computes for it, and can prove one event's inclusion
// with a path that fails for any other event.
func TestVerifyGemeentePart(t *testing.T) {
	_, recs := history(t)
	full := verify(recs, audit.Config{Prove: recs[len(recs)-1].ID.String()})
	for _, g := range participants {
		var own []store.RecordedEvent
		for _, r := range recs {
			ev, _ := event.Decode(r.Data)
			for _, a := range event.Audience(ev, participants) {
				if a == g {
					own = append(own, r)
				}
			}
		}
		part := verify(own, audit.Config{Gemeente: g})
		if len(part.Breaks) != 0 {
			t.Fatalf("%s: its own events do not hold: %v", g, part.Breaks)
		}
		var root string
		for _, gd := range full.Gemeenten {
			if gd.Gemeente == g {
				root = gd.Root
			}
		}
		if len(part.Gemeenten) != 1 || part.Gemeenten[0].Root != root || root == "" {
			t.Errorf("%s: own root %v, full verification's %s", g, part.Gemeenten, root)
		}
	}
	// The verhuizing goes to both gemeenten: a proof in each tree.
	if len(full.Proofs) != 2 {
		t.Fatalf("proofs %v, want one per gemeente", full.Proofs)
	}
	for _, p := range full.Proofs {
		if err := audit.VerifyPath(p.Leaf, p.Index, p.Size, p.Path, p.Root); err != nil {
			t.Errorf("%s: proof of %s: %v", p.Gemeente, p.EventID, err)
		}
		other := audit.LeafHash(recs[0].Data)
		if err := audit.VerifyPath(other, p.Index, p.Size, p.Path, p.Root); !errors.Is(err, audit.ErrProof) {
			t.Errorf("%s: another event passes the proof: %v", p.Gemeente, err)
		}
	}
}

// TestMerklePaths: every leaf of trees of every size up to 70 is proven by
// its path, and no leaf by a wrong index or a changed path. (The size is
// not bound by the path alone: a report states it with the root.)
func TestMerklePaths(t *testing.T) {
	for n := 1; n <= 70; n++ {
		leaves := make([]audit.Hash, n)
		for i := range leaves {
			leaves[i] = audit.LeafHash([]byte{byte(i), byte(n)})
		}
		root := audit.Root(leaves)
		for m := range n {
			path := audit.Path(leaves, m)
			if err := audit.VerifyPath(leaves[m], uint64(m), uint64(n), path, root); err != nil {
				t.Fatalf("n=%d m=%d: %v", n, m, err)
			}
			if n > 1 {
				if audit.VerifyPath(leaves[m], uint64((m+1)%n), uint64(n), path, root) == nil {
					t.Fatalf("n=%d m=%d: passes at index %d", n, m, (m+1)%n)
				}
				bad := append([]audit.Hash(nil), path...)
				bad[0][0] ^= 1
				if audit.VerifyPath(leaves[m], uint64(m), uint64(n), bad, root) == nil {
					t.Fatalf("n=%d m=%d: passes with a changed path", n, m)
				}
			}
		}
	}
	if got := audit.Root(nil); got != sha256.Sum256(nil) {
		t.Errorf("empty tree %x", got)
	}
}

// TestAddAllIsAdd: the parallel path gives Add's report, breaks included.
func TestAddAllIsAdd(t *testing.T) {
	_, recs := history(t)
	rs := append([]store.RecordedEvent(nil), recs...)
	rs[3].Data = []byte{0xff}
	rs[5], rs[6] = rs[6], rs[5]
	for _, in := range [][]store.RecordedEvent{recs, copyOf(t, rs)} {
		one := verify(in, audit.Config{})
		v := audit.New(audit.Config{Participants: participants})
		v.AddAll(in[:4])
		v.AddAll(in[4:])
		all := v.Report()
		if one.Digest != all.Digest || len(one.Breaks) != len(all.Breaks) || len(one.Gemeenten) != len(all.Gemeenten) {
			t.Fatalf("Add: %s, %d breaks; AddAll: %s, %d breaks", one.Digest, len(one.Breaks), all.Digest, len(all.Breaks))
		}
		for i := range one.Breaks {
			if *one.Breaks[i] != *all.Breaks[i] {
				t.Errorf("break %d: %+v vs %+v", i, one.Breaks[i], all.Breaks[i])
			}
		}
		for i := range one.Gemeenten {
			if one.Gemeenten[i] != all.Gemeenten[i] {
				t.Errorf("gemeente %d: %+v vs %+v", i, one.Gemeenten[i], all.Gemeenten[i])
			}
		}
	}
}
