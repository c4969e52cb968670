// Package audit checks the stored history without trusting the ledger that
// wrote it: it is given the events as the store holds them (bytes,
// stream, revision, position) and recomputes every hash itself.
//
// What it checks, per event in global order (the README's "Hash
// construction" says the same for an auditor's own program):
//
//   - the bytes decode as a ledger.v1.Event and name the event id the store
//     files them under;
//   - the event's revision is the next of its stream (0 for a stream's
//     first);
//   - its prev_hash is SHA-256 of the stored bytes of the event before it in
//     its stream, and empty for a stream's first.
//
// And it computes two digests: one of the whole history up to a position,
// a running hash over the global order,
//
//	H(0) = 32 zero bytes,  H(i) = SHA-256(H(i-1) ‖ SHA-256(data(i))),
//
// and one per gemeente over only the events that gemeente receives
// (event.Audience), a Merkle tree (merkle.go) with an inclusion proof for
// any single event.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Rules of a break, as the report names them.
const (
	RuleOnleesbaar = "keten.onleesbaar" // the bytes are not an event
	RuleID         = "keten.event-id"   // the event names another id than the store files it under
	RuleRevisie    = "keten.revisie"    // not the next revision of its stream
	RuleHash       = "keten.hash"       // prev_hash is not the hash of the event before
	RuleDigest     = "keten.digest"     // the history up to a position is not the one a digest was made of
)

// Break is a place where the stored history does not hold together.
type Break struct {
	Rule     string
	Position store.Position
	Stream   string
	Revision uint64
	EventID  string
	// Expected and Found, in hex for hashes.
	Expected, Found string
	// Reden says it in Dutch.
	Reden string
}

func (b *Break) Error() string {
	return fmt.Sprintf("geweigerd [%s] positie %s, stroom %s, revisie %d (event %s): %s", b.Rule, b.Position, b.Stream, b.Revision, b.EventID, b.Reden)
}

// link is what a stream's next event must follow.
type link struct {
	revision uint64
	hash     Hash
}

// Verifier takes the stored events one by one, in global order.
type Verifier struct {
	participants []string
	streams      map[string]link
	running      Hash
	events       uint64
	last         store.Position
	breaks       []*Break
	maxBreaks    int
	leaves       map[string][]Hash
	// prove is the event id an inclusion proof is wanted of; proved its
	// leaf index per gemeente.
	prove  string
	proved map[string]int
	part   string
}

// Config of a Verifier.
type Config struct {
	// Participants: every gemeente code on file, for the audience of a
	// regional event.
	Participants []string
	// Prove asks for the inclusion proof of this event id in every
	// gemeente's tree that holds it.
	Prove string
	// MaxBreaks is how many breaks are kept (the first ones); default 100.
	MaxBreaks int
	// Gemeente: the verifier is given only the events this gemeente
	// receives (a gemeente's own auditor). A stream's events it was not
	// given leave a gap in the revisions; a link is checked only between
	// events it holds both of, and only its own tree is built.
	Gemeente string
}

// New returns a verifier at the start of the history.
func New(cfg Config) *Verifier {
	if cfg.MaxBreaks <= 0 {
		cfg.MaxBreaks = 100
	}
	return &Verifier{participants: cfg.Participants, streams: map[string]link{}, leaves: map[string][]Hash{},
		prove: cfg.Prove, proved: map[string]int{}, maxBreaks: cfg.MaxBreaks, part: cfg.Gemeente}
}

func (v *Verifier) broken(b *Break) {
	if len(v.breaks) < v.maxBreaks {
		v.breaks = append(v.breaks, b)
	}
}

// prepared is what Add computes of one event that does not depend on the
// events before it.
type prepared struct {
	sum, leaf Hash
	ev        *ledgerv1.Event
	err       error
}

func prepare(rec store.RecordedEvent) prepared {
	ev, err := event.Decode(rec.Data)
	return prepared{sum: sha256.Sum256(rec.Data), leaf: LeafHash(rec.Data), ev: ev, err: err}
}

// Add takes the next stored event. The digests cover the bytes as stored,
// also after a break.
func (v *Verifier) Add(rec store.RecordedEvent) { v.add(rec, prepare(rec)) }

// AddAll takes the next stored events, in order: the decoding and hashing
// of each event on its own runs on every core, the chains and digests
// after it in order. The result is Add's, event by event.
func (v *Verifier) AddAll(recs []store.RecordedEvent) {
	pre := make([]prepared, len(recs))
	parts := min(runtime.GOMAXPROCS(0), max(1, len(recs)/256))
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			for i := p * len(recs) / parts; i < (p+1)*len(recs)/parts; i++ {
				pre[i] = prepare(recs[i])
			}
		})
	}
	wg.Wait()
	for i, rec := range recs {
		v.add(rec, pre[i])
	}
}

// Link is the step of the history's digest: the running hash after an
// event whose stored bytes hash to sum, following prev.
func Link(prev, sum Hash) Hash {
	var buf [2 * sha256.Size]byte
	copy(buf[:], prev[:])
	copy(buf[sha256.Size:], sum[:])
	return sha256.Sum256(buf[:])
}

// Chain is Link of the stored bytes data.
func Chain(prev Hash, data []byte) Hash { return Link(prev, sha256.Sum256(data)) }

// DigestOf writes a running hash as reports do: "sha256:<hex>".
func DigestOf(h Hash) string { return "sha256:" + hex.EncodeToString(h[:]) }

func (v *Verifier) add(rec store.RecordedEvent, pre prepared) {
	sum := pre.sum
	v.running = Link(v.running, sum)
	v.events++
	v.last = rec.Position
	at := func(rule, expected, found, reden string) *Break {
		return &Break{Rule: rule, Position: rec.Position, Stream: rec.Stream, Revision: rec.Revision, EventID: rec.ID.String(),
			Expected: expected, Found: found, Reden: reden}
	}

	prev, seen := v.streams[rec.Stream]
	v.streams[rec.Stream] = link{revision: rec.Revision, hash: sum}
	ev, err := pre.ev, pre.err
	if err != nil {
		v.broken(at(RuleOnleesbaar, "", "", fmt.Sprintf("de opgeslagen bytes zijn geen gebeurtenis: %v", err)))
		if v.part != "" {
			v.leaf([]string{v.part}, pre.leaf, rec.ID.String())
		} else {
			v.leaf(v.participants, pre.leaf, rec.ID.String())
		}
		return
	}
	env := ev.GetEnvelope()
	if env.GetEventId() != rec.ID.String() {
		v.broken(at(RuleID, rec.ID.String(), env.GetEventId(), "de gebeurtenis noemt een ander event-id dan waaronder de opslag haar bewaart"))
	}
	wantRev := uint64(0)
	if seen {
		wantRev = prev.revision + 1
	}
	linked := true // the event before this one in its stream is known
	switch {
	case v.part != "" && rec.Revision > wantRev:
		linked = false // not given to this gemeente
	case rec.Revision != wantRev:
		v.broken(at(RuleRevisie, fmt.Sprint(wantRev), fmt.Sprint(rec.Revision), "de revisie volgt niet op de vorige gebeurtenis van deze stroom: er ontbreekt er een of de volgorde is veranderd"))
	}
	var want []byte
	if seen {
		want = prev.hash[:]
	}
	if got := env.GetPrevHash(); linked && !bytes.Equal(got, want) {
		reden := "prev_hash van de eerste gebeurtenis van een stroom moet leeg zijn: er is een gebeurtenis vóór deze weggenomen, of deze is ingevoegd"
		if seen {
			reden = fmt.Sprintf("prev_hash is niet de SHA-256 van revisie %d zoals opgeslagen: die is veranderd, of er is tussen beide een gebeurtenis weggenomen, verplaatst of ingevoegd", prev.revision)
		}
		v.broken(at(RuleHash, hex.EncodeToString(want), hex.EncodeToString(got), reden))
	}
	audience := event.Audience(ev, v.participants)
	if v.part != "" {
		audience = []string{v.part}
	}
	v.leaf(audience, pre.leaf, rec.ID.String())
}

func (v *Verifier) leaf(gemeenten []string, l Hash, id string) {
	if len(gemeenten) == 0 {
		return
	}
	for _, g := range gemeenten {
		if id == v.prove {
			v.proved[g] = len(v.leaves[g])
		}
		v.leaves[g] = append(v.leaves[g], l)
	}
}

// Digest is the running hash of everything added, "sha256:<hex>".
func (v *Verifier) Digest() string { return DigestOf(v.running) }

// GemeenteDigest is one gemeente's part of the history.
type GemeenteDigest struct {
	Gemeente string
	Events   uint64
	Root     string // "sha256:<hex>" of the Merkle tree
}

// Inclusion proves that one event is in a gemeente's tree.
type Inclusion struct {
	Gemeente string
	EventID  string
	Index    uint64
	Size     uint64
	Leaf     Hash
	Path     []Hash
	Root     Hash
}

// Report is the outcome of a verification.
type Report struct {
	Events uint64
	// Tot is the position of the last event checked.
	Tot    store.Position
	Digest string
	// Breaks are the first places the history does not hold together;
	// none when it is whole.
	Breaks    []*Break
	Gemeenten []GemeenteDigest
	Proofs    []Inclusion
}

// Report sums up what was added.
func (v *Verifier) Report() *Report {
	r := &Report{Events: v.events, Tot: v.last, Digest: v.Digest(), Breaks: v.breaks}
	codes := make([]string, 0, len(v.leaves))
	for g := range v.leaves {
		codes = append(codes, g)
	}
	slices.Sort(codes)
	for _, g := range codes {
		root := Root(v.leaves[g])
		r.Gemeenten = append(r.Gemeenten, GemeenteDigest{Gemeente: g, Events: uint64(len(v.leaves[g])), Root: "sha256:" + hex.EncodeToString(root[:])})
		if i, ok := v.proved[g]; ok {
			r.Proofs = append(r.Proofs, Inclusion{Gemeente: g, EventID: v.prove, Index: uint64(i), Size: uint64(len(v.leaves[g])),
				Leaf: v.leaves[g][i], Path: Path(v.leaves[g], i), Root: root})
		}
	}
	return r
}
