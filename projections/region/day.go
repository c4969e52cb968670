package region

import (
	"time"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Day is a calendar date as days since 1970-01-01: cheap to compare, count
// and iterate, which cost arithmetic does per day.
type Day int32

// Open is the end of a period that has not ended.
const Open Day = 1<<31 - 1

// DayOf converts a date.
func DayOf(d *ledgerv1.Date) Day {
	return YMD(int(d.GetYear()), time.Month(d.GetMonth()), int(d.GetDay()))
}

// YMD builds a Day. It runs for every event of a rebuild and every cost
// line, so it counts days directly (the days-from-civil algorithm) instead
// of going through time.Date; TestDayOf checks it against time for every
// day of four centuries.
func YMD(year int, month time.Month, day int) Day {
	y, m, d := int64(year), int64(month), int64(day)
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return Day(era*146097 + doe - 719468)
}

// Time is midnight UTC of the day.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Date converts back.
func (d Day) Date() *ledgerv1.Date {
	y, m, dd := d.Time().Date()
	return &ledgerv1.Date{Year: int32(y), Month: int32(m), Day: int32(dd)}
}

// Year of the day.
func (d Day) Year() int { return d.Time().Year() }

// Month of the day.
func (d Day) Month() (int, time.Month) {
	y, m, _ := d.Time().Date()
	return y, m
}

func (d Day) String() string {
	if d == Open {
		return "open"
	}
	return d.Time().Format("2006-01-02")
}

// YearStart is 1 January of y.
func YearStart(y int) Day { return YMD(y, time.January, 1) }

// MonthStart is the first day of a month; month 13 is January of the next
// year.
func MonthStart(y int, m time.Month) Day { return YMD(y, m, 1) }

// DaysInYear is 365 or 366.
func DaysInYear(y int) int { return int(YearStart(y+1) - YearStart(y)) }

// Overlap returns the intersection of [a1, a2) and [b1, b2), empty as
// (0, 0).
func Overlap(a1, a2, b1, b2 Day) (Day, Day) {
	from, to := max(a1, b1), min(a2, b2)
	if from >= to {
		return 0, 0
	}
	return from, to
}
