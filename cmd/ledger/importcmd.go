package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gooi-vechtstreek/ledger/services/api"
	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

const importSynopsis = `ledger import FILE [--systeem NAAM] [--csv]

Laadt de geschiedenis van de regio uit FILE: JSON Lines, één object per regel
met de bron (het id van het record in het oude systeem) en precies één
verzoek in de vorm van de API ("record", "beleid" of "regio"); een regel van
een zaak mag de zaak noemen met "zaak" (het zaak-id in het oude systeem) in
plaats van case_id. Met --csv (of een bestand op .csv) is FILE een beginstand:
één rij per huidige klant (zie README). Elke regel wordt beslist volgens
dezelfde regels als een live opdracht, met zijn historische datum. Opnieuw
importeren, of verder gaan na een afgebroken import, schrijft niets dubbel.`

// importChunk is how many lines go in one Import call.
const importChunk = 5000

func importCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c conn
	fs := newFlags("ledger import", importSynopsis, stderr)
	c.register(fs)
	systeem := fs.String("systeem", "", "naam van het bronsysteem; bepaalt met de bron van elke regel de event-id's (standaard de bestandsnaam zonder extensie)")
	asCSV := fs.Bool("csv", false, "FILE is een beginstand in CSV (standaard bij een bestand op .csv)")
	chunk := fs.Int("regels-per-verzoek", importChunk, fmt.Sprintf("regels per verzoek aan de server (1 tot en met %d)", api.MaxImportLines))
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("geef één bestand: %s", strings.SplitN(importSynopsis, "\n", 2)[0])
	}
	if *chunk < 1 || *chunk > api.MaxImportLines {
		return usageErrorf("--regels-per-verzoek %d: kies 1 tot en met %d", *chunk, api.MaxImportLines)
	}
	path := rest[0]
	if *systeem == "" {
		*systeem = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return usageErrorf("import: %v", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	counter := &countingReader{r: f}
	var src lineSource
	if *asCSV || strings.EqualFold(filepath.Ext(path), ".csv") {
		src, err = newBeginstand(counter)
		if err != nil {
			return err
		}
	} else {
		src = newJSONLines(counter)
	}
	imp := &importer{
		client:   c.client(),
		systeem:  *systeem,
		stderr:   stderr,
		progress: isTerminal(stderr),
		size:     info.Size(),
		read:     counter,
		refused:  map[string]bool{},
		chunk:    *chunk,
	}
	imp.start = time.Now() // a stopwatch for the rate, not a date
	if err := imp.run(ctx, src); err != nil {
		return err
	}
	s := imp.sum
	fmt.Fprintf(stdout, "gelezen %d regels: vastgelegd %d, al aanwezig %d, geweigerd %d, overgeslagen %d (%s)\n",
		s.read, s.recorded, s.present, s.refused, s.skipped, time.Since(imp.start).Round(time.Millisecond))
	if s.refused > 0 || s.skipped > 0 {
		return &failure{msg: fmt.Sprintf("import: %d regels geweigerd, %d overgeslagen; zie de meldingen hierboven", s.refused, s.skipped)}
	}
	return nil
}

// failure is an error already explained to the user; it exits 1.
type failure struct{ msg string }

func (f *failure) Error() string { return f.msg }

// sourceLine is a line of the file as a request, or why it is none.
type sourceLine struct {
	n     uint64 // line number in the file
	regel *ledgerv1.ImportRegel
	err   error
}

type lineSource interface {
	// next returns the next lines (one line of JSON, or the requests one
	// CSV row expands into); io.EOF at the end.
	next() ([]sourceLine, error)
}

type jsonLines struct {
	sc *bufio.Scanner
	n  uint64
}

func newJSONLines(r io.Reader) *jsonLines {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	return &jsonLines{sc: sc}
}

func (j *jsonLines) next() ([]sourceLine, error) {
	for j.sc.Scan() {
		j.n++
		text := strings.TrimSpace(j.sc.Text())
		if text == "" {
			continue
		}
		r := &ledgerv1.ImportRegel{}
		if err := (protojson.UnmarshalOptions{}).Unmarshal([]byte(text), r); err != nil {
			return []sourceLine{{n: j.n, err: fmt.Errorf("geen geldige importregel: %v", err)}}, nil
		}
		return []sourceLine{{n: j.n, regel: r}}, nil
	}
	if err := j.sc.Err(); err != nil {
		return nil, fmt.Errorf("import: regel %d: %w", j.n+1, err)
	}
	return nil, io.EOF
}

type importSummary struct{ read, recorded, present, refused, skipped int }

type importer struct {
	client interface {
		Import(context.Context, *connect.Request[ledgerv1.ImportRequest]) (*connect.Response[ledgerv1.ImportResponse], error)
	}
	systeem   string
	stderr    io.Writer
	progress  bool
	size      int64
	read      *countingReader
	refused   map[string]bool // cases with a refused line, by zaak or case id
	start     time.Time
	sum       importSummary
	lastShown time.Time
	chunk     int
}

// caseKey names the case of a line (nil for a line that did not parse):
// its source case, else its case id.
func caseKey(r *ledgerv1.ImportRegel) string {
	if z := r.GetZaak(); z != "" {
		return "zaak:" + z
	}
	return r.GetRecord().GetCaseId()
}

func (imp *importer) run(ctx context.Context, src lineSource) error {
	// The file is read and parsed one chunk ahead while the server works
	// on the previous one.
	type chunkOf struct {
		lines []sourceLine
		err   error
	}
	chunks := make(chan chunkOf, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(chunks)
		var chunk []sourceLine
		for {
			lines, err := src.next()
			chunk = append(chunk, lines...)
			if err != nil && err != io.EOF {
				chunks <- chunkOf{err: err}
				return
			}
			if len(chunk) >= imp.chunk || err == io.EOF && len(chunk) > 0 {
				select {
				case chunks <- chunkOf{lines: chunk}:
				case <-ctx.Done():
					return
				}
				chunk = nil
			}
			if err == io.EOF {
				return
			}
		}
	}()
	for c := range chunks {
		if c.err != nil {
			return c.err
		}
		// Which lines to send is decided only now: a refusal in the previous
		// chunk skips the later lines of its case.
		var send []sourceLine
		for _, l := range c.lines {
			imp.sum.read++
			switch {
			case l.err != nil:
				imp.refuse(l.n, "", "import.formaat", l.err.Error())
				if k := caseKey(l.regel); k != "" {
					imp.refused[k] = true
				}
			case imp.refused[caseKey(l.regel)] && caseKey(l.regel) != "":
				imp.sum.skipped++
			default:
				send = append(send, l)
			}
		}
		if len(send) > 0 {
			if err := imp.send(ctx, send); err != nil {
				return err
			}
		}
	}
	imp.showProgress(true)
	return nil
}

// send imports one chunk; after a lost answer it sends the chunk again,
// which writes nothing twice.
func (imp *importer) send(ctx context.Context, chunk []sourceLine) error {
	req := &ledgerv1.ImportRequest{Systeem: imp.systeem, EersteRegel: chunk[0].n}
	for _, l := range chunk {
		req.Regels = append(req.Regels, l.regel)
	}
	resp, err := sendOnce(ctx, func() (*connect.Response[ledgerv1.ImportResponse], error) {
		return imp.client.Import(ctx, connect.NewRequest(req))
	})
	if err != nil {
		imp.showProgress(true)
		fmt.Fprintf(imp.stderr, "import gestopt bij regel %d: de regels daarvoor zijn vastgelegd; start dezelfde import opnieuw om verder te gaan (niets wordt dubbel vastgelegd)\n", chunk[0].n)
		return err
	}
	for i, u := range resp.Msg.GetUitkomsten() {
		if i >= len(chunk) {
			break
		}
		l := chunk[i]
		switch u.GetStatus() {
		case ledgerv1.ImportStatus_IMPORT_STATUS_VASTGELEGD:
			imp.sum.recorded++
		case ledgerv1.ImportStatus_IMPORT_STATUS_AL_AANWEZIG:
			imp.sum.present++
		case ledgerv1.ImportStatus_IMPORT_STATUS_OVERGESLAGEN:
			imp.sum.skipped++
		default:
			imp.refuse(l.n, l.regel.GetBron(), u.GetRule(), u.GetReden())
			if k := caseKey(l.regel); k != "" {
				imp.refused[k] = true
			}
		}
	}
	imp.showProgress(false)
	return nil
}

func (imp *importer) refuse(n uint64, bron, rule, reden string) {
	imp.sum.refused++
	if imp.progress {
		fmt.Fprint(imp.stderr, "\r\033[K")
	}
	if bron != "" {
		fmt.Fprintf(imp.stderr, "regel %d (bron %s): geweigerd [%s]: %s\n", n, bron, rule, reden)
	} else {
		fmt.Fprintf(imp.stderr, "regel %d: geweigerd [%s]: %s\n", n, rule, reden)
	}
}

// showProgress tells a terminal how far the import is: lines, rate and
// the time left by the part of the file read. A pipe gets nothing.
func (imp *importer) showProgress(final bool) {
	if !imp.progress || !final && time.Since(imp.lastShown) < 200*time.Millisecond {
		return
	}
	imp.lastShown = time.Now()
	took := time.Since(imp.start).Seconds()
	rate := float64(imp.sum.read) / math.Max(took, 1e-3)
	left := "?"
	read := imp.read.n.Load()
	if done := float64(read) / float64(max(imp.size, 1)); done > 0 {
		left = (time.Duration(took*(1-done)/done) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(imp.stderr, "\r\033[Kregel %d, %.0f regels/s, %d%%, nog ongeveer %s", imp.sum.read, rate, 100*read/max(imp.size, 1), left)
	if final {
		fmt.Fprintln(imp.stderr)
	}
}

// countingReader counts the bytes read, for the progress line (read on
// another goroutine than the one that reads the file).
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// BeginstandHeader is the header of a CSV beginstand: one row per current
// client, as an old system's export gives it. Empty cells are absent facts
// (no intake yet, no placement).
var BeginstandHeader = []string{"gemeente", "client_id", "doelgroep", "verwijzer", "aanmelddatum", "intakedatum", "trede", "loonwaarde", "plaatsingssoort", "werkgever", "plaatsingsdatum", "uren_per_week", "wsw_indicatie_sinds"}

type beginstand struct {
	r   *csv.Reader
	col map[string]int
	n   uint64
}

func newBeginstand(r io.Reader) (*beginstand, error) {
	br := bufio.NewReader(r)
	first, _ := br.Peek(4096)
	cr := csv.NewReader(br)
	if strings.Count(string(first), ";") > strings.Count(string(first), ",") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, usageErrorf("beginstand: geen kopregel: %v", err)
	}
	b := &beginstand{r: cr, col: map[string]int{}, n: 1}
	for i, h := range head {
		b.col[strings.ToLower(strings.TrimSpace(strings.ReplaceAll(h, "-", "_")))] = i
	}
	for _, need := range []string{"gemeente", "client_id", "doelgroep", "verwijzer", "aanmelddatum"} {
		if _, ok := b.col[need]; !ok {
			return nil, usageErrorf("beginstand: kolom %q ontbreekt; kolommen: %s", need, strings.Join(BeginstandHeader, ", "))
		}
	}
	return b, nil
}

func (b *beginstand) next() ([]sourceLine, error) {
	row, err := b.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	b.n++
	if err != nil {
		return []sourceLine{{n: b.n, err: fmt.Errorf("geen geldige CSV-rij: %v", err)}}, nil
	}
	lines, err := b.expand(row)
	if err != nil {
		return []sourceLine{{n: b.n, err: err}}, nil
	}
	return lines, nil
}

func (b *beginstand) cell(row []string, name string) string {
	i, ok := b.col[name]
	if !ok || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// expand turns one client into its aanmelding, intake and plaatsing, each
// with a source id of its own under the client's case.
func (b *beginstand) expand(row []string) ([]sourceLine, error) {
	gm, client := b.cell(row, "gemeente"), b.cell(row, "client_id")
	if gm == "" || client == "" {
		return nil, fmt.Errorf("gemeente en client_id zijn verplicht")
	}
	zaak := gm + "/" + client
	date := func(col string) (*ledgerv1.Date, error) {
		d, err := event.ParseDate(b.cell(row, col))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", col, err)
		}
		return d, nil
	}
	dg, err := doelgroepen.parse("doelgroep", b.cell(row, "doelgroep"))
	if err != nil {
		return nil, err
	}
	vw, err := verwijzers.parse("verwijzer", b.cell(row, "verwijzer"))
	if err != nil {
		return nil, err
	}
	aangemeld, err := date("aanmelddatum")
	if err != nil {
		return nil, err
	}
	a := &ledgerv1.Aanmelding{ResidentId: client, Doelgroep: ledgerv1.Doelgroep(dg), Verwijzer: ledgerv1.Verwijzer(vw)}
	// A Wsw employee of the beginstand has an indication from before 2015
	// (no new ones since): the old system's export names its date.
	if b.cell(row, "wsw_indicatie_sinds") != "" {
		if a.WswIndicatieSinds, err = date("wsw_indicatie_sinds"); err != nil {
			return nil, err
		}
	}
	out := []sourceLine{{n: b.n, regel: &ledgerv1.ImportRegel{Bron: zaak + "/aanmelding", Zaak: zaak, Verzoek: &ledgerv1.ImportRegel_Record{Record: &ledgerv1.RecordRequest{
		Gemeente: gm, Datum: aangemeld, Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: a},
	}}}}}
	var loonwaarde uint32
	if s := b.cell(row, "loonwaarde"); s != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
		if err != nil {
			return nil, fmt.Errorf("loonwaarde %q: geef een percentage", s)
		}
		if loonwaarde, err = percent(n); err != nil {
			return nil, err
		}
	}
	if t := b.cell(row, "trede"); t != "" {
		tr, err := treden.parse("trede", t)
		if err != nil {
			return nil, err
		}
		on := aangemeld
		if b.cell(row, "intakedatum") != "" {
			if on, err = date("intakedatum"); err != nil {
				return nil, err
			}
		}
		out = append(out, sourceLine{n: b.n, regel: &ledgerv1.ImportRegel{Bron: zaak + "/intake", Zaak: zaak, Verzoek: &ledgerv1.ImportRegel_Record{Record: &ledgerv1.RecordRequest{
			Datum: on, Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: ledgerv1.Trede(tr), LoonwaardeProcent: loonwaarde}},
		}}}})
	}
	if s := b.cell(row, "plaatsingssoort"); s != "" {
		typ, err := plaatsingTypes.parse("plaatsingssoort", s)
		if err != nil {
			return nil, err
		}
		on, err := date("plaatsingsdatum")
		if err != nil {
			return nil, err
		}
		p := &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType(typ), Werkgever: b.cell(row, "werkgever"), LoonwaardeProcent: loonwaarde}
		if u := b.cell(row, "uren_per_week"); u != "" {
			h, err := strconv.ParseFloat(strings.ReplaceAll(u, ",", "."), 64)
			if err != nil || !(h >= 0 && h <= 80) {
				return nil, fmt.Errorf("uren_per_week %q: geef een aantal uren tussen 0 en 80", u)
			}
			p.MinutenPerWeek = uint32(math.Round(h * 60))
		}
		out = append(out, sourceLine{n: b.n, regel: &ledgerv1.ImportRegel{Bron: zaak + "/plaatsing", Zaak: zaak, Verzoek: &ledgerv1.ImportRegel_Record{Record: &ledgerv1.RecordRequest{
			Datum: on, Transition: &ledgerv1.RecordRequest_Plaatsing{Plaatsing: p},
		}}}})
	}
	return out, nil
}
