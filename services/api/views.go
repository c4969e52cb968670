package api

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"connectrpc.com/connect"

	"github.com/gooi-vechtstreek/ledger/projections/beleidsview"
	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// today is the ledger's today as a region.Day.
func (s *Server) today() region.Day {
	return region.DayOf(s.Clock.Today())
}

// withModel runs fn on the live regional model, or on one rebuilt from the
// store when replay is asked: the auditor's check that both agree.
func (s *Server) withModel(ctx context.Context, replay bool, fn func(m *region.Model) error) (bron string, err error) {
	if replay {
		m, err := region.Build(ctx, s.Store, s.Gemeenten)
		if err != nil {
			return "", err
		}
		return BronReplay, fn(m)
	}
	if s.Region == nil {
		return "", connect.NewError(connect.CodeUnavailable, errors.New("het regionale model is op deze server niet beschikbaar"))
	}
	var ferr error
	if err := s.Region.Read(func(m *region.Model) { ferr = fn(m) }); err != nil {
		return "", connect.NewError(connect.CodeDataLoss, fmt.Errorf("het regionale model is gestopt bij een gebeurtenis die het niet kan verwerken; de cijfers zijn onvolledig: %v", err))
	}
	return BronLive, ferr
}

// Where the figures come from.
const (
	BronLive   = "live"
	BronReplay = "replay"
)

func (s *Server) centrum() string { return s.Gemeenten.Centrum() }

// GetBeleidsview computes a gemeente's beleidsview for a year or month.
func (s *Server) GetBeleidsview(ctx context.Context, req *connect.Request[ledgerv1.GetBeleidsviewRequest]) (*connect.Response[ledgerv1.GetBeleidsviewResponse], error) {
	m := req.Msg
	if err := s.checkGemeente(m.GetGemeente()); err != nil {
		return nil, err
	}
	jaar := m.GetJaar()
	if jaar == 0 {
		jaar = int32(s.Clock.Year())
	}
	if jaar < 2000 || jaar > 2999 || m.GetMaand() < 0 || m.GetMaand() > 12 {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("periode %d-%d: geef een jaar (2000-2999) en eventueel een maand 1-12", m.GetJaar(), m.GetMaand()))
	}
	var behind *ledgerv1.Achterstand
	if !m.GetReplay() {
		var err error
		if behind, err = s.fresh(ctx, m.GetNaPositie(), figures{region: true}); err != nil {
			return nil, err
		}
	}
	var view *ledgerv1.Beleidsview
	var cert *ledgerv1.Certificaat
	bron, err := s.withModel(ctx, m.GetReplay(), func(rm *region.Model) error {
		var v *ledgerv1.Beleidsview
		var err error
		if s.Figures != nil && !m.GetReplay() {
			v, err = s.Figures.View(rm, m.GetGemeente(), int(jaar), int(m.GetMaand()), s.today(), m.GetPerClient())
		} else {
			v, err = beleidsview.Compute(rm, s.Gemeenten, s.centrum(), m.GetGemeente(), int(jaar), int(m.GetMaand()), s.today())
			if err == nil && !m.GetPerClient() {
				beleidsview.DropClients(v)
			}
		}
		if err != nil {
			return err
		}
		if m.GetMaand() == 0 {
			// The settlement needs every participant's result, made the
			// same way as this view.
			if s.Figures != nil && !m.GetReplay() {
				all, err := s.settled.get(rm, int(jaar), s.today(), func() (map[string][]*ledgerv1.Verrekeningspost, error) {
					return beleidsview.SettleAll(rm, s.Gemeenten, int(jaar), s.today(), func(h string) (*ledgerv1.Beleidsview, error) {
						return s.Figures.View(rm, h, int(jaar), 0, s.today(), false)
					}, s.Figures.Weights)
				})
				if err != nil {
					return err
				}
				v.Verrekening = all[m.GetGemeente()]
			} else if err := beleidsview.Settle(v, rm, s.Gemeenten, m.GetGemeente(), int(jaar), s.today(), func(h string) (*ledgerv1.Beleidsview, error) {
				return beleidsview.Compute(rm, s.Gemeenten, s.centrum(), h, int(jaar), 0, s.today())
			}); err != nil {
				return err
			}
		}
		v.Bron, v.BijgewerktTot = "", rm.Position().String()
		view, cert = v, rm.Certificate()
		cert.Peildatum = s.Clock.Today()
		return nil
	})
	if err != nil {
		return nil, s.toConnect(err)
	}
	view.Bron = bron
	return connect.NewResponse(&ledgerv1.GetBeleidsviewResponse{View: view, Achterstand: behind, Certificaat: cert}), nil
}

// ExportKosten returns every cost line of a gemeente in a year, up to today.
func (s *Server) ExportKosten(ctx context.Context, req *connect.Request[ledgerv1.ExportKostenRequest]) (*connect.Response[ledgerv1.ExportKostenResponse], error) {
	m := req.Msg
	if err := s.checkGemeente(m.GetGemeente()); err != nil {
		return nil, err
	}
	jaar := m.GetJaar()
	if jaar == 0 {
		// As GetBeleidsview: no year is this year (bounds: yearOrNow).
		jaar = int32(s.Clock.Year())
	}
	if jaar < 2000 || jaar > 2999 {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("jaar %d: geef een jaar 2000-2999", m.GetJaar()))
	}
	from := region.YearStart(int(jaar))
	to := min(region.YearStart(int(jaar)+1), s.today()+1)
	resp := &ledgerv1.ExportKostenResponse{}
	if !m.GetReplay() {
		var err error
		if resp.Achterstand, err = s.fresh(ctx, m.GetNaPositie(), figures{region: true}); err != nil {
			return nil, err
		}
	}
	_, err := s.withModel(ctx, m.GetReplay(), func(rm *region.Model) error {
		resp.Certificaat = rm.Certificate()
		resp.Certificaat.Peildatum = s.Clock.Today()
		if to <= from {
			return nil // the year has not begun
		}
		var lines []costs.Line
		var err error
		if s.Figures != nil && !m.GetReplay() {
			lines, err = s.Figures.Lines(rm, m.GetGemeente(), int(jaar), s.today())
		} else {
			lines, err = costs.Lines(rm, s.Gemeenten, s.centrum(), m.GetGemeente(), from, to)
		}
		if err != nil {
			return err
		}
		for _, l := range lines {
			resp.Regels = append(resp.Regels, l.Proto())
		}
		return nil
	})
	if err != nil {
		return nil, s.toConnect(err)
	}
	return connect.NewResponse(resp), nil
}

// ExportSrg counts a gemeente's placements by SRG voorziening in a half year.
func (s *Server) ExportSrg(ctx context.Context, req *connect.Request[ledgerv1.ExportSrgRequest]) (*connect.Response[ledgerv1.ExportSrgResponse], error) {
	m := req.Msg
	if err := s.checkGemeente(m.GetGemeente()); err != nil {
		return nil, err
	}
	if s.SRG == nil {
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("deze server heeft geen SRG-koppeling (deploy/srg.json)"))
	}
	year, half, err := beleidsview.ParseHalf(m.GetHalf())
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	resp := &ledgerv1.ExportSrgResponse{}
	if resp.Achterstand, err = s.fresh(ctx, m.GetNaPositie(), figures{region: true}); err != nil {
		return nil, err
	}
	_, err = s.withModel(ctx, false, func(rm *region.Model) error {
		resp.Certificaat = rm.Certificate()
		resp.Certificaat.Peildatum = s.Clock.Today()
		t, err := beleidsview.SRG(rm, s.Gemeenten, *s.SRG, m.GetGemeente(), year, half)
		resp.Tellingen = t
		return err
	})
	if err != nil {
		return nil, s.toConnect(err)
	}
	return connect.NewResponse(resp), nil
}

// settledYears keeps the live settlement of each year for the model
// position and day it was made at: it is the same for every gemeente's
// view until an event moves the model, and making it asks every
// participant's view (2–4 ms at a million events; BenchmarkSettledView).
type settledYears struct {
	mu    sync.Mutex
	years map[int]settledYear
}

type settledYear struct {
	at    store.Position
	today region.Day
	posts map[string][]*ledgerv1.Verrekeningspost
}

// get returns year's settlement at rm's position, made by build when it
// is not kept. The posts are shared: callers must not change them.
func (c *settledYears) get(rm *region.Model, year int, today region.Day, build func() (map[string][]*ledgerv1.Verrekeningspost, error)) (map[string][]*ledgerv1.Verrekeningspost, error) {
	at := rm.Position()
	c.mu.Lock()
	if y, ok := c.years[year]; ok && y.at == at && y.today == today {
		c.mu.Unlock()
		return y.posts, nil
	}
	c.mu.Unlock()
	posts, err := build()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.years == nil {
		c.years = map[int]settledYear{}
	}
	c.years[year] = settledYear{at: at, today: today, posts: posts}
	return posts, nil
}
