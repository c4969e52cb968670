package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/audit"
	"github.com/gooi-vechtstreek/ledger/services/export"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// verification is the last check of the whole history made from this
// page: when, by whom, and what it found.
type verification struct {
	Moment string
	Door   string
	Duur   string
	Report *audit.Report
	Fout   string
}

// certRow is one gemeente's figures as the auditor sees them: the
// certificate of its beleidsview.
type certRow struct {
	Code, Naam  string
	Certificaat *ledgerv1.Certificaat
	Fout        string
}

// auditPage shows the verification status and digest, and the
// certificate of every gemeente's beleidsview for the year.
func (s *Server) auditPage(v *visit) {
	year, err := s.yearOf(v)
	if err != nil {
		s.fail(v, "Controle", err)
		return
	}
	g, err := call(v, s.client.ListGemeenten, &ledgerv1.ListGemeentenRequest{})
	if err != nil {
		s.fail(v, "Controle", err)
		return
	}
	var rows []certRow
	for _, gm := range g.GetGemeenten() {
		row := certRow{Code: gm.GetCode(), Naam: gm.GetNaam()}
		bv, err := call(v, s.client.GetBeleidsview, &ledgerv1.GetBeleidsviewRequest{Gemeente: gm.GetCode(), Jaar: year})
		if err != nil {
			row.Fout = refusal(err).Reden
		} else {
			row.Certificaat = bv.GetCertificaat()
		}
		rows = append(rows, row)
	}
	s.mu.Lock()
	ver := s.verified
	s.mu.Unlock()
	head, _ := s.Head(v.ctx)
	s.render(v.w, v.r, v.sess, http.StatusOK, "controle", "Controle", map[string]any{"Verificatie": ver, "Gemeenten": rows, "Jaar": year, "Positie": head})
}

// verify checks the whole stored history now. It is the same check as
// `ledger audit verify`, run in the server; an auditor who trusts nothing
// of the ledger runs that command in their own process and compares the
// digest shown here.
func (s *Server) verify(v *visit) {
	// One check of the whole store at a time: a second click waits for
	// nothing and reads nothing.
	if !s.verifying.TryLock() {
		s.render(v.w, v.r, v.sess, http.StatusConflict, "fout", "Controle loopt al", map[string]any{"Fout": refusalText{Reden: "er loopt al een controle van de hele geschiedenis; de uitkomst verschijnt op de pagina Controle"}, "Terug": "/controle"})
		return
	}
	defer s.verifying.Unlock()
	moment := s.Clock.Now()
	stopwatch := time.Now() // a duration, not a date: the machine's clock
	ctx, cancel := context.WithTimeout(v.ctx, 10*time.Minute)
	defer cancel()
	rep, err := s.Verify(ctx)
	ver := &verification{Moment: moment.In(clockLocation).Format("2006-01-02 15:04:05"), Door: v.sess.who.GetActor(),
		Duur: time.Since(stopwatch).Round(time.Millisecond).String(), Report: rep}
	if err != nil {
		ver.Fout = err.Error()
	}
	s.mu.Lock()
	s.verified = ver
	s.mu.Unlock()
	s.log().Info("web: geschiedenis gecontroleerd", "door", v.sess.who.GetGebruiker(), "err", err)
	http.Redirect(v.w, v.r, "/controle#verificatie", http.StatusSeeOther)
}

// tracePage follows one line of a gemeente's cost export back to the
// events, the policy version and the verdeelsleutel that made it.
func (s *Server) tracePage(v *visit) {
	q := v.r.URL.Query()
	gm := q.Get("gemeente")
	year, err := s.yearOf(v)
	if err != nil {
		s.fail(v, "Herleiden", err)
		return
	}
	n, err := strconv.Atoi(q.Get("regel"))
	if err != nil || n < 1 {
		s.fail(v, "Herleiden", &formError{"regel", "geef het regelnummer in de kostenexport (1 is de eerste regel na de kop)"})
		return
	}
	resp, err := call(v, s.client.ExportKosten, &ledgerv1.ExportKostenRequest{Gemeente: gm, Jaar: year})
	if err != nil {
		s.fail(v, "Herleiden", err)
		return
	}
	if n > len(resp.GetRegels()) {
		s.fail(v, "Herleiden", &formError{"regel", "de kostenexport van " + gm + " over " + itoa(int64(year)) + " heeft " + itoa(int64(len(resp.GetRegels()))) + " regels"})
		return
	}
	l := resp.GetRegels()[n-1]
	type field struct{ Kolom, Waarde string }
	var fields []field
	for i, v := range export.CostRow(l) {
		fields = append(fields, field{export.CostHeader[i], v})
	}
	s.render(v.w, v.r, v.sess, http.StatusOK, "herleid", "Herleiding kostenregel "+strconv.Itoa(n), map[string]any{
		"Gemeente": gm, "Jaar": year, "Regel": n, "Kostenregel": l, "Velden": fields, "Rekensom": arithmetic(l), "Certificaat": resp.GetCertificaat(),
	})
}

// arithmetic says how the line's amount follows from its own fields, in
// euro cents. `ledger audit herleid` recomputes it independently from the
// store's events; this page shows the line's own account of it.
func arithmetic(l *ledgerv1.Kostenregel) []string {
	switch {
	case l.GetSoort() == "lks":
		return []string{
			itoa(l.GetTariefCent()) + " cent loonkostensubsidie per maand × " + itoa(l.GetDagen()) + " dagen / dagen in de maand",
			"= " + itoa(l.GetBedragCent()) + " cent (" + euro(l.GetBedragCent()) + "), afgerond half-even",
		}
	case l.GetDagen() > 0 && l.GetTariefCent() > 0:
		return []string{
			itoa(l.GetTariefCent()) + " cent per jaar × " + itoa(l.GetDagen()) + " dagen / dagen in het jaar",
			"= " + itoa(l.GetBedragCent()) + " cent (" + euro(l.GetBedragCent()) + "), afgerond half-even",
		}
	case l.GetMinuten() > 0 && l.GetTariefCent() > 0:
		return []string{
			itoa(l.GetTariefCent()) + " cent per uur × " + itoa(l.GetMinuten()) + " minuten / 60",
			"= " + itoa(l.GetBedragCent()) + " cent (" + euro(l.GetBedragCent()) + "), afgerond half-even",
		}
	case l.GetTotaalGewicht() > 0:
		return []string{
			"boeking " + l.GetBoeking() + " × gewicht " + itoa(l.GetGewicht()) + " / totaal gewicht " + itoa(l.GetTotaalGewicht()),
			"= " + itoa(l.GetBedragCent()) + " cent (" + euro(l.GetBedragCent()) + "); overgebleven centen gaan naar de grootste resten",
		}
	}
	return []string{itoa(l.GetBedragCent()) + " cent (" + euro(l.GetBedragCent()) + ")"}
}

// newEventID is the id a form's command will carry: chosen when the form
// is shown, so that sending it twice records it once.
func newEventID() string { return uuid.NewString() }
