package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"connectrpc.com/connect"

	"github.com/gooi-vechtstreek/ledger/services/access"
	"github.com/gooi-vechtstreek/ledger/services/api"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/scenario"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// demoResidents sizes the demo region: some three thousand journeys over
// three years across the eight participants, besides the stand of the
// region's own figures (scenario.RegionStand) on the first day.
const demoResidents = 3000

// loadDemo fills an empty ledger with a seeded region through the import:
// policies with yearly changes, verdeelsleutels, shared costs and client
// journeys with placements, verhuizingen, uitval and terugval, over the
// three years before today. A ledger that holds anything is left alone.
func loadDemo(ctx context.Context, st store.Store, srv *api.Server, reg *gemeente.Registry, clk clock.Clock, data string, out io.Writer) error {
	for _, err := range st.ReadAll(ctx, store.Start) {
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintln(out, "demo: de datamap bevat al gebeurtenissen; er wordt niets geladen")
		return nil
	}
	now := clk.Now().In(clock.Location())
	until := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	from := time.Date(now.Year()-3, time.January, 1, 0, 0, 0, 0, time.UTC)
	steps, err := scenario.Generate(scenario.Config{Seed: 2026, Residents: demoResidents, Gemeenten: reg, From: from, Until: until, Stand: &scenario.RegionStand})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	lines := scenario.ImportLines(steps)
	start := time.Now()
	// The demo loads as the centrumgemeente would, in this process.
	ctx = access.WithIdentity(ctx, access.Identity{Gebruiker: "demo", Organisatie: "voorbeeldregio", Rol: access.Centrum})
	var recorded, refused int
	for i := 0; i < len(lines); i += api.MaxImportLines {
		part := lines[i:min(i+api.MaxImportLines, len(lines))]
		resp, err := srv.Import(ctx, connect.NewRequest(&ledgerv1.ImportRequest{Systeem: "demo", EersteRegel: uint64(i + 1), Regels: part}))
		if err != nil {
			return fmt.Errorf("demo: import: %w", err)
		}
		for _, u := range resp.Msg.GetUitkomsten() {
			switch u.GetStatus() {
			case ledgerv1.ImportStatus_IMPORT_STATUS_VASTGELEGD, ledgerv1.ImportStatus_IMPORT_STATUS_AL_AANWEZIG:
				recorded++
			default:
				refused++
			}
		}
		fmt.Fprintf(out, "demo: %d van %d regels geladen\n", i+len(part), len(lines))
	}
	if refused > 0 {
		return fmt.Errorf("demo: %d regels geweigerd; de gegenereerde regio hoort alleen toegestane overgangen te bevatten", refused)
	}
	fmt.Fprintf(out, "demo: voorbeeldregio geladen: %d gebeurtenissen van %s tot en met %s in %s; probeer: LEDGER_TOKEN_FILE=%s ledger view GM0402 --year %d\n",
		recorded, from.Format(time.DateOnly), until.Format(time.DateOnly), time.Since(start).Round(time.Millisecond), demoTokenPath(data, "GM0402"), now.Year()-1)
	return nil
}

// demoTokens issues, on a demo's first start, a token for each kind of
// user, so that a newcomer can try every role at once: the centrumgemeente,
// the auditor, and each gemeente.
func demoTokens(creds *access.Credentials, reg *gemeente.Registry, data string, clk clock.Clock) error {
	by := access.Identity{Gebruiker: "demo", Organisatie: "voorbeeldregio"}
	reqs := []access.Request{
		{Gebruiker: "demo-klantmanager", Organisatie: "Gemeente Hilversum (centrumgemeente)", Rol: access.Centrum},
		{Gebruiker: "demo-accountant", Organisatie: "accountant", Rol: access.Auditor},
	}
	for _, g := range reg.All() {
		reqs = append(reqs, access.Request{Gebruiker: "demo-beleid-" + g.Code, Organisatie: "Gemeente " + g.Naam, Rol: access.Gemeente, Gemeente: g.Code})
	}
	for _, r := range reqs {
		_, tok, err := creds.Issue(r, by, clk.Now())
		if err != nil {
			return fmt.Errorf("demo token: %w", err)
		}
		who := string(r.Rol)
		if r.Gemeente != "" {
			who = r.Gemeente
		}
		if err := os.WriteFile(demoTokenPath(data, who), []byte(tok+"\n"), 0o600); err != nil {
			return fmt.Errorf("demo token: %w", err)
		}
	}
	return nil
}

func demoTokenPath(data, who string) string {
	return filepath.Join(data, "keys", "demo-"+who+".token")
}
