package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"connectrpc.com/connect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// toegangCommand issues, revokes and lists credentials (role beheer), and
// says who a token belongs to (every role).
func toegangCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("ledger toegang: geef een opdracht: uitgeven, intrekken, lijst, wie")
	}
	switch args[0] {
	case "uitgeven":
		return toegangUitgeven(ctx, args[1:], stdout, stderr)
	case "intrekken":
		return toegangIntrekken(ctx, args[1:], stdout, stderr)
	case "lijst":
		return toegangLijst(ctx, args[1:], stdout, stderr)
	case "wie":
		return toegangWie(ctx, args[1:], stdout, stderr)
	}
	return usageErrorf("ledger toegang: onbekende opdracht %q", args[0])
}

func toegangUitgeven(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger toegang uitgeven", "ledger toegang uitgeven --rol centrum|gemeente|auditor|beheer --gebruiker NAAM --organisatie ORGANISATIE [--gemeente GMxxxx] [--certificaat SHA256]\n\n"+
		"Geeft een toegangssleutel uit (alleen de rol beheer mag dat). De sleutel verschijnt deze ene keer op stdout;\n"+
		"de ledger bewaart alleen een hash. De rollen:\n"+
		"  centrum   medewerker van de centrumgemeente: legt transities en uren vast voor alle deelnemers, boekt gedeelde kosten, importeert\n"+
		"  gemeente  beleidsmedewerker of controller van één gemeente (--gemeente): ziet alleen haar eigen zaken, views en exports, legt haar eigen beleid vast\n"+
		"  auditor   accountant, rekenkamer, toezicht: ziet alles, legt niets vast\n"+
		"  beheer    geeft toegang uit en trekt die in; ziet geen persoonsgegevens\n"+
		"Met --certificaat (de SHA-256 van een clientcertificaat, bijv. openssl x509 -noout -fingerprint -sha256) krijgt\n"+
		"een systeem toegang met dat certificaat (mTLS) in plaats van een sleutel.", stderr)
	var c conn
	c.register(fs)
	rol := fs.String("rol", "", "centrum, gemeente, auditor of beheer")
	gebruiker := fs.String("gebruiker", "", "de persoon of het systeem (bijv. j.devries)")
	org := fs.String("organisatie", "", "voor wie die werkt (bijv. Gemeente Huizen)")
	gm := fs.String("gemeente", "", "bij de rol gemeente: de gemeente (GMxxxx)")
	cert := fs.String("certificaat", "", "SHA-256 van een clientcertificaat (64 hexadecimale tekens, dubbele punten mogen)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *rol == "" || *gebruiker == "" || *org == "" {
		return usageErrorf("geef --rol, --gebruiker en --organisatie")
	}
	resp, err := c.access().IssueCredential(ctx, connect.NewRequest(&ledgerv1.IssueCredentialRequest{
		Rol: *rol, Gebruiker: *gebruiker, Organisatie: *org, Gemeente: *gm, CertificaatSha256: stripColons(*cert)}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	cr := resp.Msg.GetCredential()
	if tok := resp.Msg.GetToken(); tok != "" {
		fmt.Fprintln(stdout, tok)
		fmt.Fprintf(stderr, "toegang %s uitgegeven aan %s (%s), rol %s%s; bewaar de sleutel hierboven: hij wordt niet nog eens getoond\n",
			cr.GetId(), printable(cr.GetGebruiker()), printable(cr.GetOrganisatie()), cr.GetRol(), gemeenteSuffix(cr.GetGemeente()))
		return nil
	}
	fmt.Fprintln(stdout, cr.GetId())
	fmt.Fprintf(stderr, "certificaat %s heeft toegang %s: %s (%s), rol %s%s\n", cr.GetCertificaatSha256(), cr.GetId(),
		printable(cr.GetGebruiker()), printable(cr.GetOrganisatie()), cr.GetRol(), gemeenteSuffix(cr.GetGemeente()))
	return nil
}

func stripColons(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

func gemeenteSuffix(g string) string {
	if g == "" {
		return ""
	}
	return " voor " + g
}

func toegangIntrekken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger toegang intrekken", "ledger toegang intrekken <toegang-id>\n\nTrekt een toegang in (rol beheer): de volgende aanroep ermee wordt geweigerd.", stderr)
	var c conn
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("geef precies één toegang-id (zie ledger toegang lijst)")
	}
	resp, err := c.access().RevokeCredential(ctx, connect.NewRequest(&ledgerv1.RevokeCredentialRequest{Id: pos[0]}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	fmt.Fprintf(stdout, "toegang %s ingetrokken op %s\n", resp.Msg.GetCredential().GetId(), resp.Msg.GetCredential().GetIngetrokken())
	return nil
}

func toegangLijst(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger toegang lijst", "ledger toegang lijst [--json]\n\nAlle uitgegeven toegang, ook ingetrokken (rol beheer); nooit een sleutel.", stderr)
	var c conn
	c.register(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	resp, err := c.access().ListCredentials(ctx, connect.NewRequest(&ledgerv1.ListCredentialsRequest{}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROL\tGEMEENTE\tGEBRUIKER\tORGANISATIE\tSOORT\tUITGEGEVEN\tINGETROKKEN")
	for _, cr := range resp.Msg.GetCredentials() {
		soort := "sleutel"
		if cr.GetCertificaatSha256() != "" {
			soort = "certificaat"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cr.GetId(), cr.GetRol(), cr.GetGemeente(), printable(cr.GetGebruiker()), printable(cr.GetOrganisatie()), soort, cr.GetUitgegeven(), cr.GetIngetrokken())
	}
	return tw.Flush()
}

func toegangWie(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger toegang wie", "ledger toegang wie [--json]\n\nZegt als wie de sleutel u aanmeldt, en wat gebeurtenissen als actor vastleggen.", stderr)
	var c conn
	c.register(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	resp, err := c.access().WhoAmI(ctx, connect.NewRequest(&ledgerv1.WhoAmIRequest{}))
	if err != nil {
		return err
	}
	if c.json {
		return printJSON(stdout, resp.Msg)
	}
	fmt.Fprintf(stdout, "%s, rol %s%s (toegang %s)\n", printable(resp.Msg.GetActor()), resp.Msg.GetRol(), gemeenteSuffix(resp.Msg.GetGemeente()), resp.Msg.GetCredentialId())
	return nil
}
