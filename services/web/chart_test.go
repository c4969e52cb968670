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
		{"87.50", 8750, true}, {"12.5", 1250, true}, {"1.234,56", 123456, true}, {"-0,50", 0, false}, {"12.0000", 0, false},
		{"1.2.3", 0, false}, {"99999999999999999999", 0, false},
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

func TestHoursToMinutes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"", 0, true}, {"12", 720, true}, {"12,5", 750, true}, {"0.25", 15, true},
		{"NaN", 0, false}, {"1e2", 0, false}, {"0x1p3", 0, false}, {"-1", 0, false}, {"1,234", 0, false},
	} {
		got, err := hoursToMinutes(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("hoursToMinutes(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestLocal(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"/gemeente/GM0402/beleid", true}, {"/zaken?zoek=x", true},
		{"", false}, {"gemeente", false}, {"//evil.example", false}, {"/\\evil.example", false}, {"/\t/evil.example", false},
		{"https://evil.example/", false}, {"/\x00", false},
	} {
		if got := local(tc.in); got != tc.ok {
			t.Errorf("local(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}
