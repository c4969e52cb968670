package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/export"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

const auditHerleidSynopsis = `ledger audit herleid <kostenregel> [--tot POSITIE] [--peildatum DATUM] [--json]

Herleidt één kostenregel tot waar hij vandaan komt, in dit proces (rol auditor
of centrum) uit de opgeslagen gebeurtenissen, niet uit de cijfers van de server.
<kostenregel> is
  GM0402/2026/17    regel 17 van de kostenexport van GM0402 over 2026 (ledger
                    export costs; de kopregel telt niet mee), met de
                    geschiedenis tot --tot en op --peildatum; standaard de
                    positie en peildatum van de kostenexport die de server nu
                    zou maken, zodat de regelnummers die van die export zijn
  RAPPORTAGE/17     regel 17 van een aangeleverde kostenrapportage (ledger audit
                    rapportages), op haar eigen positie en peildatum
Noemt de gebeurtenissen die de regel maakten (positie, soort, datum, gemeente),
de beleidsversie met het tarief, bij gedeelde kosten de boeking, de
verdeelsleutel en de gewichten en delen van alle deelnemers, en de rekensom in
eurocenten. Die rekensom wordt hier los van de ledger opnieuw uitgerekend
(exacte breuken, afronding half-even, overgebleven centen naar de grootste
resten); wijkt de uitkomst af van de regel, dan is dat een bevinding
(afsluitcode 3).`

// herleiding is `ledger audit herleid --json`.
type herleiding struct {
	Gemeente  string `json:"gemeente"`
	Jaar      int    `json:"jaar"`
	Regel     int    `json:"regel"`
	Positie   string `json:"positie"`
	Peildatum string `json:"peildatum"`
	// Rapportage, when the line is of a delivered report.
	Rapportage     string                `json:"rapportage,omitempty"`
	Kostenregel    map[string]string     `json:"kostenregel"`
	Beleid         *herleidBeleid        `json:"beleid,omitempty"`
	Boeking        *herleidBoeking       `json:"boeking,omitempty"`
	Verdeelsleutel *herleidSleutel       `json:"verdeelsleutel,omitempty"`
	Delen          []herleidDeel         `json:"delen,omitempty"`
	Rekensom       []string              `json:"rekensom"`
	Uitkomst       int64                 `json:"uitkomst_cent"`
	Klopt          bool                  `json:"klopt"`
	Gebeurtenissen []herleidGebeurtenis  `json:"gebeurtenissen"`
	Opmerking      string                `json:"opmerking,omitempty"`
	certificaat    *ledgerv1.Certificaat `json:"-"`
}

type herleidBeleid struct {
	Versie      string `json:"versie"`
	Event       string `json:"event"`
	Positie     string `json:"positie"`
	GeldigVanaf string `json:"geldig_vanaf"`
	Product     string `json:"product"`
	CentPerJaar int64  `json:"cent_per_jaar,omitempty"`
	CentPerUur  int64  `json:"cent_per_uur,omitempty"`
}

type herleidBoeking struct {
	Event        string `json:"event"`
	Positie      string `json:"positie"`
	Van          string `json:"van"`
	TotEnMet     string `json:"tot_en_met"`
	Cent         int64  `json:"cent"`
	Budgetstroom string `json:"budgetstroom"`
}

type herleidSleutel struct {
	Versie  string `json:"versie"`
	Event   string `json:"event"`
	Positie string `json:"positie"`
	Methode string `json:"methode"`
}

// herleidDeel is one participant's part of a shared booking.
type herleidDeel struct {
	Gemeente string `json:"gemeente"`
	Gewicht  int64  `json:"gewicht"`
	Floor    int64  `json:"floor_cent"`
	Rest     string `json:"rest"` // of booking × gewicht over the total weight
	Extra    int64  `json:"extra_cent"`
	Deel     int64  `json:"deel_cent"`
}

type herleidGebeurtenis struct {
	Positie  string `json:"positie"`
	Soort    string `json:"soort"`
	Datum    string `json:"datum,omitempty"`
	Gemeente string `json:"gemeente,omitempty"`
	Event    string `json:"event"`
}

func auditHerleid(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger audit herleid", auditHerleidSynopsis, stderr)
	var c conn
	c.register(fs)
	tot := fs.String("tot", "", "tot en met deze positie in de opslag (standaard: alles; niet bij een rapportage)")
	peil := fs.String("peildatum", "", "de dag waarop de cijfers gelden, JJJJ-MM-DD (standaard: vandaag; niet bij een rapportage)")
	file := fs.String("gemeenten", "deploy/gemeenten.json", "databestand met de deelnemende gemeenten, zoals de server het gebruikt")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("geef één kostenregel: GEMEENTE/JAAR/REGEL (regel van ledger export costs) of RAPPORTAGE/REGEL")
	}
	reg, err := gemeente.Load(*file)
	if err != nil {
		return usageErrorf("--gemeenten: %v", err)
	}
	h := herleiding{}
	parts := strings.Split(pos[0], "/")
	var rapportage uuid.UUID
	switch {
	case len(parts) == 3:
		h.Gemeente = parts[0]
		if _, ok := reg.Lookup(h.Gemeente); !ok {
			return usageErrorf("%q: onbekende gemeente in %s", printable(parts[0]), *file)
		}
		if h.Jaar, err = strconv.Atoi(parts[1]); err != nil || h.Jaar < 2000 || h.Jaar > 2999 {
			return usageErrorf("%q is geen jaar (2000-2999)", printable(parts[1]))
		}
	case len(parts) == 2:
		if rapportage, err = uuid.Parse(parts[0]); err != nil {
			return usageErrorf("%q is geen rapportage-id (zie ledger audit rapportages)", printable(parts[0]))
		}
		if *tot != "" || *peil != "" {
			return usageErrorf("een rapportage heeft haar eigen positie en peildatum: geen --tot of --peildatum")
		}
	default:
		return usageErrorf("%q: geef GEMEENTE/JAAR/REGEL of RAPPORTAGE/REGEL", printable(pos[0]))
	}
	if h.Regel, err = strconv.Atoi(parts[len(parts)-1]); err != nil || h.Regel < 1 {
		return usageErrorf("%q is geen regelnummer (1 is de eerste regel onder de kop)", printable(parts[len(parts)-1]))
	}
	client := c.client()

	var day *ledgerv1.Date
	if *peil != "" {
		if day, err = event.ParseDate(*peil); err != nil {
			return usageErrorf("--peildatum %q: %v", *peil, err)
		}
	}
	if rapportage == uuid.Nil && (*tot == "" || day == nil) {
		// The export as the server makes it now: its certificate says
		// which history and which day, so line N here is line N there.
		resp, err := client.ExportKosten(ctx, connect.NewRequest(&ledgerv1.ExportKostenRequest{Gemeente: h.Gemeente, Jaar: int32(h.Jaar)}))
		if err != nil {
			return err
		}
		if *tot == "" {
			*tot = resp.Msg.GetCertificaat().GetPositie()
		}
		if day == nil {
			day = resp.Msg.GetCertificaat().GetPeildatum()
		}
	}
	if rapportage != uuid.Nil {
		info, r, err := findRapportage(ctx, client, rapportage, stderr)
		if err != nil {
			return err
		}
		if r.GetSoort() != "kosten" {
			return &failure{msg: fmt.Sprintf("rapportage %s is een %s-telling, geen kostenexport: die heeft geen kostenregels", rapportage, printable(r.GetSoort()))}
		}
		h.Rapportage, h.Gemeente, h.Jaar, *tot, day = rapportage.String(), info.Gemeente, int(r.GetJaar()), r.GetPositie(), r.GetPeildatum()
	}

	// The model, and where each event is in the store: the trace names
	// positions an auditor can look up in ledger audit export.
	m := region.New(reg)
	at := map[uuid.UUID]store.Position{}
	prog := newProgress(stderr, "opnieuw gelezen")
	err = readEvents(ctx, client, "", *tot, "", func(_ *ledgerv1.StoredEvent, rec store.RecordedEvent) error {
		prog.step(rec.Position)
		at[rec.ID] = rec.Position
		return m.ApplyRecord(rec)
	})
	prog.done()
	if err != nil {
		return err
	}
	resp, err := replayCosts(m, reg, h.Gemeente, h.Jaar, day)
	if err != nil {
		return err
	}
	h.certificaat = resp.GetCertificaat()
	h.Positie, h.Peildatum = h.certificaat.GetPositie(), event.FormatDate(day)
	if h.Regel > len(resp.GetRegels()) {
		return &failure{msg: fmt.Sprintf("de kostenexport van %s over %d heeft %d regels (tot positie %s, peildatum %s), geen regel %d",
			h.Gemeente, h.Jaar, len(resp.GetRegels()), h.Positie, h.Peildatum, h.Regel)}
	}
	l := resp.GetRegels()[h.Regel-1]
	if err := trace(&h, l, m, reg, at, day); err != nil {
		return err
	}
	if c.json {
		if err := json.NewEncoder(stdout).Encode(h); err != nil {
			return err
		}
	} else {
		printHerleiding(stdout, h)
	}
	if !h.Klopt {
		return &finding{msg: fmt.Sprintf("BEVINDING: regel %d van de kostenexport van %s over %d zegt %d cent, de rekensom geeft %d cent", h.Regel, h.Gemeente, h.Jaar, l.GetBedragCent(), h.Uitkomst)}
	}
	return nil
}

// errFound stops a read once what it looks for is found.
var errFound = errors.New("found")

// findRapportage reads the store up to the report's event.
func findRapportage(ctx context.Context, client ledgerv1connect.LedgerServiceClient, id uuid.UUID, stderr io.Writer) (rapportageJSON, *ledgerv1.Rapportage, error) {
	var rec *store.RecordedEvent
	prog := newProgress(stderr, "rapportage gezocht")
	err := readEvents(ctx, client, "", "", "", func(_ *ledgerv1.StoredEvent, r store.RecordedEvent) error {
		prog.step(r.Position)
		if r.ID == id {
			rec = &r
			return errFound
		}
		return nil
	})
	prog.done()
	if err != nil && !errors.Is(err, errFound) {
		return rapportageJSON{}, nil, err
	}
	if rec == nil {
		return rapportageJSON{}, nil, &failure{msg: fmt.Sprintf("rapportage %s staat niet in de opslag; zie ledger audit rapportages", id)}
	}
	return rapportageOf(*rec)
}

// trace fills h from line l of model m: the events, the policy, the
// booking and key, and the arithmetic, done again here.
func trace(h *herleiding, l *ledgerv1.Kostenregel, m *region.Model, reg *gemeente.Registry, at map[uuid.UUID]store.Position, day *ledgerv1.Date) error {
	h.Kostenregel = map[string]string{}
	for i, col := range export.CostHeader {
		h.Kostenregel[col] = export.CostRow(l)[i]
	}
	h.Opmerking = l.GetOpmerking()
	where := func(id string) string {
		u, err := uuid.Parse(id)
		if err != nil {
			return "?"
		}
		if p, ok := at[u]; ok {
			return p.String()
		}
		return "niet gelezen"
	}
	ids := append([]string(nil), l.GetEvents()...)
	if pe := l.GetBeleidEvent(); pe != "" && !slices.Contains(ids, pe) {
		ids = append(ids, pe)
	}
	if pe := l.GetBeleidEvent(); pe != "" {
		for _, g := range reg.All() {
			for _, v := range m.Policy(g.Code) {
				if v.EventID != pe {
					continue
				}
				h.Beleid = &herleidBeleid{Versie: v.Ref(), Event: pe, Positie: where(pe), GeldigVanaf: event.FormatDate(v.Beleid.GetGeldigVanaf()), Product: l.GetProduct()}
				if t, ok := v.Tarief(l.GetProduct()); ok {
					h.Beleid.CentPerJaar, h.Beleid.CentPerUur = t.GetCentPerJaar(), t.GetCentPerUur()
				}
			}
		}
	}

	switch costs.Kind(l.GetSoort()) {
	case costs.Plaatsing:
		y := int(l.GetVan().GetYear())
		days := int64(region.YearStart(y+1) - region.YearStart(y))
		h.Rekensom = append(h.Rekensom, fmt.Sprintf("%s t/m %s: %d dagen van de %d in %d", event.FormatDate(l.GetVan()), event.FormatDate(l.GetTotEnMet()), l.GetDagen(), days, y))
		h.Uitkomst = halfEven(h, []int64{l.GetTariefCent(), l.GetDagen()}, []string{"cent per jaar", "dagen"}, days, "dagen in het jaar")
	case costs.Uren:
		h.Rekensom = append(h.Rekensom, fmt.Sprintf("%d minuten, %s t/m %s", l.GetMinuten(), event.FormatDate(l.GetVan()), event.FormatDate(l.GetTotEnMet())))
		h.Uitkomst = halfEven(h, []int64{l.GetTariefCent(), l.GetMinuten()}, []string{"cent per uur", "minuten"}, 60, "minuten per uur")
	case costs.LKS:
		// The monthly amount as the plaatsing in the store has it, not as
		// the line says.
		var lks int64
		if c, ok := m.Case(l.GetZaak()); ok {
			for _, ev := range c.Effective() {
				if ev.GetEnvelope().GetEventId() == l.GetPlaatsing() {
					lks = ev.GetPlaatsing().GetLksCentPerMaand()
				}
			}
		}
		first := region.YMD(int(l.GetVan().GetYear()), time.Month(l.GetVan().GetMonth()), 1)
		days := int64(region.YMD(int(l.GetVan().GetYear()), time.Month(l.GetVan().GetMonth())+1, 1) - first)
		h.Rekensom = append(h.Rekensom, fmt.Sprintf("loonkostensubsidie %s cent per maand (plaatsing %s); %s t/m %s: %d dagen van de %d in de maand",
			duizendtal(lks), l.GetPlaatsing(), event.FormatDate(l.GetVan()), event.FormatDate(l.GetTotEnMet()), l.GetDagen(), days))
		h.Uitkomst = halfEven(h, []int64{lks, l.GetDagen()}, []string{"cent per maand", "dagen"}, days, "dagen in de maand")
	case costs.Gedeeld:
		if err := traceShared(h, l, m, reg, where, day); err != nil {
			return err
		}
	case costs.Afrekening:
		if err := traceSettlement(h, l, m, reg, day); err != nil {
			return err
		}
	default:
		return fmt.Errorf("kostenregel van soort %q: onbekend", printable(l.GetSoort()))
	}
	if k := costs.Kind(l.GetSoort()); h.Beleid == nil && k != costs.Gedeeld && k != costs.Afrekening && k != costs.LKS {
		// No policy, or the product not bought: nothing to price.
		h.Rekensom = append(h.Rekensom, "geen tarief: "+dash(l.GetOpmerking()))
		h.Uitkomst = 0
	}
	var caseEvents []*ledgerv1.Event
	if c, ok := m.Case(l.GetZaak()); ok {
		caseEvents = c.Events()
	}
	for _, id := range ids {
		g := herleidGebeurtenis{Positie: where(id), Event: id, Soort: "?"}
		for _, ev := range caseEvents {
			if ev.GetEnvelope().GetEventId() == id {
				g.Soort, g.Datum, g.Gemeente = event.Type(ev), event.FormatDate(ev.GetEnvelope().GetOccurredOn()), ev.GetEnvelope().GetGemeente()
			}
		}
		switch id {
		case l.GetBeleidEvent():
			g.Soort = "beleid"
		case l.GetBoeking():
			g.Soort = "gedeelde-kosten"
		}
		if k := h.Verdeelsleutel; k != nil && id == k.Event {
			g.Soort = "verdeelsleutel"
		}
		h.Gebeurtenissen = append(h.Gebeurtenissen, g)
	}
	sort.SliceStable(h.Gebeurtenissen, func(i, j int) bool {
		a, errA := store.ParsePosition(h.Gebeurtenissen[i].Positie)
		b, errB := store.ParsePosition(h.Gebeurtenissen[j].Positie)
		return errA == nil && errB == nil && a.Less(b)
	})

	h.Klopt = h.Uitkomst == l.GetBedragCent()
	if h.Klopt {
		h.Rekensom = append(h.Rekensom, fmt.Sprintf("= %s cent = %s, gelijk aan de regel", duizendtal(h.Uitkomst), euro(h.Uitkomst)))
	} else {
		h.Rekensom = append(h.Rekensom, fmt.Sprintf("= %s cent = %s; de regel zegt %s", duizendtal(h.Uitkomst), euro(h.Uitkomst), euro(l.GetBedragCent())))
	}
	return nil
}

// halfEven writes and computes round_half_even(a × b / den) with exact
// integers, independently of the costs package.
func halfEven(h *herleiding, factors []int64, names []string, den int64, denName string) int64 {
	num := big.NewInt(1)
	var terms []string
	for i, f := range factors {
		num.Mul(num, big.NewInt(f))
		terms = append(terms, duizendtal(f)+" "+names[i])
	}
	q, r := new(big.Int).QuoRem(num, big.NewInt(den), new(big.Int))
	h.Rekensom = append(h.Rekensom, fmt.Sprintf("%s / %d %s = %s / %d = %s rest %s", strings.Join(terms, " × "), den, denName, duizendtalBig(num), den, duizendtalBig(q), r))
	twice := new(big.Int).Lsh(r, 1)
	switch c := twice.Cmp(big.NewInt(den)); {
	case c > 0:
		q.Add(q, big.NewInt(1))
		h.Rekensom = append(h.Rekensom, "de rest is meer dan de helft: naar boven afgerond")
	case c == 0 && q.Bit(0) == 1:
		q.Add(q, big.NewInt(1))
		h.Rekensom = append(h.Rekensom, "de rest is precies de helft: naar het even getal (half-even), naar boven")
	case c == 0:
		h.Rekensom = append(h.Rekensom, "de rest is precies de helft: naar het even getal (half-even), naar beneden")
	case r.Sign() != 0:
		h.Rekensom = append(h.Rekensom, "de rest is minder dan de helft: naar beneden afgerond")
	}
	return q.Int64()
}

// traceSettlement explains an afrekening line: the month's lines of the
// product as they were priced, the same as they are priced now with the
// nacalculatie, each recomputed here, and the difference.
func traceSettlement(h *herleiding, l *ledgerv1.Kostenregel, m *region.Model, reg *gemeente.Registry, day *ledgerv1.Date) error {
	y := int(l.GetVan().GetYear())
	from, to := region.YearStart(y), min(region.YearStart(y+1), region.DayOf(day)+1)
	priced, err := costs.Lines(m, reg, reg.Centrum(), l.GetGemeente(), from, to)
	if err != nil {
		return err
	}
	now, err := costs.LinesNow(m, reg, reg.Centrum(), l.GetGemeente(), from, to)
	if err != nil {
		return err
	}
	sum := func(title string, ls []costs.Line) int64 {
		var total int64
		for _, o := range ls {
			if (o.Kind != costs.Plaatsing && o.Kind != costs.Uren) || o.Month != l.GetMaand() || o.Product != l.GetProduct() {
				continue
			}
			var sub herleiding
			var cents int64
			if o.Kind == costs.Plaatsing {
				days := int64(region.YearStart(y+1) - region.YearStart(y))
				cents = halfEven(&sub, []int64{o.Tariff, o.Days}, []string{"cent per jaar", "dagen"}, days, "dagen in het jaar")
			} else {
				cents = halfEven(&sub, []int64{o.Tariff, o.Minutes}, []string{"cent per uur", "minuten"}, 60, "minuten per uur")
			}
			h.Rekensom = append(h.Rekensom, fmt.Sprintf("%s, zaak %s, %s t/m %s, %s: %s → %s cent", title, o.Case, o.From, o.To, dash(o.Policy), sub.Rekensom[0], duizendtal(cents)))
			total += cents
		}
		return total
	}
	was := sum("zoals geprijsd", priced)
	is := sum("nu", now)
	h.Rekensom = append(h.Rekensom, fmt.Sprintf("nu %s cent − zoals geprijsd %s cent", duizendtal(is), duizendtal(was)))
	// The nacalculatie itself is the line's beleid_event: trace named it.
	h.Uitkomst = is - was
	return nil
}

// traceShared explains a part of shared costs: the booking, the key, and
// the division over every participant, done again here.
func traceShared(h *herleiding, l *ledgerv1.Kostenregel, m *region.Model, reg *gemeente.Registry, where func(string) string, day *ledgerv1.Date) error {
	var bk *region.Booking
	for _, b := range m.Bookings() {
		if b.EventID == l.GetBoeking() {
			bk = b
		}
	}
	if bk == nil {
		return fmt.Errorf("boeking %s van de regel staat niet in de gelezen geschiedenis", l.GetBoeking())
	}
	h.Boeking = &herleidBoeking{Event: bk.EventID, Positie: where(bk.EventID), Van: bk.Van.String(), TotEnMet: bk.Tot.String(), Cent: bk.Cent,
		Budgetstroom: budgetstromen.word(bk.Budgetstroom.Number())}
	if key, ok := m.BookingKey(bk); ok {
		h.Verdeelsleutel = &herleidSleutel{Versie: key.Ref(), Event: key.EventID, Positie: where(key.EventID), Methode: methodWord(key.Methode)}
	}
	if l.GetTotaalGewicht() == 0 {
		// Not divided: the whole booking stays with the centrumgemeente.
		h.Rekensom = append(h.Rekensom, fmt.Sprintf("niet verdeeld (%s): de hele boeking van %s cent blijft bij %s", l.GetOpmerking(), duizendtal(bk.Cent), l.GetGemeente()))
		h.Uitkomst = bk.Cent
		return nil
	}
	// Every participant's part of the same booking, from the same book.
	y := int(bk.Tot.Year())
	book, err := costs.NewBook(m, reg, reg.Centrum(), region.YearStart(y), min(region.YearStart(y+1), region.DayOf(day)+1))
	if err != nil {
		return err
	}
	var total int64
	for _, o := range book.All() {
		if o.Kind == costs.Gedeeld && o.Booking == bk.EventID {
			h.Delen = append(h.Delen, herleidDeel{Gemeente: o.Gemeente, Gewicht: o.Weight, Deel: o.Cents})
			total += o.Weight
		}
	}
	sort.Slice(h.Delen, func(i, j int) bool { return h.Delen[i].Gemeente < h.Delen[j].Gemeente })
	h.Rekensom = append(h.Rekensom, fmt.Sprintf("boeking %s cent verdeeld naar %s over %d deelnemers, totaal gewicht %s: ieder krijgt floor(%s × gewicht / %s); de centen die overblijven gaan één voor één naar de grootste resten, bij gelijke rest naar de laagste code",
		duizendtal(bk.Cent), dash(methodWord(l.GetMethode())), len(h.Delen), duizendtal(total), duizendtal(bk.Cent), duizendtal(total)))
	if total != l.GetTotaalGewicht() {
		h.Rekensom = append(h.Rekensom, fmt.Sprintf("de gewichten tellen op tot %d, de regel noemt %d", total, l.GetTotaalGewicht()))
	}
	rems := make([]*big.Int, len(h.Delen))
	var sum int64
	for i := range h.Delen {
		d := &h.Delen[i]
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(bk.Cent), big.NewInt(d.Gewicht)), big.NewInt(total), new(big.Int))
		if r.Sign() < 0 { // floor of a negative booking (a correction)
			q.Sub(q, big.NewInt(1))
			r.Add(r, big.NewInt(total))
		}
		d.Floor, d.Rest, rems[i] = q.Int64(), r.String()+"/"+strconv.FormatInt(total, 10), r
		sum += d.Floor
	}
	order := make([]int, len(h.Delen))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]].Cmp(rems[order[b]]) > 0 })
	left := bk.Cent - sum
	for _, i := range order[:max(0, min(int(left), len(order)))] {
		h.Delen[i].Extra = 1
	}
	h.Rekensom = append(h.Rekensom, fmt.Sprintf("de floors tellen op tot %s cent: %d cent over, naar de %d grootste resten", duizendtal(sum), left, left))
	h.Uitkomst = 0
	for _, d := range h.Delen {
		if d.Gemeente == l.GetGemeente() {
			h.Uitkomst = d.Floor + d.Extra
		}
		if d.Floor+d.Extra != d.Deel {
			h.Rekensom = append(h.Rekensom, fmt.Sprintf("het deel van %s is %d + %d, de ledger zegt %d", d.Gemeente, d.Floor, d.Extra, d.Deel))
		}
	}
	return nil
}

func printHerleiding(w io.Writer, h herleiding) {
	bron := fmt.Sprintf("kostenexport tot positie %s, peildatum %s", h.Positie, h.Peildatum)
	if h.Rapportage != "" {
		bron = "aangeleverde rapportage " + h.Rapportage + ", " + bron
	}
	fmt.Fprintf(w, "Kostenregel %d van %s over %d (%s)\n", h.Regel, h.Gemeente, h.Jaar, bron)
	for _, col := range export.CostHeader {
		if v := h.Kostenregel[col]; v != "" && v != "0" {
			fmt.Fprintf(w, "  %-16s %s\n", col, v)
		}
	}
	if b := h.Beleid; b != nil {
		fmt.Fprintf(w, "\nBeleid\n  %s, gebeurtenis %s op positie %s, geldig vanaf %s\n", b.Versie, b.Event, b.Positie, b.GeldigVanaf)
		switch {
		case b.CentPerJaar != 0:
			fmt.Fprintf(w, "  %s: %s cent per jaar\n", b.Product, duizendtal(b.CentPerJaar))
		case b.CentPerUur != 0:
			fmt.Fprintf(w, "  %s: %s cent per uur\n", b.Product, duizendtal(b.CentPerUur))
		default:
			fmt.Fprintf(w, "  %s: geen tarief\n", b.Product)
		}
	}
	if b := h.Boeking; b != nil {
		fmt.Fprintf(w, "\nBoeking\n  gebeurtenis %s op positie %s: %s cent (%s), %s t/m %s, %s\n", b.Event, b.Positie, duizendtal(b.Cent), euro(b.Cent), b.Van, b.TotEnMet, b.Budgetstroom)
	}
	if k := h.Verdeelsleutel; k != nil {
		fmt.Fprintf(w, "\nVerdeelsleutel\n  %s (%s), gebeurtenis %s op positie %s\n", k.Versie, k.Methode, k.Event, k.Positie)
	}
	if len(h.Delen) > 0 {
		fmt.Fprintf(w, "\n  %-8s %14s %14s %24s %5s %14s\n", "gemeente", "gewicht", "floor (cent)", "rest", "+1", "deel (cent)")
		for _, d := range h.Delen {
			mark := " "
			if d.Gemeente == h.Gemeente {
				mark = "*"
			}
			fmt.Fprintf(w, "%s %-8s %14s %14s %24s %5d %14s\n", mark, d.Gemeente, duizendtal(d.Gewicht), duizendtal(d.Floor), d.Rest, d.Extra, duizendtal(d.Deel))
		}
	}
	fmt.Fprintf(w, "\nRekensom\n")
	for _, r := range h.Rekensom {
		fmt.Fprintf(w, "  %s\n", r)
	}
	fmt.Fprintf(w, "\nGebeurtenissen\n")
	for _, g := range h.Gebeurtenissen {
		fmt.Fprintf(w, "  positie %-12s %-16s %-10s %-6s %s\n", g.Positie, g.Soort, dash(g.Datum), dash(g.Gemeente), g.Event)
	}
	fmt.Fprint(w, "\n"+certificaat(h.certificaat))
}

// duizendtal writes n with thousands separated by points: 1.200.000.
func duizendtal(n int64) string { return duizendtalBig(big.NewInt(n)) }

func duizendtalBig(n *big.Int) string {
	s := n.String()
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

func methodWord(m ledgerv1.Verdeelmethode) string {
	if m == 0 {
		return ""
	}
	return export.Word(m, "VERDEELMETHODE_")
}
