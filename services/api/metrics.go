package api

import (
	"context"
	"errors"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/gooi-vechtstreek/ledger/services/metrics"
)

// measured counts every API call by procedure and outcome, and its
// latency: the view latency and the conflicts an operator watches.
type measured struct {
	requests  *metrics.Counter
	latency   *metrics.Histogram
	conflicts *metrics.Counter
}

func newMeasured(r *metrics.Registry) measured {
	return measured{
		requests:  r.Counter("ledger_api_requests_total", "API calls by procedure and outcome (Connect code, ok when none).", "procedure", "code"),
		latency:   r.Histogram("ledger_api_request_seconds", "Latency of API calls by procedure, from the request to the answer.", metrics.LatencyBuckets, "procedure"),
		conflicts: r.Counter("ledger_append_conflicts_total", "Writes refused because the case changed since the caller read it (expected revision), by procedure.", "procedure"),
	}
}

func (m measured) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		start := time.Now() // a stopwatch, not a date
		resp, err := next(ctx, req)
		proc := req.Spec().Procedure
		proc = proc[strings.LastIndex(proc, "/")+1:]
		code := "ok"
		if err != nil {
			code = connect.CodeOf(err).String()
		}
		m.requests.Add(1, proc, code)
		m.latency.Observe(time.Since(start).Seconds(), proc)
		var cerr *connect.Error
		if errors.As(err, &cerr) && cerr.Code() == connect.CodeAborted {
			m.conflicts.Add(1, proc)
		}
		return resp, err
	}
}

func (m measured) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler passes streams on: the service has none (authorize
// refuses them).
func (m measured) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
