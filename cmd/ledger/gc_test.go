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

// TestBulkGC: import calls raise the collector's target, overlapping calls
// keep it raised, and the last one's end puts back what was there; with
// GOGC set nothing changes.
func TestBulkGC(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(serveGCPercent)
	defer debug.SetGCPercent(before)
	g := &bulkGC{}
	first := g.begin()
	second := g.begin()
	if got := debug.SetGCPercent(-1); got != importGCPercent {
		t.Errorf("during an import gc percent %d, want %d", got, importGCPercent)
	}
	debug.SetGCPercent(importGCPercent)
	first()
	first() // twice is once
	if got := debug.SetGCPercent(importGCPercent); got != importGCPercent {
		t.Errorf("with one import still running gc percent %d, want %d", got, importGCPercent)
	}
	second()
	if got := debug.SetGCPercent(serveGCPercent); got != serveGCPercent {
		t.Errorf("after the imports gc percent %d, want %d back", got, serveGCPercent)
	}

	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	done := g.begin()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("with GOGC set an import changed gc percent to %d", got)
	}
	done()
}
