package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/projections/variant"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

const watAlsSynopsis = `ledger wat-als --variant FILE [--jaar JJJJ] [--peildatum JJJJ-MM-DD] [--tot POSITIE] [--gemeenten FILE] [--json]

Rekent de opgeslagen geschiedenis in dit proces opnieuw door onder een andere verdeling, een
variant, en toont per gemeente wat zij dan aan gedeelde kosten had betaald, naast wat zij werkelijk
betaalt. Er wordt niets vastgelegd; de directe kosten (plaatsingen, uren, LKS) zijn in beide gelijk,
en elke variant verdeelt hetzelfde totaal. Rol centrum of auditor: de hele geschiedenis wordt gelezen.

Een variant is data, een JSON-bestand; per jaar de methode van de verdeelsleutel (inwoners,
caseload-dagen of plaatsing-dagen), en per jaar hoe het resultaat per budgetstroom wordt verrekend
(een-op-een of solidair:methode; een jaar dat de variant niet noemt houdt de vastgelegde verdeling):
  {"naam": "solidair naar caseload", "verdeelsleutels": {"2026": "caseload-dagen"},
   "resultaatverdelingen": {"2026": {"bedrijfsvoering": "solidair:inwoners", "buig": "een-op-een"}}}
Per gemeente ook het resultaat van het jaar zoals het verrekend wordt, vastgelegd en in de variant.
Kringen: een gemeente die niet aan alles deelneemt, "beschut" (alleen beschut werk en Wsw, de
integratie-uitkering) of "dvo" (koopt af tegen tarief, deelt in geen gedeelde kosten en geen resultaat):
  {"kringen": {"GM0317": "dvo", "GM0034": "beschut"}}
`

func watAlsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger wat-als", watAlsSynopsis, stderr)
	var c conn
	c.register(fs)
	file := fs.String("variant", "", "het variantbestand (verplicht)")
	jaar := fs.Int("jaar", 0, "het jaar (standaard het huidige)")
	tot := fs.String("tot", "", "tot en met deze positie in de opslag (standaard: alles)")
	peil := fs.String("peildatum", "", "de kosten tot en met deze dag, JJJJ-MM-DD (standaard vandaag)")
	regFile := fs.String("gemeenten", "deploy/gemeenten.json", "databestand met de deelnemende gemeenten, zoals de server het gebruikt")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return usageErrorf("--variant is verplicht: het bestand met de andere verdeling")
	}
	f, err := os.Open(*file)
	if err != nil {
		return usageErrorf("--variant: %v", err)
	}
	v, err := variant.Load(f)
	f.Close()
	if err != nil {
		return usageErrorf("--variant %s: %v", *file, err)
	}
	reg, err := gemeente.Load(*regFile)
	if err != nil {
		return usageErrorf("--gemeenten: %v", err)
	}
	var system clock.Clock // nil: the system clock, the one clock there is
	today := system.Today()
	if *peil != "" {
		if today, err = event.ParseDate(*peil); err != nil {
			return usageErrorf("--peildatum %q: %v", *peil, err)
		}
	}
	if *jaar == 0 {
		*jaar = int(today.GetYear())
	}
	real, alt := region.New(reg), region.New(reg)
	err = readKnown(ctx, c.client(), *tot, nil, stderr, func(rec store.RecordedEvent) error {
		ev, err := event.Decode(rec.Data)
		if err != nil {
			return fmt.Errorf("gebeurtenis op positie %s: %w", rec.Position, err)
		}
		real.Apply(rec, ev)
		alt.Apply(rec, v.Rewrite(ev))
		return nil
	})
	if err != nil {
		return err
	}
	rows, err := v.Compare(real, alt, reg, *jaar, region.DayOf(today)+1)
	if err != nil {
		return err
	}
	cert := real.Certificate()
	cert.Peildatum = today
	if c.json {
		type rowJSON struct {
			Gemeente      string `json:"gemeente"`
			Naam          string `json:"naam"`
			DirectCent    int64  `json:"direct_cent"`
			GedeeldCent   int64  `json:"gedeeld_cent"`
			VariantCent   int64  `json:"variant_gedeeld_cent"`
			VerschilCent  int64  `json:"verschil_cent"`
			TotaalCent    int64  `json:"totaal_cent"`
			TotaalVariant int64  `json:"totaal_variant_cent"`
			Verrekend     int64  `json:"resultaat_verrekend_cent"`
			VerrekendVar  int64  `json:"resultaat_verrekend_variant_cent"`
		}
		out := struct {
			Variant string    `json:"variant"`
			Jaar    int       `json:"jaar"`
			Positie string    `json:"positie"`
			Rijen   []rowJSON `json:"rijen"`
		}{Variant: v.Naam, Jaar: *jaar, Positie: cert.GetPositie()}
		for _, r := range rows {
			out.Rijen = append(out.Rijen, rowJSON{r.Gemeente, r.Naam, r.Direct, r.Shared, r.VariantShared, r.VariantShared - r.Shared, r.Direct + r.Shared, r.Direct + r.VariantShared, r.Settled, r.VariantSettled})
		}
		return json.NewEncoder(stdout).Encode(out)
	}
	fmt.Fprintf(stdout, "Wat als: %s, %d (peildatum %s; er is niets vastgelegd)\n\n", printable(cmp.Or(v.Naam, *file)), *jaar, event.FormatDate(today))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "GEMEENTE\tDIRECT\tGEDEELD\tGEDEELD IN VARIANT\tVERSCHIL\tTOTAAL\tTOTAAL IN VARIANT\tRESULTAAT VERREKEND\tIN VARIANT\t")
	var d, s, vs, rs, rv int64
	for _, r := range rows {
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Naam, r.Gemeente, euro(r.Direct), euro(r.Shared), euro(r.VariantShared), euro(r.VariantShared-r.Shared),
			euro(r.Direct+r.Shared), euro(r.Direct+r.VariantShared), euro(r.Settled), euro(r.VariantSettled))
		d, s, vs, rs, rv = d+r.Direct, s+r.Shared, vs+r.VariantShared, rs+r.Settled, rv+r.VariantSettled
	}
	fmt.Fprintf(tw, "totaal\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", euro(d), euro(s), euro(vs), euro(vs-s), euro(d+s), euro(d+vs), euro(rs), euro(rv))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprint(stdout, "\n"+certificaat(cert))
	return nil
}
