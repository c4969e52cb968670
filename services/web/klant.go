package web

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/access"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/resident"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// findCases finds a resident's cases by client-id or by BSN (through the
// pseudonym: the BSN itself is never stored or logged). The form is posted,
// so that a BSN does not end up in a URL, the browser's history or a
// proxy's log; a link with ?zoek= works for a client-id.
func (s *Server) findCases(v *visit) {
	q := strings.TrimSpace(v.r.URL.Query().Get("zoek"))
	if v.r.Method == http.MethodPost {
		q = strings.TrimSpace(v.r.PostFormValue("zoek"))
	}
	data := map[string]any{"Zoek": q}
	if q != "" {
		req := &ledgerv1.FindCasesRequest{ResidentId: q}
		// A BSN as people write it: with spaces, dots or dashes.
		if digits := strings.Map(func(r rune) rune {
			if r == ' ' || r == '.' || r == '-' {
				return -1
			}
			return r
		}, q); resident.LooksLikeBSN(digits) {
			data["Zoek"] = "" // a BSN is not echoed back into the page
			if v.r.Method != http.MethodPost {
				// In a URL it would be in the browser's history and in
				// logs: refused, and not looked up.
				data["Fout"] = refusalText{Reden: "zoek op BSN met het zoekformulier, niet met een adres: een BSN hoort in geen URL", Zeker: true}
				s.render(v.w, v.r, v.sess, http.StatusBadRequest, "zaken", "Zaken zoeken", data)
				return
			}
			req = &ledgerv1.FindCasesRequest{Bsn: digits}
			data["DoorBSN"] = true
		}
		resp, err := call(v, s.client.FindCases, req)
		if err != nil {
			data["Fout"] = refusal(err)
		} else {
			data["Gevonden"] = true
			data["Client"] = resp.GetResidentId()
			data["Zaken"] = resp.GetCases()
		}
	}
	s.render(v.w, v.r, v.sess, http.StatusOK, "zaken", "Zaken zoeken", data)
}

// timelineRow is one event of a case as the page lists it.
type timelineRow struct {
	Revisie       uint64
	Datum         string
	Soort         string
	Wat           string
	Door          string
	Vastgelegd    string
	Gecorrigeerd  string
	Persoonsgeg   string
	EventID       string
	Beleidsversie string
}

// transitionForm is one transition the state machine allows now.
type transitionForm struct {
	Soort caseflow.Transitie
	Titel string
}

func (s *Server) casePage(v *visit) {
	id := v.r.PathValue("id")
	resp, err := call(v, s.client.GetCase, &ledgerv1.GetCaseRequest{CaseId: id})
	if err != nil {
		s.fail(v, "Zaak", err)
		return
	}
	var rows []timelineRow
	var history []*ledgerv1.Event
	for _, e := range resp.GetTimeline() {
		ev := e.GetEvent()
		history = append(history, ev)
		env := ev.GetEnvelope()
		rows = append(rows, timelineRow{
			Revisie: e.GetRevision(), Datum: event.FormatDate(env.GetOccurredOn()), Soort: e.GetType(), Wat: describe(ev),
			Door: env.GetActor(), Vastgelegd: env.GetRecordedAt().AsTime().In(locationOf()).Format("2006-01-02 15:04"),
			Gecorrigeerd: e.GetGecorrigeerdDoor(), Persoonsgeg: e.GetPersoonsgegevens(), EventID: env.GetEventId(),
			Beleidsversie: env.GetPolicyVersion(),
		})
	}
	data := map[string]any{"Zaak": resp.GetCase(), "Tijdlijn": rows, "KetenIntact": resp.GetKetenIntact(),
		"Toestand": caseflow.ToestandNaam(resp.GetCase().GetToestand()), "Vandaag": event.FormatDate(s.Clock.Today()), "EventID": newEventID()}
	if v.role() == access.Centrum {
		// The form offers what the state machine allows from the case's
		// state, judged by caseflow itself on the folded history.
		st, err := caseflow.Fold(history)
		if err == nil {
			var forms []transitionForm
			for _, t := range caseflow.Allowed(st, s.Clock.Today()) {
				forms = append(forms, transitionForm{Soort: t, Titel: transitieTitel[t]})
			}
			data["Transities"] = forms
			data["Keuzes"] = s.choices(v, resp.GetCase().GetGemeente())
		}
	}
	if ev := v.r.URL.Query().Get("vastgelegd"); ev != "" {
		data["Vastgelegd"] = ev
	}
	s.render(v.w, v.r, v.sess, http.StatusOK, "zaak", "Zaak "+short(id), data)
}

var transitieTitel = map[caseflow.Transitie]string{
	caseflow.TransitieIntake:     "Intake",
	caseflow.TransitiePlaatsing:  "Plaatsing",
	caseflow.TransitieUitval:     "Uitval",
	caseflow.TransitieVangnet:    "Terugval op vangnet",
	caseflow.TransitieUitstroom:  "Uitstroom",
	caseflow.TransitieVerhuizing: "Verhuizing",
	caseflow.TransitieUren:       "Uren",
}

// choices are the values the forms offer, from the proto enums and the
// participants.
func (s *Server) choices(v *visit, own string) map[string]any {
	out := map[string]any{
		"Treden":           enumChoices(ledgerv1.Trede(0).Descriptor().Values(), "TREDE_"),
		"PlaatsingTypes":   enumChoices(ledgerv1.PlaatsingType(0).Descriptor().Values(), "PLAATSING_TYPE_"),
		"UitvalRedenen":    enumChoices(ledgerv1.UitvalReden(0).Descriptor().Values(), "UITVAL_REDEN_"),
		"UitstroomRedenen": enumChoices(ledgerv1.UitstroomReden(0).Descriptor().Values(), "UITSTROOM_REDEN_"),
		"UurProducten":     hourProducts(),
	}
	if g, err := call(v, s.client.ListGemeenten, &ledgerv1.ListGemeentenRequest{}); err == nil {
		var others []*ledgerv1.Gemeente
		for _, gm := range g.GetGemeenten() {
			if gm.GetCode() != own && gm.GetGeldigTot() == nil {
				others = append(others, gm)
			}
		}
		out["Gemeenten"] = others
	}
	return out
}

// recordTransition records what the form says, through the same Record
// call the command line makes; a refusal is shown with its rule.
func (s *Server) recordTransition(v *visit) {
	id := v.r.PathValue("id")
	req, err := transitionRequest(id, v.r)
	if err == nil {
		var resp *ledgerv1.RecordResponse
		resp, err = call(v, s.client.Record, req)
		if err == nil {
			http.Redirect(v.w, v.r, "/zaken/"+id+"?vastgelegd="+resp.GetEventId()+"#tijdlijn", http.StatusSeeOther)
			return
		}
	}
	s.failWrite(v, "Niet vastgelegd", "/zaken/"+id, err)
}

// formError is a form value that could not be read; it is shown as a
// refusal before anything is asked of the ledger.
type formError struct{ field, reden string }

func (e *formError) Error() string { return e.field + ": " + e.reden }

func transitionRequest(id string, r *http.Request) (*ledgerv1.RecordRequest, error) {
	f := r.PostForm
	req := &ledgerv1.RecordRequest{CaseId: id}
	if d := f.Get("datum"); d != "" {
		date, err := event.ParseDate(d)
		if err != nil {
			return nil, &formError{"datum", "geen geldige datum (JJJJ-MM-DD)"}
		}
		req.Datum = date
	}
	if rev := f.Get("revisie"); rev != "" {
		n, err := strconv.ParseUint(rev, 10, 64)
		if err != nil {
			return nil, &formError{"revisie", "geen getal"}
		}
		req.ExpectedRevision = &n
	}
	// The event id is chosen when the form is shown, so a form sent twice
	// (a double click, a retry after a lost answer) is recorded once.
	req.EventId = f.Get("event_id")
	percent := func(name string) (uint32, error) {
		if f.Get(name) == "" {
			return 0, nil
		}
		n, err := strconv.ParseUint(f.Get(name), 10, 32)
		if err != nil {
			return 0, &formError{name, "geen geheel getal"}
		}
		return uint32(n), nil
	}
	switch caseflow.Transitie(f.Get("soort")) {
	case caseflow.TransitieIntake:
		lw, err := percent("loonwaarde")
		if err != nil {
			return nil, err
		}
		req.Transition = &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{
			Trede: ledgerv1.Trede(enumValue(ledgerv1.Trede(0).Descriptor().Values(), "TREDE_", f.Get("trede"))), LoonwaardeProcent: lw}}
	case caseflow.TransitiePlaatsing:
		lw, err := percent("loonwaarde")
		if err != nil {
			return nil, err
		}
		uren, err := hoursToMinutes(f.Get("uren"))
		if err != nil {
			return nil, &formError{"uren per week", err.Error()}
		}
		p := &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType(enumValue(ledgerv1.PlaatsingType(0).Descriptor().Values(), "PLAATSING_TYPE_", f.Get("type"))),
			Werkgever: strings.TrimSpace(f.Get("werkgever")), MinutenPerWeek: uren, LoonwaardeProcent: lw}
		if e := f.Get("einddatum"); e != "" {
			end, err := event.ParseDate(e)
			if err != nil {
				return nil, &formError{"geplande einddatum", "geen geldige datum (JJJJ-MM-DD)"}
			}
			p.GeplandeEinddatum = end
		}
		req.Transition = &ledgerv1.RecordRequest_Plaatsing{Plaatsing: p}
	case caseflow.TransitieUitval:
		req.Transition = &ledgerv1.RecordRequest_Uitval{Uitval: &ledgerv1.Uitval{
			Reden: ledgerv1.UitvalReden(enumValue(ledgerv1.UitvalReden(0).Descriptor().Values(), "UITVAL_REDEN_", f.Get("reden")))}}
	case caseflow.TransitieVangnet:
		req.Transition = &ledgerv1.RecordRequest_Vangnet{Vangnet: &ledgerv1.TerugvalOpVangnet{
			VangnetType: ledgerv1.PlaatsingType(enumValue(ledgerv1.PlaatsingType(0).Descriptor().Values(), "PLAATSING_TYPE_", f.Get("type")))}}
	case caseflow.TransitieUitstroom:
		req.Transition = &ledgerv1.RecordRequest_Uitstroom{Uitstroom: &ledgerv1.Uitstroom{
			Reden: ledgerv1.UitstroomReden(enumValue(ledgerv1.UitstroomReden(0).Descriptor().Values(), "UITSTROOM_REDEN_", f.Get("reden")))}}
	case caseflow.TransitieVerhuizing:
		req.Transition = &ledgerv1.RecordRequest_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{NaarGemeente: f.Get("naar")}}
	case caseflow.TransitieUren:
		min, err := hoursToMinutes(f.Get("uren"))
		if err != nil {
			return nil, &formError{"uren", err.Error()}
		}
		van, err := event.ParseDate(f.Get("van"))
		if err != nil {
			return nil, &formError{"van", "geen geldige datum (JJJJ-MM-DD)"}
		}
		req.Transition = &ledgerv1.RecordRequest_Uren{Uren: &ledgerv1.Uren{Product: f.Get("product"), Van: van, Minuten: min}}
	default:
		return nil, &formError{"soort", fmt.Sprintf("onbekende transitie %q", f.Get("soort"))}
	}
	return req, nil
}

var hoursPattern = regexp.MustCompile(`^\d{1,5}([.,]\d{1,2})?$`)

// hoursToMinutes reads "12", "12,5" or "12.25" hours.
func hoursToMinutes(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if !hoursPattern.MatchString(s) {
		return 0, fmt.Errorf("geen aantal uren: %q (schrijf bijv. 12 of 12,5)", s)
	}
	h, _ := strconv.ParseFloat(strings.ReplaceAll(s, ",", "."), 64)
	return uint32(h*60 + 0.5), nil
}

// describe says in a few words what an event records.
func describe(ev *ledgerv1.Event) string {
	switch p := ev.GetPayload().(type) {
	case *ledgerv1.Event_Aanmelding:
		return "doelgroep " + word(p.Aanmelding.GetDoelgroep(), "DOELGROEP_") + ", verwezen door " + word(p.Aanmelding.GetVerwijzer(), "VERWIJZER_")
	case *ledgerv1.Event_Intake:
		return fmt.Sprintf("trede %s, loonwaarde %d%%", word(p.Intake.GetTrede(), "TREDE_"), p.Intake.GetLoonwaardeProcent())
	case *ledgerv1.Event_Plaatsing:
		pl := p.Plaatsing
		out := word(pl.GetType(), "PLAATSING_TYPE_")
		if pl.GetWerkgever() != "" {
			out += " bij " + pl.GetWerkgever()
		}
		if m := pl.GetMinutenPerWeek(); m > 0 {
			out += ", " + hours(int64(m)) + " uur per week"
		}
		if pl.GetGeplandeEinddatum() != nil {
			out += ", gepland tot " + event.FormatDate(pl.GetGeplandeEinddatum())
		}
		return out
	case *ledgerv1.Event_Uitval:
		return "reden " + word(p.Uitval.GetReden(), "UITVAL_REDEN_")
	case *ledgerv1.Event_Vangnet:
		return "naar " + word(p.Vangnet.GetVangnetType(), "PLAATSING_TYPE_")
	case *ledgerv1.Event_Uitstroom:
		return "reden " + word(p.Uitstroom.GetReden(), "UITSTROOM_REDEN_")
	case *ledgerv1.Event_Verhuizing:
		return "van " + p.Verhuizing.GetVanGemeente() + " naar " + p.Verhuizing.GetNaarGemeente()
	case *ledgerv1.Event_Correctie:
		return "corrigeert " + short(p.Correctie.GetCorrigeert()) + ": " + p.Correctie.GetReden()
	case *ledgerv1.Event_Uren:
		u := p.Uren
		return fmt.Sprintf("%s uur %s van %s", hours(int64(u.GetMinuten())), u.GetProduct(), event.FormatDate(u.GetVan()))
	case *ledgerv1.Event_Vergeten:
		return "persoonsgegevens vergeten"
	}
	return ""
}

// hours writes minutes as hours with a decimal comma.
func hours(min int64) string {
	if min%60 == 0 {
		return strconv.FormatInt(min/60, 10)
	}
	return strings.ReplaceAll(strconv.FormatFloat(float64(min)/60, 'f', 2, 64), ".", ",")
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// regionRow is one gemeente in the regional caseload.
type regionRow struct {
	Code, Naam  string
	Actief      int64
	PerToestand map[string]int64
	Positie     string
	Fout        string
}

// regionPage shows every participant's caseload side by side: the
// centrumgemeente's overview.
func (s *Server) regionPage(v *visit) {
	g, err := call(v, s.client.ListGemeenten, &ledgerv1.ListGemeentenRequest{})
	if err != nil {
		s.fail(v, "Regionale caseload", err)
		return
	}
	var rows []regionRow
	var total int64
	states := []ledgerv1.Toestand{ledgerv1.Toestand_TOESTAND_AANGEMELD, ledgerv1.Toestand_TOESTAND_IN_TRAJECT, ledgerv1.Toestand_TOESTAND_GEPLAATST,
		ledgerv1.Toestand_TOESTAND_VANGNET, ledgerv1.Toestand_TOESTAND_UITGEVALLEN}
	var names []string
	for _, t := range states {
		names = append(names, caseflow.ToestandNaam(t))
	}
	var cert *ledgerv1.Certificaat
	for _, gm := range g.GetGemeenten() {
		row := regionRow{Code: gm.GetCode(), Naam: gm.GetNaam(), PerToestand: map[string]int64{}}
		view, err := call(v, s.client.GetView, &ledgerv1.GetViewRequest{Gemeente: gm.GetCode()})
		if err != nil {
			row.Fout = refusal(err).Reden
		} else {
			row.Actief = view.GetView().GetActief()
			total += row.Actief
			for _, c := range view.GetView().GetPerToestand() {
				row.PerToestand[caseflow.ToestandNaam(c.GetToestand())] = c.GetAantal()
			}
			row.Positie = view.GetCertificaat().GetPositie()
			cert = view.GetCertificaat()
		}
		rows = append(rows, row)
	}
	s.render(v.w, v.r, v.sess, http.StatusOK, "regio", "Regionale caseload", map[string]any{"Rijen": rows, "Toestanden": names, "Totaal": total, "Certificaat": cert})
}

func locationOf() *time.Location { return clockLocation }

// enumChoice is one value of a select.
type enumChoice struct{ Waarde, Label string }

func sortedCodes(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
