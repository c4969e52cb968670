//go:build ledger_testclock

package clock

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// Movable reports whether this build's system clock can be moved. It is true
// only in a build with the tag ledger_testclock, which `make test` uses to
// run the tests that start a server or the CLI on another "today".
const Movable = true

var moved = sync.OnceValue(func() func() time.Time {
	v := os.Getenv(TodayEnv)
	if v == "" {
		return time.Now
	}
	day, err := time.ParseInLocation("2006-01-02", v, Location())
	if err != nil {
		// A test build with a broken setting must not silently run on
		// the real date: that is what the setting is there to rule out.
		panic(fmt.Sprintf("clock: %s=%q is not a date (YYYY-MM-DD)", TodayEnv, v))
	}
	base := day.Add(9 * time.Hour)
	start := time.Now()
	return func() time.Time { return base.Add(time.Since(start)) }
})

// system is the machine's clock moved to 09:00 in Amsterdam on the day
// TodayEnv gives; from there it runs on at the machine's pace, so durations
// stay real. Processes started by one test run (a test and the binary it
// spawns) agree on the day: each starts at 09:00 and a run lasts far less
// than fifteen hours.
func system() time.Time { return moved()() }
