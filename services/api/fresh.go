package api

import (
	"context"
	"errors"
	"slices"

	"connectrpc.com/connect"

	"github.com/gooi-vechtstreek/ledger/services/lag"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Freshness says how far the live figures are behind the store and waits
// for them to include a position (services/lag).
type Freshness interface {
	RegionBehind(ctx context.Context) (*ledgerv1.Achterstand, error)
	WaitRegion(ctx context.Context, p store.Position) error
	CaseloadBehind(ctx context.Context, gemeente string) (*ledgerv1.Achterstand, error)
	WaitCaseload(ctx context.Context, gemeente string, p store.Position) error
}

// figures names which live figures an answer reads.
type figures struct {
	caseload string // a gemeente's caseload view
	region   bool   // the regional model
}

// fresh waits until the figures include na (a store position, "" for no
// wait) and says how far behind they are. Without a Freshness it does
// neither.
func (s *Server) fresh(ctx context.Context, na string, f figures) (*ledgerv1.Achterstand, error) {
	if s.Lag == nil {
		return nil, nil
	}
	if na != "" {
		p, err := optionalPosition(na, "na_positie")
		if err != nil {
			return nil, err
		}
		for _, g := range s.composedOf(f.caseload) {
			if err := s.Lag.WaitCaseload(ctx, g, p); err != nil {
				return nil, s.toConnect(err)
			}
		}
		if f.region {
			if err := s.Lag.WaitRegion(ctx, p); err != nil {
				return nil, s.toConnect(err)
			}
		}
	}
	var a *ledgerv1.Achterstand
	var err error
	if f.caseload != "" {
		a, err = s.Lag.CaseloadBehind(ctx, f.caseload)
	} else {
		a, err = s.Lag.RegionBehind(ctx)
	}
	if err != nil {
		// The figures are there; only how fresh they are is unknown.
		s.log().Warn("lag not measured", "err", err)
		return nil, nil
	}
	return a, nil
}

// composedOf names the gemeenten whose bus streams g's caseload view is
// composed of today: g, and both sides of every herindeling it is part of.
// Waiting for g's own stream alone would serve a successor's view with its
// predecessor's figures of before the position asked for.
func (s *Server) composedOf(g string) []string {
	if g == "" {
		return nil
	}
	out := []string{g}
	if s.Gemeenten == nil {
		return out
	}
	for _, h := range s.Gemeenten.Betrokken(g, s.Clock.Today()) {
		for _, c := range []string{h.Van, h.Naar} {
			if !slices.Contains(out, c) {
				if _, ok := s.Gemeenten.Lookup(c); ok {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// behindErr is the answer to a wait that ran out.
func behindErr(err error) (*connect.Error, bool) {
	if !errors.Is(err, lag.ErrBehind) {
		return nil, false
	}
	return connect.NewError(connect.CodeUnavailable, err), true
}
