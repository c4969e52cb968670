package caseload

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/durable"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// A view on disk is a base snapshot (snapshot.go) plus a journal: the
// messages the view took in after the base, appended and fsynced at every
// flush. Writing the whole view at every flush made a view's writes grow
// with the square of its history (an import of a million events spent most
// of its time rewriting snapshots); appending what changed keeps them
// linear. When the journal has grown to twice the base, the base is written
// anew at the view's position and the journal starts over (compactGrowth),
// so a start reads at most the base and twice its bytes of journal. A
// clean stop folds the journal into a new base (follower.baseAtStop), so
// that a planned restart reads the base alone; only a crash leaves a
// journal to replay.
//
// The journal holds each event as the view keeps it (minimised: no
// personal data, no free text) and each malformed message as its
// description; loading applies them with View.Apply, the very code the
// live follower runs, so base plus journal is the view the follower had.
//
// Layout: the magic "LDGJ", then records of
//
//	length uint32 (big endian, of what follows the checksum)
//	crc32c uint32 (of what follows it)
//	kind   byte
//	seq    uint64 (big endian; 0 for the header)
//	data   []byte
//
// The first record is the header (JSON journalHeader): the base the journal
// extends. A journal whose header does not name the base on disk is left
// out (it belongs to a base that a compaction replaced, or to one that was
// discarded), and so is everything from the first torn or unreadable
// record on: what is left out was never acknowledged, or is still on the
// bus, and the plan (planRebuild) reads it again from there.
const journalMagic = "LDGJ"

// journalFormat is the version of the header. Another version is not
// read: the base alone is loaded and the bus fills in the rest.
const journalFormat = 1

// Record kinds.
const (
	recHeader    byte = 0
	recEvent     byte = 1 // data: the minimised event, protobuf
	recMalformed byte = 2 // data: the description Anomalies keeps
	// recEventAt: the store position of the event (commit and prepare, 8
	// bytes each, big-endian), then the event as in recEvent. A reader
	// that does not know it leaves the journal out, as for any damage.
	recEventAt byte = 3
)

// compactGrowth: the base is written anew when the journal is larger than
// this many times the base (and than minCompact). A base write marshals the
// whole view, so during a bulk load (an import) a journal of half the base
// made base writes most of a view's cost; at twice the base they cost a
// quarter of that, and a start replays at most twice the base's bytes of
// journal, which is still far less than the bus.
const compactGrowth = 2 // journal > 2 × base

// minCompact keeps a small view from writing its base at every flush.
const minCompact = 1 << 20

const recordHead = 4 + 4 + 1 + 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// journalHeader names the base snapshot a journal extends.
type journalHeader struct {
	Format        int       `json:"format"`
	Gemeente      string    `json:"gemeente"`
	StreamCreated time.Time `json:"stream_created"`
	BaseSeq       uint64    `json:"base_seq"`
}

func (h journalHeader) extends(s *snapshot) bool {
	return h.Format == journalFormat && h.Gemeente == s.Gemeente && h.StreamCreated.Equal(s.StreamCreated) && h.BaseSeq == s.Seq
}

type journalRecord struct {
	kind byte
	seq  uint64
	data []byte
	end  int64 // offset in the file after the record (readJournal)
}

func journalPath(dir, code string) string {
	return filepath.Join(dir, "caseload-"+code+".journal")
}

// positionBytes is the prefix of a recEventAt record.
func positionBytes(p store.Position) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16+256), p.Commit), p.Prepare)
}

// positionOf reads the prefix positionBytes wrote; data has 16 bytes.
func positionOf(data []byte) store.Position {
	return store.Position{Commit: binary.BigEndian.Uint64(data), Prepare: binary.BigEndian.Uint64(data[8:])}
}

// appendRecord appends the encoding of r to buf.
func appendRecord(buf []byte, r journalRecord) []byte {
	start := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, uint32(1+8+len(r.data)))
	buf = append(buf, 0, 0, 0, 0) // checksum, below
	buf = append(buf, r.kind)
	buf = binary.BigEndian.AppendUint64(buf, r.seq)
	buf = append(buf, r.data...)
	binary.BigEndian.PutUint32(buf[start+4:], crc32.Checksum(buf[start+8:], castagnoli))
	return buf
}

// journalRead is what readJournal found.
type journalRead struct {
	header    journalHeader
	headerEnd int64
	records   []journalRecord
	// good is the length of the intact part: the file is cut back to it
	// before the journal is appended to again.
	good int64
	// damage says why reading stopped before the end; "" when it did not.
	damage string
}

// readJournal reads a journal; (nil, nil) when there is none. A file
// without a readable header is an error; damage after the header is not
// (see journalRead.damage). Sequences must increase.
func readJournal(path string) (*journalRead, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	if len(data) < len(journalMagic) || string(data[:len(journalMagic)]) != journalMagic {
		return nil, fmt.Errorf("read journal %s: not a caseload journal", path)
	}
	out := &journalRead{}
	off := len(journalMagic)
	var last uint64
	for off < len(data) {
		rec, n, why := decodeRecord(data[off:])
		if why == "" && len(out.records) == 0 && out.good == 0 {
			if rec.kind != recHeader {
				why = "the first record is not the header"
			} else if err := json.Unmarshal(rec.data, &out.header); err != nil {
				why = fmt.Sprintf("header: %v", err)
			}
			if why != "" {
				return nil, fmt.Errorf("read journal %s: %s", path, why)
			}
			off += n
			out.good, out.headerEnd = int64(off), int64(off)
			continue
		}
		if why == "" && (rec.kind == recHeader || rec.seq <= last) {
			why = fmt.Sprintf("record at byte %d out of order (sequence %d after %d)", off, rec.seq, last)
		}
		if why != "" {
			out.damage = why
			break
		}
		last = rec.seq
		off += n
		rec.end = int64(off)
		out.records = append(out.records, rec)
		out.good = int64(off)
	}
	if out.good == 0 {
		return nil, fmt.Errorf("read journal %s: no header", path)
	}
	return out, nil
}

// decodeRecord decodes the record at the start of b and its length, or says
// why it can not.
func decodeRecord(b []byte) (journalRecord, int, string) {
	if len(b) < recordHead {
		return journalRecord{}, 0, "torn record at the end"
	}
	n := int(binary.BigEndian.Uint32(b))
	if n < 9 || len(b) < 8+n {
		return journalRecord{}, 0, "torn record at the end"
	}
	if crc32.Checksum(b[8:8+n], castagnoli) != binary.BigEndian.Uint32(b[4:]) {
		return journalRecord{}, 0, "record checksum does not match"
	}
	return journalRecord{kind: b[8], seq: binary.BigEndian.Uint64(b[9:]), data: b[17 : 8+n]}, 8 + n, ""
}

// journal is an open journal, appended to at every flush.
type journal struct {
	path string
	file *os.File
	head int64 // where the header ends: records follow it
	size int64
}

// records reports whether the journal holds records after its header.
func (j *journal) records() bool { return j != nil && j.size > j.head }

// createJournal replaces the journal at path with one that holds only the
// header, durably, and opens it for appending.
func createJournal(path string, h journalHeader) (*journal, error) {
	hdr, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	data := appendRecord([]byte(journalMagic), journalRecord{kind: recHeader, data: hdr})
	if err := durable.WriteFile(path, data); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return openJournal(path, int64(len(data)), int64(len(data)))
}

// openJournal opens the journal at path for appending after its first size
// bytes, cutting off what follows them (a torn record); its header ends at
// head.
func openJournal(path string, head, size int64) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if err := f.Truncate(size); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("journal %s: cut back to %d bytes: %w", path, size, err)
	}
	if _, err := f.Seek(size, 0); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return &journal{path: path, file: f, head: head, size: size}, nil
}

// append writes encoded records and fsyncs them. After an error the
// journal's end is unknown: close it and start a new base.
func (j *journal) append(recs []byte) error {
	if _, err := j.file.Write(recs); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.file.Sync(); err != nil {
		return fmt.Errorf("journal %s: fsync: %w", j.path, err)
	}
	j.size += int64(len(recs))
	return nil
}

func (j *journal) close() {
	if j != nil {
		_ = j.file.Close()
	}
}
