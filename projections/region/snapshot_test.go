package region_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore/natsstoretest"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// history appends a small regional history to st: policies, a
// verdeelsleutel, a booking and cases of several events; from seeds the
// case ids, so that two calls write different histories.
func history(t *testing.T, st store.Store, from, cases int) store.Position {
	t.Helper()
	ctx := context.Background()
	var last store.Position
	app := func(stream string, expected store.Expected, ev *ledgerv1.Event) store.AppendResult {
		data, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Append(ctx, stream, expected, store.EventData{ID: uuid.MustParse(ev.GetEnvelope().GetEventId()), Type: event.Type(ev), Data: data})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
		return res
	}
	env := func(caseID string, d int) *ledgerv1.Envelope {
		return &ledgerv1.Envelope{EventId: uuid.NewString(), CaseId: caseID, Gemeente: "GM0402", Actor: "test",
			OccurredOn: event.YMD(2026, 1, 1+d%28), RecordedAt: timestamppb.New(time.Date(2026, 1, 1+d%28, 9, 0, 0, 0, time.UTC))}
	}
	if from == 0 {
		app(event.PolicyStream("GM0402"), store.NoStream(), &ledgerv1.Event{Envelope: env("", 0), Payload: &ledgerv1.Event_Beleid{Beleid: &ledgerv1.Beleid{GeldigVanaf: event.YMD(2026, 1, 1), LksNorm: 12}}})
		app(event.RegionStream, store.NoStream(), &ledgerv1.Event{Envelope: env("", 0), Payload: &ledgerv1.Event_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: 2026, Methode: ledgerv1.Verdeelmethode_VERDEELMETHODE_INWONERS}}})
	}
	for i := from; i < from+cases; i++ {
		id := uuid.New()
		res := app(event.Stream(id), store.NoStream(), &ledgerv1.Event{Envelope: env(id.String(), i), Payload: &ledgerv1.Event_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
			ResidentId: "R", Doelgroep: ledgerv1.Doelgroep_DOELGROEP_WSW, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}})
		app(event.Stream(id), store.Exactly(res.Revision), &ledgerv1.Event{Envelope: env(id.String(), i+1), Payload: &ledgerv1.Event_Intake{Intake: &ledgerv1.Intake{
			Trede: ledgerv1.Trede_TREDE_ONTWIKKELBAAR, LoonwaardeProcent: uint32(30 + i%50)}}})
	}
	app(event.RegionStream, store.Any(), &ledgerv1.Event{Envelope: env("", from), Payload: &ledgerv1.Event_GedeeldeKosten{GedeeldeKosten: &ledgerv1.GedeeldeKosten{
		Van: event.YMD(2026, 1, 1), Cent: int64(1000 + from), Budgetstroom: ledgerv1.Budgetstroom_BUDGETSTROOM_BUIG}}})
	return last
}

func follow(t *testing.T, live *region.Live, to store.Position) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go live.Run(ctx)
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := live.WaitFor(wctx, to); err != nil {
		t.Fatal(err)
	}
}

// same fails unless two models hold the same: position, events, every
// case's events, policies, verdeelsleutels and bookings.
func same(t *testing.T, got, want *region.Model) {
	t.Helper()
	if got.Position() != want.Position() || got.Events() != want.Events() || len(got.Cases()) != len(want.Cases()) {
		t.Fatalf("model at %s, %d events, %d cases; want %s, %d, %d", got.Position(), got.Events(), len(got.Cases()), want.Position(), want.Events(), len(want.Cases()))
	}
	// The certificate of the figures (digest included) survives a snapshot.
	if !proto.Equal(got.Certificate(), want.Certificate()) {
		t.Fatalf("certificate %v, want %v", got.Certificate(), want.Certificate())
	}
	for i, c := range got.Cases() {
		w := want.Cases()[i]
		if c.ID != w.ID || len(c.Events()) != len(w.Events()) {
			t.Fatalf("case %s with %d events; want %s with %d", c.ID, len(c.Events()), w.ID, len(w.Events()))
		}
		for j := range c.Events() {
			if !proto.Equal(c.Events()[j], w.Events()[j]) {
				t.Fatalf("case %s event %d differs", c.ID, j)
			}
		}
	}
	if len(got.Policy("GM0402")) != len(want.Policy("GM0402")) || got.Policy("GM0402")[0].Versie != want.Policy("GM0402")[0].Versie {
		t.Fatal("policies differ")
	}
	gk, _ := got.Key(2026)
	wk, _ := want.Key(2026)
	if gk.Ref() != wk.Ref() || len(got.Bookings()) != len(want.Bookings()) {
		t.Fatal("verdeelsleutels or bookings differ")
	}
	for i, b := range got.Bookings() {
		gb, _ := got.BookingKey(b)
		wb, _ := want.BookingKey(want.Bookings()[i])
		if b.Cent != want.Bookings()[i].Cent || gb.Ref() != wb.Ref() {
			t.Fatalf("booking %d differs", i)
		}
	}
}

// TestSnapshotStart: a start from a snapshot reads only the store's tail
// and ends with the model a build from the whole store gives.
func TestSnapshotStart(t *testing.T) {
	ctx := context.Background()
	st := natsstoretest.New(t)
	path := filepath.Join(t.TempDir(), "region.snap")
	mid := history(t, st, 0, 200)

	first := region.NewLive(st, nil, nil)
	follow(t, first, mid)
	at, err := first.WriteSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if at != mid {
		t.Fatalf("snapshot at %s, want %s", at, mid)
	}
	end := history(t, st, 200, 50) // the tail

	second := region.NewLive(st, nil, nil)
	ok, err := second.LoadSnapshot(ctx, path)
	if err != nil || !ok {
		t.Fatalf("load: %v, %v", ok, err)
	}
	follow(t, second, end)
	want, err := region.Build(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = second.Read(func(m *region.Model) { same(t, m, want) })
	if n := second.FromStore(); n != 50*2+1 {
		t.Fatalf("the start read %d events from the store, want the tail's 101", n)
	}
}

// TestSnapshotRefused: a snapshot that can not be trusted is refused with
// ErrSnapshot, leaves the model empty, and the start builds from the store.
func TestSnapshotRefused(t *testing.T) {
	ctx := context.Background()
	st := natsstoretest.New(t)
	dir := t.TempDir()
	head := history(t, st, 0, 40)
	live := region.NewLive(st, nil, nil)
	follow(t, live, head)
	good := filepath.Join(dir, "good.snap")
	if _, err := live.WriteSnapshot(good); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// A snapshot of another store with a longer history: ahead of st.
	other := natsstoretest.New(t)
	otherHead := history(t, other, 0, 60)
	ol := region.NewLive(other, nil, nil)
	follow(t, ol, otherHead)
	ahead := filepath.Join(dir, "ahead.snap")
	if _, err := ol.WriteSnapshot(ahead); err != nil {
		t.Fatal(err)
	}
	// A snapshot of another store of the same length: another history.
	twin := natsstoretest.New(t)
	twinHead := history(t, twin, 0, 40)
	sl := region.NewLive(twin, nil, nil)
	follow(t, sl, twinHead)
	foreign := filepath.Join(dir, "foreign.snap")
	if _, err := sl.WriteSnapshot(foreign); err != nil {
		t.Fatal(err)
	}

	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/2] ^= 0x40
	format := append([]byte("LGRSNAP9"), data[8:]...)
	for _, tc := range []struct{ name, path string }{
		{"corrupt", write("corrupt.snap", flipped)},
		{"other format", write("format.snap", format)},
		{"truncated", write("short.snap", data[:len(data)/3])},
		{"empty", write("empty.snap", nil)},
		{"ahead of the store", ahead},
		{"of another history", foreign},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := region.NewLive(st, nil, nil)
			ok, err := l.LoadSnapshot(ctx, tc.path)
			if ok || !errors.Is(err, region.ErrSnapshot) {
				t.Fatalf("load: %v, %v; want ErrSnapshot", ok, err)
			}
			_ = l.Read(func(m *region.Model) {
				if m.Events() != 0 {
					t.Fatalf("a refused snapshot left %d events in the model", m.Events())
				}
			})
			follow(t, l, head)
			want, err := region.Build(ctx, st, nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = l.Read(func(m *region.Model) { same(t, m, want) })
		})
	}
	// No snapshot at all is a start from the store, not an error.
	if ok, err := region.NewLive(st, nil, nil).LoadSnapshot(ctx, filepath.Join(dir, "none.snap")); ok || err != nil {
		t.Fatalf("missing snapshot: %v, %v", ok, err)
	}
}

// TestSnapshotKeepsTheCountOfEventsOfNoFigure: a delivered report (and a
// forgotten resident) changes no figure and is not kept in the snapshot,
// but it is counted: the snapshot is used, and the certificate after it is
// the certificate of a build from the whole store.
func TestSnapshotKeepsTheCountOfEventsOfNoFigure(t *testing.T) {
	ctx := context.Background()
	st := natsstoretest.New(t)
	path := filepath.Join(t.TempDir(), "region.snap")
	history(t, st, 0, 3)
	sum := make([]byte, 32)
	var last store.Position
	for _, p := range []*ledgerv1.Event{
		{Payload: &ledgerv1.Event_Rapportage{Rapportage: &ledgerv1.Rapportage{Soort: "kosten", Jaar: 2026, Positie: "1/1", Peildatum: event.YMD(2026, 1, 2), Sha256: sum}}},
		{Payload: &ledgerv1.Event_Vergeten{Vergeten: &ledgerv1.Vergeten{ResidentId: "R"}}},
	} {
		p.Envelope = &ledgerv1.Envelope{EventId: uuid.NewString(), Gemeente: "GM0402", Actor: "test", OccurredOn: event.YMD(2026, 1, 2),
			RecordedAt: timestamppb.New(time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC))}
		data, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Append(ctx, "geen-cijfers-"+event.Type(p), store.NoStream(), store.EventData{ID: uuid.MustParse(p.GetEnvelope().GetEventId()), Type: event.Type(p), Data: data})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
	}

	first := region.NewLive(st, nil, nil)
	follow(t, first, last)
	if at, err := first.WriteSnapshot(path); err != nil || at != last {
		t.Fatalf("snapshot at %s (%v), want %s", at, err, last)
	}
	second := region.NewLive(st, nil, nil)
	if ok, err := second.LoadSnapshot(ctx, path); err != nil || !ok {
		t.Fatalf("a snapshot ending in events of no figure is not used: %v, %v", ok, err)
	}
	follow(t, second, last)
	want, err := region.Build(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = second.Read(func(m *region.Model) { same(t, m, want) })
	if n := second.FromStore(); n != 0 {
		t.Fatalf("the start read %d events from the store, want none", n)
	}
}
