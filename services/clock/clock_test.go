package clock_test

import (
	"os"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
)

func TestTodayIsAmsterdamsDay(t *testing.T) {
	cases := []struct {
		name string
		at   time.Time
		want string
	}{
		{"late evening UTC is the next day in winter", time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), "2027-01-01"},
		{"late evening UTC in summer", time.Date(2026, 6, 30, 22, 30, 0, 0, time.UTC), "2026-07-01"},
		{"just before midnight in Amsterdam", time.Date(2026, 6, 30, 21, 59, 0, 0, time.UTC), "2026-06-30"},
		{"a laptop in New York at 20:00", time.Date(2026, 3, 1, 20, 0, 0, 0, mustZone(t, "America/New_York")), "2026-03-02"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := clock.Clock(func() time.Time { return tc.at })
			if got := event.FormatDate(c.Today()); got != tc.want {
				t.Errorf("Today() = %s, want %s", got, tc.want)
			}
		})
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestManualAndAt(t *testing.T) {
	m := clock.NewManual(2026, time.February, 28)
	c := m.Clock()
	if got := event.FormatDate(c.Today()); got != "2026-02-28" {
		t.Fatalf("manual: %s", got)
	}
	m.Set(2027, time.January, 1)
	if got := event.FormatDate(c.Today()); got != "2027-01-01" || c.Year() != 2027 {
		t.Fatalf("after Set: %s, year %d", got, c.Year())
	}
	if got := event.FormatDate(clock.At(2024, time.February, 29).Today()); got != "2024-02-29" {
		t.Fatalf("At: %s", got)
	}
}

// TestSystemClock: in a production build the system clock is the machine's
// and LEDGER_TEST_TODAY changes nothing; in a test build (ledger_testclock)
// with the variable set, today is that day. `make test` runs both.
func TestSystemClock(t *testing.T) {
	var sys clock.Clock
	want := os.Getenv(clock.TodayEnv)
	if !clock.Movable || want == "" {
		if !clock.Movable {
			// Setting the variable must not move a production clock.
			t.Setenv(clock.TodayEnv, "2001-01-01")
		}
		if d := time.Since(sys.Now()); d < -time.Minute || d > time.Minute {
			t.Fatalf("system clock is %v off the machine's", d)
		}
		return
	}
	if got := event.FormatDate(sys.Today()); got != want {
		t.Fatalf("%s=%s, yet today is %s", clock.TodayEnv, want, got)
	}
}
