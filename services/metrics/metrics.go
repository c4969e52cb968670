// Package metrics exposes the ledger's counters, latencies and lags in the
// Prometheus text format (version 0.0.4), for a scraper or a person with
// curl. It is small on purpose: counters and histograms with labels, and
// gauges measured at scrape time, which is all the ledger reports.
package metrics

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Registry holds the metrics of one process.
type Registry struct {
	mu     sync.Mutex
	series map[string]*family
	order  []string
	gauges []gaugeFunc
}

type family struct {
	name, help, kind string
	labels           []string
	buckets          []float64
	values           map[string]*value // by joined label values
}

type value struct {
	labels []string
	count  float64   // counter value, or histogram count
	sum    float64   // histogram sum
	counts []float64 // histogram bucket counts (not cumulative)
}

type gaugeFunc struct {
	name, help string
	labels     []string
	measure    func(ctx context.Context) ([]Sample, error)
}

// Sample is one value of a gauge with its label values.
type Sample struct {
	Labels []string
	Value  float64
}

// New returns an empty registry.
func New() *Registry { return &Registry{series: map[string]*family{}} }

func (r *Registry) family(name, help, kind string, labels []string, buckets []float64) *family {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.series[name]; ok {
		return f
	}
	f := &family{name: name, help: help, kind: kind, labels: labels, buckets: buckets, values: map[string]*value{}}
	r.series[name] = f
	r.order = append(r.order, name)
	return f
}

// Counter is a monotonically increasing count, per label values.
type Counter struct {
	r *Registry
	f *family
}

// Counter registers (or returns) a counter.
func (r *Registry) Counter(name, help string, labels ...string) *Counter {
	return &Counter{r: r, f: r.family(name, help, "counter", labels, nil)}
}

// Add adds n for the label values (as many as the counter has labels).
func (c *Counter) Add(n float64, labels ...string) {
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	c.f.get(labels).count += n
}

func (f *family) get(labels []string) *value {
	k := strings.Join(labels, "\x00")
	v, ok := f.values[k]
	if !ok {
		v = &value{labels: slices.Clone(labels), counts: make([]float64, len(f.buckets))}
		f.values[k] = v
	}
	return v
}

// Histogram counts observations into buckets, per label values.
type Histogram struct {
	r *Registry
	f *family
}

// LatencyBuckets are upper bounds in seconds from 0.5 ms to 10 s.
var LatencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Histogram registers (or returns) a histogram with the given upper bounds.
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *Histogram {
	return &Histogram{r: r, f: r.family(name, help, "histogram", labels, buckets)}
}

// Observe records one observation for the label values.
func (h *Histogram) Observe(x float64, labels ...string) {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	v := h.f.get(labels)
	v.count++
	v.sum += x
	if i := sort.SearchFloat64s(h.f.buckets, x); i < len(v.counts) {
		v.counts[i]++
	}
}

// GaugeFunc registers a gauge measured at every scrape.
func (r *Registry) GaugeFunc(name, help string, labels []string, measure func(ctx context.Context) ([]Sample, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gauges = append(r.gauges, gaugeFunc{name: name, help: help, labels: labels, measure: measure})
}

// WriteText writes every metric in the Prometheus text format. A gauge
// that could not be measured (or only in part) has a comment saying why,
// beside what it did measure.
func (r *Registry) WriteText(ctx context.Context, w io.Writer) error {
	var b strings.Builder
	r.mu.Lock()
	for _, name := range r.order {
		f := r.series[name]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.kind)
		keys := make([]string, 0, len(f.values))
		for k := range f.values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := f.values[k]
			if f.kind == "counter" {
				fmt.Fprintf(&b, "%s%s %s\n", f.name, labelText(f.labels, v.labels, "", ""), num(v.count))
				continue
			}
			cum := 0.0
			for i, ub := range f.buckets {
				cum += v.counts[i]
				fmt.Fprintf(&b, "%s_bucket%s %s\n", f.name, labelText(f.labels, v.labels, "le", num(ub)), num(cum))
			}
			fmt.Fprintf(&b, "%s_bucket%s %s\n", f.name, labelText(f.labels, v.labels, "le", "+Inf"), num(v.count))
			fmt.Fprintf(&b, "%s_sum%s %s\n%s_count%s %s\n", f.name, labelText(f.labels, v.labels, "", ""), num(v.sum), f.name, labelText(f.labels, v.labels, "", ""), num(v.count))
		}
	}
	gauges := slices.Clone(r.gauges)
	r.mu.Unlock()
	for _, g := range gauges {
		samples, err := g.measure(ctx)
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", g.name, escapeHelp(g.help), g.name)
		if err != nil {
			fmt.Fprintf(&b, "# %s not (all) measured: %s\n", g.name, strings.ReplaceAll(err.Error(), "\n", " "))
		}
		for _, s := range samples {
			fmt.Fprintf(&b, "%s%s %s\n", g.name, labelText(g.labels, s.Labels, "", ""), num(s.Value))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Handler serves the metrics; each scrape measures the gauges within a
// few seconds.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 5*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = r.WriteText(ctx, w)
	})
}

func labelText(names, values []string, extraName, extraValue string) string {
	var parts []string
	for i, n := range names {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		parts = append(parts, n+`="`+escapeLabel(v)+`"`)
	}
	if extraName != "" {
		parts = append(parts, extraName+`="`+extraValue+`"`)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func num(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "+Inf"
	case math.IsNaN(x):
		return "NaN"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}
