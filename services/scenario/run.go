package scenario

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

// Result is what a run produced.
type Result struct {
	// Cases maps a resident to the case its aanmelding opened.
	Cases map[int]string
	// Requests counts the requests sent.
	Requests int
}

// Run sends the steps through the API in order. Before each day's steps it
// calls setClock with that day, so that the server's "today" is the day the
// operator would have sent them. Any refusal is an error: a generated
// scenario only holds transitions the rules allow.
func Run(ctx context.Context, c ledgerv1connect.LedgerServiceClient, steps []Step, setClock func(time.Time), progress func(done, total int)) (Result, error) {
	res := Result{Cases: map[int]string{}}
	var today time.Time
	for i, s := range steps {
		if !s.Day.Equal(today) {
			today = s.Day
			setClock(today.Add(9 * time.Hour))
		}
		if progress != nil && i%1000 == 0 {
			progress(i, len(steps))
		}
		var err error
		switch {
		case s.Beleid != nil:
			_, err = c.RecordBeleid(ctx, connect.NewRequest(s.Beleid))
		case s.Regio != nil:
			_, err = c.RecordRegio(ctx, connect.NewRequest(s.Regio))
		case s.Record != nil:
			req := s.Record
			if req.GetAanmelding() == nil {
				id, ok := res.Cases[s.Resident]
				if !ok {
					return res, fmt.Errorf("step %d on %s: resident %d has no case", i, s.Day.Format(time.DateOnly), s.Resident)
				}
				req.CaseId = id
			}
			var resp *connect.Response[ledgerv1.RecordResponse]
			resp, err = c.Record(ctx, connect.NewRequest(req))
			if err == nil && req.GetAanmelding() != nil {
				res.Cases[s.Resident] = resp.Msg.GetCaseId()
			}
		}
		if err != nil {
			return res, fmt.Errorf("step %d on %s (resident %d): %w", i, s.Day.Format(time.DateOnly), s.Resident, err)
		}
		res.Requests++
	}
	if progress != nil {
		progress(len(steps), len(steps))
	}
	return res, nil
}
