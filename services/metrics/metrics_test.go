package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestWriteText: the exposition format a Prometheus scraper parses,
// exactly: cumulative buckets with le, +Inf equal to the count, escaped
// label values, a gauge that could not be measured left out with a reason.
func TestWriteText(t *testing.T) {
	r := New()
	c := r.Counter("ledger_api_requests_total", "API calls by procedure and outcome.", "procedure", "code")
	c.Add(1, "Record", "ok")
	c.Add(2, "Record", "ok")
	c.Add(1, "Record", "aborted")
	h := r.Histogram("ledger_api_request_seconds", "Latency.", []float64{0.01, 0.1}, "procedure")
	for _, x := range []float64{0.005, 0.01, 0.05, 3} {
		h.Observe(x, "GetView")
	}
	r.GaugeFunc("ledger_behind_events", "Lag.", []string{"projectie"}, func(context.Context) ([]Sample, error) {
		return []Sample{{Labels: []string{`relay "bus"`}, Value: 7}}, nil
	})
	r.GaugeFunc("ledger_store_up", "Up.", nil, func(context.Context) ([]Sample, error) {
		return nil, errors.New("geen verbinding")
	})
	var b strings.Builder
	if err := r.WriteText(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP ledger_api_requests_total API calls by procedure and outcome.
# TYPE ledger_api_requests_total counter
ledger_api_requests_total{procedure="Record",code="aborted"} 1
ledger_api_requests_total{procedure="Record",code="ok"} 3
# HELP ledger_api_request_seconds Latency.
# TYPE ledger_api_request_seconds histogram
ledger_api_request_seconds_bucket{procedure="GetView",le="0.01"} 2
ledger_api_request_seconds_bucket{procedure="GetView",le="0.1"} 3
ledger_api_request_seconds_bucket{procedure="GetView",le="+Inf"} 4
ledger_api_request_seconds_sum{procedure="GetView"} 3.065
ledger_api_request_seconds_count{procedure="GetView"} 4
# HELP ledger_behind_events Lag.
# TYPE ledger_behind_events gauge
ledger_behind_events{projectie="relay \"bus\""} 7
# HELP ledger_store_up Up.
# TYPE ledger_store_up gauge
# ledger_store_up not (all) measured: geen verbinding
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
