package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gooi-vechtstreek/ledger/projections/caseload"
	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/bus"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// volgCommand is the example consumer of a gemeente: with only that
// gemeente's NATS credentials it keeps a copy of its own bus stream in its
// own account (JetStream sourcing through the one export the ledger gives
// it) and builds its caseload from that copy, with the ledger's own
// projection code. What it prints equals the ledger's view of the gemeente.
func volgCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger volg", "ledger volg --gemeente GMxxxx --nats URL --wachtwoord-bestand BESTAND [--json]\n\n"+
		"Een voorbeeld van een afnemer bij de gemeente zelf: met alleen de NATS-gegevens van de gemeente houdt het een\n"+
		"eigen kopie van de eigen busstroom bij (stroom EIGEN_<GM> in het account van de gemeente) en bouwt daaruit\n"+
		"het caseload-overzicht, met dezelfde code als de ledger. Draai het ook tegen een eigen NATS-server van de\n"+
		"gemeente (leaf node), zie deploy/nats/README.md.", stderr)
	jsonOut := fs.Bool("json", false, "druk het overzicht af als JSON (dezelfde velden als ledger view --caseload --json)")
	gm := fs.String("gemeente", "", "CBS-code van de gemeente (verplicht)")
	url := fs.String("nats", "nats://127.0.0.1:4222", "NATS-server van de ledger (of de eigen leaf node)")
	pwFile := fs.String("wachtwoord-bestand", "", "bestand met het NATS-wachtwoord van de gemeente (bij de ingebouwde server: data/keys/nats-GMxxxx.pass)")
	file := fs.String("gemeenten", "deploy/gemeenten.json", "databestand met de deelnemende gemeenten")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *gm == "" || *pwFile == "" {
		return usageErrorf("geef --gemeente en --wachtwoord-bestand")
	}
	reg, err := gemeente.Load(*file)
	if err != nil {
		return err
	}
	g, ok := reg.Lookup(*gm)
	if !ok {
		return usageErrorf("--gemeente %s staat niet in %s", *gm, *file)
	}
	pw, err := os.ReadFile(*pwFile)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(*url, broker.GemeenteOptions(broker.User{Name: g.Code, Password: strings.TrimSpace(string(pw))})...)
	if err != nil {
		return fmt.Errorf("verbinden met %s als %s: %w", *url, g.Code, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	own := "EIGEN_" + g.Code
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        own,
		Description: "kopie van de eigen busstroom van " + g.Code,
		Storage:     jetstream.FileStorage,
		Sources: []*jetstream.StreamSource{{Name: bus.StreamName(g.Code),
			External: &jetstream.ExternalStream{APIPrefix: broker.APIPrefix, DeliverPrefix: broker.DeliverPrefix(g.Code)}}},
	})
	if err != nil {
		return fmt.Errorf("eigen kopie %s: %w", own, err)
	}
	// Wait until the copy has caught up with the ledger's stream: the
	// source reports how far behind it is once it has spoken with it.
	fmt.Fprintf(stderr, "kopie %s bijwerken...\n", own)
	deadline := time.Now().Add(time.Minute)
	for {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if len(info.Sources) == 1 && info.Sources[0].Active >= 0 && info.Sources[0].Lag == 0 && info.Sources[0].Error == nil {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("de kopie loopt na een minuut nog achter; probeer het opnieuw")
		}
		time.Sleep(200 * time.Millisecond)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	view := caseload.NewView(g.Code, g.Naam)
	if last := info.State.LastSeq; last > 0 {
		cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
		if err != nil {
			return err
		}
		for {
			m, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
			if err != nil {
				return fmt.Errorf("lees %s: %w", own, err)
			}
			ev, err := event.Decode(m.Data())
			if err != nil {
				return fmt.Errorf("lees %s: %w", own, err)
			}
			at, err := store.ParsePosition(m.Headers().Get(bus.HeaderPosition))
			if err != nil {
				return fmt.Errorf("lees %s: bericht zonder positie in de opslag: %w", own, err)
			}
			view.ApplyAt(ev, at)
			md, err := m.Metadata()
			if err != nil {
				return err
			}
			if md.Sequence.Stream >= last {
				break
			}
		}
	}
	out := view.Proto("eigen kopie " + own)
	if *jsonOut {
		return printJSON(stdout, out)
	}
	return printCaseload(stdout, out)
}
