package resident

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// Test numbers are generated to pass or fail the elfproef; none is a real
// person's BSN as far as anyone can know, and none is printed on failure.
func TestCheckBSN(t *testing.T) {
	cases := []struct {
		name string
		bsn  string
		ok   bool
	}{
		{"valid", "111222333", true},
		{"valid 2", "123456782", true},
		{"valid 8 digits with implied zero", "12345672", true},
		{"one digit off", "123456781", false},
		{"all zeros", "000000000", false},
		{"too short", "1234567", false},
		{"too long", "1234567890", false},
		{"letters", "12345678a", false},
		{"empty", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckBSN(tc.bsn)
			if tc.ok != (err == nil) {
				t.Fatalf("CheckBSN: ok=%v, err=%v", tc.ok, err)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidBSN) {
					t.Errorf("error does not wrap ErrInvalidBSN: %v", err)
				}
				if tc.bsn != "" && strings.Contains(err.Error(), tc.bsn) {
					t.Errorf("error repeats the BSN")
				}
			}
		})
	}
}

func TestResidentID(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "pseudoniem.key")
	key, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateKey(path)
	if err != nil || string(again) != string(key) {
		t.Fatalf("key not stable across loads: %v", err)
	}
	p, err := NewPseudonymizer(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.ResidentID("111222333")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.ResidentID("111222333")
	c, _ := p.ResidentID("123456782")
	if a != b || a == c || !strings.HasPrefix(a, "R-") || strings.Contains(a, "111222333") {
		t.Errorf("pseudonyms a=%s b=%s c=%s: want stable, distinct, prefixed, not containing the BSN", a, b, c)
	}
	if short, _ := p.ResidentID("12345672"); short != mustID(t, p, "012345672") {
		t.Errorf("8-digit BSN and its zero-padded form give different ids")
	}
	other, _ := NewPseudonymizer(make([]byte, KeySize))
	if o, _ := other.ResidentID("111222333"); o == a {
		t.Errorf("a different key gives the same pseudonym")
	}
	if _, err := p.ResidentID("123456781"); !errors.Is(err, ErrInvalidBSN) {
		t.Errorf("invalid BSN accepted: %v", err)
	}
}

func mustID(t *testing.T, p *Pseudonymizer, bsn string) string {
	t.Helper()
	id, err := p.ResidentID(bsn)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestLooksLikeBSN(t *testing.T) {
	cases := map[string]bool{
		"111222333":                    true,
		"client-111222333":             true,
		"R-12345672":                   true, // 8 digits, with the implied leading zero
		"123456781":                    false,
		"R-scenario-000042":            false,
		"R-kill-1795012345678901234":   false, // a long number is not a BSN
		"R-c32kh2es2z4h4bxcop3zrxfd2a": false,
		"":                             false,
	}
	for s, want := range cases {
		if got := LooksLikeBSN(s); got != want {
			t.Errorf("LooksLikeBSN(%q) = %v, want %v", s, got, want)
		}
	}
}
