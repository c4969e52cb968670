// Package clock is the ledger's one source of "now" and "today".
//
// Every part that needs the time or the calendar date takes a Clock: the
// decision's "today" (nothing may be dated after it), recorded_at, a view's
// peildatum, the default year of a report. The command-line client has no
// clock of its own: when --datum or --year is absent the server decides, so a
// laptop with a wrong clock can not date a transition.
//
// A nil Clock is the system clock. Tests pass a clock that stands still (At)
// or that they set by hand (Manual). The system clock can be moved only in a
// test build (build tag ledger_testclock, see movable.go): a production
// binary has no flag and no environment variable that changes "today",
// because a ledger whose today can be set from outside can be made to
// backdate.
package clock

import (
	"sync"
	"time"

	// The ledger's calendar is Europe/Amsterdam, also on a machine without
	// a zoneinfo database.
	_ "time/tzdata"

	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TodayEnv names the variable that moves the system clock of a test build
// (tag ledger_testclock) to the day it gives, YYYY-MM-DD. Other builds never
// read it.
const TodayEnv = "LEDGER_TEST_TODAY"

// Clock returns the current time. The zero value (nil) is the system clock.
type Clock func() time.Time

// Now is the current time.
func (c Clock) Now() time.Time {
	if c == nil {
		return system()
	}
	return c()
}

// Today is the current calendar date in the ledger's calendar.
func (c Clock) Today() *ledgerv1.Date {
	return event.Date(c.Now().In(Location()))
}

// Year is the current year in the ledger's calendar.
func (c Clock) Year() int {
	return c.Now().In(Location()).Year()
}

var amsterdam = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		// time/tzdata is linked in, so this does not happen; UTC is the
		// least surprising fallback if it ever does.
		return time.UTC
	}
	return loc
})

// Location is the ledger's calendar: Europe/Amsterdam. A day of the ledger
// begins at midnight there, wherever the server runs.
func Location() *time.Location { return amsterdam() }

// At returns a clock that stands still at 09:00 in Amsterdam on the given
// day.
func At(y int, m time.Month, d int) Clock {
	t := time.Date(y, m, d, 9, 0, 0, 0, Location())
	return func() time.Time { return t }
}

// Manual is a clock a test sets by hand: a scenario runs years of operation
// in seconds. It is safe for concurrent use.
type Manual struct {
	mu sync.Mutex
	t  time.Time
}

// NewManual returns a clock at 09:00 in Amsterdam on the given day.
func NewManual(y int, m time.Month, d int) *Manual {
	c := &Manual{}
	c.Set(y, m, d)
	return c
}

// Now is the time the clock was last set to.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to 09:00 in Amsterdam on the given day.
func (c *Manual) Set(y int, m time.Month, d int) {
	c.SetTime(time.Date(y, m, d, 9, 0, 0, 0, Location()))
}

// SetTime moves the clock to t.
func (c *Manual) SetTime(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Clock is c as a Clock.
func (c *Manual) Clock() Clock { return c.Now }
