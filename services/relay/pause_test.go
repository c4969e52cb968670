package relay

import (
	"slices"
	"testing"
	"time"
)

// TestPause: the pause before starting over doubles while runs publish
// nothing, is bounded, and is short again after a run that published.
func TestPause(t *testing.T) {
	cur := minPause
	var waits []time.Duration
	for _, published := range []bool{false, false, false, false, false, false, false, false, false, true, false} {
		var wait time.Duration
		wait, cur = pause(cur, published)
		waits = append(waits, wait)
	}
	ms := time.Millisecond
	want := []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 6400 * ms, 6400 * ms, 50 * ms, 100 * ms}
	if !slices.Equal(waits, want) {
		t.Fatalf("pauses %v, want %v", waits, want)
	}
}
