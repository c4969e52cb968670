package gemeente

import (
	"errors"
	"strings"
	"testing"

	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

func TestDeployDataFile(t *testing.T) {
	r, err := Load("../../deploy/gemeenten.json")
	if err != nil {
		t.Fatal(err)
	}
	if r.Centrum() != "GM0402" {
		t.Errorf("centrum %q", r.Centrum())
	}
	for _, code := range []string{"GM0402", "GM1942", "GM0406", "GM0376", "GM0417", "GM1696", "GM0317", "GM0034"} {
		if err := r.CheckParticipates(code, event.YMD(2026, 6, 1)); err != nil {
			t.Errorf("%s: %v", code, err)
		}
	}
	// Wijdemeren joins Hilversum on 1 January 2027; Weesp left in 2022.
	if err := r.CheckParticipates("GM1696", event.YMD(2027, 1, 1)); !errors.Is(err, ErrNotParticipating) {
		t.Errorf("Wijdemeren in 2027: %v", err)
	}
	if g, _ := r.Lookup("GM1696"); g.Opvolger != "GM0402" {
		t.Errorf("Wijdemeren's successor %q", g.Opvolger)
	}
	if err := r.CheckParticipates("GM0457", event.YMD(2023, 1, 1)); !errors.Is(err, ErrNotParticipating) {
		t.Errorf("Weesp in 2023: %v", err)
	}
	if err := r.CheckParticipates("GM9999", event.YMD(2026, 1, 1)); !errors.Is(err, ErrUnknownGemeente) {
		t.Errorf("unknown: %v", err)
	}
	g, _ := r.Lookup("GM0402")
	if n, ok := g.InwonersOp(2030); !ok || n != g.Inwoners[2027] {
		t.Errorf("inhabitants in 2030: %d, want the latest year on file", n)
	}
	// The 2027 verdeelsleutel weighs Hilversum with Wijdemeren's
	// inhabitants: the data file must say so.
	w, _ := r.Lookup("GM1696")
	if g.Inwoners[2027] < g.Inwoners[2026]+w.Inwoners[2026]*9/10 {
		t.Errorf("Hilversum 2027 has %d inhabitants; with Wijdemeren it should be about %d", g.Inwoners[2027], g.Inwoners[2026]+w.Inwoners[2026])
	}
	if h, ok := r.HerindelingVan("GM1696"); !ok || h.Naar != "GM0402" || h.Buiten || event.FormatDate(h.Op) != "2027-01-01" {
		t.Errorf("Wijdemeren's herindeling: %+v", h)
	}
	if h, ok := r.HerindelingVan("GM0457"); !ok || !h.Buiten {
		t.Errorf("Weesp's herindeling into Amsterdam, outside the arrangement: %+v", h)
	}
}

func TestParseRefuses(t *testing.T) {
	cases := map[string]string{
		"bad code":     `{"gemeenten":[{"code":"0402","naam":"X"}]}`,
		"no name":      `{"gemeenten":[{"code":"GM0402"}]}`,
		"duplicate":    `{"gemeenten":[{"code":"GM0402","naam":"X"},{"code":"GM0402","naam":"Y"}]}`,
		"period":       `{"gemeenten":[{"code":"GM0402","naam":"X","geldig_van":"2020-01-01","geldig_tot":"2019-01-01"}]}`,
		"bad date":     `{"gemeenten":[{"code":"GM0402","naam":"X","geldig_van":"2020-13-01"}]}`,
		"bad centrum":  `{"centrum":"GM0001","gemeenten":[{"code":"GM0402","naam":"X"}]}`,
		"bad inwoners": `{"gemeenten":[{"code":"GM0402","naam":"X","inwoners":{"twee":1}}]}`,
		"not json":     `gemeenten`,
	}
	for name, data := range cases {
		if _, err := Parse(strings.NewReader(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDrager(t *testing.T) {
	r, err := Parse(strings.NewReader(`{"gemeenten":[
		{"code":"GM0001","naam":"Een","geldig_van":"2015-01-01","geldig_tot":"2027-01-01","opvolger":"GM0002"},
		{"code":"GM0002","naam":"Twee","geldig_van":"2015-01-01","geldig_tot":"2029-01-01","opvolger":"GM0003"},
		{"code":"GM0003","naam":"Drie","geldig_van":"2015-01-01"},
		{"code":"GM0004","naam":"Vier","geldig_van":"2015-01-01","geldig_tot":"2022-03-24","opvolger":"GM0363"},
		{"code":"GM0005","naam":"Vijf","geldig_van":"2028-01-01"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code, day, want string
		ended           bool
	}{
		{"GM0001", "2026-12-31", "GM0001", false},
		{"GM0001", "2027-01-01", "GM0002", false},
		{"GM0001", "2029-01-01", "GM0003", false}, // a chain
		{"GM0002", "2028-12-31", "GM0002", false},
		{"GM0004", "2022-03-23", "GM0004", false},
		{"GM0004", "2022-03-24", "", true}, // into a gemeente outside the arrangement
		{"GM0003", "2040-01-01", "GM0003", false},
	} {
		got, h := r.Drager(tc.code, mustDate(t, tc.day))
		if got != tc.want || (h != nil) != tc.ended || (h != nil && !h.Buiten) {
			t.Errorf("Drager(%s, %s) = %q, %+v; want %q, ended %v", tc.code, tc.day, got, h, tc.want, tc.ended)
		}
	}
	if a := r.Archieven("GM0002", mustDate(t, "2026-12-31")); len(a) != 0 {
		t.Errorf("archives before the date: %+v", a)
	}
	if a := r.Archieven("GM0003", mustDate(t, "2029-01-01")); len(a) != 2 {
		t.Errorf("GM0003 keeps %+v, want GM0001 and GM0002", a)
	}
	// A gemeente that joins later can not be used before it does.
	if err := r.CheckParticipates("GM0005", mustDate(t, "2027-06-01")); !errors.Is(err, ErrNotParticipating) {
		t.Errorf("GM0005 before joining: %v", err)
	}
}

func TestParseRefusesBadSuccessors(t *testing.T) {
	cases := map[string]string{
		"no end":   `{"gemeenten":[{"code":"GM0001","naam":"X","opvolger":"GM0002"},{"code":"GM0002","naam":"Y"}]}`,
		"itself":   `{"gemeenten":[{"code":"GM0001","naam":"X","geldig_tot":"2027-01-01","opvolger":"GM0001"}]}`,
		"backward": `{"gemeenten":[{"code":"GM0001","naam":"X","geldig_tot":"2027-01-01","opvolger":"GM0002"},{"code":"GM0002","naam":"Y","geldig_tot":"2026-01-01","opvolger":"GM0001"}]}`,
	}
	for name, data := range cases {
		if _, err := Parse(strings.NewReader(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func mustDate(t *testing.T, s string) *ledgerv1.Date {
	t.Helper()
	d, err := event.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
