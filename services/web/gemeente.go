package web

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gooi-vechtstreek/ledger/projections/beleidsview"
	"github.com/gooi-vechtstreek/ledger/services/access"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/export"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// yearOf reads ?jaar=, the server's year by default.
func (s *Server) yearOf(v *visit) (int32, error) {
	q := v.r.URL.Query().Get("jaar")
	if q == "" {
		return int32(s.Clock.Year()), nil
	}
	y, err := strconv.ParseInt(q, 10, 32)
	if err != nil || y < 1900 || y > 9999 {
		return 0, &formError{"jaar", "geen jaartal"}
	}
	return int32(y), nil
}

// beleidsviewPage is a gemeente's own figures for a year or a month: the
// caseload over the months as a line, costs per budget stream against the
// budget as bars, each with its numbers in a table beside it.
func (s *Server) beleidsviewPage(v *visit) {
	gm := v.r.PathValue("gm")
	year, err := s.yearOf(v)
	if err != nil {
		s.fail(v, "Beleidsview", err)
		return
	}
	var month int32
	if m := v.r.URL.Query().Get("maand"); m != "" {
		n, err := strconv.ParseInt(m, 10, 32)
		if err != nil || n < 1 || n > 12 {
			s.fail(v, "Beleidsview", &formError{"maand", "kies 1 tot en met 12"})
			return
		}
		month = int32(n)
	}
	resp, err := call(v, s.client.GetBeleidsview, &ledgerv1.GetBeleidsviewRequest{Gemeente: gm, Jaar: year, Maand: month})
	if err != nil {
		s.fail(v, "Beleidsview "+gm, err)
		return
	}
	bv := resp.GetView()
	var line []point
	for _, m := range bv.GetPerMaand() {
		line = append(line, point{Label: monthLabel(m.GetPeriode()), Value: m.GetCaseload()})
	}
	var flows []pair
	for _, m := range bv.GetPerMaand() {
		flows = append(flows, pair{Label: monthLabel(m.GetPeriode()), A: m.GetInstroom(), B: m.GetUitstroom()})
	}
	var costs []pair
	for _, k := range bv.GetKosten() {
		costs = append(costs, pair{Label: word(k.GetBudgetstroom(), "BUDGETSTROOM_") + " " + k.GetTaakveld(), A: k.GetTotaalCent(), B: k.GetBudgetCent(), C: k.GetPrognoseCent()})
	}
	var months []enumChoice
	for i, n := range []string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"} {
		months = append(months, enumChoice{Waarde: strconv.Itoa(i + 1), Label: n})
	}
	data := map[string]any{
		"Gemeente": gm, "View": bv, "Totaal": bv.GetTotaal(), "Jaar": year, "Maand": month, "Maanden": months,
		"Certificaat": resp.GetCertificaat(), "Vernieuw": "auto",
		"CaseloadGrafiek": lineChart("caseload-grafiek", "Caseload aan het eind van elke maand", line),
		"StroomGrafiek":   pairBars("stroom-grafiek", "Instroom en uitstroom per maand", flows, "instroom", "uitstroom", false),
		"KostenGrafiek":   pairBars("kosten-grafiek", "Kosten per budgetstroom en taakveld tegen het budget", costs, "kosten", "budget", true),
		"Halfjaren":       []string{fmt.Sprintf("%dH1", year), fmt.Sprintf("%dH2", year)},
		"PerTrede":        overTime(bv.GetPerMaand(), (*ledgerv1.Periodecijfers).GetCaseloadPerTrede),
		"PerDoelgroep":    overTime(bv.GetPerMaand(), (*ledgerv1.Periodecijfers).GetCaseloadPerDoelgroep),
		"Kwartalen":       beleidsview.Kwartalen(bv),
	}
	title := "Beleidsview " + bv.GetNaam() + " " + bv.GetPeriode()
	s.render(v.w, v.r, v.sess, http.StatusOK, "beleidsview", title, data)
}

// matrix is a count per month and key: the caseload by trede or doelgroep
// over time.
type matrix struct {
	Keys []string
	Rows []matrixRow
}

type matrixRow struct {
	Periode string
	Values  []int64
}

func overTime(months []*ledgerv1.Periodecijfers, pick func(*ledgerv1.Periodecijfers) []*ledgerv1.Telling) matrix {
	var m matrix
	seen := map[string]bool{}
	for _, p := range months {
		for _, t := range pick(p) {
			if !seen[t.GetSleutel()] {
				seen[t.GetSleutel()] = true
				m.Keys = append(m.Keys, t.GetSleutel())
			}
		}
	}
	slices.Sort(m.Keys)
	for _, p := range months {
		row := matrixRow{Periode: p.GetPeriode(), Values: make([]int64, len(m.Keys))}
		for _, t := range pick(p) {
			row.Values[slices.Index(m.Keys, t.GetSleutel())] = t.GetAantal()
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// monthLabel turns "2026-03" into "mrt".
func monthLabel(p string) string {
	names := []string{"jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"}
	if len(p) == 7 {
		if m, err := strconv.Atoi(p[5:]); err == nil && m >= 1 && m <= 12 {
			return names[m-1]
		}
	}
	return p
}

// costsCSV is the cost export of a gemeente-year: the file `ledger export
// costs` writes, byte for byte.
func (s *Server) costsCSV(v *visit) {
	gm := v.r.PathValue("gm")
	year, err := s.yearOf(v)
	if err != nil {
		s.fail(v, "Kosten", err)
		return
	}
	resp, err := call(v, s.client.ExportKosten, &ledgerv1.ExportKostenRequest{Gemeente: gm, Jaar: year})
	if err != nil {
		s.fail(v, "Kosten "+gm, err)
		return
	}
	var buf bytes.Buffer
	if _, err := export.WriteCosts(&buf, resp.GetRegels()); err != nil {
		s.fail(v, "Kosten "+gm, err)
		return
	}
	download(v, fmt.Sprintf("kosten-%s-%d.csv", gm, year), resp.GetCertificaat(), buf.Bytes())
}

// srgCSV is the SRG count of a half year, as `ledger export srg` writes it.
func (s *Server) srgCSV(v *visit) {
	gm := v.r.PathValue("gm")
	half := v.r.URL.Query().Get("half")
	resp, err := call(v, s.client.ExportSrg, &ledgerv1.ExportSrgRequest{Gemeente: gm, Half: half})
	if err != nil {
		s.fail(v, "SRG-telling "+gm, err)
		return
	}
	var buf bytes.Buffer
	if err := export.WriteSRG(&buf, resp.GetTellingen()); err != nil {
		s.fail(v, "SRG-telling "+gm, err)
		return
	}
	download(v, fmt.Sprintf("srg-%s-%s.csv", gm, half), resp.GetCertificaat(), buf.Bytes())
}

// download sends a file with its certificate in headers, so that what was
// downloaded can be made again with `ledger audit replay --tot`.
func download(v *visit, name string, cert *ledgerv1.Certificaat, body []byte) {
	h := v.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Ledger-Positie", cert.GetPositie())
	h.Set("Ledger-Peildatum", event.FormatDate(cert.GetPeildatum()))
	h.Set("Cache-Control", "no-store")
	v.w.Write(body)
}

// productRow is one product of a policy version, for the table and the
// form.
type productRow struct {
	Code, Naam, Eenheid string
	Tarief              string // euros, "12000" or "87,50"
	Budgetstroom        string
}

// beleidPage lists a gemeente's policy versions and, for the gemeente
// itself, a form for a new one, filled with the current version.
func (s *Server) beleidPage(v *visit) {
	gm := v.r.PathValue("gm")
	resp, err := call(v, s.client.GetBeleid, &ledgerv1.GetBeleidRequest{Gemeente: gm})
	if err != nil {
		s.fail(v, "Beleid "+gm, err)
		return
	}
	versions := resp.GetVersies()
	// The form starts from the version that applies last, not the one
	// recorded last: a nacalculatie revises an earlier period.
	var current *ledgerv1.Beleid
	var at *ledgerv1.BeleidVersie
	for _, bv := range versions {
		if at == nil || event.CompareDates(bv.GetBeleid().GetGeldigVanaf(), at.GetBeleid().GetGeldigVanaf()) >= 0 {
			at = bv
		}
	}
	if at != nil {
		current = at.GetBeleid()
	}
	data := map[string]any{"Gemeente": gm, "Versies": versions, "Producten": productRows(current), "Budgetten": budgetRows(current, s.Clock.Year()),
		"Vandaag":       event.FormatDate(s.Clock.Today()),
		"MagVastleggen": v.role() == access.Gemeente && v.sess.who.GetGemeente() == gm, "EventID": newEventID(),
		// The form is filled with what the page shows: a version recorded
		// by someone else meanwhile makes it refused, not overwritten.
		"Gezien": len(versions)}
	if current != nil {
		data["LksNorm"] = current.GetLksNorm()
		if n := current.GetTerugkeerMaanden(); n > 0 {
			data["Terugkeer"] = n
		}
		if c := current.GetWswCentPerSe(); c > 0 {
			data["WswPerSE"] = plainEuro(c)
		}
	}
	if e := v.r.URL.Query().Get("vastgelegd"); e != "" {
		data["Vastgelegd"] = e
	}
	s.render(v.w, v.r, v.sess, http.StatusOK, "beleid", "Beleid "+gm, data)
}

func productRows(current *ledgerv1.Beleid) []productRow {
	var rows []productRow
	for _, p := range beleid.Products {
		row := productRow{Code: p.Code, Naam: p.Omschrijving, Eenheid: "per jaar"}
		if p.Eenheid == beleid.PerUur {
			row.Eenheid = "per uur"
		}
		for _, t := range current.GetProducten() {
			if t.GetProduct() != p.Code {
				continue
			}
			c := t.GetCentPerJaar()
			if p.Eenheid == beleid.PerUur {
				c = t.GetCentPerUur()
			}
			row.Tarief = plainEuro(c)
			if t.GetBudgetstroom() != 0 {
				row.Budgetstroom = export.Word(t.GetBudgetstroom(), "BUDGETSTROOM_")
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// budgetRow is one budget of a policy version: a year and a stream.
type budgetRow struct {
	Jaar         int32
	Budgetstroom string // word
	Naam         string
	Bedrag       string
}

// budgetRows are the current version's budgets, and an empty one for every
// stream of this year and the next it has none for: a new version is
// complete, so the form carries every budget the current one has.
func budgetRows(current *ledgerv1.Beleid, year int) []budgetRow {
	var rows []budgetRow
	have := map[string]bool{}
	for _, b := range current.GetBudgetten() {
		w := word(b.GetBudgetstroom(), "BUDGETSTROOM_")
		rows = append(rows, budgetRow{Jaar: b.GetJaar(), Budgetstroom: w, Naam: strings.ReplaceAll(w, "-", " "), Bedrag: plainEuro(b.GetCent())})
		have[fmt.Sprint(b.GetJaar(), w)] = true
	}
	for _, y := range []int{year, year + 1} {
		for _, c := range enumChoices(ledgerv1.Budgetstroom(0).Descriptor().Values(), "BUDGETSTROOM_") {
			if !have[fmt.Sprint(y, c.Waarde)] {
				rows = append(rows, budgetRow{Jaar: int32(y), Budgetstroom: c.Waarde, Naam: c.Label})
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b budgetRow) int { return cmp.Compare(a.Jaar, b.Jaar) })
	return rows
}

// plainEuro writes cents for an input field: "12000" or "87,50".
func plainEuro(c int64) string {
	if c%100 == 0 {
		return itoa(c / 100)
	}
	return export.Euro(c)
}

// euroPattern is an amount as a Dutch person types it: whole euros,
// optionally with thousands dots, optionally with one or two decimals after
// a comma; or with a decimal dot and one or two decimals ("87.50", as a
// phone's keyboard may give it).
var euroPattern = regexp.MustCompile(`^(\d+|\d{1,3}(\.\d{3})+)(,\d{1,2})?$|^\d+\.\d{1,2}$`)

// parseEuro reads "12000", "12.000", "87,50" or "87.50" as cents.
func parseEuro(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if !euroPattern.MatchString(s) {
		return 0, fmt.Errorf("geen bedrag in euro: %q (schrijf bijv. 12000, 12.000 of 87,50)", s)
	}
	whole, frac := s, ""
	if i := strings.LastIndexAny(s, ",."); i >= 0 && len(s)-i <= 3 {
		whole, frac = s[:i], s[i+1:]
	}
	w, err := strconv.ParseInt(strings.ReplaceAll(whole, ".", ""), 10, 64)
	if err != nil || w > math.MaxInt64/100-100 {
		return 0, fmt.Errorf("bedrag te groot: %q", s)
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
	}
	return w*100 + f, nil
}

// recordBeleid records a new policy version from the form, through the
// same RecordBeleid call `ledger policy set` makes.
func (s *Server) recordBeleid(v *visit) {
	gm := v.r.PathValue("gm")
	f := v.r.PostForm
	fail := func(err error) { s.failWrite(v, "Beleid niet vastgelegd", "/gemeente/"+gm+"/beleid", err) }
	from, err := event.ParseDate(f.Get("geldig_vanaf"))
	if err != nil {
		fail(&formError{"geldig vanaf", "geen geldige datum (JJJJ-MM-DD)"})
		return
	}
	b := &ledgerv1.Beleid{GeldigVanaf: from, Toelichting: strings.TrimSpace(f.Get("toelichting"))}
	for _, p := range beleid.Products {
		raw := f.Get("tarief_" + p.Code)
		if strings.TrimSpace(raw) == "" {
			continue
		}
		c, err := parseEuro(raw)
		if err != nil {
			fail(&formError{"tarief " + p.Code, err.Error()})
			return
		}
		t := &ledgerv1.ProductTarief{Product: p.Code,
			Budgetstroom: ledgerv1.Budgetstroom(enumValue(ledgerv1.Budgetstroom(0).Descriptor().Values(), "BUDGETSTROOM_", f.Get("stroom_"+p.Code)))}
		if p.Eenheid == beleid.PerUur {
			t.CentPerUur = c
		} else {
			t.CentPerJaar = c
		}
		b.Producten = append(b.Producten, t)
	}
	for key := range f {
		rest, ok := strings.CutPrefix(key, "budget_")
		if !ok || strings.TrimSpace(f.Get(key)) == "" {
			continue
		}
		year, stream, _ := strings.Cut(rest, "_")
		y, err := strconv.ParseInt(year, 10, 32)
		n := enumValue(ledgerv1.Budgetstroom(0).Descriptor().Values(), "BUDGETSTROOM_", stream)
		if err != nil || n == 0 {
			fail(&formError{"budget", fmt.Sprintf("onbekend veld %q", key)})
			return
		}
		c, err := parseEuro(f.Get(key))
		if err != nil {
			fail(&formError{"budget " + year + " " + stream, err.Error()})
			return
		}
		b.Budgetten = append(b.Budgetten, &ledgerv1.Budget{Jaar: int32(y), Budgetstroom: ledgerv1.Budgetstroom(n), Cent: c})
	}
	// Form fields come in no order; the version lists its budgets by year
	// and stream, as the command line gives them.
	slices.SortFunc(b.Budgetten, func(a, c *ledgerv1.Budget) int {
		return cmp.Or(cmp.Compare(a.GetJaar(), c.GetJaar()), cmp.Compare(a.GetBudgetstroom(), c.GetBudgetstroom()))
	})
	if n := strings.TrimSpace(f.Get("lks_norm")); n != "" {
		norm, err := strconv.ParseInt(n, 10, 64)
		if err != nil || norm < 0 {
			fail(&formError{"LKS-norm", "geen aantal"})
			return
		}
		b.LksNorm = norm
	}
	if n := strings.TrimSpace(f.Get("terugkeer_maanden")); n != "" {
		m, err := strconv.ParseInt(n, 10, 32)
		if err != nil || m < 0 || m > 120 {
			fail(&formError{"Terugkeer", "geef 0 tot en met 120 maanden"})
			return
		}
		b.TerugkeerMaanden = int32(m)
	}
	if e := strings.TrimSpace(f.Get("wsw_per_se")); e != "" {
		c, err := parseEuro(e)
		if err != nil {
			fail(&formError{"Rijksbijdrage per SE", "geen bedrag in euro"})
			return
		}
		b.WswCentPerSe = c
	}
	req := &ledgerv1.RecordBeleidRequest{Gemeente: gm, Beleid: b, EventId: f.Get("event_id")}
	if n := f.Get("versies"); n != "" {
		seen, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			fail(&formError{"versies", "geen aantal"})
			return
		}
		req.ExpectedVersie = &seen
	}
	resp, err := call(v, s.client.RecordBeleid, req)
	if err != nil {
		fail(err)
		return
	}
	http.Redirect(v.w, v.r, "/gemeente/"+gm+"/beleid?vastgelegd="+resp.GetEventId(), http.StatusSeeOther)
}
