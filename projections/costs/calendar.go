package costs

import (
	"fmt"
	"time"

	"github.com/gooi-vechtstreek/ledger/projections/region"
)

// Calendar arithmetic on region.Day without time.Time: the cost loop splits
// every placement at month boundaries, and going through time.Time for each
// split is measurably slower. civil is Howard Hinnant's civil_from_days
// (proleptic Gregorian calendar), the inverse of region.YMD; the tests check
// both against time.

// civil returns the year, month (1..12) and day of d.
func civil(d region.Day) (y, m, day int) {
	z := int64(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], March = 0
	day = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, day
}

// dayOf is the inverse of civil.
func dayOf(y, m, d int) region.Day { return region.YMD(y, time.Month(m), d) }

// A month is numbered year×12 + (month−1), so that the next month is +1.
type month int

func monthOf(d region.Day) month {
	y, m, _ := civil(d)
	return month(y*12 + m - 1)
}

func (m month) year() int { return int(m) / 12 }

// start is the first day of the month.
func (m month) start() region.Day { return dayOf(int(m)/12, int(m)%12+1, 1) }

func (m month) String() string { return fmt.Sprintf("%04d-%02d", int(m)/12, int(m)%12+1) }

// days is the number of days in the month.
func (m month) days() int64 { return int64((m + 1).start() - m.start()) }

func daysInYear(y int) int64 { return int64(dayOf(y+1, 1, 1) - dayOf(y, 1, 1)) }

// monthNames caches "YYYY-MM" so that a line does not format its month.
type monthNames map[month]string

func (n monthNames) name(m month) string {
	s, ok := n[m]
	if !ok {
		s = m.String()
		n[m] = s
	}
	return s
}
