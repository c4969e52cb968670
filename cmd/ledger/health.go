package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/lag"
	"github.com/gooi-vechtstreek/ledger/services/metrics"
	"github.com/gooi-vechtstreek/ledger/services/relay"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

// readyBehind is how far the regional model may be behind the store for
// the server to count as ready: a start that replays a long tail is not.
const readyBehind = 1000

// ready says whether the server can take commands and answer from its
// figures: the store answers, and the regional model holds all but the
// last few events.
func ready(ctx context.Context, st lag.Store, live *region.Live) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	head, err := st.Head(ctx)
	if err != nil {
		return fmt.Errorf("de store antwoordt niet: %w", err)
	}
	var at store.Position
	_ = live.Read(func(m *region.Model) { at = m.Position() })
	if !at.Less(head) {
		return nil
	}
	n, err := st.EventsBetween(ctx, at, head)
	if err != nil {
		return fmt.Errorf("achterstand niet te meten: %w", err)
	}
	if n > readyBehind {
		return fmt.Errorf("het regionale model loopt %d gebeurtenissen achter op de store", n)
	}
	return nil
}

// serverMetrics registers what an operator watches beside the API's own
// counts: whether the store answers, and how far the relay, the regional
// model and every caseload view are behind it.
func serverMetrics(st lag.Store, t *lag.Tracker, rl *relay.Relay, gemeenten []string) *metrics.Registry {
	reg := metrics.New()
	reg.GaugeFunc("ledger_store_up", "1 when the event store answered the scrape's read of its head, else 0.", nil, func(ctx context.Context) ([]metrics.Sample, error) {
		if _, err := st.Head(ctx); err != nil {
			return []metrics.Sample{{Value: 0}}, nil
		}
		return []metrics.Sample{{Value: 1}}, nil
	})
	reg.GaugeFunc("ledger_behind_events", "Events stored but not yet in a projection: the relay (on the bus), the regional model, each gemeente's caseload view.", []string{"projectie"}, func(ctx context.Context) ([]metrics.Sample, error) {
		head, err := st.Head(ctx)
		if err != nil {
			return nil, err
		}
		var out []metrics.Sample
		if p := rl.Published(); p.Less(head) {
			n, err := st.EventsBetween(ctx, p, head)
			if err != nil {
				return nil, err
			}
			out = append(out, metrics.Sample{Labels: []string{"relay"}, Value: float64(n)})
		} else {
			out = append(out, metrics.Sample{Labels: []string{"relay"}, Value: 0})
		}
		a, err := t.RegionBehind(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, metrics.Sample{Labels: []string{"regio"}, Value: float64(a.GetGebeurtenissen())})
		var errs []error
		for _, g := range gemeenten {
			a, err := t.CaseloadBehind(ctx, g)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, metrics.Sample{Labels: []string{"caseload-" + g}, Value: float64(a.GetGebeurtenissen())})
		}
		return out, errors.Join(errs...)
	})
	return reg
}

const healthSynopsis = `ledger health [--server ADRES] [--gereed]

Vraagt een draaiende ledger of hij leeft (/healthz) of, met --gereed, of hij
gereed is (/readyz: de store antwoordt en het regionale model is bij).
Afsluitcode 0 als het zo is, anders 1 met de reden. Voor een container zonder
shell (deploy/Dockerfile) en voor een script.`

func healthCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger health", healthSynopsis, stderr)
	def := os.Getenv("LEDGER_SERVER")
	if def == "" {
		def = defaultServer
	}
	c := conn{}
	fs.StringVar(&c.server, "server", def, "adres van de ledger-server (of LEDGER_SERVER)")
	gereed := fs.Bool("gereed", false, "vraag of hij gereed is (/readyz), niet alleen of hij leeft")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	path := "/healthz"
	if *gereed {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base()+path, nil)
	if err != nil {
		return usageErrorf("--server: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &failure{msg: fmt.Sprintf("%s%s: geen antwoord: %v", c.base(), path, err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return &failure{msg: fmt.Sprintf("%s%s: %s: %s", c.base(), path, resp.Status, strings.TrimSpace(string(body)))}
	}
	fmt.Fprint(stdout, string(body))
	return nil
}
