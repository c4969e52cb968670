package api

import (
	"slices"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
)

// TestComposedOf: a read-your-writes wait for a caseload view waits for
// every stream the view is made of. Wijdemeren (GM1696) goes into
// Hilversum (GM0402) on 1 January 2027 in the deploy data file.
func TestComposedOf(t *testing.T) {
	reg, err := gemeente.Load("../../deploy/gemeenten.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		day      clock.Clock
		gemeente string
		want     []string
	}{
		{clock.At(2026, time.December, 31), "GM0402", []string{"GM0402"}},
		{clock.At(2026, time.December, 31), "GM1696", []string{"GM1696"}},
		{clock.At(2027, time.January, 1), "GM0402", []string{"GM0402", "GM1696"}},
		{clock.At(2027, time.January, 1), "GM1696", []string{"GM1696", "GM0402"}},
		{clock.At(2027, time.January, 1), "GM1942", []string{"GM1942"}},
		{clock.At(2027, time.January, 1), "", nil},
	} {
		s := &Server{Gemeenten: reg, Clock: tc.day}
		if got := s.composedOf(tc.gemeente); !slices.Equal(got, tc.want) {
			t.Errorf("%s on %v: waits for %v, want %v", tc.gemeente, tc.day.Today(), got, tc.want)
		}
	}
}
