package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"connectrpc.com/connect"

	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/resident"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// clientArg splits a client as given on the command line: a BSN (nine
// digits, elfproef) or a client-id.
func clientArg(s string) (bsn, residentID string) {
	if resident.LooksLikeBSN(s) {
		return s, ""
	}
	return "", s
}

func caseZoek(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger case zoek", "ledger case zoek <BSN of client-id> [--json]\n\nDe zaken van één inwoner, ook gesloten; gezocht op BSN via het pseudoniem (het BSN zelf is nergens opgeslagen).\nElke zoekactie komt in het logboek dataverwerkingen.", stderr)
	var c conn
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("geef precies één BSN of client-id")
	}
	bsn, rid := clientArg(pos[0])
	resp, err := c.client().FindCases(ctx, connect.NewRequest(&ledgerv1.FindCasesRequest{Bsn: bsn, ResidentId: rid}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	if len(resp.Msg.GetCases()) == 0 {
		fmt.Fprintf(stderr, "geen zaken van client %s\n", printable(resp.Msg.GetResidentId()))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ZAAK\tGEMEENTE\tTOESTAND\tAANGEMELD")
	for _, s := range resp.Msg.GetCases() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.GetCaseId(), s.GetGemeente(), toestanden.word(s.GetToestand().Number()), event.FormatDate(s.GetAanmeldDatum()))
	}
	return tw.Flush()
}

// clientCommand acts on a resident's personal data: forgetting it, and the
// inzage of what was done with it.
func clientCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("ledger client: geef een opdracht: vergeet, inzage")
	}
	switch args[0] {
	case "vergeet":
		return clientVergeet(ctx, args[1:], stdout, stderr)
	case "inzage":
		return clientInzage(ctx, args[1:], stdout, stderr)
	}
	return usageErrorf("ledger client: onbekende opdracht %q", args[0])
}

func clientVergeet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger client vergeet", "ledger client vergeet <BSN of client-id> [--bewaartermijn]\n\n"+
		"Vernietigt de sleutels van de inwoner (rol centrum): BSN, naam, geboortedatum en de vrije tekst van al zijn zaken\n"+
		"zijn daarna nergens meer te lezen, ook niet in oude exports of kopieën van de bus. De geschiedenis, tellingen en\n"+
		"kosten blijven, en de hashketens kloppen nog. Het vergeten is zelf een gebeurtenis. Dit kan niet ongedaan worden.", stderr)
	var c conn
	c.register(fs)
	termijn := fs.Bool("bewaartermijn", false, "reden: de bewaartermijn is verstreken (standaard: een verzoek van de inwoner, AVG art. 17)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("geef precies één BSN of client-id")
	}
	bsn, rid := clientArg(pos[0])
	reden := ledgerv1.VergeetReden_VERGEET_REDEN_VERZOEK
	if *termijn {
		reden = ledgerv1.VergeetReden_VERGEET_REDEN_BEWAARTERMIJN
	}
	resp, err := c.client().ForgetResident(ctx, connect.NewRequest(&ledgerv1.ForgetResidentRequest{Bsn: bsn, ResidentId: rid, Reden: reden}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	fmt.Fprintf(stdout, "client %s vergeten: %d sleutel(s) vernietigd (gebeurtenis %s)\n", printable(resp.Msg.GetResidentId()), len(resp.Msg.GetKeyIds()), resp.Msg.GetEventId())
	return nil
}

func clientInzage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger client inzage", "ledger client inzage <BSN of client-id> [--json]\n\nWat de ledger met de persoonsgegevens van één inwoner deed (AVG art. 15): elke verwerking uit het\nlogboek dataverwerkingen, met wie, wanneer, welke verwerkingsactiviteit en waarom.", stderr)
	var c conn
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("geef precies één BSN of client-id")
	}
	bsn, rid := clientArg(pos[0])
	resp, err := c.client().Inzage(ctx, connect.NewRequest(&ledgerv1.InzageRequest{Bsn: bsn, ResidentId: rid}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WANNEER\tVERWERKING\tACTIVITEIT\tDOOR\tROL\tZAAK\tSTATUS\tDOEL")
	for _, v := range resp.Msg.GetVerwerkingen() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.GetStart(), v.GetNaam(), v.GetVerwerkingsactiviteitId(), printable(v.GetGebruiker()), v.GetRol(), v.GetCaseId(), v.GetStatus(), v.GetDoel())
	}
	return tw.Flush()
}

func bewaartermijnCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "uitvoeren" {
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprint(stdout, groupUsage("bewaartermijn"))
			return nil
		}
		return usageErrorf("ledger bewaartermijn: geef een opdracht: uitvoeren")
	}
	fs := newFlags("ledger bewaartermijn uitvoeren", "ledger bewaartermijn uitvoeren [--droog] [--json]\n\n"+
		"Vergeet (rol centrum) elke inwoner van wie alle zaken gesloten zijn en de bewaartermijn verstreken is\n"+
		"(VNG Selectielijst 2020, procestype 8: verstrekt en beëindigd 10 jaar na het einde, geweigerd 5, afgebroken 1;\n"+
		"de termijnen staan in deploy/bewaartermijnen.json), en meldt per inwoner met een gesloten zaak wat er gebeurde.", stderr)
	var c conn
	c.register(fs)
	droog := fs.Bool("droog", false, "alleen melden wat er zou gebeuren; niets vergeten")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "bewaartermijnen worden nagelopen; dit leest elke gesloten zaak...")
	resp, err := c.client().RunRetention(ctx, connect.NewRequest(&ledgerv1.RunRetentionRequest{Droog: *droog}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	counts := map[string]int{}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tZAKEN\tARCHIEFACTIEDATUM\tACTIE\tTOELICHTING")
	for _, b := range resp.Msg.GetBesluiten() {
		counts[b.GetActie()]++
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", printable(b.GetResidentId()), len(b.GetCaseIds()), event.FormatDate(b.GetArchiefactiedatum()), b.GetActie(), b.GetToelichting())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "peildatum %s: %d vergeten, %d te vergeten, %d bewaard (open zaak), %d bewaard (termijn loopt), %d al vergeten\n",
		event.FormatDate(resp.Msg.GetPeildatum()), counts["vergeten"], counts["te vergeten"], counts["bewaard: open zaak"], counts["bewaard: termijn loopt"], counts["al vergeten"])
	return nil
}
