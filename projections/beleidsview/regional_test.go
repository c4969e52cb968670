package beleidsview

import (
	"context"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/projections/costs"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/natsstore"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var (
	genFrom = region.YMD(2023, 1, 1)
	genTo   = region.YMD(2025, 12, 31)
)

// TestRegionalHistory checks, on a generated history of three years across
// the eight participants, the identities a controller relies on when adding
// up the figures, that month and year views agree, that the views of the
// live model (decoded events applied as they come) and of a replay from the
// stored bytes are the same, and that no gemeente's view holds a resident
// of another.
func TestRegionalHistory(t *testing.T) {
	gd, err := generate(genConfig{seed: 1, events: 12_000, from: genFrom, to: genTo})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := gd.records()
	if err != nil {
		t.Fatal(err)
	}
	live := region.New(nil)
	for i, rec := range recs {
		live.Apply(rec, gd.events[i]) // decoded already, as the live model gets them
	}
	replay, err := gd.model()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events, %d cases", len(gd.events), gd.cases)

	years := map[int][]*ledgerv1.Beleidsview{}
	for y := 2023; y <= 2025; y++ {
		vs, err := ComputeAll(live, gd.reg, "GM0402", y, 0, genTo)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 8 {
			t.Fatalf("%d: %d views", y, len(vs))
		}
		years[y] = vs
		rs, err := ComputeAll(replay, gd.reg, "GM0402", y, 0, genTo)
		if err != nil {
			t.Fatal(err)
		}
		for i := range vs {
			if !proto.Equal(vs[i], rs[i]) {
				t.Errorf("%d %s: live and replay views differ", y, vs[i].GetGemeente())
			}
		}
	}

	t.Run("caseload follows the flows", func(t *testing.T) {
		for i := range years[2023] {
			var prev int64 // the history starts on 1 January 2023
			for y := 2023; y <= 2025; y++ {
				v := years[y][i]
				for _, m := range v.GetPerMaand() {
					if m.GetCaseload() != prev+m.GetInstroom()-m.GetUitstroom() {
						t.Errorf("%s %s: caseload %d ≠ %d + %d − %d", v.GetGemeente(), m.GetPeriode(), m.GetCaseload(), prev, m.GetInstroom(), m.GetUitstroom())
					}
					if sumTellingen(m.GetInstroomPerReden()) != m.GetInstroom() || sumTellingen(m.GetUitstroomPerReden()) != m.GetUitstroom() ||
						sumTellingen(m.GetCaseloadPerTrede()) != m.GetCaseload() || sumTellingen(m.GetCaseloadPerDoelgroep()) != m.GetCaseload() {
						t.Errorf("%s %s: breakdowns do not add up", v.GetGemeente(), m.GetPeriode())
					}
					prev = m.GetCaseload()
				}
			}
		}
	})

	t.Run("year totals are the months'", func(t *testing.T) {
		for y, vs := range years {
			for _, v := range vs {
				ms := v.GetPerMaand()
				if len(ms) != 12 {
					t.Fatalf("%s %d: %d months", v.GetGemeente(), y, len(ms))
				}
				last, tot := ms[11], v.GetTotaal()
				// Figures on the peildatum are December's.
				if tot.GetCaseload() != last.GetCaseload() || !proto.Equal(tot.GetLoonwaarde(), last.GetLoonwaarde()) || !proto.Equal(tot.GetLks(), last.GetLks()) {
					t.Errorf("%s %d: totaal's stock differs from December's", v.GetGemeente(), y)
				}
				var in, uit int64
				sum := map[string]*ledgerv1.PlaatsingCijfers{}
				for _, m := range ms {
					in += m.GetInstroom()
					uit += m.GetUitstroom()
					for _, p := range m.GetPlaatsingen() {
						s := sum[p.GetSoort()]
						if s == nil {
							s = &ledgerv1.PlaatsingCijfers{}
							sum[p.GetSoort()] = s
						}
						s.Gestart += p.GetGestart()
						s.Beeindigd += p.GetBeeindigd()
						s.Uitval += p.GetUitval()
						s.TerugvalVangnet += p.GetTerugvalVangnet()
					}
				}
				if in != tot.GetInstroom() || uit != tot.GetUitstroom() {
					t.Errorf("%s %d: instroom %d/%d, uitstroom %d/%d", v.GetGemeente(), y, in, tot.GetInstroom(), uit, tot.GetUitstroom())
				}
				for _, p := range tot.GetPlaatsingen() {
					s := sum[p.GetSoort()]
					if s == nil {
						s = &ledgerv1.PlaatsingCijfers{}
					}
					if s.Gestart != p.GetGestart() || s.Beeindigd != p.GetBeeindigd() || s.Uitval != p.GetUitval() || s.TerugvalVangnet != p.GetTerugvalVangnet() {
						t.Errorf("%s %d %s: months %+v, totaal %+v", v.GetGemeente(), y, p.GetSoort(), s, p)
					}
				}
			}
		}
	})

	t.Run("placements: the region's active follow starts and ends", func(t *testing.T) {
		prev := map[string]int64{}
		for y := 2023; y <= 2025; y++ {
			for mi := 0; mi < 12; mi++ {
				cur := map[string]int64{}
				flow := map[string]int64{}
				for _, v := range years[y] {
					for _, p := range v.GetPerMaand()[mi].GetPlaatsingen() {
						cur[p.GetSoort()] += p.GetActief()
						flow[p.GetSoort()] += p.GetGestart() - p.GetBeeindigd()
					}
				}
				for _, s := range unionKeys(cur, prev, flow) {
					if cur[s] != prev[s]+flow[s] {
						t.Errorf("%d-%02d %s: active %d ≠ %d + started − ended %d", y, mi+1, s, cur[s], prev[s], flow[s])
					}
				}
				prev = cur
			}
		}
	})

	t.Run("month views are the year views' months", func(t *testing.T) {
		for m := 1; m <= 12; m++ {
			vs, err := ComputeAll(live, gd.reg, "GM0402", 2025, m, genTo)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range vs {
				if !proto.Equal(v.GetTotaal(), years[2025][i].GetPerMaand()[m-1]) {
					t.Errorf("%s 2025-%02d: month view differs from the year view's month", v.GetGemeente(), m)
				}
			}
		}
	})

	t.Run("isolation", func(t *testing.T) {
		// Whose open case each resident was in on each peildatum, and
		// which gemeenten were ever responsible for a resident.
		type key struct {
			resident, gemeente string
			day                region.Day
		}
		open := map[key]bool{}
		ever := map[string]map[string]bool{}
		for _, c := range live.Cases() {
			for _, sp := range c.Spells() {
				if ever[sp.State.ResidentID] == nil {
					ever[sp.State.ResidentID] = map[string]bool{}
				}
				ever[sp.State.ResidentID][sp.Gemeente] = true
			}
		}
		var moved int
		for _, g := range ever {
			if len(g) > 1 {
				moved++
			}
		}
		if moved == 0 {
			t.Fatal("the history has no verhuizingen: isolation is not tested")
		}
		seen := map[region.Day]bool{}
		for y := 2023; y <= 2025; y++ {
			for _, m := range years[y][0].GetPerMaand() {
				d := region.DayOf(m.GetPeildatum())
				if seen[d] {
					continue
				}
				seen[d] = true
				for _, c := range live.Cases() {
					if sp := spellAt(c.Spells(), d); sp != nil && sp.State.Open() {
						open[key{sp.State.ResidentID, sp.Gemeente, d}] = true
					}
				}
			}
		}
		var shown int
		for y := 2023; y <= 2025; y++ {
			for _, v := range years[y] {
				for _, m := range append(v.GetPerMaand(), v.GetTotaal()) {
					d := region.DayOf(m.GetPeildatum())
					for _, c := range m.GetLoonwaarde().GetPerClient() {
						shown++
						if !ever[c.GetResidentId()][v.GetGemeente()] {
							t.Fatalf("%s %s shows resident %s, never its resident", v.GetGemeente(), m.GetPeriode(), c.GetResidentId())
						}
						if !open[key{c.GetResidentId(), v.GetGemeente(), d}] {
							t.Errorf("%s %s shows resident %s, not in its caseload that day", v.GetGemeente(), m.GetPeriode(), c.GetResidentId())
						}
					}
				}
			}
		}
		if shown == 0 {
			t.Fatal("no resident shown at all")
		}
		// Whatever field it may be in: no resident id that was never G's
		// appears anywhere in G's view.
		residentID := regexp.MustCompile(`R[0-9]{7}`)
		for y := 2023; y <= 2025; y++ {
			for _, v := range years[y] {
				js, err := protojson.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range residentID.FindAll(js, -1) {
					if !ever[string(id)][v.GetGemeente()] {
						t.Fatalf("%s %d holds resident %s of another gemeente", v.GetGemeente(), y, id)
					}
				}
			}
		}
	})

	t.Run("costs add up to the book", func(t *testing.T) {
		for y := 2023; y <= 2025; y++ {
			book, err := costs.NewBook(live, gd.reg, "GM0402", region.YearStart(y), region.YearStart(y+1))
			if err != nil {
				t.Fatal(err)
			}
			var all, views int64
			for _, l := range book.All() {
				all += l.Cents
			}
			for _, v := range years[y] {
				var own int64
				for _, l := range book.Lines(v.GetGemeente()) {
					own += l.Cents
				}
				if v.GetKostenTotaal().GetTotaalCent() != own {
					t.Errorf("%s %d: posts %d, its lines %d", v.GetGemeente(), y, v.GetKostenTotaal().GetTotaalCent(), own)
				}
				views += own
			}
			if views != all {
				t.Errorf("%d: the gemeenten's views hold %d of %d cents", y, views, all)
			}
		}
	})
}

func sumTellingen(ts []*ledgerv1.Telling) int64 {
	var n int64
	for _, t := range ts {
		n += t.GetAantal()
	}
	return n
}

func unionKeys(ms ...map[string]int64) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// BenchmarkCompute measures the target: rebuilding every gemeente's
// beleidsview from the store's events. "build+views" decodes and applies
// every stored event to a new regional model and computes the year view
// 2025 of every gemeente; "build" only the model; "views" only the views,
// on a model that has seen all events and computed them once (the live
// model's situation). BENCH_EVENTS sets the number of case events (default
// 1,000,000); BENCH_UREN_EVERY the days between hour registrations of a
// placed resident (default 7: weekly jobcoaching hours; 0: few hours, so
// many short cases).
func BenchmarkCompute(b *testing.B) {
	n, every := 1_000_000, 7
	for name, p := range map[string]*int{"BENCH_EVENTS": &n, "BENCH_UREN_EVERY": &every} {
		if s := os.Getenv(name); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			*p = v
		}
	}
	start := time.Now()
	gd, err := generate(genConfig{seed: 42, events: n, from: genFrom, to: genTo, urenEvery: every})
	if err != nil {
		b.Fatal(err)
	}
	recs, err := gd.records()
	if err != nil {
		b.Fatal(err)
	}
	cases := gd.cases
	// Only the stored bytes stay: the decoded events would be garbage the
	// collector scans on every cycle, which no real rebuild has.
	gd.events = nil
	runtime.GC()
	b.Logf("%d events (%d cases, hours every %d days) generated in %s", len(recs), cases, every, time.Since(start).Round(time.Millisecond))
	events := float64(len(recs))

	build := func() *region.Model {
		m := region.New(nil)
		for _, rec := range recs {
			if err := m.ApplyRecord(rec); err != nil {
				b.Fatal(err)
			}
		}
		return m
	}
	views := func(m *region.Model) {
		vs, err := ComputeAll(m, gd.reg, "GM0402", 2025, 0, genTo)
		if err != nil {
			b.Fatal(err)
		}
		if len(vs) != 8 {
			b.Fatalf("%d views", len(vs))
		}
	}
	perSecond := func(b *testing.B) {
		b.ReportMetric(events*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("build+views", func(b *testing.B) {
		for b.Loop() {
			views(build())
		}
		perSecond(b)
	})
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			build()
		}
		perSecond(b)
	})
	b.Run("views", func(b *testing.B) {
		b.StopTimer()
		m := build()
		views(m) // derive every case once, as the live model has
		runtime.GC()
		b.StartTimer()
		for b.Loop() {
			views(m)
		}
		perSecond(b)
	})
}

// BenchmarkRebuildFromStore is the rebuild as the server and an auditor do
// it: read every event from the JetStream store, build the regional model
// and compute every gemeente's year view. The store is filled without fsync
// (reading does not depend on it), a case's events as one atomic batch.
func BenchmarkRebuildFromStore(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("BENCH_EVENTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		n = v
	}
	ctx := context.Background()
	gd, err := generate(genConfig{seed: 42, events: n, from: genFrom, to: genTo, urenEvery: 7})
	if err != nil {
		b.Fatal(err)
	}
	recs, err := gd.records()
	if err != nil {
		b.Fatal(err)
	}
	gd.events = nil
	srv, err := broker.Start(broker.Config{Dir: b.TempDir(), Listen: "127.0.0.1:-1", NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect()
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := natsstore.New(ctx, js)
	if err != nil {
		b.Fatal(err)
	}
	// Per stream, in store order; streams one after another.
	var order []string
	byStream := map[string][]store.EventData{}
	for _, r := range recs {
		if _, seen := byStream[r.Stream]; !seen {
			order = append(order, r.Stream)
		}
		byStream[r.Stream] = append(byStream[r.Stream], store.EventData{ID: r.ID, Type: r.Type, Data: r.Data})
	}
	recs = nil
	for _, s := range order {
		evs, expected := byStream[s], store.NoStream()
		for len(evs) > 0 {
			k := min(len(evs), natsstore.DefaultMaxAppend)
			res, err := st.Append(ctx, s, expected, evs[:k]...)
			if err != nil {
				b.Fatal(err)
			}
			expected, evs = store.Exactly(res.Revision), evs[k:]
		}
	}
	byStream = nil
	runtime.GC()
	b.ResetTimer()
	for b.Loop() {
		m, err := region.Build(ctx, st, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ComputeAll(m, gd.reg, "GM0402", 2025, 0, genTo); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
