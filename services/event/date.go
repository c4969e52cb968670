package event

import (
	"errors"
	"fmt"
	"time"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// DateLayout is how dates are written on the command line and in exports.
const DateLayout = "2006-01-02"

// Date returns the calendar date of t in t's location.
func Date(t time.Time) *ledgerv1.Date {
	y, m, d := t.Date()
	return &ledgerv1.Date{Year: int32(y), Month: int32(m), Day: int32(d)}
}

// YMD builds a date.
func YMD(y int, m time.Month, d int) *ledgerv1.Date {
	return &ledgerv1.Date{Year: int32(y), Month: int32(m), Day: int32(d)}
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (*ledgerv1.Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return nil, fmt.Errorf("datum %q is geen geldige datum (JJJJ-MM-DD)", s)
	}
	return Date(t), nil
}

// FormatDate writes YYYY-MM-DD, or "" for nil.
func FormatDate(d *ledgerv1.Date) string {
	if d == nil {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.GetYear(), d.GetMonth(), d.GetDay())
}

// Month writes YYYY-MM.
func Month(d *ledgerv1.Date) string {
	return fmt.Sprintf("%04d-%02d", d.GetYear(), d.GetMonth())
}

// DateTime is midnight UTC of d: a value for day arithmetic and comparison,
// not an instant.
func DateTime(d *ledgerv1.Date) time.Time {
	return time.Date(int(d.GetYear()), time.Month(d.GetMonth()), int(d.GetDay()), 0, 0, 0, 0, time.UTC)
}

// CompareDates returns -1, 0 or +1.
func CompareDates(a, b *ledgerv1.Date) int {
	return DateTime(a).Compare(DateTime(b))
}

// CheckDate reports whether d is a real calendar date in a sane range.
func CheckDate(d *ledgerv1.Date) error {
	if d == nil {
		return errors.New("no date")
	}
	if d.GetYear() < 1900 || d.GetYear() > 2999 {
		return fmt.Errorf("year %d out of range", d.GetYear())
	}
	t := DateTime(d)
	if int32(t.Year()) != d.GetYear() || int32(t.Month()) != d.GetMonth() || int32(t.Day()) != d.GetDay() {
		return fmt.Errorf("%04d-%02d-%02d is not a calendar date", d.GetYear(), d.GetMonth(), d.GetDay())
	}
	return nil
}

// AddDays returns the day n days after d (before it for negative n).
func AddDays(d *ledgerv1.Date, n int) *ledgerv1.Date {
	return Date(DateTime(d).AddDate(0, 0, n))
}
