package main

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: the server's collector settings apply unless the operator
// set GOGC or GOMEMLIMIT, and restore puts back what was there.
func TestTuneGC(t *testing.T) {
	cases := []struct {
		name, gogc, gomemlimit string
		wantPercent            int
		wantLimit              bool
	}{
		{"defaults", "", "", serveGCPercent, memTotal() > 0},
		{"GOGC set", "150", "", -1, memTotal() > 0},
		{"GOMEMLIMIT set", "", "1GiB", serveGCPercent, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("GOGC", c.gogc)
			t.Setenv("GOMEMLIMIT", c.gomemlimit)
			beforePercent := debug.SetGCPercent(100)
			debug.SetGCPercent(beforePercent)
			beforeLimit := debug.SetMemoryLimit(-1)
			percent, limit, restore := tuneGC()
			if percent != c.wantPercent {
				t.Errorf("gc percent %d, want %d", percent, c.wantPercent)
			}
			if got := debug.SetGCPercent(-1); c.wantPercent > 0 && got != c.wantPercent {
				t.Errorf("runtime gc percent %d, want %d", got, c.wantPercent)
			}
			restore()
			if (limit > 0) != c.wantLimit {
				t.Errorf("memory limit %d, want one: %v", limit, c.wantLimit)
			}
			if c.wantLimit && (limit <= 0 || limit >= memTotal()) {
				t.Errorf("memory limit %d, want a share of %d", limit, memTotal())
			}
			if got := debug.SetGCPercent(beforePercent); got != beforePercent && c.wantPercent > 0 {
				t.Errorf("after restore gc percent %d, want %d", got, beforePercent)
			}
			if got := debug.SetMemoryLimit(-1); got != beforeLimit {
				t.Errorf("after restore memory limit %d, want %d", got, beforeLimit)
			}
		})
	}
}
