// Package secret keeps the server's own secrets (the pseudonymisation key,
// NATS passwords) in files under the data directory: created once with
// random bytes, readable only by the owner, read back on every start.
package secret

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gooi-vechtstreek/ledger/services/durable"
)

// LoadOrCreate returns the size random bytes stored hex-encoded at path,
// creating them (mode 0600, fsynced) the first time.
func LoadOrCreate(path string, size int) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		v, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(v) != size {
			return nil, fmt.Errorf("secret %s: not %d hex-encoded bytes", path, size)
		}
		return v, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secret: %w", err)
	}
	v := make([]byte, size)
	if _, err := rand.Read(v); err != nil {
		return nil, fmt.Errorf("secret %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(v) + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("secret %s: %w", path, err)
	}
	// The file exists after a power cut only once its directory entry is
	// on disk: what it protects (wrapped keys, hashes) may be by then.
	if err := durable.SyncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("secret %s: %w", path, err)
	}
	return v, nil
}
