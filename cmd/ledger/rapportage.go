package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/projections/beleidsview"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/access"
	"github.com/gooi-vechtstreek/ledger/services/api"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/export"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// rapportageType is the stored type of a Rapportage event (event.Type).
const rapportageType = "rapportage"

// A delivered report as `ledger audit rapportages` lists it: the event
// that recorded it, and what it was of.
type rapportageJSON struct {
	Rapportage    string `json:"rapportage"`
	Gemeente      string `json:"gemeente"`
	Soort         string `json:"soort"`
	Jaar          int32  `json:"jaar"`
	AangeleverdOp string `json:"aangeleverd_op"`
	// Positie is the history the figures are of (their certificate);
	// VastgelegdOp the store position of the event that recorded them.
	Positie      string `json:"positie"`
	Peildatum    string `json:"peildatum"`
	Regels       uint32 `json:"regels"`
	SHA256       string `json:"sha256"`
	VastgelegdOp string `json:"vastgelegd_op_positie"`
	// Half is the half year of an SRG count.
	Half int32 `json:"half,omitempty"`
}

// periode is what the report is over: "2026", or "2026H1" for an SRG count.
func (r rapportageJSON) periode() string {
	if r.Half != 0 {
		return fmt.Sprintf("%dH%d", r.Jaar, r.Half)
	}
	return fmt.Sprint(r.Jaar)
}

func rapportageOf(rec store.RecordedEvent) (rapportageJSON, *ledgerv1.Rapportage, error) {
	ev, err := event.Decode(rec.Data)
	if err != nil {
		return rapportageJSON{}, nil, fmt.Errorf("gebeurtenis %s op positie %s: %w", rec.ID, rec.Position, err)
	}
	r := ev.GetRapportage()
	if r == nil {
		return rapportageJSON{}, nil, &failure{msg: fmt.Sprintf("gebeurtenis %s (positie %s) is geen rapportage maar een %s", rec.ID, rec.Position, event.Type(ev))}
	}
	env := ev.GetEnvelope()
	return rapportageJSON{
		Rapportage: env.GetEventId(), Gemeente: env.GetGemeente(), Soort: r.GetSoort(), Jaar: r.GetJaar(),
		AangeleverdOp: env.GetRecordedAt().AsTime().In(clock.Location()).Format(time.RFC3339),
		Positie:       r.GetPositie(), Peildatum: event.FormatDate(r.GetPeildatum()), Regels: r.GetRegels(),
		SHA256: hex.EncodeToString(r.GetSha256()), VastgelegdOp: rec.Position.String(), Half: r.GetHalf(),
	}, r, nil
}

const auditRapportagesSynopsis = `ledger audit rapportages [--gemeente GM..] [--json]

De rapportages die als aangeleverd zijn vastgelegd (ledger export costs
--aanleveren), uit de opgeslagen gebeurtenissen: welke gemeente, soort en jaar,
wanneer aangeleverd, de positie en peildatum van de cijfers (hun certificaat),
het aantal regels en de SHA-256 van het geleverde bestand (ook ledger export srg
--aanleveren). De rol auditor ziet
ze allemaal; een gemeente alleen de hare. Wat er vandaag anders zou zijn:
ledger audit verschil <rapportage>.`

func auditRapportages(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger audit rapportages", auditRapportagesSynopsis, stderr)
	var c conn
	c.register(fs)
	gm := fs.String("gemeente", "", "alleen de rapportages van deze gemeente (voor een gemeente: standaard de eigen)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *gm == "" {
		// A gemeente reads only its own events: ask for them, rather than
		// be refused all of them.
		who, err := c.access().WhoAmI(ctx, connect.NewRequest(&ledgerv1.WhoAmIRequest{}))
		if err != nil {
			return err
		}
		if who.Msg.GetRol() == string(access.Gemeente) {
			*gm = who.Msg.GetGemeente()
		}
	}
	list := []rapportageJSON{}
	prog := newProgress(stderr, "gelezen")
	err := readEvents(ctx, c.client(), "", "", *gm, func(_ *ledgerv1.StoredEvent, rec store.RecordedEvent) error {
		prog.step(rec.Position)
		if rec.Type != rapportageType {
			return nil
		}
		r, _, err := rapportageOf(rec)
		if err != nil {
			return err
		}
		if *gm == "" || r.Gemeente == *gm {
			list = append(list, r)
		}
		return nil
	})
	prog.done()
	if err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(stdout).Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "geen aangeleverde rapportages")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RAPPORTAGE\tGEMEENTE\tSOORT\tPERIODE\tAANGELEVERD OP\tPOSITIE\tPEILDATUM\tREGELS\tSHA256")
	for _, r := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Rapportage, r.Gemeente, printable(r.Soort), r.periode(),
			strings.Replace(r.AangeleverdOp[:16], "T", " ", 1), r.Positie, r.Peildatum, r.Regels, r.SHA256)
	}
	return tw.Flush()
}

const auditVerschilSynopsis = `ledger audit verschil <rapportage> [--json]

Maakt een aangeleverde rapportage (zie ledger audit rapportages) opnieuw in dit
proces (rol auditor of centrum: het leest de hele geschiedenis), uit de
opgeslagen gebeurtenissen tot de positie en met de peildatum van haar
certificaat, en controleert dat het bestand dezelfde SHA-256 heeft als wat is
aangeleverd; zo niet, dan is de rapportage niet uit deze geschiedenis te maken
(een bevinding; afsluitcode 1). Daarna dezelfde rapportage (gemeente, jaar of
half jaar, peildatum) uit de hele opslag van nu, en regel voor regel wat anders
is: late correcties en te laat vastgelegde transities. Per regel: toegevoegd,
vervallen of gewijzigd (met de kolommen die veranderden); bij kosten ook het
verschil in euro en het totaal.`

// The answer of `ledger audit verschil --json`.
type verschilJSON struct {
	Rapportage      rapportageJSON `json:"rapportage"`
	Reproduceerbaar bool           `json:"reproduceerbaar"`
	OpnieuwSHA256   string         `json:"opnieuw_sha256"`
	VandaagTot      string         `json:"vandaag_tot_positie,omitempty"`
	VandaagSHA256   string         `json:"vandaag_sha256,omitempty"`
	// Verschillen are the cost lines that differ (soort kosten), Tellingen
	// the SRG counts (soort srg).
	Verschillen       []costDiff `json:"verschillen"`
	Tellingen         []srgDiff  `json:"tellingen,omitempty"`
	AangeleverdCent   int64      `json:"aangeleverd_cent"`
	VandaagCent       int64      `json:"vandaag_cent"`
	VerschilCent      int64      `json:"verschil_cent"`
	AangeleverdRegels int        `json:"aangeleverd_regels"`
	VandaagRegels     int        `json:"vandaag_regels"`
}

// made is one making of a delivered report: its lines, and the SHA-256
// of the file `ledger export ...` would have written of them.
type made struct {
	costs []*ledgerv1.Kostenregel
	srg   []*ledgerv1.SrgTelling
	sum   [32]byte
}

func (r made) lines() int { return len(r.costs) + len(r.srg) }

func auditVerschil(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger audit verschil", auditVerschilSynopsis, stderr)
	var c conn
	c.register(fs)
	file := fs.String("gemeenten", "deploy/gemeenten.json", "databestand met de deelnemende gemeenten, zoals de server het gebruikt")
	srgFile := fs.String("srg", "deploy/srg.json", "databestand met de SRG-koppeling, zoals de server het gebruikt (voor een SRG-telling)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("geef één rapportage-id (zie ledger audit rapportages)")
	}
	id, err := uuid.Parse(pos[0])
	if err != nil {
		return usageErrorf("%q is geen rapportage-id: geef het id dat ledger export costs --aanleveren of ledger audit rapportages noemt", printable(pos[0]))
	}
	reg, err := gemeente.Load(*file)
	if err != nil {
		return usageErrorf("--gemeenten: %v", err)
	}
	client := c.client()

	// One read up to today's head both finds the report and builds the
	// model of today, so that the history is read twice, not three times.
	now := region.New(reg)
	var rec *store.RecordedEvent
	prog := newProgress(stderr, "opnieuw gelezen")
	err = readEvents(ctx, client, "", "", "", func(_ *ledgerv1.StoredEvent, r store.RecordedEvent) error {
		prog.step(r.Position)
		if r.ID == id {
			rec = &r
		}
		return now.ApplyRecord(r)
	})
	prog.done()
	if connect.CodeOf(err) == connect.CodePermissionDenied {
		return fmt.Errorf("audit verschil maakt de regionale cijfers opnieuw uit de hele geschiedenis (rol auditor of centrum): %w", err)
	}
	if err != nil {
		return err
	}
	if rec == nil {
		return &failure{msg: fmt.Sprintf("rapportage %s staat niet in de opslag (gelezen tot en met positie %s); zie ledger audit rapportages", id, now.Position())}
	}
	info, r, err := rapportageOf(*rec)
	if err != nil {
		return err
	}
	var makeReport func(*region.Model) (made, error)
	switch r.GetSoort() {
	case api.RapportageKosten:
		makeReport = func(m *region.Model) (made, error) {
			resp, err := replayCosts(m, reg, info.Gemeente, int(r.GetJaar()), r.GetPeildatum())
			if err != nil {
				return made{}, err
			}
			var file bytes.Buffer
			if _, err := export.WriteCosts(&file, resp.GetRegels()); err != nil {
				return made{}, err
			}
			return made{costs: resp.GetRegels(), sum: sha256.Sum256(file.Bytes())}, nil
		}
	case api.RapportageSRG:
		mapping, err := beleidsview.LoadSRG(*srgFile)
		if err != nil {
			return usageErrorf("--srg: %v", err)
		}
		makeReport = func(m *region.Model) (made, error) {
			t, err := beleidsview.SRG(m, reg, mapping, info.Gemeente, int(r.GetJaar()), int(r.GetHalf()))
			if err != nil {
				return made{}, err
			}
			var file bytes.Buffer
			if err := export.WriteSRG(&file, t); err != nil {
				return made{}, err
			}
			return made{srg: t, sum: sha256.Sum256(file.Bytes())}, nil
		}
	default:
		return &failure{msg: fmt.Sprintf("rapportage %s is van soort %q: die kan deze ledger niet opnieuw maken", id, printable(r.GetSoort()))}
	}
	out := verschilJSON{Rapportage: info, Verschillen: []costDiff{}}

	then, err := replayModel(ctx, client, reg, r.GetPositie(), nil, stderr)
	if err != nil {
		return fmt.Errorf("rapportage %s opnieuw maken tot positie %s: %w", id, r.GetPositie(), err)
	}
	was, err := makeReport(then)
	if err != nil {
		return fmt.Errorf("rapportage %s opnieuw maken: %w", id, err)
	}
	out.OpnieuwSHA256 = hex.EncodeToString(was.sum[:])
	out.Reproduceerbaar = bytes.Equal(was.sum[:], r.GetSha256())
	if !out.Reproduceerbaar {
		msg := fmt.Sprintf("BEVINDING: rapportage %s is niet uit deze geschiedenis te maken: opnieuw gemaakt tot positie %s met peildatum %s heeft het bestand sha256 %s, aangeleverd is %s. "+
			"De geschiedenis tot die positie is dus niet meer die waaruit de rapportage is gemaakt, of de rekenregels zijn veranderd; controleer met ledger audit verify --tot %s",
			id, then.Position(), info.Peildatum, out.OpnieuwSHA256, info.SHA256, info.Positie)
		if c.json {
			if err := json.NewEncoder(stdout).Encode(out); err != nil {
				return err
			}
		}
		return &finding{msg: msg}
	}

	today, err := makeReport(now)
	if err != nil {
		return fmt.Errorf("rapportage %s vandaag maken: %w", id, err)
	}
	out.VandaagTot, out.VandaagSHA256 = now.Position().String(), hex.EncodeToString(today.sum[:])
	out.AangeleverdRegels, out.VandaagRegels = was.lines(), today.lines()
	out.Verschillen = append(out.Verschillen, diffCosts(was.costs, today.costs)...)
	out.Tellingen = diffSRG(was.srg, today.srg)
	for _, l := range was.costs {
		out.AangeleverdCent += l.GetBedragCent()
	}
	for _, l := range today.costs {
		out.VandaagCent += l.GetBedragCent()
	}
	out.VerschilCent = out.VandaagCent - out.AangeleverdCent
	if c.json {
		return json.NewEncoder(stdout).Encode(out)
	}
	printVerschil(stdout, out)
	return nil
}

func printVerschil(w io.Writer, v verschilJSON) {
	r := v.Rapportage
	fmt.Fprintf(w, "Rapportage %s: %s van %s over %s, aangeleverd op %s, %d regels, cijfers tot positie %s, peildatum %s\n",
		r.Rapportage, printable(r.Soort), r.Gemeente, r.periode(), strings.Replace(r.AangeleverdOp[:16], "T", " ", 1), r.Regels, r.Positie, r.Peildatum)
	fmt.Fprintf(w, "Opnieuw gemaakt tot positie %s: dezelfde sha256 %s; het aangeleverde bestand volgt uit deze geschiedenis.\n", r.Positie, r.SHA256)
	n := len(v.Verschillen) + len(v.Tellingen)
	if n == 0 {
		fmt.Fprintf(w, "Geen verschil: vandaag gemaakt (tot positie %s, zelfde periode en peildatum) is het hetzelfde bestand.\n", v.VandaagTot)
		return
	}
	fmt.Fprintf(w, "Vandaag gemaakt (tot positie %s, zelfde periode en peildatum): %d regel(s) anders, %d regels in plaats van %d.\n\n",
		v.VandaagTot, n, v.VandaagRegels, v.AangeleverdRegels)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(v.Tellingen) > 0 {
		fmt.Fprintln(tw, "VERSCHIL\tCODE\tOMSCHRIJVING\tKOLOMMEN")
		for _, d := range v.Tellingen {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Wat, printable(d.Code), printable(d.Omschrijving), columnChanges(d.Kolommen))
		}
		_ = tw.Flush()
		return
	}
	fmt.Fprintln(tw, "VERSCHIL\tMAAND\tSOORT\tZAAK\tPLAATSING\tPRODUCT\tTAAKVELD\tAANGELEVERD\tVANDAAG\tVERSCHIL EURO\tKOLOMMEN")
	for _, d := range v.Verschillen {
		k := d.Sleutel
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Wat, k.Maand, k.Soort, dash(k.Zaak), dash(k.Plaatsing), dash(k.Product), dash(k.Taakveld),
			euro(d.WasCent), euro(d.NuCent), signedEuro(d.VerschilCent), columnChanges(d.Kolommen))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nTotaal: aangeleverd %s, vandaag %s, verschil %s\n", euro(v.AangeleverdCent), euro(v.VandaagCent), signedEuro(v.VerschilCent))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return printable(s)
}

func signedEuro(cents int64) string {
	if cents > 0 {
		return "+" + euro(cents)
	}
	return euro(cents)
}

// columnChanges says what changed in a line: "dagen 28→14"; of the events
// column which events came or went, since that names the late event.
func columnChanges(cs []columnChange) string {
	var parts []string
	for _, c := range cs {
		if c.Kolom == "events" {
			was, nu := strings.Fields(c.Was), strings.Fields(c.Nu)
			for _, e := range nu {
				if !slices.Contains(was, e) {
					parts = append(parts, "events +"+e)
				}
			}
			for _, e := range was {
				if !slices.Contains(nu, e) {
					parts = append(parts, "events -"+e)
				}
			}
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s→%s", c.Kolom, dash(c.Was), dash(c.Nu)))
	}
	return strings.Join(parts, "; ")
}

// Kinds of difference of one cost line.
const (
	diffAdded   = "toegevoegd"
	diffRemoved = "vervallen"
	diffChanged = "gewijzigd"
)

// costKey is what identifies a cost line across two makings of a report:
// the month and what is priced (the placement, the hours event, the shared
// booking), not what the pricing found (days, tariff, policy version).
type costKey struct {
	Soort     string `json:"soort"`
	Gemeente  string `json:"gemeente"`
	Maand     string `json:"maand"`
	Zaak      string `json:"zaak,omitempty"`
	Plaatsing string `json:"plaatsing,omitempty"`
	Product   string `json:"product,omitempty"`
	Taakveld  string `json:"taakveld,omitempty"`
	Boeking   string `json:"boeking,omitempty"`
	// Uren is the uren event of an hours line: a case has several hours
	// lines of one product in a month.
	Uren string `json:"uren,omitempty"`
}

func keyOf(l *ledgerv1.Kostenregel) costKey {
	k := costKey{Soort: l.GetSoort(), Gemeente: l.GetGemeente(), Maand: l.GetMaand(), Zaak: l.GetZaak(), Plaatsing: l.GetPlaatsing(),
		Product: l.GetProduct(), Taakveld: l.GetTaakveld(), Boeking: l.GetBoeking()}
	if l.GetSoort() == "uren" && len(l.GetEvents()) > 0 {
		k.Uren = l.GetEvents()[0]
	}
	return k
}

type columnChange struct {
	Kolom string `json:"kolom"`
	Was   string `json:"was"`
	Nu    string `json:"nu"`
}

// costDiff is one line that differs between the delivered report and the
// same report made today.
type costDiff struct {
	Wat          string         `json:"wat"`
	Sleutel      costKey        `json:"sleutel"`
	WasCent      int64          `json:"was_cent"`
	NuCent       int64          `json:"nu_cent"`
	VerschilCent int64          `json:"verschil_cent"`
	Kolommen     []columnChange `json:"kolommen,omitempty"`
}

// srgDiff is one SRG voorziening whose count differs.
type srgDiff struct {
	Wat          string         `json:"wat"`
	Code         string         `json:"code"`
	Omschrijving string         `json:"omschrijving"`
	Kolommen     []columnChange `json:"kolommen,omitempty"`
}

// diffSRG compares two makings of one SRG count by voorziening code.
func diffSRG(was, nu []*ledgerv1.SrgTelling) []srgDiff {
	byCode := map[string]*ledgerv1.SrgTelling{}
	for _, t := range nu {
		byCode[t.GetCode()] = t
	}
	var out []srgDiff
	for _, a := range was {
		b, ok := byCode[a.GetCode()]
		if !ok {
			out = append(out, srgDiff{Wat: diffRemoved, Code: a.GetCode(), Omschrijving: a.GetOmschrijving()})
			continue
		}
		delete(byCode, a.GetCode())
		var cols []columnChange
		ra, rb := export.SRGRow(a), export.SRGRow(b)
		for i := range ra {
			if ra[i] != rb[i] {
				cols = append(cols, columnChange{export.SRGHeader[i], ra[i], rb[i]})
			}
		}
		if len(cols) > 0 {
			out = append(out, srgDiff{Wat: diffChanged, Code: a.GetCode(), Omschrijving: b.GetOmschrijving(), Kolommen: cols})
		}
	}
	for _, b := range nu {
		if _, ok := byCode[b.GetCode()]; ok {
			out = append(out, srgDiff{Wat: diffAdded, Code: b.GetCode(), Omschrijving: b.GetOmschrijving()})
		}
	}
	return out
}

// diffCosts compares two makings of one cost export line by line. Lines
// of one key (a placement split within a month by a policy change) pair
// in their order. The differences come in month order, then as the lines
// came: the delivered ones first, then the added ones.
func diffCosts(was, nu []*ledgerv1.Kostenregel) []costDiff {
	byKey := map[costKey][]int{}
	for i, l := range nu {
		k := keyOf(l)
		byKey[k] = append(byKey[k], i)
	}
	paired := make([]bool, len(nu))
	var out []costDiff
	for _, a := range was {
		k := keyOf(a)
		idx := byKey[k]
		if len(idx) == 0 {
			out = append(out, costDiff{Wat: diffRemoved, Sleutel: k, WasCent: a.GetBedragCent(), VerschilCent: -a.GetBedragCent()})
			continue
		}
		b := nu[idx[0]]
		paired[idx[0]], byKey[k] = true, idx[1:]
		var cols []columnChange
		ra, rb := export.CostRow(a), export.CostRow(b)
		for i := range ra {
			if ra[i] != rb[i] && export.CostHeader[i] != "bedrag_euro" { // bedrag_euro repeats bedrag_cent
				cols = append(cols, columnChange{export.CostHeader[i], ra[i], rb[i]})
			}
		}
		if len(cols) > 0 {
			out = append(out, costDiff{Wat: diffChanged, Sleutel: k, WasCent: a.GetBedragCent(), NuCent: b.GetBedragCent(),
				VerschilCent: b.GetBedragCent() - a.GetBedragCent(), Kolommen: cols})
		}
	}
	for i, b := range nu {
		if !paired[i] {
			out = append(out, costDiff{Wat: diffAdded, Sleutel: keyOf(b), NuCent: b.GetBedragCent(), VerschilCent: b.GetBedragCent()})
		}
	}
	slices.SortStableFunc(out, func(x, y costDiff) int { return strings.Compare(x.Sleutel.Maand, y.Sleutel.Maand) })
	return out
}
