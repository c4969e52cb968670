package main

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
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
