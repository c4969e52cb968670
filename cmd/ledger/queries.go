package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"connectrpc.com/connect"

	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

func caseShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger case show", "ledger case show <zaak> [--json]", stderr)
	var c conn
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("geef precies één zaak op")
	}
	resp, err := c.client().GetCase(ctx, connect.NewRequest(&ledgerv1.GetCaseRequest{CaseId: pos[0]}))
	if err != nil {
		return err
	}
	m := resp.Msg
	if c.json {
		return printJSON(stdout, m)
	}
	s := m.GetCase()
	fmt.Fprintf(stdout, "zaak %s\n", s.GetCaseId())
	fmt.Fprintf(stdout, "gemeente %s  toestand %s  revisie %d\n", s.GetGemeente(), toestanden.word(s.GetToestand().Number()), s.GetRevision())
	fmt.Fprintf(stdout, "client %s  doelgroep %s  trede %s  loonwaarde %d%%  aangemeld %s\n",
		printable(s.GetResidentId()), doelgroepen.word(s.GetDoelgroep().Number()), treden.word(s.GetTrede().Number()), s.GetLoonwaardeProcent(), event.FormatDate(s.GetAanmeldDatum()))
	if d := s.GetArchiefactiedatum(); d != nil {
		fmt.Fprintf(stdout, "gesloten: %s, persoonsgegevens te vernietigen vanaf %s\n", s.GetBewaarresultaat(), event.FormatDate(d))
	}
	if m.GetKetenIntact() {
		fmt.Fprintln(stdout, "hashketen: intact")
	} else {
		fmt.Fprintln(stdout, "hashketen: GEBROKEN — meld dit aan de beheerder en de auditor")
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REV\tDATUM\tSOORT\tGEMEENTE\tEVENT\tDETAILS")
	for _, e := range m.GetTimeline() {
		ev := e.GetEvent()
		d := details(ev)
		if pd := e.GetOntsleuteld(); pd != nil {
			d += persoonDetails(pd)
		}
		switch e.GetPersoonsgegevens() {
		case "vergeten":
			d += "  [persoonsgegevens vergeten]"
		case "niet-voor-deze-rol":
			d += "  [persoonsgegevens niet zichtbaar voor uw rol]"
		}
		if e.GetGecorrigeerdDoor() != "" {
			d += "  [gecorrigeerd door " + e.GetGecorrigeerdDoor() + "]"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.GetRevision(), event.FormatDate(ev.GetEnvelope().GetOccurredOn()), e.GetType(), ev.GetEnvelope().GetGemeente(), ev.GetEnvelope().GetEventId(), d)
	}
	return tw.Flush()
}

// persoonDetails shows an aanmelding's decrypted personal data.
func persoonDetails(pd *ledgerv1.PersonalData) string {
	var parts []string
	if pd.GetBsn() != "" {
		parts = append(parts, "bsn="+printable(pd.GetBsn()))
	}
	if pd.GetNaam() != "" {
		parts = append(parts, `naam="`+printable(pd.GetNaam())+`"`)
	}
	if pd.GetGeboortedatum() != nil {
		parts = append(parts, "geboren="+event.FormatDate(pd.GetGeboortedatum()))
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, " ")
}

// details is one line of facts for the timeline.
func details(ev *ledgerv1.Event) string {
	var parts []string
	add := func(k, v string) {
		if v != "" && v != "0" {
			parts = append(parts, k+"="+printable(v))
		}
	}
	switch p := ev.GetPayload().(type) {
	case *ledgerv1.Event_Aanmelding:
		add("doelgroep", doelgroepen.word(p.Aanmelding.GetDoelgroep().Number()))
		add("verwijzer", verwijzers.word(p.Aanmelding.GetVerwijzer().Number()))
		add("client", p.Aanmelding.GetResidentId())
	case *ledgerv1.Event_Intake:
		add("trede", treden.word(p.Intake.GetTrede().Number()))
		add("loonwaarde", fmt.Sprint(p.Intake.GetLoonwaardeProcent()))
		if p.Intake.GetDoel() != "" {
			add("doel", `"`+p.Intake.GetDoel()+`"`)
		}
	case *ledgerv1.Event_Plaatsing:
		add("type", plaatsingTypes.word(p.Plaatsing.GetType().Number()))
		add("werkgever", p.Plaatsing.GetWerkgever())
		if m := p.Plaatsing.GetMinutenPerWeek(); m > 0 {
			add("uren", fmt.Sprintf("%.2g", float64(m)/60))
		}
		add("loonwaarde", fmt.Sprint(p.Plaatsing.GetLoonwaardeProcent()))
		add("einddatum", event.FormatDate(p.Plaatsing.GetGeplandeEinddatum()))
	case *ledgerv1.Event_Uitval:
		add("reden", uitvalRedenen.word(p.Uitval.GetReden().Number()))
		if p.Uitval.GetToelichting() != "" {
			add("toelichting", `"`+p.Uitval.GetToelichting()+`"`)
		}
	case *ledgerv1.Event_Vangnet:
		add("type", plaatsingTypes.word(p.Vangnet.GetVangnetType().Number()))
		add("van", p.Vangnet.GetVanPlaatsing())
	case *ledgerv1.Event_Uitstroom:
		add("reden", uitstroomRedenen.word(p.Uitstroom.GetReden().Number()))
		if p.Uitstroom.GetToelichting() != "" {
			add("toelichting", `"`+p.Uitstroom.GetToelichting()+`"`)
		}
	case *ledgerv1.Event_Verhuizing:
		add("van", p.Verhuizing.GetVanGemeente())
		add("naar", p.Verhuizing.GetNaarGemeente())
	case *ledgerv1.Event_Correctie:
		add("corrigeert", p.Correctie.GetCorrigeert())
		add("reden", `"`+p.Correctie.GetReden()+`"`)
		add("datum", event.FormatDate(p.Correctie.GetDatum()))
	}
	return strings.Join(parts, " ")
}

func caseList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger case list", "ledger case list --gemeente GMxxxx [--alle] [--json]", stderr)
	var c conn
	c.register(fs)
	g := fs.String("gemeente", "", "CBS-code van de gemeente (verplicht)")
	all := fs.Bool("alle", false, "ook uitgestroomde en weggeverhuisde zaken")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *g == "" && len(pos) == 1 {
		*g = pos[0]
	} else if len(pos) > 0 {
		return usageErrorf("onverwacht argument %q", pos[0])
	}
	if *g == "" {
		return usageErrorf("--gemeente is verplicht")
	}
	resp, err := c.client().ListCases(ctx, connect.NewRequest(&ledgerv1.ListCasesRequest{Gemeente: *g, IncludeClosed: *all}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ZAAK\tTOESTAND\tDOELGROEP\tTREDE\tAANGEMELD\tSINDS")
	for _, s := range resp.Msg.GetCases() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.GetCaseId(), toestanden.word(s.GetToestand().Number()), doelgroepen.word(s.GetDoelgroep().Number()),
			treden.word(s.GetTrede().Number()), event.FormatDate(s.GetAanmeldDatum()), event.FormatDate(s.GetSinds()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d zaken\n", len(resp.Msg.GetCases()))
	return nil
}

func reasons(m *ledgerv1.MaandStroom) string {
	var parts []string
	for _, r := range m.GetInstroomPerReden() {
		parts = append(parts, fmt.Sprintf("in:%s=%d", r.GetReden(), r.GetAantal()))
	}
	for _, r := range m.GetUitstroomPerReden() {
		parts = append(parts, fmt.Sprintf("uit:%s=%d", r.GetReden(), r.GetAantal()))
	}
	return strings.Join(parts, " ")
}

func gemeentenCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger gemeenten", "ledger gemeenten [--json]", stderr)
	var c conn
	c.register(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	resp, err := c.client().ListGemeenten(ctx, connect.NewRequest(&ledgerv1.ListGemeentenRequest{}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tNAAM\tINWONERS\tDEELNAME\tOPVOLGER")
	for _, g := range resp.Msg.GetGemeenten() {
		period := "vanaf " + event.FormatDate(g.GetGeldigVan())
		if g.GetGeldigTot() != nil {
			period += " tot " + event.FormatDate(g.GetGeldigTot())
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", g.GetCode(), g.GetNaam(), g.GetInwoners(), period, g.GetOpvolger())
	}
	return tw.Flush()
}
