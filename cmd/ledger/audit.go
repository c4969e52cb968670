package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gooi-vechtstreek/ledger/projections/beleidsview"
	"github.com/gooi-vechtstreek/ledger/projections/caseload"
	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/api"
	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/durable"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/export"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

func auditCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("ledger audit: geef een opdracht: verify, replay, export, rapportages, verschil, vergelijk, herleid")
	}
	// An audit reads the whole history and may build the regional model
	// of it: the collector settings of ledger serve, not Go's default
	// (a replay of a million events took 28 s with it, see README).
	_, _, restore := tuneGC()
	defer restore()
	switch args[0] {
	case "verify":
		return auditVerify(ctx, args[1:], stdout, stderr)
	case "export":
		return auditExport(ctx, args[1:], stdout, stderr)
	case "replay":
		return auditReplay(ctx, args[1:], stdout, stderr)
	case "rapportages":
		return auditRapportages(ctx, args[1:], stdout, stderr)
	case "verschil":
		return auditVerschil(ctx, args[1:], stdout, stderr)
	case "vergelijk":
		return auditVergelijk(ctx, args[1:], stdout, stderr)
	case "herleid":
		return auditHerleid(ctx, args[1:], stdout, stderr)
	}
	return usageErrorf("ledger audit: onbekende opdracht %q", args[0])
}

const auditVerifySynopsis = `ledger audit verify [--tot POSITIE] [--digest D] [--gemeente GM..] [--bewijs EVENT-ID] [--json]

Leest de opgeslagen geschiedenis (rol auditor; een gemeente alleen haar eigen deel)
byte voor byte zoals de opslag haar bewaart, en rekent alles zelf na: elke
gebeurtenis is leesbaar en draagt het event-id waaronder zij bewaard is, haar
revisie volgt op de vorige van haar stroom, en haar prev_hash is de SHA-256 van
de opgeslagen vorige. De eerste plaatsen die niet kloppen worden genoemd
(stroom, revisie, positie, verwachte en gevonden hash). Daarna het digest van
de hele geschiedenis tot en met de laatste positie, en per gemeente de wortel
van een Merkle-boom over alleen haar gebeurtenissen (README: "Hash
construction"). Met --digest en --tot: bewijs dat de geschiedenis tot die
positie dezelfde is als toen het digest werd gemaakt. Met --bewijs: het
inclusiebewijs van één gebeurtenis in de boom van elke gemeente die haar kreeg.`

func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger audit verify", auditVerifySynopsis, stderr)
	var c conn
	c.register(fs)
	tot := fs.String("tot", "", "controleer tot en met deze positie in de opslag (zoals 120/120; standaard: alles)")
	digest := fs.String("digest", "", "het digest (sha256:...) dat de geschiedenis tot en met --tot moet hebben")
	gm := fs.String("gemeente", "", "controleer alleen de gebeurtenissen die deze gemeente krijgt (haar eigen deel)")
	bewijs := fs.String("bewijs", "", "geef het inclusiebewijs van deze gebeurtenis (event-id)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *digest != "" && *tot == "" {
		return usageErrorf("--digest hoort bij een positie: geef ook --tot, de positie tot waar het digest gemaakt is")
	}
	client := c.client()
	participants, err := participantCodes(ctx, client)
	if err != nil {
		return err
	}
	v := audit.New(audit.Config{Participants: participants, Prove: *bewijs, Gemeente: *gm})
	prog := newProgress(stderr, "gecontroleerd")
	var page []store.RecordedEvent
	err = readEvents(ctx, client, "", *tot, *gm, func(se *ledgerv1.StoredEvent, rec store.RecordedEvent) error {
		if page = append(page, rec); len(page) == api.MaxReadEvents {
			v.AddAll(page)
			page = page[:0]
		}
		prog.step(rec.Position)
		return nil
	})
	v.AddAll(page)
	prog.done()
	if err != nil {
		return err
	}
	rep := v.Report()
	if *tot != "" {
		want, err := store.ParsePosition(*tot)
		if err == nil && rep.Tot.Less(want) {
			return &failure{msg: fmt.Sprintf("geweigerd [%s] de opslag reikt tot positie %s, niet tot %s: de geschiedenis is korter dan toen", audit.RuleDigest, rep.Tot, *tot)}
		}
	}
	if c.json {
		if err := json.NewEncoder(stdout).Encode(reportJSON(rep)); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if len(rep.Breaks) > 0 {
		return &finding{msg: fmt.Sprintf("BEVINDING [%s] de geschiedenis klopt niet: %d plaats(en), de eerste op positie %s (stroom %s, revisie %d)",
			rep.Breaks[0].Rule, len(rep.Breaks), rep.Breaks[0].Position, rep.Breaks[0].Stream, rep.Breaks[0].Revision)}
	}
	if *digest != "" && *digest != rep.Digest {
		return &finding{msg: fmt.Sprintf("BEVINDING [%s] de geschiedenis tot en met positie %s heeft digest %s, niet %s: er is sindsdien iets veranderd, weggenomen, verplaatst of ingevoegd",
			audit.RuleDigest, rep.Tot, rep.Digest, *digest)}
	}
	if *bewijs != "" && len(rep.Proofs) == 0 {
		return &failure{msg: fmt.Sprintf("gebeurtenis %s is niet gevonden in de gecontroleerde geschiedenis", *bewijs)}
	}
	return nil
}

func printReport(w io.Writer, rep *audit.Report) {
	for _, b := range rep.Breaks {
		fmt.Fprintf(w, "BREUK [%s] positie %s, stroom %s, revisie %d, event %s\n  %s\n", b.Rule, b.Position, b.Stream, b.Revision, b.EventID, b.Reden)
		if b.Expected != "" || b.Found != "" {
			fmt.Fprintf(w, "  verwacht %s\n  gevonden %s\n", b.Expected, b.Found)
		}
	}
	if len(rep.Breaks) == 0 {
		fmt.Fprintf(w, "de geschiedenis klopt: %d gebeurtenissen, elke hashketen heel\n", rep.Events)
	}
	fmt.Fprintf(w, "digest tot en met positie %s: %s\n", rep.Tot, rep.Digest)
	for _, g := range rep.Gemeenten {
		fmt.Fprintf(w, "  %s: %d gebeurtenissen, Merkle-wortel %s\n", g.Gemeente, g.Events, g.Root)
	}
	for _, p := range rep.Proofs {
		fmt.Fprintf(w, "inclusiebewijs van %s in de boom van %s: blad %d van %d, blad-hash %s\n", p.EventID, p.Gemeente, p.Index, p.Size, hex.EncodeToString(p.Leaf[:]))
		for i, h := range p.Path {
			fmt.Fprintf(w, "  pad %d: %s\n", i, hex.EncodeToString(h[:]))
		}
	}
}

// The JSON of a report: fixed Dutch field names, hashes in hex.
type breakJSON struct {
	Regel    string `json:"regel"`
	Positie  string `json:"positie"`
	Stroom   string `json:"stroom"`
	Revisie  uint64 `json:"revisie"`
	EventID  string `json:"event_id"`
	Verwacht string `json:"verwacht"`
	Gevonden string `json:"gevonden"`
	Reden    string `json:"reden"`
}

type gemeenteJSON struct {
	Gemeente       string     `json:"gemeente"`
	Gebeurtenissen uint64     `json:"gebeurtenissen"`
	MerkleWortel   string     `json:"merkle_wortel"`
	Inclusiebewijs *proofJSON `json:"inclusiebewijs,omitempty"`
}

type proofJSON struct {
	EventID  string   `json:"event_id"`
	Blad     uint64   `json:"blad"`
	Grootte  uint64   `json:"grootte"`
	BladHash string   `json:"blad_hash"`
	Pad      []string `json:"pad"`
}

type auditReportJSON struct {
	Gebeurtenissen uint64         `json:"gebeurtenissen"`
	Tot            string         `json:"tot"`
	Digest         string         `json:"digest"`
	Heel           bool           `json:"heel"`
	Breuken        []breakJSON    `json:"breuken"`
	Gemeenten      []gemeenteJSON `json:"gemeenten"`
}

func reportJSON(rep *audit.Report) auditReportJSON {
	out := auditReportJSON{Gebeurtenissen: rep.Events, Tot: rep.Tot.String(), Digest: rep.Digest, Heel: len(rep.Breaks) == 0, Breuken: []breakJSON{}, Gemeenten: []gemeenteJSON{}}
	for _, b := range rep.Breaks {
		out.Breuken = append(out.Breuken, breakJSON{b.Rule, b.Position.String(), b.Stream, b.Revision, b.EventID, b.Expected, b.Found, b.Reden})
	}
	proofs := map[string]*proofJSON{}
	for _, p := range rep.Proofs {
		pj := &proofJSON{EventID: p.EventID, Blad: p.Index, Grootte: p.Size, BladHash: hex.EncodeToString(p.Leaf[:]), Pad: []string{}}
		for _, h := range p.Path {
			pj.Pad = append(pj.Pad, hex.EncodeToString(h[:]))
		}
		proofs[p.Gemeente] = pj
	}
	for _, g := range rep.Gemeenten {
		out.Gemeenten = append(out.Gemeenten, gemeenteJSON{g.Gemeente, g.Events, g.Root, proofs[g.Gemeente]})
	}
	return out
}

func participantCodes(ctx context.Context, client ledgerv1connect.LedgerServiceClient) ([]string, error) {
	resp, err := client.ListGemeenten(ctx, connect.NewRequest(&ledgerv1.ListGemeentenRequest{}))
	if err != nil {
		return nil, err
	}
	var codes []string
	for _, g := range resp.Msg.GetGemeenten() {
		codes = append(codes, g.GetCode())
	}
	return codes, nil
}

// readEvents reads the stored events after van up to and including tot
// (empty: the head at the first page) and hands each to fn, in the store's
// order. The first page says how far one call reaches; when the store's
// positions are plain sequence numbers (commit equals prepare, as in the
// JetStream store, where any number is a valid bound), the rest is cut
// into ranges of that width, read by up to readersAhead calls side by
// side while fn works through the ones before: an audit is otherwise one
// round trip after another, with both cores mostly idle. Other stores'
// positions are read one page after the other, the next fetched while fn
// works.
func readEvents(ctx context.Context, client ledgerv1connect.LedgerServiceClient, van, tot, gm string, fn func(*ledgerv1.StoredEvent, store.RecordedEvent) error) error {
	return readEventsPaged(ctx, client, van, tot, gm, api.MaxReadEvents, fn)
}

// readEventsPaged is readEvents with pages of max events.
func readEventsPaged(ctx context.Context, client ledgerv1connect.LedgerServiceClient, van, tot, gm string, max uint32, fn func(*ledgerv1.StoredEvent, store.RecordedEvent) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	first, err := client.ReadEvents(ctx, connect.NewRequest(&ledgerv1.ReadEventsRequest{BeginNa: van, TotPositie: tot, Max: max, Gemeente: gm}))
	if err != nil {
		return err
	}
	if tot == "" {
		// Fix the end at the head of the first page: a history that grows
		// while it is checked is checked up to where it was.
		tot = first.Msg.GetKop()
	}
	if err := handEach(first.Msg.GetEvents(), fn); err != nil {
		return err
	}
	if first.Msg.GetEinde() || first.Msg.GetPositie() == "" {
		return ctx.Err()
	}
	from, end, width, ok := ranges(van, first.Msg.GetPositie(), tot, first.Msg.GetEvents())
	if !ok {
		return readPages(ctx, client, first.Msg.GetPositie(), tot, gm, max, fn)
	}
	// Range i is (from+i*width, from+(i+1)*width], the last one ending at
	// tot. Each result waits in its own channel until fn is done with the
	// ones before; taking a slot bounds the ranges read or waiting.
	type result struct {
		events []*ledgerv1.StoredEvent
		err    error
	}
	n := int((end.Commit - from.Commit + width - 1) / width)
	results := make([]chan result, n)
	for i := range results {
		results[i] = make(chan result, 1)
	}
	slots := make(chan struct{}, readersAhead)
	go func() {
		for i := range n {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			after := store.Position{Commit: from.Commit + uint64(i)*width, Prepare: from.Commit + uint64(i)*width}.String()
			upTo := tot
			if i < n-1 {
				b := from.Commit + uint64(i+1)*width
				upTo = store.Position{Commit: b, Prepare: b}.String()
			}
			go func() {
				var all []*ledgerv1.StoredEvent
				err := readRange(ctx, client, after, upTo, gm, max, func(page []*ledgerv1.StoredEvent) { all = append(all, page...) })
				results[i] <- result{all, err}
			}()
		}
	}()
	for i := range n {
		var r result
		select {
		case r = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-slots
		if r.err != nil {
			return r.err
		}
		if err := handEach(r.events, fn); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// readersAhead is how many ranges readEvents reads or holds at once.
const readersAhead = 3

// ranges plans the rest of a read after the first page, which went from van
// to last: the start, the end and the width of each range, ok when the
// positions are sequence numbers.
func ranges(van, last, tot string, page []*ledgerv1.StoredEvent) (from, end store.Position, width uint64, ok bool) {
	start, err1 := store.ParsePosition(cmp.Or(van, "0/0"))
	from, err2 := store.ParsePosition(last)
	end, err3 := store.ParsePosition(tot)
	if err1 != nil || err2 != nil || err3 != nil || !start.Less(from) || !from.Less(end) {
		return from, end, 0, false
	}
	for _, p := range []store.Position{start, from, end} {
		if p.Commit != p.Prepare {
			return from, end, 0, false
		}
	}
	for _, se := range page {
		if p, err := store.ParsePosition(se.GetPositie()); err != nil || p.Commit != p.Prepare {
			return from, end, 0, false
		}
	}
	return from, end, from.Commit - start.Commit, true
}

// readRange reads the stored events after after up to and including upTo
// page by page, handing each page to got.
func readRange(ctx context.Context, client ledgerv1connect.LedgerServiceClient, after, upTo, gm string, max uint32, got func([]*ledgerv1.StoredEvent)) error {
	for {
		resp, err := client.ReadEvents(ctx, connect.NewRequest(&ledgerv1.ReadEventsRequest{BeginNa: after, TotPositie: upTo, Max: max, Gemeente: gm}))
		if err != nil {
			return err
		}
		got(resp.Msg.GetEvents())
		if resp.Msg.GetEinde() || resp.Msg.GetPositie() == "" {
			return nil
		}
		after = resp.Msg.GetPositie()
	}
}

// readPages reads the stored events after after up to and including tot
// page by page, fetching the next page while fn works through the one
// before.
func readPages(ctx context.Context, client ledgerv1connect.LedgerServiceClient, after, tot, gm string, max uint32, fn func(*ledgerv1.StoredEvent, store.RecordedEvent) error) error {
	type page struct {
		events []*ledgerv1.StoredEvent
		err    error
	}
	pages := make(chan page, 1)
	go func() {
		defer close(pages)
		err := readRange(ctx, client, after, tot, gm, max, func(events []*ledgerv1.StoredEvent) {
			select {
			case pages <- page{events: events}:
			case <-ctx.Done():
			}
		})
		if err != nil {
			select {
			case pages <- page{err: err}:
			case <-ctx.Done():
			}
		}
	}()
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		if err := handEach(p.events, fn); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func handEach(events []*ledgerv1.StoredEvent, fn func(*ledgerv1.StoredEvent, store.RecordedEvent) error) error {
	for _, se := range events {
		rec, err := recordOf(se)
		if err != nil {
			return err
		}
		if err := fn(se, rec); err != nil {
			return err
		}
	}
	return nil
}

func recordOf(se *ledgerv1.StoredEvent) (store.RecordedEvent, error) {
	pos, err := store.ParsePosition(se.GetPositie())
	if err != nil {
		return store.RecordedEvent{}, fmt.Errorf("de server gaf positie %q: %w", se.GetPositie(), err)
	}
	id, err := uuid.Parse(se.GetEventId())
	if err != nil {
		return store.RecordedEvent{}, fmt.Errorf("de server gaf event-id %q op positie %s: %w", se.GetEventId(), pos, err)
	}
	return store.RecordedEvent{ID: id, Stream: se.GetStream(), Type: se.GetType(), Revision: se.GetRevisie(), Position: pos,
		Recorded: se.GetVastgelegd().AsTime(), Data: se.GetData()}, nil
}

const auditExportSynopsis = `ledger audit export [--van POSITIE] [--tot POSITIE] [--gemeente GM..] [-o BESTAND]

Schrijft elke opgeslagen gebeurtenis als één regel JSON (rol auditor; een
gemeente alleen haar eigen deel), voor de eigen controlemiddelen van de
accountant: positie, stroom, revisie, event_id, type, vastgelegd, de
opgeslagen bytes (data, base64), hun SHA-256, de prev_hash uit de bytes en de
gebeurtenis zelf als protojson. Persoonsgegevens blijven versleuteld. Hoe de
hashketen en het digest na te rekenen zijn: README, "Hash construction".`

// exportLine is one line of `ledger audit export`.
type exportLine struct {
	Positie    string          `json:"positie"`
	Stroom     string          `json:"stroom"`
	Revisie    uint64          `json:"revisie"`
	EventID    string          `json:"event_id"`
	Type       string          `json:"type"`
	Vastgelegd string          `json:"vastgelegd"`
	Data       string          `json:"data"`
	SHA256     string          `json:"sha256"`
	PrevHash   string          `json:"prev_hash"`
	Event      json.RawMessage `json:"event"`
}

func auditExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger audit export", auditExportSynopsis, stderr)
	var c conn
	c.register(fs)
	van := fs.String("van", "", "na deze positie beginnen (standaard: bij het begin)")
	tot := fs.String("tot", "", "tot en met deze positie (standaard: alles)")
	gm := fs.String("gemeente", "", "alleen de gebeurtenissen die deze gemeente krijgt")
	out := fs.String("o", "", "schrijf naar dit bestand (heel of niet) in plaats van de standaarduitvoer")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	dst := stdout
	var tmp *os.File
	if *out != "" {
		// Whole or not at all: a temporary file beside it, renamed when
		// complete.
		f, err := os.CreateTemp(filepath.Dir(*out), filepath.Base(*out)+".tmp-*")
		if err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		defer func() {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}()
		tmp, dst = f, f
	}
	w := bufio.NewWriter(dst)
	prog := newProgress(stderr, "geëxporteerd")
	enc := json.NewEncoder(w)
	err := readEvents(ctx, c.client(), *van, *tot, *gm, func(se *ledgerv1.StoredEvent, rec store.RecordedEvent) error {
		line := exportLine{Positie: se.GetPositie(), Stroom: se.GetStream(), Revisie: se.GetRevisie(), EventID: se.GetEventId(), Type: se.GetType(),
			Vastgelegd: rec.Recorded.UTC().Format(time.RFC3339Nano), Data: base64.StdEncoding.EncodeToString(rec.Data), Event: json.RawMessage("null")}
		sum := sha256.Sum256(rec.Data)
		line.SHA256 = hex.EncodeToString(sum[:])
		if ev, err := event.Decode(rec.Data); err == nil {
			line.PrevHash = hex.EncodeToString(ev.GetEnvelope().GetPrevHash())
			if b, err := protojson.Marshal(ev); err == nil {
				line.Event = b
			}
		}
		prog.step(rec.Position)
		return enc.Encode(line)
	})
	prog.done()
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if tmp == nil {
		return nil
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	return durable.SyncDir(filepath.Dir(*out))
}

// progress shows on a terminal how far a long read is; a pipe gets
// nothing.
type progress struct {
	w     io.Writer
	on    bool
	verb  string
	n     int
	start time.Time
	shown time.Time
	ended bool
}

func newProgress(w io.Writer, verb string) *progress {
	p := &progress{w: w, on: isTerminal(w), verb: verb}
	p.start = time.Now() // a stopwatch for the rate, not a date
	return p
}

func (p *progress) step(at store.Position) {
	p.n++
	if !p.on || time.Since(p.shown) < 200*time.Millisecond {
		return
	}
	p.shown = time.Now()
	fmt.Fprintf(p.w, "\r\033[K%s %d gebeurtenissen, positie %s, %.0f/s", p.verb, p.n, at, float64(p.n)/max(time.Since(p.start).Seconds(), 1e-3))
}

// done ends the progress line; a second call says nothing.
func (p *progress) done() {
	if p.on && p.n > 0 && !p.ended {
		fmt.Fprintf(p.w, "\r\033[K%s %d gebeurtenissen\n", p.verb, p.n)
	}
	p.ended = true
}

const auditReplaySynopsis = `ledger audit replay --gemeente GM.. [--jaar J] [--maand M] [--kosten | --caseload] [--tot POSITIE] [--bekend-op DATUM] [--peildatum DATUM] [--json]

Maakt de beleidsview (met --kosten de kostenregels, met --caseload het
caseloadoverzicht) van een gemeente opnieuw
in dit proces (rol auditor), uit de opgeslagen gebeurtenissen en met dezelfde
code als de ledger, niet uit de cijfers van de server:
  --tot POSITIE      alleen wat tot en met die positie is opgeslagen: met de
                     positie en peildatum van het certificaat van een view of
                     export komt precies die view of export terug (een export
                     byte voor byte)
  --bekend-op DATUM  alleen wat op die dag om middernacht (Amsterdam) was
                     vastgelegd (recorded_at): wat men toen wist
  --peildatum DATUM  de cijfers zoals ze voor die dag gelden (occurred_on);
                     standaard de dag van --bekend-op, anders vandaag
Samen beantwoorden ze "wat wisten we op 30 juni over het eerste kwartaal":
--bekend-op 2026-06-30 --peildatum 2026-03-31. Uitvoer als ledger view en
ledger export costs (ook --json).`

func auditReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger audit replay", auditReplaySynopsis, stderr)
	var c conn
	c.register(fs)
	gm := fs.String("gemeente", "", "CBS-code (verplicht)")
	jaar := fs.Int("jaar", 0, "jaar (standaard het jaar van de peildatum)")
	maand := fs.Int("maand", 0, "maand 1-12 (standaard het hele jaar)")
	kosten := fs.Bool("kosten", false, "de kostenregels als CSV, zoals ledger export costs")
	caseloadFlag := fs.Bool("caseload", false, "het caseloadoverzicht, zoals ledger view --caseload")
	tot := fs.String("tot", "", "tot en met deze positie in de opslag (standaard: alles)")
	bekendOp := fs.String("bekend-op", "", "alleen wat op deze dag (JJJJ-MM-DD) was vastgelegd")
	peil := fs.String("peildatum", "", "de dag waarop de cijfers gelden (JJJJ-MM-DD)")
	file := fs.String("gemeenten", "deploy/gemeenten.json", "databestand met de deelnemende gemeenten, zoals de server het gebruikt")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *gm == "" {
		return usageErrorf("--gemeente is verplicht")
	}
	if *maand < 0 || *maand > 12 || *kosten && *maand != 0 {
		return usageErrorf("--maand %d: geef 1 tot en met 12, en niet bij --kosten (die gelden een jaar)", *maand)
	}
	reg, err := gemeente.Load(*file)
	if err != nil {
		return usageErrorf("--gemeenten: %v", err)
	}
	var known *ledgerv1.Date
	if *bekendOp != "" {
		if known, err = event.ParseDate(*bekendOp); err != nil {
			return usageErrorf("--bekend-op %q: %v", *bekendOp, err)
		}
	}
	var system clock.Clock // nil: the system clock, the one clock there is
	day := system.Today()
	switch {
	case *peil != "":
		if day, err = event.ParseDate(*peil); err != nil {
			return usageErrorf("--peildatum %q: %v", *peil, err)
		}
	case known != nil:
		day = known
	}
	if *jaar == 0 {
		*jaar = int(day.GetYear())
	}
	if *caseloadFlag {
		if *kosten {
			return usageErrorf("--kosten of --caseload, niet allebei")
		}
		return replayCaseload(ctx, c, reg, *gm, *tot, known, day, stdout, stderr)
	}
	m, err := replayModel(ctx, c.client(), reg, *tot, known, stderr)
	if err != nil {
		return err
	}
	cert := m.Certificate()
	cert.Peildatum = day
	today := region.DayOf(day)
	if *kosten {
		resp, err := replayCosts(m, reg, *gm, *jaar, day)
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(stdout, resp)
		}
		total, err := export.WriteCosts(stdout, resp.GetRegels())
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%d kostenregels, totaal %s\n", len(resp.GetRegels()), euro(total))
		fmt.Fprint(stderr, certificaat(cert))
		return nil
	}
	v, err := beleidsview.Compute(m, reg, reg.Centrum(), *gm, *jaar, *maand, today)
	if err != nil {
		return err
	}
	beleidsview.DropClients(v)
	v.Bron, v.BijgewerktTot = api.BronReplay, m.Position().String()
	resp := &ledgerv1.GetBeleidsviewResponse{View: v, Certificaat: cert}
	if c.json {
		return printJSON(stdout, resp)
	}
	if err := printBeleidsview(stdout, v); err != nil {
		return err
	}
	fmt.Fprint(stdout, "\n"+certificaat(cert))
	return nil
}

// replayModel builds the regional model from the stored events up to tot
// (empty: the head) and, with known set, only of what had been recorded by
// the end of that day in the ledger's calendar.
func replayModel(ctx context.Context, client ledgerv1connect.LedgerServiceClient, reg *gemeente.Registry, tot string, known *ledgerv1.Date, stderr io.Writer) (*region.Model, error) {
	m := region.New(reg)
	err := readKnown(ctx, client, tot, known, stderr, m.ApplyRecord)
	return m, err
}

// readKnown hands apply the stored events up to tot (empty: the head) and,
// with known set, only those recorded by the end of that day in the
// ledger's calendar, with progress on a terminal.
func readKnown(ctx context.Context, client ledgerv1connect.LedgerServiceClient, tot string, known *ledgerv1.Date, stderr io.Writer, apply func(store.RecordedEvent) error) error {
	var until time.Time
	if known != nil {
		until = time.Date(int(known.GetYear()), time.Month(known.GetMonth()), int(known.GetDay())+1, 0, 0, 0, 0, clock.Location())
	}
	prog := newProgress(stderr, "opnieuw gelezen")
	defer prog.done()
	return readEvents(ctx, client, "", tot, "", func(_ *ledgerv1.StoredEvent, rec store.RecordedEvent) error {
		prog.step(rec.Position)
		if known != nil {
			ev, err := event.Decode(rec.Data)
			if err != nil {
				return fmt.Errorf("gebeurtenis op positie %s: %w", rec.Position, err)
			}
			if !ev.GetEnvelope().GetRecordedAt().AsTime().Before(until) {
				return nil
			}
		}
		return apply(rec)
	})
}

// replayCaseload is GetView's answer made in this process from the stored
// events up to tot (and known), composed as of day.
func replayCaseload(ctx context.Context, c conn, reg *gemeente.Registry, gm, tot string, known, day *ledgerv1.Date, stdout, stderr io.Writer) error {
	if _, ok := reg.Lookup(gm); !ok {
		return usageErrorf("--gemeente %q: niet in het databestand", printable(gm))
	}
	rp := caseload.NewReplayed(reg)
	if err := readKnown(ctx, c.client(), tot, known, stderr, rp.Apply); err != nil {
		return err
	}
	v, _ := rp.View(gm, reg, day)
	cert := rp.Certificate()
	cert.Peildatum = day
	resp := &ledgerv1.GetViewResponse{View: v, Certificaat: cert}
	if c.json {
		return printJSON(stdout, resp)
	}
	if err := printCaseload(stdout, v); err != nil {
		return err
	}
	fmt.Fprint(stdout, "\n"+certificaat(cert))
	return nil
}

// replayCosts is ExportKosten's answer made from m as of day.
func replayCosts(m *region.Model, reg *gemeente.Registry, gm string, jaar int, day *ledgerv1.Date) (*ledgerv1.ExportKostenResponse, error) {
	cert := m.Certificate()
	cert.Peildatum = day
	resp := &ledgerv1.ExportKostenResponse{Certificaat: cert}
	from, to := region.YearStart(jaar), min(region.YearStart(jaar+1), region.DayOf(day)+1)
	if from >= to {
		return resp, nil
	}
	lines, err := costs.Lines(m, reg, reg.Centrum(), gm, from, to)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		resp.Regels = append(resp.Regels, l.Proto())
	}
	return resp, nil
}
