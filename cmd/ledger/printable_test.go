package main

import "testing"

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Tomin B.V.", "Tomin B.V."},
		{"Crèche Zonnebloem", "Crèche Zonnebloem"},
		{"\x1b[2J", `\x1b[2J`},
		{"ziek\x00", `ziek\x00`},
		{"a\nb\tc", `a\nb\tc`},
		{"jan\u202esnaj", `jan\u202esnaj`},
		{"\u0085", `\x85`},
	} {
		if got := printable(tc.in); got != tc.want {
			t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
