package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var (
	budgetstromen = choice{ledgerv1.Budgetstroom(0).Descriptor(), "BUDGETSTROOM_"}
	methoden      = choice{ledgerv1.Verdeelmethode(0).Descriptor(), "VERDEELMETHODE_"}
	verrekeningen = choice{ledgerv1.Verrekening(0).Descriptor(), "VERREKENING_"}
)

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func productHelp() string {
	var b strings.Builder
	for _, p := range beleid.Products {
		fmt.Fprintf(&b, "\n    %-18s %s, tarief per %s", p.Code, p.Omschrijving, p.Eenheid)
	}
	return b.String()
}

func policyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("ledger policy: geef een opdracht: set of show")
	}
	switch args[0] {
	case "set":
		return policySet(ctx, args[1:], stdout, stderr)
	case "show":
		return policyShow(ctx, args[1:], stdout, stderr)
	}
	return usageErrorf("ledger policy: onbekende opdracht %q", args[0])
}

func policySet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger policy set", "ledger policy set --gemeente GMxxxx --geldig-vanaf JJJJ-MM-DD --product CODE=EURO[:BUDGETSTROOM] ... [--budget JAAR:BUDGETSTROOM=EURO ...] [--lks-norm N] [--verwachte-versie N] [--nacalculatie REDEN --besluit KENMERK]\n\n"+
		"Legt een nieuwe, volledige versie van het beleid van een gemeente vast: elk product dat zij inkoopt,\n"+
		"met tarief. De versie geldt vanaf --geldig-vanaf (vandaag of later, nooit vóór de vorige versie);\n"+
		"eerdere dagen worden niet opnieuw geprijsd.\n\n"+
		"Een nacalculatie (--nacalculatie met de reden en --besluit met het kenmerk van het besluit) herziet\n"+
		"een verleden periode, bijvoorbeeld een GR-begroting die in het voorjaar voor het hele jaar is\n"+
		"vastgesteld: --geldig-vanaf ligt dan vóór vandaag. Wat al geprijsd en gerapporteerd is blijft\n"+
		"zoals het was; vanaf morgen prijst de nieuwe versie direct, en de kostenexport krijgt per maand\n"+
		"en product een afrekeningsregel met het verschil.", stderr)
	var c conn
	c.register(fs)
	var products, budgets list
	g := fs.String("gemeente", "", "CBS-code van de gemeente wier beleid dit is (verplicht)")
	from := fs.String("geldig-vanaf", "", "eerste dag waarop deze versie geldt, JJJJ-MM-DD (verplicht)")
	fs.Var(&products, "product", "een ingekocht product met tarief in euro (per jaar of per uur), herhaalbaar; optioneel :budgetstroom. Producten:"+productHelp())
	fs.Var(&budgets, "budget", "budget per jaar en budgetstroom, herhaalbaar, bijv. 2026:participatiebudget=1500000; budgetstromen: "+budgetstromen.help())
	norm := fs.Int64("lks-norm", 0, "LKS-norm: het aantal plaatsingen met loonkostensubsidie dat de gemeente nastreeft")
	back := fs.Int("terugkeer-maanden", 0, "zoveel maanden na uitstroom naar regulier werk kan de klant in dezelfde zaak terug op het vangnet (0: niet)")
	perSE := fs.String("wsw-per-se", "", "Rijksbijdrage per standaardeenheid Wsw per jaar, in euro (een voltijds Wsw-medewerker, 36 uur)")
	note := fs.String("toelichting", "", "toelichting bij deze versie")
	seen := fs.Uint64("verwachte-versie", 0, "de laatste versie die u zag (0: nog geen); is er intussen een nieuwere vastgelegd, dan wordt deze geweigerd (beleid.versie-verouderd) in plaats van die ongezien te vervangen")
	nacalc := fs.String("nacalculatie", "", "deze versie herziet een verleden periode: de reden")
	besluit := fs.String("besluit", "", "bij --nacalculatie: het kenmerk van het besluit, bijv. \"AB 2026-14\"")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if (*nacalc == "") != (*besluit == "") {
		return usageErrorf("--nacalculatie en --besluit horen bij elkaar: een nacalculatie zegt waarom en op grond van welk besluit")
	}
	if *g == "" || *from == "" {
		return usageErrorf("--gemeente en --geldig-vanaf zijn verplicht")
	}
	d, err := event.ParseDate(*from)
	if err != nil {
		return usageErrorf("--geldig-vanaf: %v", err)
	}
	if *back < 0 || *back > 120 {
		return usageErrorf("--terugkeer-maanden %d: geef 0 tot en met 120 maanden", *back)
	}
	b := &ledgerv1.Beleid{GeldigVanaf: d, LksNorm: *norm, Toelichting: *note, TerugkeerMaanden: int32(*back)}
	if *perSE != "" {
		if b.WswCentPerSe, err = euroCents(*perSE); err != nil {
			return err
		}
	}
	if *nacalc != "" {
		b.Nacalculatie = &ledgerv1.Nacalculatie{Reden: *nacalc, Besluit: *besluit}
	}
	for _, p := range products {
		t, err := parseProduct(p)
		if err != nil {
			return err
		}
		b.Producten = append(b.Producten, t)
	}
	for _, s := range budgets {
		bu, err := parseBudget(s)
		if err != nil {
			return err
		}
		b.Budgetten = append(b.Budgetten, bu)
	}
	req := &ledgerv1.RecordBeleidRequest{Gemeente: *g, Beleid: b, EventId: uuid.NewString()}
	if given(fs, "verwachte-versie") {
		req.ExpectedVersie = seen
	}
	resp, err := sendOnce(ctx, func() (*connect.Response[ledgerv1.RecordBeleidResponse], error) {
		return c.client().RecordBeleid(ctx, connect.NewRequest(req))
	})
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	fmt.Fprintf(stdout, "%s/v%d\n", *g, resp.Msg.GetVersie())
	fmt.Fprintf(stderr, "beleid vastgelegd: %s versie %d, geldig vanaf %s, event %s\n", *g, resp.Msg.GetVersie(), *from, resp.Msg.GetEventId())
	return nil
}

// parseProduct reads CODE=EURO[:BUDGETSTROOM].
func parseProduct(s string) (*ledgerv1.ProductTarief, error) {
	code, rest, ok := strings.Cut(s, "=")
	if !ok {
		return nil, usageErrorf("--product %q: schrijf CODE=EURO, bijv. beschut-werk=12000", s)
	}
	p, known := beleid.LookupProduct(code)
	if !known {
		return nil, usageErrorf("--product %q: onbekend product; kies uit%s", code, productHelp())
	}
	amount, stream, _ := strings.Cut(rest, ":")
	cents, err := euroCents(amount)
	if err != nil {
		return nil, err
	}
	t := &ledgerv1.ProductTarief{Product: p.Code}
	if p.Eenheid == beleid.PerUur {
		t.CentPerUur = cents
	} else {
		t.CentPerJaar = cents
	}
	if stream != "" {
		n, err := budgetstromen.parse("product", stream)
		if err != nil {
			return nil, err
		}
		t.Budgetstroom = ledgerv1.Budgetstroom(n)
	}
	return t, nil
}

// parseBudget reads JAAR:BUDGETSTROOM=EURO.
func parseBudget(s string) (*ledgerv1.Budget, error) {
	key, amount, ok := strings.Cut(s, "=")
	year, stream, ok2 := strings.Cut(key, ":")
	if !ok || !ok2 {
		return nil, usageErrorf("--budget %q: schrijf JAAR:BUDGETSTROOM=EURO, bijv. 2026:participatiebudget=1500000", s)
	}
	y, err := strconv.Atoi(year)
	if err != nil {
		return nil, usageErrorf("--budget %q: %q is geen jaar", s, year)
	}
	n, err := budgetstromen.parse("budget", stream)
	if err != nil {
		return nil, err
	}
	cents, err := euroCents(amount)
	if err != nil {
		return nil, err
	}
	return &ledgerv1.Budget{Jaar: int32(y), Budgetstroom: ledgerv1.Budgetstroom(n), Cent: cents}, nil
}

func policyShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger policy show", "ledger policy show <GMxxxx> [--json]", stderr)
	var c conn
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("geef precies één gemeente op")
	}
	resp, err := c.client().GetBeleid(ctx, connect.NewRequest(&ledgerv1.GetBeleidRequest{Gemeente: pos[0]}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	if len(resp.Msg.GetVersies()) == 0 {
		fmt.Fprintf(stdout, "%s heeft nog geen beleid vastgelegd\n", pos[0])
		return nil
	}
	for _, v := range resp.Msg.GetVersies() {
		b := v.GetBeleid()
		fmt.Fprintf(stdout, "%s/v%d  geldig vanaf %s  (vastgelegd %s door %s, event %s)\n", v.GetGemeente(), v.GetVersie(),
			event.FormatDate(b.GetGeldigVanaf()), event.FormatDate(v.GetVastgelegdOp()), printable(v.GetActor()), v.GetEventId())
		if n := b.GetNacalculatie(); n != nil {
			fmt.Fprintf(stdout, "  nacalculatie (besluit %s): %s; wat tot en met %s geprijsd was, wordt afgerekend\n",
				printable(n.GetBesluit()), printable(n.GetReden()), event.FormatDate(v.GetVastgelegdOp()))
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PRODUCT\tTARIEF\tBUDGETSTROOM\tTAAKVELD")
		for _, t := range b.GetProducten() {
			tarief := euro(t.GetCentPerJaar()) + " per jaar"
			if t.GetCentPerUur() > 0 {
				tarief = euro(t.GetCentPerUur()) + " per uur"
			}
			stroom := beleid.Budgetstroom(t)
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", t.GetProduct(), tarief, budgetstromen.word(stroom.Number()), beleid.Taakveld(stroom))
		}
		for _, bu := range b.GetBudgetten() {
			fmt.Fprintf(tw, "  budget %d\t%s\t%s\t%s\n", bu.GetJaar(), euro(bu.GetCent()), budgetstromen.word(bu.GetBudgetstroom().Number()), beleid.Taakveld(bu.GetBudgetstroom()))
		}
		if b.GetLksNorm() > 0 {
			fmt.Fprintf(tw, "  LKS-norm\t%d\t\t\n", b.GetLksNorm())
		}
		if n := b.GetTerugkeerMaanden(); n > 0 {
			fmt.Fprintf(tw, "  terugkeer\t%d maanden na uitstroom naar regulier werk\t\t\n", n)
		}
		if b.GetWswCentPerSe() > 0 {
			fmt.Fprintf(tw, "  Wsw per SE\t%s per jaar\t\t\n", euro(b.GetWswCentPerSe()))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func regioCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("ledger regio: geef een opdracht: verdeelsleutel, kosten, inkomsten, doelen, resultaatverdeling, resultaat of show")
	}
	fs := newFlags("ledger regio "+args[0], map[string]string{
		"verdeelsleutel": "ledger regio verdeelsleutel --jaar JJJJ --methode M [--toelichting T]\n\nLegt de verdeelsleutel voor gedeelde kosten van een jaar vast; een latere voor hetzelfde jaar is een nieuwe versie.",
		"kosten":         "ledger regio kosten --van JJJJ-MM-DD --tot JJJJ-MM-DD --bedrag EURO --budgetstroom B --omschrijving T\n\nBoekt gedeelde kosten van de centrumgemeente over een afgelopen periode binnen één jaar;\nze worden verdeeld met de verdeelsleutel van dat jaar.",
		"inkomsten": "ledger regio inkomsten --gemeente GMxxxx --jaar JJJJ --budgetstroom B --bedrag EURO [--correctie EURO --correctie-reden T] [--omschrijving T]\n\n" +
			"Legt de inkomsten van een gemeente voor een budgetstroom in een jaar vast: de Rijksbijdrage (buig,\n" +
			"integratie-uitkering-wsw-beschut, participatiebudget) of de bijdrage aan de bedrijfsvoering. Een latere\n" +
			"voor dezelfde gemeente, hetzelfde jaar en dezelfde stroom vervangt de vorige. Het resultaat per stroom:\n" +
			"ledger view GMxxxx --year JJJJ --resultaat.",
		"doelen": "ledger regio doelen --gemeente GMxxxx --jaar JJJJ [--lks-norm-50 N] [--lks-norm-75 N] [--taakstelling-beschut N] [--bijstand N] [--doelgroepregister N] [--toelichting T]\n\n" +
			"Legt de doelen en noemers van een gemeente voor een jaar vast: de LKS-norm bij 50% en 75%, de taakstelling\n" +
			"beschut werk, het aantal inwoners in de bijstand en in het doelgroepregister. Een latere voor dezelfde\n" +
			"gemeente en hetzelfde jaar vervangt de vorige (wat leeg blijft, is niet gezet). De beleidsview zet de\n" +
			"cijfers ertegen af.",
		"resultaatverdeling": "ledger regio resultaatverdeling --jaar JJJJ --stroom B=een-op-een|B=solidair:METHODE ... [--besluit T] [--toelichting T]\n\n" +
			"Legt vast hoe het resultaat van een jaar per budgetstroom met de deelnemers wordt verrekend: een-op-een\n" +
			"(elke gemeente haar eigen resultaat) of solidair (het resultaat van alle deelnemers samen, verdeeld naar\n" +
			"inwoners, caseload-dagen of plaatsing-dagen, tot op de cent zoals gedeelde kosten). Een stroom die niet\n" +
			"genoemd is, wordt een-op-een verrekend. Een latere voor hetzelfde jaar vervangt de vorige. Per gemeente:\n" +
			"ledger view GMxxxx --year JJJJ --resultaat.\n\n" +
			"Voorbeeld: --stroom buig=een-op-een --stroom bedrijfsvoering=solidair:inwoners",
		"resultaat": "ledger regio resultaat [--jaar JJJJ] [--json]\n\n" +
			"Het resultaat van het jaar per budgetstroom voor elke deelnemer en voor de regio samen (de som), en wat\n" +
			"elke deelnemer volgens de resultaatverdeling verrekent. Rol centrum of auditor.",
		"show": "ledger regio show [--json]",
	}[args[0]], stderr)
	var c conn
	c.register(fs)
	req := &ledgerv1.RecordRegioRequest{}
	switch args[0] {
	case "verdeelsleutel":
		year := fs.Int("jaar", 0, "het jaar waarvoor de sleutel geldt (verplicht)")
		method := fs.String("methode", "", "verdeling: "+methoden.help())
		note := fs.String("toelichting", "", "toelichting")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		n, err := methoden.parse("methode", *method)
		if err != nil {
			return err
		}
		req.Afspraak = &ledgerv1.RecordRegioRequest_Verdeelsleutel{Verdeelsleutel: &ledgerv1.Verdeelsleutel{Jaar: int32(*year), Methode: ledgerv1.Verdeelmethode(n), Toelichting: *note}}
	case "kosten":
		van := fs.String("van", "", "eerste dag van de periode, JJJJ-MM-DD")
		tot := fs.String("tot", "", "laatste dag van de periode (tot en met), JJJJ-MM-DD")
		amount := fs.String("bedrag", "", "bedrag in euro, bijv. 125000.00")
		stream := fs.String("budgetstroom", "", "budgetstroom: "+budgetstromen.help())
		desc := fs.String("omschrijving", "", "omschrijving van de kosten")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		from, err1 := event.ParseDate(*van)
		last, err2 := event.ParseDate(*tot)
		if err1 != nil || err2 != nil {
			return usageErrorf("--van en --tot zijn datums JJJJ-MM-DD")
		}
		cents, err := euroCents(*amount)
		if err != nil {
			return err
		}
		n, err := budgetstromen.parse("budgetstroom", *stream)
		if err != nil {
			return err
		}
		req.Datum = last
		req.Afspraak = &ledgerv1.RecordRegioRequest_GedeeldeKosten{GedeeldeKosten: &ledgerv1.GedeeldeKosten{Van: from, Cent: cents, Budgetstroom: ledgerv1.Budgetstroom(n), Omschrijving: *desc}}
	case "inkomsten":
		gm := fs.String("gemeente", "", "de gemeente die de inkomsten ontvangt (verplicht)")
		year := fs.Int("jaar", 0, "het jaar (verplicht)")
		stream := fs.String("budgetstroom", "", "budgetstroom: "+budgetstromen.help())
		amount := fs.String("bedrag", "", "bedrag in euro, bijv. 52900200")
		corr := fs.String("correctie", "", "een correctie die van het bedrag af gaat, in euro")
		why := fs.String("correctie-reden", "", "de reden van de correctie")
		desc := fs.String("omschrijving", "", "omschrijving, bijv. \"Rijksbijdrage BUIG 2024, definitief\"")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		cents, err := euroCents(*amount)
		if err != nil {
			return err
		}
		var corrCents int64
		if *corr != "" {
			if corrCents, err = euroCents(*corr); err != nil {
				return err
			}
		}
		n, err := budgetstromen.parse("budgetstroom", *stream)
		if err != nil {
			return err
		}
		req.Afspraak = &ledgerv1.RecordRegioRequest_Inkomsten{Inkomsten: &ledgerv1.Inkomsten{Gemeente: *gm, Jaar: int32(*year), Budgetstroom: ledgerv1.Budgetstroom(n),
			Cent: cents, CorrectieCent: corrCents, CorrectieReden: *why, Omschrijving: *desc}}
	case "doelen":
		gm := fs.String("gemeente", "", "de gemeente (verplicht)")
		year := fs.Int("jaar", 0, "het jaar (verplicht)")
		lks50 := fs.Int64("lks-norm-50", 0, "LKS-norm bij 50%: het aantal plaatsingen met loonkostensubsidie")
		lks75 := fs.Int64("lks-norm-75", 0, "LKS-norm bij 75%")
		beschut := fs.Int64("taakstelling-beschut", 0, "taakstelling beschut werk: het aantal plaatsen")
		bijstand := fs.Int64("bijstand", 0, "aantal inwoners in de bijstand")
		register := fs.Int64("doelgroepregister", 0, "aantal inwoners in het doelgroepregister")
		note := fs.String("toelichting", "", "toelichting, bijv. de bron van de aantallen")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		for name, v := range map[string]int64{"lks-norm-50": *lks50, "lks-norm-75": *lks75, "taakstelling-beschut": *beschut, "bijstand": *bijstand, "doelgroepregister": *register} {
			if v < 0 {
				return usageErrorf("--%s %d: een aantal is niet negatief", name, v)
			}
		}
		req.Afspraak = &ledgerv1.RecordRegioRequest_Doelen{Doelen: &ledgerv1.Doelen{Gemeente: *gm, Jaar: int32(*year), LksNormVijftigProcent: *lks50, LksNormVijfenzeventigProcent: *lks75,
			TaakstellingBeschut: *beschut, Bijstand: *bijstand, Doelgroepregister: *register, Toelichting: *note}}
	case "resultaatverdeling":
		year := fs.Int("jaar", 0, "het jaar waarvan het resultaat wordt verrekend (verplicht)")
		var streams list
		fs.Var(&streams, "stroom", "budgetstroom=een-op-een of budgetstroom=solidair:methode, herhaalbaar; budgetstromen: "+budgetstromen.help()+"; methoden: "+methoden.help())
		besluit := fs.String("besluit", "", "het besluit dat de verdeling vaststelt, bijv. \"AB 2026-21\"")
		note := fs.String("toelichting", "", "toelichting")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		r := &ledgerv1.Resultaatverdeling{Jaar: int32(*year), Besluit: *besluit, Toelichting: *note}
		for _, s := range streams {
			name, how, ok := strings.Cut(s, "=")
			if !ok {
				return usageErrorf("--stroom %q: geef budgetstroom=een-op-een of budgetstroom=solidair:methode", s)
			}
			n, err := budgetstromen.parse("stroom", name)
			if err != nil {
				return err
			}
			how, method, _ := strings.Cut(how, ":")
			v, err := verrekeningen.parse("stroom", how)
			if err != nil {
				return err
			}
			st := &ledgerv1.Stroomverdeling{Budgetstroom: ledgerv1.Budgetstroom(n), Verrekening: ledgerv1.Verrekening(v)}
			if method != "" {
				m, err := methoden.parse("stroom", method)
				if err != nil {
					return err
				}
				st.Methode = ledgerv1.Verdeelmethode(m)
			}
			r.Stromen = append(r.Stromen, st)
		}
		req.Afspraak = &ledgerv1.RecordRegioRequest_Resultaatverdeling{Resultaatverdeling: r}
	case "resultaat":
		year := fs.Int("jaar", 0, "het jaar (standaard het huidige volgens de server)")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		return regioResultaat(ctx, c, int32(*year), stdout)
	case "show":
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		return regioShow(ctx, c, stdout)
	default:
		return usageErrorf("ledger regio: onbekende opdracht %q", args[0])
	}
	// A booking whose answer got lost is sent again with the same id, so it
	// is booked once.
	req.EventId = uuid.NewString()
	resp, err := sendOnce(ctx, func() (*connect.Response[ledgerv1.RecordRegioResponse], error) {
		return c.client().RecordRegio(ctx, connect.NewRequest(req))
	})
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	fmt.Fprintln(stdout, resp.Msg.GetEventId())
	fmt.Fprintf(stderr, "%s vastgelegd: versie %d, event %s\n", args[0], resp.Msg.GetVersie(), resp.Msg.GetEventId())
	return nil
}

// regioResultaat is the region's result of a year: every participant's
// year view, per budget stream and settled, and their sum.
func regioResultaat(ctx context.Context, c conn, year int32, stdout io.Writer) error {
	list, err := c.client().ListGemeenten(ctx, connect.NewRequest(&ledgerv1.ListGemeentenRequest{}))
	if err != nil {
		return err
	}
	if year == 0 {
		// The server's year, as a view without a year takes it.
		first := list.Msg.GetGemeenten()[0].GetCode()
		resp, err := c.client().GetBeleidsview(ctx, connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: first}))
		if err != nil {
			return fmt.Errorf("resultaat %s: %w", first, err)
		}
		year = resp.Msg.GetView().GetPeildatum().GetYear()
	}
	// The participants of the year: taking part on some day of it.
	var codes []string
	for _, g := range list.Msg.GetGemeenten() {
		if van := g.GetGeldigVan(); van != nil && van.GetYear() > year {
			continue
		}
		if tot := g.GetGeldigTot(); tot != nil && event.CompareDates(tot, &ledgerv1.Date{Year: year, Month: 1, Day: 1}) <= 0 {
			continue
		}
		codes = append(codes, g.GetCode())
	}
	type row struct {
		Gemeente  string           `json:"gemeente"`
		Naam      string           `json:"naam"`
		Resultaat map[string]int64 `json:"resultaat_cent"`
		Totaal    int64            `json:"totaal_cent"`
		Verrekend int64            `json:"verrekend_cent"`
	}
	var rows []row
	var periode string
	streams := map[string]bool{}
	for _, g := range codes {
		resp, err := c.client().GetBeleidsview(ctx, connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: g, Jaar: year}))
		if err != nil {
			return fmt.Errorf("resultaat %s: %w", g, err)
		}
		v := resp.Msg.GetView()
		periode = v.GetPeriode()
		r := row{Gemeente: g, Naam: v.GetNaam(), Resultaat: map[string]int64{}, Totaal: v.GetResultaatTotaal().GetResultaatCent(), Verrekend: v.GetResultaatTotaal().GetResultaatCent()}
		for _, p := range v.GetResultaat() {
			w := budgetstromen.word(p.GetBudgetstroom().Number())
			r.Resultaat[w] = p.GetResultaatCent()
			streams[w] = true
		}
		if ps := v.GetVerrekening(); len(ps) > 0 {
			r.Verrekend = 0
			for _, p := range ps {
				r.Verrekend += p.GetVerrekendCent()
			}
		}
		rows = append(rows, r)
	}
	if c.json {
		return json.NewEncoder(stdout).Encode(struct {
			Jaar  string `json:"jaar"`
			Rijen []row  `json:"rijen"`
		}{periode, rows})
	}
	names := make([]string, 0, len(streams))
	for w := range streams {
		names = append(names, w)
	}
	slices.Sort(names)
	fmt.Fprintf(stdout, "Resultaat van de regio %s per budgetstroom\n\n", periode)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "GEMEENTE\t%s\tTOTAAL\tVERREKEND\t\n", strings.ToUpper(strings.Join(names, "\t")))
	sum := map[string]int64{}
	var total, settled int64
	for _, r := range rows {
		cells := []string{r.Naam + " " + r.Gemeente}
		for _, w := range names {
			cells = append(cells, euro(r.Resultaat[w]))
			sum[w] += r.Resultaat[w]
		}
		total, settled = total+r.Totaal, settled+r.Verrekend
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", strings.Join(cells, "\t"), euro(r.Totaal), euro(r.Verrekend))
	}
	cells := []string{"regio"}
	for _, w := range names {
		cells = append(cells, euro(sum[w]))
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t\n", strings.Join(cells, "\t"), euro(total), euro(settled))
	return tw.Flush()
}

func regioShow(ctx context.Context, c conn, stdout io.Writer) error {
	resp, err := c.client().GetRegio(ctx, connect.NewRequest(&ledgerv1.GetRegioRequest{}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDEELSLEUTEL\tVERSIE\tMETHODE\tEVENT")
	for _, a := range resp.Msg.GetVerdeelsleutels() {
		k := a.GetEvent().GetVerdeelsleutel()
		fmt.Fprintf(tw, "%d\tv%d\t%s\t%s\n", k.GetJaar(), a.GetVersie(), methoden.word(k.GetMethode().Number()), a.GetEventId())
	}
	fmt.Fprintln(tw, "\nBOEKING\tPERIODE\tBEDRAG\tBUDGETSTROOM\tOMSCHRIJVING")
	for _, a := range resp.Msg.GetBoekingen() {
		k := a.GetEvent().GetGedeeldeKosten()
		fmt.Fprintf(tw, "%d\t%s – %s\t%s\t%s\t%s\n", a.GetVersie(), event.FormatDate(k.GetVan()), event.FormatDate(a.GetEvent().GetEnvelope().GetOccurredOn()),
			euro(k.GetCent()), budgetstromen.word(k.GetBudgetstroom().Number()), printable(k.GetOmschrijving()))
	}
	if len(resp.Msg.GetInkomsten()) > 0 {
		fmt.Fprintln(tw, "\nINKOMSTEN\tJAAR\tBUDGETSTROOM\tBEDRAG\tCORRECTIE\tVERSIE\tOMSCHRIJVING")
		for _, a := range resp.Msg.GetInkomsten() {
			in := a.GetEvent().GetInkomsten()
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\tv%d\t%s\n", in.GetGemeente(), in.GetJaar(), budgetstromen.word(in.GetBudgetstroom().Number()), euro(in.GetCent()),
				euro(in.GetCorrectieCent()), a.GetVersie(), printable(in.GetOmschrijving()))
		}
	}
	if len(resp.Msg.GetResultaatverdelingen()) > 0 {
		fmt.Fprintln(tw, "\nRESULTAATVERDELING\tVERSIE\tBUDGETSTROMEN\tBESLUIT\tEVENT")
		for _, a := range resp.Msg.GetResultaatverdelingen() {
			r := a.GetEvent().GetResultaatverdeling()
			var how []string
			for _, st := range r.GetStromen() {
				w := budgetstromen.word(st.GetBudgetstroom().Number()) + "=" + verrekeningen.word(st.GetVerrekening().Number())
				if st.GetMethode() != ledgerv1.Verdeelmethode_VERDEELMETHODE_UNSPECIFIED {
					w += ":" + methoden.word(st.GetMethode().Number())
				}
				how = append(how, w)
			}
			fmt.Fprintf(tw, "%d\tv%d\t%s\t%s\t%s\n", r.GetJaar(), a.GetVersie(), strings.Join(how, " "), printable(r.GetBesluit()), a.GetEventId())
		}
	}
	if len(resp.Msg.GetDoelen()) > 0 {
		fmt.Fprintln(tw, "\nDOELEN\tJAAR\tLKS-NORM 50%\tLKS-NORM 75%\tTAAKSTELLING BESCHUT\tBIJSTAND\tDOELGROEPREGISTER\tVERSIE")
		for _, a := range resp.Msg.GetDoelen() {
			d := a.GetEvent().GetDoelen()
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\tv%d\n", d.GetGemeente(), d.GetJaar(), d.GetLksNormVijftigProcent(), d.GetLksNormVijfenzeventigProcent(),
				d.GetTaakstellingBeschut(), d.GetBijstand(), d.GetDoelgroepregister(), a.GetVersie())
		}
	}
	return tw.Flush()
}

// euro writes cents as "€ 12.345,67", the way a controller reads money.
func euro(cents int64) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return fmt.Sprintf("€ %s%s,%02d", sign, b.String(), cents%100)
}
