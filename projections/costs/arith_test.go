package costs

import (
	"errors"
	"maps"
	"math"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/projections/region"
)

func TestRoundHalfEven(t *testing.T) {
	tests := []struct{ num, den, want int64 }{
		{0, 7, 0},
		{1, 2, 0},  // 0.5 → 0, even
		{3, 2, 2},  // 1.5 → 2, even
		{5, 2, 2},  // 2.5 → 2
		{7, 2, 4},  // 3.5 → 4
		{-1, 2, 0}, // −0.5 → 0
		{-3, 2, -2},
		{-5, 2, -2},
		{5, -2, -2}, // the sign may sit in the denominator
		{10, 3, 3},  // 3.33 → 3
		{11, 3, 4},  // 3.67 → 4
		{-11, 3, -4},
		{16_800_000, 365, 46_027}, // 46_027.39
		{34_800_000, 366, 95_082}, // 95_081.97
		{math.MaxInt64, 1, math.MaxInt64},
		{math.MinInt64, 1, math.MinInt64},
		{math.MaxInt64, 2, 1 << 62}, // (2^63 − 1) / 2 = 2^62 − 0.5 → 2^62, even
	}
	for _, tt := range tests {
		if got := RoundHalfEven(tt.num, tt.den); got != tt.want {
			t.Errorf("RoundHalfEven(%d, %d) = %d, want %d", tt.num, tt.den, got, tt.want)
		}
	}
}

func TestMulDiv(t *testing.T) {
	tests := []struct {
		a, b, den, want int64
		err             bool
	}{
		{1_200_000, 14, 365, 46_027, false},
		{549, 1, 366, 2, false}, // 1.5 → 2
		{183, 1, 366, 0, false}, // 0.5 → 0
		{50, 8_001, 60, 6_668, false},
		// 10^11 × 10^9 overflows int64 on the way; the result does not.
		{100_000_000_000, 1_000_000_000, 3_000_000_000, 33_333_333_333, false},
		{math.MaxInt64, math.MaxInt64, math.MaxInt64, math.MaxInt64, false},
		{math.MinInt64, 2, 2, math.MinInt64, false},
		{math.MaxInt64, 2, 1, 0, true},
		{1, 1, 0, 0, true},
	}
	for _, tt := range tests {
		got, err := MulDiv(tt.a, tt.b, tt.den)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("MulDiv(%d, %d, %d) = %d, %v; want %d, error %v", tt.a, tt.b, tt.den, got, err, tt.want, tt.err)
		}
	}
	if _, err := MulDiv(math.MaxInt64, 2, 1); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflow error %v does not unwrap to ErrOverflow", err)
	}
}

func TestAllocate(t *testing.T) {
	tests := []struct {
		name    string
		whole   int64
		weights map[string]int64
		want    map[string]int64
	}{
		{
			// 100 / 3 = 33 r 1 each; the one cent left goes to the lowest code
			name: "equal weights, the extra cent to the lowest code", whole: 100,
			weights: map[string]int64{"GM0406": 1, "GM0376": 1, "GM1942": 1},
			want:    map[string]int64{"GM0376": 34, "GM0406": 33, "GM1942": 33},
		},
		{
			// 10 / 4 = 2 r 2 each; two cents left go to the two lowest codes
			name: "ties broken by code ascending", whole: 10,
			weights: map[string]int64{"GM1942": 5, "GM0402": 5, "GM0406": 5, "GM0376": 5},
			want:    map[string]int64{"GM0376": 3, "GM0402": 3, "GM0406": 2, "GM1942": 2},
		},
		{
			// total 6: 100×1/6 = 16 r 4; 100×2/6 = 33 r 2; 100×3/6 = 50 r 0;
			// 99 given, the last cent to the largest remainder (4)
			name: "largest remainder first", whole: 100,
			weights: map[string]int64{"GM0376": 3, "GM0402": 2, "GM1942": 1},
			want:    map[string]int64{"GM0376": 50, "GM0402": 33, "GM1942": 17},
		},
		{
			// total 3×10^9: 10^11 × 10^9 / (3×10^9) = 33_333_333_333 r 10^9;
			// 10^11 × 2×10^9 / (3×10^9) = 66_666_666_666 r 2×10^9 (the
			// product 2×10^20 overflows int64); 1 cent left → GM1942
			name: "amounts × weights beyond int64", whole: 100_000_000_000,
			weights: map[string]int64{"GM0402": 1_000_000_000, "GM1942": 2_000_000_000, "GM0406": 0},
			want:    map[string]int64{"GM0402": 33_333_333_333, "GM1942": 66_666_666_667, "GM0406": 0},
		},
		{
			// a credit: floor(−100/3) = −34 r 2 each; −102 given, 2 cents
			// back to the two lowest codes
			name: "a negative amount (credit) by the same rule", whole: -100,
			weights: map[string]int64{"GM0376": 1, "GM0402": 1, "GM1942": 1},
			want:    map[string]int64{"GM0376": -33, "GM0402": -33, "GM1942": -34},
		},
		{
			name: "one part takes all", whole: 12_345,
			weights: map[string]int64{"GM0402": 7, "GM1942": 0},
			want:    map[string]int64{"GM0402": 12_345, "GM1942": 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Allocate(tt.whole, tt.weights)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := Allocate(100, map[string]int64{"GM0402": 0, "GM1942": 0}); !errors.Is(err, ErrNoWeight) {
		t.Errorf("all weights 0: %v", err)
	}
	if _, err := Allocate(100, nil); !errors.Is(err, ErrNoWeight) {
		t.Errorf("no parts: %v", err)
	}
	if _, err := Allocate(100, map[string]int64{"GM0402": -1, "GM1942": 2}); err == nil {
		t.Error("a negative weight was accepted")
	}
	if _, err := Allocate(100, map[string]int64{"GM0402": math.MaxInt64, "GM1942": 1}); !errors.Is(err, ErrOverflow) {
		t.Errorf("total weight overflow: %v", err)
	}
}

// The package's own calendar must agree with region's (time.Time based) on
// every day in range.
func TestCalendar(t *testing.T) {
	for d := region.YMD(1899, time.January, 1); d < region.YMD(2201, time.January, 1); d++ {
		y, m, dd := civil(d)
		ty, tm, td := d.Time().Date()
		if y != ty || m != int(tm) || dd != td {
			t.Fatalf("civil(%d) = %d-%d-%d, want %s", d, y, m, dd, d)
		}
		if back := dayOf(y, m, dd); back != d {
			t.Fatalf("dayOf(%d, %d, %d) = %d, want %d", y, m, dd, back, d)
		}
		mo := monthOf(d)
		if mo.String() != d.Time().Format("2006-01") || mo.start() != region.MonthStart(ty, tm) {
			t.Fatalf("month of %s: %s from %s", d, mo, mo.start())
		}
	}
	for y := 1899; y <= 2200; y++ {
		if daysInYear(y) != int64(region.DaysInYear(y)) {
			t.Fatalf("days in %d", y)
		}
	}
	if y, m, d := civil(region.Day(-1)); y != 1969 || m != 12 || d != 31 {
		t.Errorf("civil(-1) = %d-%d-%d", y, m, d)
	}
}
