package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"connectrpc.com/connect"

	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/projections/beleidsview"
	"github.com/gooi-vechtstreek/ledger/services/api"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/export"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

func viewCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger view", "ledger view <GMxxxx> [--year JJJJ] [--month M] [--replay] [--json]\n       ledger view <GMxxxx> --resultaat [--year JJJJ] [--replay] [--json]\n       ledger view <GMxxxx> --caseload [--replay] [--json]\n\n"+
		"De beleidsview van één gemeente, alleen haar eigen inwoners en kosten: caseload per trede en doelgroep,\n"+
		"in- en uitstroom per reden, plaatsingen per soort met uitval en terugval op het vangnet, loonwaarde,\n"+
		"LKS tegen de norm, en kosten per budgetstroom en taakveld tegen het budget met prognose tot jaareinde.\n"+
		"Met --resultaat: het resultaat van het jaar per budgetstroom, inkomsten (ledger regio inkomsten) tegen\n"+
		"directe en gedeelde kosten, met de prognose tot jaareinde: de tabel van de jaarrekening.", stderr)
	var c conn
	c.register(fs)
	year := fs.Int("year", 0, "jaar (standaard het huidige jaar volgens de server)")
	month := fs.Int("month", 0, "maand 1-12 voor één maand; leeg voor het hele jaar")
	replay := fs.Bool("replay", false, "herbouw uit de store (de controle van de auditor) in plaats van het live overzicht")
	caseload := fs.Bool("caseload", false, "het live caseload-overzicht uit de bus (per toestand, doelgroep en maand)")
	result := fs.Bool("resultaat", false, "alleen het resultaat per budgetstroom van het jaar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("geef precies één gemeente op (CBS-code, zie ledger gemeenten)")
	}
	if *caseload {
		return caseloadView(ctx, c, pos[0], *replay, stdout)
	}
	if *month < 0 || *month > 12 {
		return usageErrorf("--month %d: geef 1 tot en met 12", *month)
	}
	if *result && *month != 0 {
		return usageErrorf("--resultaat is het resultaat van een jaar; niet samen met --month")
	}
	// Without --year the server picks its current year.
	resp, err := c.client().GetBeleidsview(ctx, connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: pos[0], Jaar: int32(*year), Maand: int32(*month), Replay: *replay}))
	if err != nil {
		return err
	}
	if c.json {
		if *result {
			v := resp.Msg.GetView()
			return printJSON(stdout, &ledgerv1.Beleidsview{Gemeente: v.GetGemeente(), Naam: v.GetNaam(), Periode: v.GetPeriode(), Peildatum: v.GetPeildatum(),
				Resultaat: v.GetResultaat(), ResultaatTotaal: v.GetResultaatTotaal(), Verrekening: v.GetVerrekening(), BijgewerktTot: v.GetBijgewerktTot()})
		}
		return printJSON(stdout, resp.Msg)
	}
	if *result {
		if err := printResultaat(stdout, resp.Msg.GetView()); err != nil {
			return err
		}
	} else if err := printBeleidsview(stdout, resp.Msg.GetView()); err != nil {
		return err
	}
	fmt.Fprint(stdout, achterstand(resp.Msg.GetAchterstand()))
	fmt.Fprint(stdout, certificaat(resp.Msg.GetCertificaat()))
	return nil
}

// printResultaat writes the year's result per budget stream.
func printResultaat(w io.Writer, v *ledgerv1.Beleidsview) error {
	fmt.Fprintf(w, "Resultaat %s (%s) %s, peildatum %s\n\n", v.GetNaam(), v.GetGemeente(), v.GetPeriode(), event.FormatDate(v.GetPeildatum()))
	if len(v.GetResultaat()) == 0 {
		fmt.Fprintln(w, "Geen inkomsten en geen kosten in dit jaar (inkomsten: ledger regio inkomsten).")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "BUDGETSTROOM\tINKOMSTEN\tWAARVAN CORRECTIE\tDIRECT\tGEDEELD\tAFREKENING\tRESULTAAT\tPROGNOSE KOSTEN\tPROGNOSE RESULTAAT\t")
	for _, r := range append(v.GetResultaat(), v.GetResultaatTotaal()) {
		name := budgetstromen.word(r.GetBudgetstroom().Number())
		if r == v.GetResultaatTotaal() {
			name = "totaal"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, euro(r.GetInkomstenCent()), euro(-r.GetCorrectieCent()), euro(r.GetDirectCent()),
			euro(r.GetGedeeldCent()), euro(r.GetAfrekeningCent()), euro(r.GetResultaatCent()), euro(r.GetPrognoseKostenCent()), euro(r.GetPrognoseResultaatCent()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printVerrekening(w, v)
}

// printVerrekening writes how the year's result is settled under the
// regional Resultaatverdeling, when there is one.
func printVerrekening(w io.Writer, v *ledgerv1.Beleidsview) error {
	if len(v.GetVerrekening()) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nVerrekening van het resultaat (resultaatverdeling %s)\n\n", v.GetPeriode())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "BUDGETSTROOM\tVERREKENING\tEIGEN RESULTAAT\tRESULTAAT REGIO\tGEWICHT\tVERREKEND\tVERSCHIL\t")
	var own, settled, diff int64
	for _, p := range v.GetVerrekening() {
		how, weight, region := verrekeningen.word(p.GetVerrekening().Number()), "-", "-"
		if p.GetVerrekening() == ledgerv1.Verrekening_VERREKENING_SOLIDAIR {
			how += " (" + methoden.word(p.GetMethode().Number()) + ")"
			weight, region = fmt.Sprintf("%d / %d", p.GetGewicht(), p.GetTotaalGewicht()), euro(p.GetRegioResultaatCent())
		}
		if p.GetOpmerking() != "" {
			how += ": " + p.GetOpmerking()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", budgetstromen.word(p.GetBudgetstroom().Number()), how, euro(p.GetEigenResultaatCent()),
			region, weight, euro(p.GetVerrekendCent()), euro(p.GetVerschilCent()))
		own, settled, diff = own+p.GetEigenResultaatCent(), settled+p.GetVerrekendCent(), diff+p.GetVerschilCent()
	}
	fmt.Fprintf(tw, "totaal\t\t%s\t\t\t%s\t%s\t\n", euro(own), euro(settled), euro(diff))
	return tw.Flush()
}

// certificaat says which history the figures are of, and how an auditor
// checks that.
func certificaat(c *ledgerv1.Certificaat) string {
	if c == nil {
		return ""
	}
	if c.GetDigest() == "" {
		// A live caseload view: the position of its last event.
		if c.GetPositie() == "" {
			return ""
		}
		return fmt.Sprintf("Certificaat: de opslag tot en met positie %s, peildatum %s\n  (digest: ledger audit verify --tot %s; opnieuw maken: ledger audit replay --caseload --tot %s --peildatum %s)\n",
			c.GetPositie(), event.FormatDate(c.GetPeildatum()), c.GetPositie(), c.GetPositie(), event.FormatDate(c.GetPeildatum()))
	}
	return fmt.Sprintf("Certificaat: %d gebeurtenissen tot en met positie %s, digest %s, peildatum %s\n  (controleer: ledger audit verify --tot %s --digest %s; opnieuw maken: ledger audit replay --tot %s --peildatum %s)\n",
		c.GetGebeurtenissen(), c.GetPositie(), c.GetDigest(), event.FormatDate(c.GetPeildatum()), c.GetPositie(), c.GetDigest(), c.GetPositie(), event.FormatDate(c.GetPeildatum()))
}

// achterstand says under a view how far its figures are behind the store,
// so that nobody takes figures that are still catching up for final ones.
func achterstand(a *ledgerv1.Achterstand) string {
	switch {
	case a == nil:
		return ""
	case a.GetGebeurtenissen() == 0:
		return fmt.Sprintf("\nActueel: bijgewerkt tot positie %s, de laatste van de opslag.\n", a.GetBijgewerktTot())
	}
	return fmt.Sprintf("\nLet op: %d gebeurtenissen (%s s) nog niet verwerkt; bijgewerkt tot positie %s, de opslag is bij %s.\n",
		a.GetGebeurtenissen(), strings.Replace(strconv.FormatFloat(a.GetSeconden(), 'f', 1, 64), ".", ",", 1), a.GetBijgewerktTot(), a.GetStorePositie())
}

func printBeleidsview(w io.Writer, v *ledgerv1.Beleidsview) error {
	t := v.GetTotaal()
	fmt.Fprintf(w, "%s (%s) — beleidsview %s, peildatum %s (%s, tot %s)\n\n", v.GetNaam(), v.GetGemeente(), v.GetPeriode(), event.FormatDate(v.GetPeildatum()), v.GetBron(), v.GetBijgewerktTot())
	printHerindelingen(w, v.GetHerindelingen())
	fmt.Fprintf(w, "Caseload op peildatum: %d\n", t.GetCaseload())
	fmt.Fprintf(w, "  per trede:     %s\n", tellingen(t.GetCaseloadPerTrede()))
	fmt.Fprintf(w, "  per doelgroep: %s\n", tellingen(t.GetCaseloadPerDoelgroep()))
	fmt.Fprintf(w, "Instroom:  %d (%s)\n", t.GetInstroom(), tellingen(t.GetInstroomPerReden()))
	fmt.Fprintf(w, "Uitstroom: %d (%s)\n", t.GetUitstroom(), tellingen(t.GetUitstroomPerReden()))
	fmt.Fprintf(w, "Actief, minstens 4 uur per week geplaatst: %d (%s van de caseload)\n", t.GetActiefVierUur(), procent(t.GetActiefVierUurPercentage()))
	fmt.Fprintf(w, "Eerste plaatsingen: %d, gemiddeld %s dagen na de aanmelding\n\n", t.GetEerstePlaatsingen(), strings.TrimSuffix(procent(t.GetDagenTotEerstePlaatsing()), "%"))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PLAATSINGEN\tGESTART\tBEËINDIGD\tUITVAL\tTERUGVAL VANGNET\tNAAR CONTRACT\tACTIEF\tUITVAL %\t")
	for _, p := range t.GetPlaatsingen() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", p.GetSoort(), p.GetGestart(), p.GetBeeindigd(), p.GetUitval(), p.GetTerugvalVangnet(), p.GetNaarContract(), p.GetActief(), procent(p.GetUitvalPercentage()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if wg := t.GetWerkgevers(); wg != nil {
		fmt.Fprintf(w, "Actieve plaatsingen bij een reguliere werkgever: %d (bij %d werkgevers met KvK-nummer); binnen het ontwikkelbedrijf: %d\n", wg.GetBijWerkgever(), wg.GetWerkgevers(), wg.GetBinnen())
	}
	lw := t.GetLoonwaarde()
	sign := "+"
	if lw.GetGemiddeldeOntwikkeling() < 0 {
		sign = ""
	}
	fmt.Fprintf(w, "\nLoonwaarde: gemiddeld %s (%d gemeten), ontwikkeling gemiddeld %s%s procentpunt\n", procent(lw.GetGemiddeldProcent()), lw.GetGemeten(), sign, strings.TrimSuffix(procent(lw.GetGemiddeldeOntwikkeling()), "%"))
	lks := t.GetLks()
	fmt.Fprintf(w, "LKS-plaatsingen: %d actief, norm %d (%s); loonkostensubsidie in de periode %s\n", lks.GetActief(), lks.GetNorm(), procent(lks.GetPercentage()), euro(t.GetLksCent()))
	if ws := t.GetWsw(); ws != nil {
		fmt.Fprintf(w, "Wsw-medewerkers: %d, %s standaardeenheden", ws.GetPersonen(), strconv.FormatFloat(ws.GetStandaardeenheden(), 'f', 2, 64))
		if ws.GetCentPerSe() > 0 {
			fmt.Fprintf(w, "; Rijksbijdrage %s per SE, samen %s per jaar", euro(ws.GetCentPerSe()), euro(ws.GetRijksbijdrageCent()))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)

	if ds := v.GetDoelen(); len(ds) > 0 {
		dw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(dw, "CIJFER\tWAARDE\tTEGEN\tDOEL\tPERCENTAGE")
		for _, d := range ds {
			fmt.Fprintf(dw, "%s\t%d\t%s\t%d\t%s\n", d.GetNaam(), d.GetWaarde(), d.GetTegen(), d.GetDoel(), procent(d.GetPercentage()))
		}
		if err := dw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// A nacalculatie shows both: the costs as priced (direct) and what it
	// settles afterwards (afrekening).
	settled := v.GetKostenTotaal().GetAfrekeningCent() != 0
	if settled {
		fmt.Fprintln(tw, "KOSTEN\tTAAKVELD\tDIRECT\tAFREKENING\tGEDEELD\tTOTAAL\tBUDGET\tPROGNOSE JAAREINDE\tONGEPRIJSDE DAGEN\t")
	} else {
		fmt.Fprintln(tw, "KOSTEN\tTAAKVELD\tDIRECT\tGEDEELD\tTOTAAL\tBUDGET\tPROGNOSE JAAREINDE\tONGEPRIJSDE DAGEN\t")
	}
	for _, k := range append(v.GetKosten(), v.GetKostenTotaal()) {
		name := budgetstromen.word(k.GetBudgetstroom().Number())
		if k == v.GetKostenTotaal() {
			name = "totaal"
		}
		direct := euro(k.GetDirectCent())
		if settled {
			direct += "\t" + euro(k.GetAfrekeningCent())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", name, k.GetTaakveld(), direct, euro(k.GetGedeeldCent()), euro(k.GetTotaalCent()),
			euro(k.GetBudgetCent()), euro(k.GetPrognoseCent()), k.GetOngeprijsdeDagen())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(v.GetPerMaand()) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "\nMAAND\tCASELOAD\tINSTROOM\tUITSTROOM\tPLAATSINGEN GESTART\tBEËINDIGD\t")
		for _, m := range v.GetPerMaand() {
			var started, ended int64
			for _, p := range m.GetPlaatsingen() {
				started += p.GetGestart()
				ended += p.GetBeeindigd()
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", m.GetPeriode(), m.GetCaseload(), m.GetInstroom(), m.GetUitstroom(), started, ended)
		}
		fmt.Fprintln(tw, "\nLADDER\tOMHOOG\tOMLAAG\t")
		for _, q := range beleidsview.Kwartalen(v) {
			fmt.Fprintf(tw, "%s\t%d\t%d\t\n", q.Naam, q.Omhoog, q.Omlaag)
		}
		return tw.Flush()
	}
	return nil
}

func tellingen(ts []*ledgerv1.Telling) string {
	if len(ts) == 0 {
		return "-"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s %d", t.GetSleutel(), t.GetAantal())
	}
	return strings.Join(parts, ", ")
}

func procent(p float64) string {
	return strings.Replace(strconv.FormatFloat(p, 'f', 1, 64), ".", ",", 1) + "%"
}

func caseloadView(ctx context.Context, c conn, gm string, replay bool, stdout io.Writer) error {
	resp, err := c.client().GetView(ctx, connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: gm, Replay: replay}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	if err := printCaseload(stdout, resp.Msg.GetView()); err != nil {
		return err
	}
	fmt.Fprint(stdout, achterstand(resp.Msg.GetAchterstand()))
	fmt.Fprint(stdout, certificaat(resp.Msg.GetCertificaat()))
	return nil
}

// printCaseload prints a caseload view for a person.
func printCaseload(stdout io.Writer, v *ledgerv1.CaseloadView) error {
	fmt.Fprintf(stdout, "%s (%s) — caseload (%s, %d gebeurtenissen verwerkt)\n\n", v.GetNaam(), v.GetGemeente(), v.GetBron(), v.GetVerwerkt())
	printHerindelingen(stdout, v.GetHerindelingen())
	fmt.Fprintf(stdout, "actieve zaken: %d\n", v.GetActief())
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nTOESTAND\tAANTAL")
	for _, t := range v.GetPerToestand() {
		fmt.Fprintf(tw, "%s\t%d\n", toestanden.word(t.GetToestand().Number()), t.GetAantal())
	}
	fmt.Fprintln(tw, "\nDOELGROEP\tAANTAL")
	for _, d := range v.GetPerDoelgroep() {
		fmt.Fprintf(tw, "%s\t%d\n", doelgroepen.word(d.GetDoelgroep().Number()), d.GetAantal())
	}
	fmt.Fprintln(tw, "\nMAAND\tINSTROOM\tUITSTROOM\tREDENEN")
	for _, m := range v.GetPerMaand() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", m.GetMaand(), m.GetInstroom(), m.GetUitstroom(), reasons(m))
	}
	return tw.Flush()
}

func exportCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("ledger export: geef costs of srg")
	}
	switch args[0] {
	case "costs", "kosten":
		return exportCosts(ctx, args[1:], stdout, stderr)
	case "srg":
		return exportSRG(ctx, args[1:], stdout, stderr)
	}
	return usageErrorf("ledger export: onbekende opdracht %q", args[0])
}

func exportCosts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger export costs", "ledger export costs --gemeente GMxxxx --year JJJJ [--replay] [--aanleveren]\n\n"+
		"Alle kostenregels van een gemeente in een jaar als CSV (scheidingsteken ';', UTF-8): per plaatsing,\n"+
		"gemeente, beleidsversie en kalendermaand; uren begeleiding; en het aandeel in gedeelde kosten. bedrag_cent is\n"+
		"exact; bedrag_euro is hetzelfde met decimale komma. Elke regel noemt de events en de beleids- of\n"+
		"verdeelsleutelversie die hem veroorzaakten. Met --aanleveren (rol centrum) is dit het bestand dat de\n"+
		"gemeente krijgt: het wordt vastgelegd met zijn SHA-256 en certificaat, zodat ledger audit verschil\n"+
		"later zegt wat er sindsdien anders zou zijn.", stderr)
	var c conn
	c.register(fs)
	g := fs.String("gemeente", "", "CBS-code (verplicht)")
	year := fs.Int("year", 0, "jaar (verplicht)")
	replay := fs.Bool("replay", false, "reken uit de store in plaats van het live model")
	aanleveren := fs.Bool("aanleveren", false, "dit is de export die aan de gemeente wordt geleverd: leg hem vast met zijn SHA-256 en certificaat (rol centrum; zie ledger audit rapportages)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *g == "" || *year == 0 {
		return usageErrorf("--gemeente en --year zijn verplicht")
	}
	if *aanleveren && (*replay || c.json) {
		return usageErrorf("--aanleveren levert de CSV van de live cijfers; niet samen met --replay of --json")
	}
	resp, err := c.client().ExportKosten(ctx, connect.NewRequest(&ledgerv1.ExportKostenRequest{Gemeente: *g, Jaar: int32(*year), Replay: *replay}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	var file bytes.Buffer
	total, err := export.WriteCosts(&file, resp.Msg.GetRegels())
	if err != nil {
		return err
	}
	if _, err := stdout.Write(file.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d kostenregels, totaal %s\n", len(resp.Msg.GetRegels()), euro(total))
	cert := resp.Msg.GetCertificaat()
	fmt.Fprint(stderr, certificaat(cert))
	if !*aanleveren {
		return nil
	}
	return recordDelivered(ctx, &c, *g, &ledgerv1.Rapportage{Soort: api.RapportageKosten, Jaar: int32(*year), Positie: cert.GetPositie(),
		Peildatum: cert.GetPeildatum(), Regels: uint32(len(resp.Msg.GetRegels()))}, file.Bytes(), stderr)
}

// recordDelivered records r, a report of gm of the file written, as
// delivered, with the file's SHA-256, and says how to compare it later.
func recordDelivered(ctx context.Context, c *conn, gm string, r *ledgerv1.Rapportage, file []byte, stderr io.Writer) error {
	sum := sha256.Sum256(file)
	r.Sha256 = sum[:]
	eventID := uuid.New() // sent again with a retry: recorded once
	rr, err := sendOnce(ctx, func() (*connect.Response[ledgerv1.RecordRapportageResponse], error) {
		return c.client().RecordRapportage(ctx, connect.NewRequest(&ledgerv1.RecordRapportageRequest{Gemeente: gm, EventId: eventID.String(), Rapportage: r}))
	})
	if err != nil {
		return fmt.Errorf("het bestand is gemaakt maar niet als aangeleverd vastgelegd: %w", err)
	}
	fmt.Fprintf(stderr, "Aangeleverd en vastgelegd als rapportage %s (sha256 %s); wat er sindsdien anders zou zijn: ledger audit verschil %s\n",
		rr.Msg.GetEventId(), hex.EncodeToString(sum[:]), rr.Msg.GetEventId())
	return nil
}

func exportSRG(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger export srg", "ledger export srg --gemeente GMxxxx --half JJJJH1|JJJJH2 [--aanleveren]\n\n"+
		"Plaatsingen van een gemeente per CBS SRG-voorziening in een half jaar (CSV, ';'): gestart, beëindigd\n"+
		"en lopend op de laatste dag. De koppeling van plaatsingssoort naar SRG-voorziening staat in deploy/srg.json.\n"+
		"Met --aanleveren (rol centrum) is dit de telling die wordt geleverd: zij wordt vastgelegd met haar SHA-256\n"+
		"en certificaat (zie ledger audit rapportages en ledger audit verschil).", stderr)
	var c conn
	c.register(fs)
	g := fs.String("gemeente", "", "CBS-code (verplicht)")
	half := fs.String("half", "", "half jaar, bijv. 2025H1 (verplicht)")
	aanleveren := fs.Bool("aanleveren", false, "dit is de telling die wordt geleverd: leg haar vast met haar SHA-256 en certificaat (rol centrum)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *g == "" || *half == "" {
		return usageErrorf("--gemeente en --half zijn verplicht")
	}
	if *aanleveren && c.json {
		return usageErrorf("--aanleveren levert de CSV; niet samen met --json")
	}
	resp, err := c.client().ExportSrg(ctx, connect.NewRequest(&ledgerv1.ExportSrgRequest{Gemeente: *g, Half: *half}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	var file bytes.Buffer
	if err := export.WriteSRG(&file, resp.Msg.GetTellingen()); err != nil {
		return err
	}
	if _, err := stdout.Write(file.Bytes()); err != nil {
		return err
	}
	if !*aanleveren {
		return nil
	}
	// The server parsed the half; this only splits what it accepted.
	year, h, err := beleidsview.ParseHalf(*half)
	if err != nil {
		return usageErrorf("--half: %v", err)
	}
	cert := resp.Msg.GetCertificaat()
	fmt.Fprint(stderr, certificaat(cert))
	return recordDelivered(ctx, &c, *g, &ledgerv1.Rapportage{Soort: api.RapportageSRG, Jaar: int32(year), Half: int32(h), Positie: cert.GetPositie(),
		Peildatum: cert.GetPeildatum(), Regels: uint32(len(resp.Msg.GetTellingen()))}, file.Bytes(), stderr)
}

// printHerindelingen says which herindelingen the figures honour.
func printHerindelingen(w io.Writer, hs []*ledgerv1.Herindeling) {
	for _, h := range hs {
		fmt.Fprintf(w, "Herindeling: %s\n", h.GetToelichting())
	}
	if len(hs) > 0 {
		fmt.Fprintln(w)
	}
}
