package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "a.key")
	a, err := LoadOrCreate(path, 32)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(path, 32)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("second load differs: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 (%v)", fi.Mode().Perm(), err)
	}
	other, _ := LoadOrCreate(filepath.Join(filepath.Dir(path), "b.key"), 32)
	if bytes.Equal(a, other) {
		t.Error("two secrets are equal")
	}
	if _, err := LoadOrCreate(path, 16); err == nil {
		t.Error("a secret of the wrong size was accepted")
	}
	if err := os.WriteFile(path, []byte("not hex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path, 32); err == nil {
		t.Error("a damaged secret was accepted")
	}
}
