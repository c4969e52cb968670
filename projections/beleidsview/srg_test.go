package beleidsview

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

func TestLoadSRGDeployed(t *testing.T) {
	m, err := LoadSRG("../../deploy/srg.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Toelichting, "CONTROLEER DE CODES") {
		t.Error("the toelichting must say that the codes are to be checked against CBS's list")
	}
	if _, ok := m.byType[ledgerv1.PlaatsingType_PLAATSING_TYPE_WSW_DIENSTVERBAND]; ok {
		t.Error("a Wsw-dienstverband is not an SRG voorziening")
	}
	for _, v := range m.Voorzieningen {
		if v.Bron == "" {
			t.Errorf("voorziening %s does not say where its code comes from", v.Code)
		}
	}
	if _, err := LoadSRG("does-not-exist.json"); err == nil {
		t.Error("a missing file loads")
	}
}

func TestParseSRGRefuses(t *testing.T) {
	tests := []struct {
		name, json, mentions string
	}{
		{"unknown placement type", `{"voorzieningen": [{"code": "21", "omschrijving": "LKS", "plaatsingstypen": ["lks"]}]}`, `"lks"`},
		{"type mapped twice", `{"voorzieningen": [{"code": "21", "omschrijving": "LKS", "plaatsingstypen": ["lks-baan"]}, {"code": "22", "omschrijving": "BW", "plaatsingstypen": ["beschut-werk", "lks-baan"]}]}`, "lks-baan"},
		{"type twice in one", `{"voorzieningen": [{"code": "21", "omschrijving": "LKS", "plaatsingstypen": ["lks-baan", "lks-baan"]}]}`, "lks-baan"},
		{"vangnet twice", `{"voorzieningen": [{"code": "21", "omschrijving": "A", "plaatsingstypen": ["vangnet"]}, {"code": "22", "omschrijving": "B", "plaatsingstypen": ["vangnet"]}]}`, "vangnet"},
		{"code twice", `{"voorzieningen": [{"code": "21", "omschrijving": "A", "plaatsingstypen": ["lks-baan"]}, {"code": "21", "omschrijving": "B", "plaatsingstypen": ["beschut-werk"]}]}`, "21"},
		{"no code", `{"voorzieningen": [{"omschrijving": "A", "plaatsingstypen": ["lks-baan"]}]}`, "code"},
		{"no omschrijving", `{"voorzieningen": [{"code": "21", "plaatsingstypen": ["lks-baan"]}]}`, "omschrijving"},
		{"misspelt key", `{"voorzieningen": [{"code": "21", "omschrijving": "A", "plaatsingstype": ["lks-baan"]}]}`, "plaatsingstype"},
		{"no voorzieningen", `{"toelichting": "leeg"}`, "geen voorzieningen"},
		{"not JSON", `voorzieningen`, "invalid"},
		{"two objects", `{"voorzieningen": [{"code": "21", "omschrijving": "A", "plaatsingstypen": ["lks-baan"]}]} {}`, "meer dan één"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSRG(strings.NewReader(tc.json))
			if !errors.Is(err, ErrSRGMapping) {
				t.Fatalf("err %v, want %v", err, ErrSRGMapping)
			}
			if !strings.Contains(err.Error(), tc.mentions) {
				t.Errorf("error %q does not mention %q", err, tc.mentions)
			}
		})
	}
}

func TestParseHalf(t *testing.T) {
	tests := []struct {
		in         string
		year, half int
		ok         bool
	}{
		{"2025H1", 2025, 1, true},
		{"2025H2", 2025, 2, true},
		{"2025h2", 2025, 2, true},
		{"2025H3", 0, 0, false},
		{"2025-H1", 0, 0, false},
		{"25H1", 0, 0, false},
		{"2025", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tc := range tests {
		y, h, err := ParseHalf(tc.in)
		if (err == nil) != tc.ok || y != tc.year || h != tc.half {
			t.Errorf("ParseHalf(%q) = %d, %d, %v", tc.in, y, h, err)
		}
		if err != nil && (!errors.Is(err, ErrPeriode) || !strings.Contains(err.Error(), "2025H1")) {
			t.Errorf("ParseHalf(%q): error %q should show the form", tc.in, err)
		}
	}
}

func TestSRGCounts(t *testing.T) {
	h := newHist(t)
	start := func(resident string, d0 int) *kase {
		return h.aanmelding("GM0402", resident, day(2024, 10, d0), bijstand).intake(day(2024, 10, d0+1), ontwikkel, 40)
	}
	start("A", 1).plaatsing(day(2025, 2, 1), lksBaan, 0).uitval(day(2025, 9, 1))
	start("B", 2).plaatsing(day(2024, 11, 1), beschutWerk, 0)
	start("C", 3).plaatsing(day(2025, 3, 1), wep, 0).verhuizing(day(2025, 5, 1), "GM1942").uitstroom(day(2025, 8, 1), regulier)
	start("D", 4).plaatsing(day(2025, 1, 15), ledgerv1.PlaatsingType_PLAATSING_TYPE_WSW_DIENSTVERBAND, 0)
	start("E", 5).plaatsing(day(2025, 4, 1), wep, 0).vangnet(day(2025, 6, 30), dagbest)
	// Ended by an uitval on 1 July: active on 30 June, ended in H2.
	start("F", 6).plaatsing(day(2025, 3, 1), detachering, 0).uitval(day(2025, 7, 1))

	byType := []SRGVoorziening{
		{Code: "LKS", Omschrijving: "loonkostensubsidie", Plaatsingstypen: []string{"lks-baan"}},
		{Code: "BW", Omschrijving: "beschut werk", Plaatsingstypen: []string{"beschut-werk"}},
		{Code: "DET", Omschrijving: "detachering", Plaatsingstypen: []string{"detachering"}},
		{Code: "WEP", Omschrijving: "werkervaringsplek", Plaatsingstypen: []string{"werkervaringsplek"}},
		{Code: "DAG", Omschrijving: "dagbesteding", Plaatsingstypen: []string{"dagbesteding"}},
	}
	withVangnet := append(append([]SRGVoorziening(nil), byType...), SRGVoorziening{Code: "VN", Omschrijving: "vangnet", Plaatsingstypen: []string{"vangnet"}})
	plain, err := NewSRGMapping("test", byType)
	if err != nil {
		t.Fatal(err)
	}
	vangnet, err := NewSRGMapping("test", withVangnet)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		mapping SRGMapping
		gm      string
		half    string
		want    string // code gestart/beeindigd/lopend
	}{
		// C started in Hilversum and moved: Hilversum's start, Gooise
		// Meren's lopend and end. D (Wsw) is not an SRG voorziening. E's
		// vangnet place counts by its type.
		{"Hilversum H1", plain, "GM0402", "2025H1", "LKS 1/0/1 BW 0/0/1 DET 1/0/1 WEP 2/1/0 DAG 1/0/1"},
		{"Hilversum H2", plain, "GM0402", "2025H2", "LKS 0/1/0 BW 0/0/1 DET 0/1/0 WEP 0/0/0 DAG 0/0/1"},
		{"Gooise Meren H1", plain, "GM1942", "2025H1", "LKS 0/0/0 BW 0/0/0 DET 0/0/0 WEP 0/0/1 DAG 0/0/0"},
		{"Gooise Meren H2", plain, "GM1942", "2025H2", "LKS 0/0/0 BW 0/0/0 DET 0/0/0 WEP 0/1/0 DAG 0/0/0"},
		{"vangnet mapped on its own", vangnet, "GM0402", "2025H1", "LKS 1/0/1 BW 0/0/1 DET 1/0/1 WEP 2/1/0 DAG 0/0/0 VN 1/0/1"},
		{"before anything", plain, "GM0402", "2024H1", "LKS 0/0/0 BW 0/0/0 DET 0/0/0 WEP 0/0/0 DAG 0/0/0"},
	}
	reg := registry(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y, half, err := ParseHalf(tc.half)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := SRG(h.m, reg, tc.mapping, tc.gm, y, half)
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, x := range ts {
				parts = append(parts, fmt.Sprintf("%s %d/%d/%d", x.GetCode(), x.GetGestart(), x.GetBeeindigd(), x.GetLopend()))
			}
			if got := strings.Join(parts, " "); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	if _, err := SRG(h.m, reg, plain, "GM0402", 2025, 3); !errors.Is(err, ErrPeriode) {
		t.Errorf("half 3: %v", err)
	}
	if _, err := SRG(h.m, reg, SRGMapping{}, "GM0402", 2025, 1); !errors.Is(err, ErrSRGMapping) {
		t.Errorf("unloaded mapping: %v", err)
	}
	if _, err := SRG(h.m, reg, plain, "GM9999", 2025, 1); err == nil {
		t.Error("unknown gemeente counted")
	}
}
