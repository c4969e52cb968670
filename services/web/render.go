package web

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gooi-vechtstreek/ledger/services/access"
	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/export"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var clockLocation = clock.Location()

// pageNames are the templates in templates/, each a page in layout.html.
var pageNames = []string{"inloggen", "fout", "zaken", "zaak", "regio", "beleidsview", "beleid", "controle", "herleid"}

func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"euro":    euro,
		"datum":   event.FormatDate,
		"woord":   func(e protoreflect.Enum, prefix string) string { return word(e, prefix) },
		"kort":    short,
		"uren":    hours,
		"procent": func(f float64) string { return formatFloat(f, 1) + "%" },
		"komma":   func(f float64) string { return formatFloat(f, 1) },
		"se":      func(f float64) string { return formatFloat(f, 2) },
		"query":   urlQuery,
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		out[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}

// layout is what every page shows around its content.
type layout struct {
	Titel    string
	Wie      *ledgerv1.WhoAmIResponse
	CSRF     string
	Menu     []menuItem
	Positie  string // the store position the page's figures reflect
	Kop      string // the store's last position when the page was made
	Moment   string // when the page was made
	Vernieuw string // "auto": reload on new events; else offer it
	Data     map[string]any
}

type menuItem struct {
	Label, Href string
	Huidig      bool
}

// render writes page name with its data inside the layout. A page renders
// into a buffer first: a template error never leaves half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, sess *session, code int, name, title string, data map[string]any) {
	l := layout{Titel: title, Data: data, Moment: s.Clock.Now().In(clockLocation).Format("2006-01-02 15:04:05")}
	if data == nil {
		data = map[string]any{}
	}
	l.Data = data
	if sess != nil {
		l.Wie, l.CSRF, l.Menu = sess.who, sess.csrf, menu(sess.who, r.URL.Path)
		data["CSRF"] = sess.csrf
		if s.Head != nil {
			l.Kop, _ = s.Head(r.Context())
		}
	}
	if c, ok := data["Certificaat"].(*ledgerv1.Certificaat); ok && c != nil {
		l.Positie = c.GetPositie()
	}
	if p, ok := data["Positie"].(string); ok && p != "" {
		l.Positie = p
	}
	if a, ok := data["Vernieuw"].(string); ok {
		l.Vernieuw = a
	}
	var buf bytes.Buffer
	if err := s.pages[name].Execute(&buf, l); err != nil {
		s.log().Error("web: page failed", "page", name, "err", err)
		http.Error(w, "de pagina kon niet worden gemaakt; de beheerder vindt de oorzaak in het log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// menu is what a role can go to.
func menu(who *ledgerv1.WhoAmIResponse, path string) []menuItem {
	var items []menuItem
	switch access.Role(who.GetRol()) {
	case access.Centrum:
		items = []menuItem{{Label: "Zaken", Href: "/zaken"}, {Label: "Regionale caseload", Href: "/regio"}}
	case access.Gemeente:
		g := "/gemeente/" + who.GetGemeente()
		items = []menuItem{{Label: "Beleidsview", Href: g}, {Label: "Beleid", Href: g + "/beleid"}}
	case access.Auditor:
		items = []menuItem{{Label: "Controle", Href: "/controle"}, {Label: "Regionale caseload", Href: "/regio"}, {Label: "Zaken", Href: "/zaken"}}
	}
	for i := range items {
		items[i].Huidig = items[i].Href == path
	}
	return items
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// word is the ledger's word of an enum value (beschut-werk).
func word(e protoreflect.Enum, prefix string) string {
	if e.Number() == 0 {
		return "–"
	}
	return export.Word(e, prefix)
}

// enumChoices lists an enum's values without the unspecified zero, for a
// select.
func enumChoices(vals protoreflect.EnumValueDescriptors, prefix string) []enumChoice {
	var out []enumChoice
	for i := 0; i < vals.Len(); i++ {
		v := vals.Get(i)
		if v.Number() == 0 {
			continue
		}
		w := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(string(v.Name()), prefix)), "_", "-")
		out = append(out, enumChoice{Waarde: w, Label: strings.ReplaceAll(w, "-", " ")})
	}
	return out
}

// enumValue reads a word of enumChoices back; 0 (unspecified) when it is
// none, which the ledger then refuses with its own rule.
func enumValue(vals protoreflect.EnumValueDescriptors, prefix, w string) protoreflect.EnumNumber {
	v := vals.ByName(protoreflect.Name(prefix + strings.ToUpper(strings.ReplaceAll(w, "-", "_"))))
	if v == nil {
		return 0
	}
	return v.Number()
}

func hourProducts() []string {
	var out []string
	for _, p := range beleid.Products {
		if p.Eenheid == beleid.PerUur {
			out = append(out, p.Code)
		}
	}
	return out
}

// euro writes cents as "€ 1.234,56".
func euro(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "−", -cents
	}
	whole := cents / 100
	s := []byte{}
	digits := []byte(itoa(whole))
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			s = append(s, '.')
		}
		s = append(s, d)
	}
	return sign + "€ " + string(s) + "," + pad2(cents%100)
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}
