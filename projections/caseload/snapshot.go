package caseload

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/durable"
)

// snapshotFormat is the version of the snapshot file. A file of another
// version is not migrated: the view is rebuilt from the bus.
//
// 2: the view keeps the store position of its last event (View.Tot, the
// live certificate). A view of format 1 does not know it, and a quiet
// gemeente would never learn it; rebuilt, it does.
const snapshotFormat = 2

// snapshot is one gemeente's view on disk, with the bus position it holds.
type snapshot struct {
	Format   int    `json:"format"`
	Gemeente string `json:"gemeente"`
	// Stream and StreamCreated identify the bus stream Seq belongs to.
	Stream        string    `json:"stream"`
	StreamCreated time.Time `json:"stream_created"`
	// Seq is the bus stream sequence of the last message the view holds.
	Seq  uint64 `json:"seq"`
	View *View  `json:"view"`
}

func snapshotPath(dir, code string) string {
	return filepath.Join(dir, "caseload-"+code+".json")
}

// readSnapshot reads the snapshot of code; (nil, nil) when there is none.
func readSnapshot(path, code string) (*snapshot, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	switch {
	case s.Format != snapshotFormat:
		return nil, fmt.Errorf("read snapshot %s: format %d, want %d", path, s.Format, snapshotFormat)
	case s.Gemeente != code || s.View == nil || s.View.Gemeente() != code:
		return nil, fmt.Errorf("read snapshot %s: not a snapshot of %s", path, code)
	}
	return &s, nil
}

// writeFileAtomic replaces path with data so that after a crash the file is
// either the old one or the new one, whole: write a temporary file in the
// same directory, fsync it, rename it over path, fsync the directory.
func writeFileAtomic(path string, data []byte) error { return durable.WriteFile(path, data) }

// removeTemps deletes temporary files a crash left behind next to path.
func removeTemps(path string) error {
	matches, err := filepath.Glob(path + ".tmp-*")
	if err != nil {
		return err
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", m, err)
		}
	}
	return nil
}
