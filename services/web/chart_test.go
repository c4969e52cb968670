package web

import "testing"

func TestNiceTop(t *testing.T) {
	for _, tc := range []struct{ max, want int64 }{
		{1, 4}, {4, 4}, {5, 8}, {9, 20}, {21, 40}, {41, 80}, {81, 200}, {1_234_567, 2_000_000},
	} {
		if got := niceTop(tc.max); got != tc.want {
			t.Errorf("niceTop(%d) = %d, want %d", tc.max, got, tc.want)
		}
	}
}

func TestParseEuro(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"12000", 1_200_000, true}, {"12.000", 1_200_000, true}, {"87,50", 8750, true}, {"87,5", 8750, true},
		{"0,07", 7, true}, {"1,234", 0, false}, {"-5", 0, false}, {"twaalf", 0, false}, {"", 0, false},
	} {
		got, err := parseEuro(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseEuro(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestEuro(t *testing.T) {
	for _, tc := range []struct {
		cents int64
		want  string
	}{{0, "€ 0,00"}, {5, "€ 0,05"}, {123456, "€ 1.234,56"}, {-100000000, "−€ 1.000.000,00"}} {
		if got := euro(tc.cents); got != tc.want {
			t.Errorf("euro(%d) = %q, want %q", tc.cents, got, tc.want)
		}
	}
}
