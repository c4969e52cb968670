//go:build !ledger_testclock

package clock

import "time"

// Movable reports whether this build's system clock can be moved
// (LEDGER_TEST_TODAY). It is false in every production build.
const Movable = false

func system() time.Time { return time.Now() }
