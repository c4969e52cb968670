package main

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// serveGCPercent is the collector's target while the server runs, unless
// GOGC says otherwise. The server's heap is mostly long-lived models (the
// regional model, the import's cases, every gemeente's caseload view) of
// gigabytes; at Go's default of 100 the collector rescans all of it every
// time the young garbage equals it, which took a fifth of the CPU of a
// million-event import. 300 lets the heap grow to four times the live data
// between cycles; serveMemoryShare bounds that growth.
const serveGCPercent = 300

// serveMemoryShare is the part of the machine's memory the server takes as
// a soft limit, unless GOMEMLIMIT is set: near it the collector runs more
// often instead of the process growing further.
const serveMemoryShare = 0.6

// importGCPercent is the collector's target while an import runs, unless
// GOGC says otherwise. An import allocates fast over a heap that grows with
// every case it brings in; measured on 2026-12-07 over a million events,
// the whole import took 15 % less CPU at 1,000 than at 300 (231 s against
// 270 s), and reached 16 GB resident instead of 12.5 GB. serveMemoryShare
// still bounds the heap.
const importGCPercent = 1000

// importGCIdle is how long the import's target stays after an import call:
// the next call of the same file follows within milliseconds, and dropping
// to serveGCPercent between two calls would collect at once over a heap
// grown at importGCPercent.
const importGCIdle = 5 * time.Second

// bulkGC raises the collector's target while import calls run and puts
// back what was there once none has run for idle. The target is the
// process's, not a server's, so there is one bulkGC per process (importGC):
// two servers in one process (tests) must not restore each other's.
type bulkGC struct {
	idle time.Duration

	mu      sync.Mutex
	running int
	raised  bool
	prev    int    // the target before the import's
	gen     uint64 // the last idle timer's; an older one restores nothing
}

var importGC = &bulkGC{idle: importGCIdle}

// begin is api.Server.Bulk: called when an import call begins, it returns
// the function to call when the call ends.
func (g *bulkGC) begin() (done func()) {
	if os.Getenv("GOGC") != "" {
		return func() {} // the operator's setting stands
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running++
	g.gen++
	if !g.raised {
		g.prev, g.raised = debug.SetGCPercent(importGCPercent), true
	}
	return sync.OnceFunc(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.running--
		if g.running > 0 || !g.raised {
			return
		}
		if g.idle <= 0 {
			g.restoreLocked()
			return
		}
		g.gen++
		gen := g.gen
		time.AfterFunc(g.idle, func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.gen == gen && g.running == 0 && g.raised {
				g.restoreLocked()
			}
		})
	})
}

func (g *bulkGC) restoreLocked() {
	debug.SetGCPercent(g.prev)
	g.raised = false
}

// tuneGC sets the collector for the server and returns what it set (for
// the start log) and a function that restores the previous settings (for
// a test or benchmark that runs the server in its own process).
func tuneGC() (percent int, limit int64, restore func()) {
	percent, limit = -1, -1
	prevPercent := -2 // not changed
	if os.Getenv("GOGC") == "" {
		percent = serveGCPercent
		prevPercent = debug.SetGCPercent(percent)
	}
	prevLimit := debug.SetMemoryLimit(-1) // a negative limit only reads it
	if os.Getenv("GOMEMLIMIT") == "" {
		if total := memTotal(); total > 0 {
			limit = int64(float64(total) * serveMemoryShare)
			debug.SetMemoryLimit(limit)
		}
	}
	return percent, limit, func() {
		if prevPercent != -2 {
			debug.SetGCPercent(prevPercent)
		}
		debug.SetMemoryLimit(prevLimit)
	}
}

// memTotal is the memory this process may use, in bytes: the machine's
// (/proc/meminfo), or its control group's limit when that is smaller (a
// container); 0 where neither can be read (not Linux).
func memTotal() int64 {
	var total int64
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			f := bytes.Fields(sc.Bytes())
			if len(f) >= 2 && string(f[0]) == "MemTotal:" {
				if kib, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
					total = kib << 10
				}
			}
		}
	}
	if data, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(string(bytes.TrimSpace(data)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n // "max" (no limit) does not parse
		}
	}
	return total
}
