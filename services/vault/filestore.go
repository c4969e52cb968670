package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/durable"
)

// FileKeyStore keeps each data key in a file of its own under Dir, in a
// directory per resident (named by a hash of the resident id), wrapped with
// AES-256-GCM under the key-encryption key. Forgetting overwrites and
// removes the key files and leaves a marker, so that a destroyed key is
// told from one that never existed. Unwrapped keys are cached in memory
// until forgotten.
type FileKeyStore struct {
	dir string
	kek []byte

	mu      sync.Mutex
	current map[string]string // resident -> key id
	cache   map[string][]byte // key id -> data key
}

// NewFileKeyStore returns a key store in dir with kek (32 bytes).
func NewFileKeyStore(dir string, kek []byte) (*FileKeyStore, error) {
	if len(kek) != 32 {
		return nil, errors.New("key store: the key-encryption key must be 32 bytes")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	return &FileKeyStore{dir: dir, kek: kek, current: map[string]string{}, cache: map[string][]byte{}}, nil
}

var _ KeyStore = (*FileKeyStore)(nil)

func (s *FileKeyStore) residentDir(resident string) string {
	h := sha256.Sum256([]byte(resident))
	return filepath.Join(s.dir, hex.EncodeToString(h[:16]))
}

// Key ids are "<resident dir>.<uuid>", so that a key is found by its id.
func (s *FileKeyStore) path(id string) (string, error) {
	dir, key, ok := strings.Cut(id, ".")
	if !ok || len(dir) != 32 || strings.ContainsAny(id, "/\\") {
		return "", fmt.Errorf("key %q: %w", id, ErrNoKey)
	}
	if _, err := hex.DecodeString(dir); err != nil {
		return "", fmt.Errorf("key %q: %w", id, ErrNoKey)
	}
	if _, err := uuid.Parse(key); err != nil {
		return "", fmt.Errorf("key %q: %w", id, ErrNoKey)
	}
	return filepath.Join(s.dir, dir, key), nil
}

// Current implements KeyStore.
func (s *FileKeyStore) Current(ctx context.Context, resident string) (string, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.currentLocked(resident)
}

func (s *FileKeyStore) currentLocked(resident string) (string, []byte, error) {
	if id, ok := s.current[resident]; ok {
		return id, s.cache[id], nil
	}
	rdir := s.residentDir(resident)
	entries, err := os.ReadDir(rdir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", nil, fmt.Errorf("key of %s: %w", resident, err)
	}
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".key"); ok {
			id := filepath.Base(rdir) + "." + name
			key, err := s.unwrapFile(id)
			if errors.Is(err, ErrForgotten) {
				continue // a forget that a crash interrupted; Forget finishes it
			}
			if err != nil {
				return "", nil, err
			}
			s.current[resident], s.cache[id] = id, key
			return id, key, nil
		}
	}
	return "", nil, fmt.Errorf("key of %s: %w", resident, ErrNoKey)
}

// Key implements KeyStore.
func (s *FileKeyStore) Key(ctx context.Context, resident string) (string, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, key, err := s.currentLocked(resident); !errors.Is(err, ErrNoKey) {
		return id, key, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", nil, fmt.Errorf("new data key: %w", err)
	}
	id := filepath.Base(s.residentDir(resident)) + "." + uuid.NewString()
	wrapped, err := wrap(s.kek, key, id)
	if err != nil {
		return "", nil, err
	}
	p, _ := s.path(id)
	if err := writeAtomic(p+".key", wrapped); err != nil {
		return "", nil, fmt.Errorf("new data key: %w", err)
	}
	s.current[resident], s.cache[id] = id, key
	return id, key, nil
}

// Open implements KeyStore.
func (s *FileKeyStore) Open(ctx context.Context, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key, ok := s.cache[id]; ok {
		return key, nil
	}
	key, err := s.unwrapFile(id)
	if err != nil {
		return nil, err
	}
	s.cache[id] = key
	return key, nil
}

func (s *FileKeyStore) unwrapFile(id string) ([]byte, error) {
	p, err := s.path(id)
	if err != nil {
		return nil, err
	}
	// The marker first: a forget interrupted by a crash may have left the
	// key file, which then must not open.
	if _, gone := os.Stat(p + ".vergeten"); gone == nil {
		return nil, fmt.Errorf("key %s: %w", id, ErrForgotten)
	}
	b, err := os.ReadFile(p + ".key")
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("key %s: %w", id, ErrNoKey)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", id, err)
	}
	return unwrap(s.kek, b, id)
}

// Forget implements KeyStore.
func (s *FileKeyStore) Forget(ctx context.Context, resident string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rdir := s.residentDir(resident)
	entries, err := os.ReadDir(rdir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("forget: %w", err)
	}
	var ids []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".key")
		if !ok {
			continue
		}
		id := filepath.Base(rdir) + "." + name
		p := filepath.Join(rdir, e.Name())
		// Out of memory before anything can fail: from here on the key is
		// not handed out again, whatever happens on disk.
		delete(s.cache, id)
		delete(s.current, resident)
		// The marker first: a crash after it leaves a key that is already
		// refused as forgotten on the next try.
		if err := writeAtomic(filepath.Join(rdir, name+".vergeten"), nil); err != nil {
			return ids, fmt.Errorf("forget: %w", err)
		}
		// Overwrite before removing, so the wrapped key is not left in the
		// freed blocks of a simple file system.
		if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			fi, _ := f.Stat()
			_, _ = f.Write(make([]byte, fi.Size()))
			_ = f.Sync()
			f.Close()
		}
		if err := os.Remove(p); err != nil {
			return ids, fmt.Errorf("forget: %w", err)
		}
		delete(s.cache, id)
		ids = append(ids, id)
	}
	delete(s.current, resident)
	if err := durable.SyncDir(rdir); err != nil {
		return ids, fmt.Errorf("forget: %w", err)
	}
	return ids, nil
}

func wrap(kek, key []byte, id string) ([]byte, error) {
	aead, err := gcm(kek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, key, []byte(id)), nil
}

func unwrap(kek, b []byte, id string) ([]byte, error) {
	aead, err := gcm(kek)
	if err != nil {
		return nil, err
	}
	if len(b) < aead.NonceSize() {
		return nil, fmt.Errorf("key %s: %w", id, ErrCorrupt)
	}
	key, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(id))
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", id, ErrCorrupt)
	}
	return key, nil
}

// writeAtomic writes b to path whole or not at all, in a directory that is
// durable itself: a partial key file would block its resident for good.
func writeAtomic(path string, b []byte) error {
	if err := durable.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return durable.WriteFile(path, b)
}
