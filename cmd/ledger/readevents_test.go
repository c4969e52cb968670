package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// TestReadEventsInRanges: a read of many pages, cut into ranges read side
// by side, hands over exactly the events a single page holds, in the
// store's order, none twice and none left out: the whole history, one
// gemeente's part, and a stretch between two positions.
func TestReadEventsInRanges(t *testing.T) {
	addr := startServer(t, t.TempDir(), clock.NewManual(2026, time.March, 2))
	centrum := clientAs(t, addr, "centrum")
	ctx := context.Background()
	for i := range 240 {
		gm := []string{"GM0402", "GM1942", "GM0406"}[i%3]
		if _, err := centrum.Record(ctx, connect.NewRequest(&ledgerv1.RecordRequest{Gemeente: gm, Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{
			ResidentId: fmt.Sprintf("R-reeks-%d", i), Doelgroep: ledgerv1.Doelgroep_DOELGROEP_BIJSTAND, Verwijzer: ledgerv1.Verwijzer_VERWIJZER_UWV}}})); err != nil {
			t.Fatal(err)
		}
	}
	auditor := clientAs(t, addr, "auditor")
	read := func(van, tot, gm string, max uint32) []string {
		t.Helper()
		var got []string
		if err := readEventsPaged(ctx, auditor, van, tot, gm, max, func(se *ledgerv1.StoredEvent, _ store.RecordedEvent) error {
			got = append(got, se.GetPositie()+" "+se.GetEventId())
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	all := read("", "", "", 20000)
	if len(all) < 240 {
		t.Fatalf("one page holds %d events, want at least the 240 recorded", len(all))
	}
	pos := func(i int) string { p, _, _ := strings.Cut(all[i], " "); return p }
	for _, tc := range []struct {
		name          string
		van, tot, gem string
		max           uint32
	}{
		{"everything, pages of 7", "", "", "", 7},
		{"everything, pages of 1", "", "", "", 1},
		{"one gemeente, pages of 5", "", "", "GM1942", 5},
		{"between two positions, pages of 9", pos(40), pos(200), "", 9},
		{"between two positions, one gemeente", pos(13), pos(170), "GM0406", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := read(tc.van, tc.tot, tc.gem, 20000)
			if tc.van == "" && tc.tot == "" && tc.gem == "" && !slices.Equal(want, all) {
				t.Fatal("the single page changed")
			}
			if got := read(tc.van, tc.tot, tc.gem, tc.max); !slices.Equal(got, want) {
				t.Fatalf("in pages of %d: %d events, want the %d of one page in the same order\ngot  %v\nwant %v", tc.max, len(got), len(want), got, want)
			}
		})
	}
}

// TestRanges: ranges are planned only over positions that are sequence
// numbers, as wide as the first page reached.
func TestRanges(t *testing.T) {
	page := func(ps ...string) []*ledgerv1.StoredEvent {
		var out []*ledgerv1.StoredEvent
		for _, p := range ps {
			out = append(out, &ledgerv1.StoredEvent{Positie: p})
		}
		return out
	}
	for _, tc := range []struct {
		name           string
		van, last, tot string
		page           []*ledgerv1.StoredEvent
		width          uint64
		ok             bool
	}{
		{"sequence numbers from the start", "", "20/20", "100/100", page("1/1", "20/20"), 20, true},
		{"sequence numbers from a position", "50/50", "70/70", "100/100", page("51/51", "70/70"), 20, true},
		{"log positions (KurrentDB)", "", "9216/9216", "90000/90000", page("5120/5034", "9216/9216"), 0, false},
		{"the end of the first page is the end", "", "100/100", "100/100", page("100/100"), 0, false},
		{"an end that is not a position", "", "20/20", "x", page("20/20"), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, width, ok := ranges(tc.van, tc.last, tc.tot, tc.page)
			if ok != tc.ok || ok && width != tc.width {
				t.Fatalf("ranges: width %d ok %v, want %d %v", width, ok, tc.width, tc.ok)
			}
		})
	}
}
