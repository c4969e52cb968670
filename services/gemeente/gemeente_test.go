package gemeente

import (
	"errors"
	"strings"
	"testing"

	"github.com/gooi-vechtstreek/ledger/services/event"
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
	if n, ok := g.InwonersOp(2030); !ok || n != g.Inwoners[2026] {
		t.Errorf("inhabitants in 2030: %d, want the latest year on file", n)
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
