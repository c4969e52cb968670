package beleidsview

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gooi-vechtstreek/ledger/projections/caseload"
	"github.com/gooi-vechtstreek/ledger/projections/region"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Keys a beleidsmedewerker reads besides the enum words.
const (
	// Onbekend is the key of an unspecified trede or doelgroep: a case
	// aangemeld but without intake has no trede yet.
	Onbekend = "onbekend"
	// SoortVangnet is the soort of every vangnet placement, whatever its
	// type: the resident fell back on the ontwikkelbedrijf's safety net.
	SoortVangnet = "vangnet"
	// Reasons of instroom and uitstroom other than an uitstroom reden; the
	// caseload view's words, so that both views say the same.
	RedenAanmelding        = caseload.RedenAanmelding
	RedenVerhuizing        = caseload.RedenVerhuizing
	RedenHerindeling       = caseload.RedenHerindeling
	RedenHerindelingBuiten = caseload.RedenHerindelingBuiten
	RedenTerugkeer         = caseload.RedenTerugkeer
)

// enumWord is the users' word of an enum value: the value name without its
// prefix, lower case, '-' between words (TREDE_DIRECT_BEMIDDELBAAR →
// direct-bemiddelbaar), the same words the command line accepts. An
// unspecified value is "onbekend"; a number the schema does not know (from
// a newer writer) is shown as the number, so that it is counted, not lost.
func enumWord(desc protoreflect.EnumDescriptor, prefix string, n protoreflect.EnumNumber) string {
	if n == 0 {
		return Onbekend
	}
	v := desc.Values().ByNumber(n)
	if v == nil {
		return fmt.Sprint(n)
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(string(v.Name()), prefix)), "_", "-")
}

var (
	tredeEnum     = ledgerv1.Trede(0).Descriptor()
	doelgroepEnum = ledgerv1.Doelgroep(0).Descriptor()
	typeEnum      = ledgerv1.PlaatsingType(0).Descriptor()
)

// TredeWord is the key of a trede ("beschut", "direct-bemiddelbaar").
func TredeWord(t ledgerv1.Trede) string {
	return enumWord(tredeEnum, "TREDE_", protoreflect.EnumNumber(t))
}

// DoelgroepWord is the key of a doelgroep ("bijstand", "beschut-werk").
func DoelgroepWord(d ledgerv1.Doelgroep) string {
	return enumWord(doelgroepEnum, "DOELGROEP_", protoreflect.EnumNumber(d))
}

// TypeWord is the word of a placement type ("beschut-werk", "lks-baan").
func TypeWord(t ledgerv1.PlaatsingType) string {
	return enumWord(typeEnum, "PLAATSING_TYPE_", protoreflect.EnumNumber(t))
}

// UitstroomReden is the key of an uitstroom reden, as the caseload view
// writes it ("regulier-werk").
func UitstroomReden(r ledgerv1.UitstroomReden) string { return caseload.UitstroomReden(r) }

// typeWords maps every placement type word to its type.
func typeWords() map[string]ledgerv1.PlaatsingType {
	out := map[string]ledgerv1.PlaatsingType{}
	vals := typeEnum.Values()
	for i := 0; i < vals.Len(); i++ {
		if n := vals.Get(i).Number(); n != 0 {
			t := ledgerv1.PlaatsingType(n)
			out[TypeWord(t)] = t
		}
	}
	return out
}

// enumTellingen turns counts by enum number into Tellingen in enum order,
// the unspecified value ("onbekend") last, zeros left out.
func enumTellingen(counts map[int32]int64, word func(int32) string) []*ledgerv1.Telling {
	keys := make([]int32, 0, len(counts))
	for k, n := range counts {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return enumLess(keys[i], keys[j]) })
	out := make([]*ledgerv1.Telling, len(keys))
	for i, k := range keys {
		out[i] = &ledgerv1.Telling{Sleutel: word(k), Aantal: counts[k]}
	}
	return out
}

// enumLess orders enum numbers ascending with 0 (unspecified) last.
func enumLess(a, b int32) bool {
	if (a == 0) != (b == 0) {
		return b == 0
	}
	return a < b
}

// wordTellingen turns counts by key into Tellingen in alphabetical order,
// zeros left out.
func wordTellingen(counts map[string]int64) []*ledgerv1.Telling {
	keys := make([]string, 0, len(counts))
	for k, n := range counts {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]*ledgerv1.Telling, len(keys))
	for i, k := range keys {
		out[i] = &ledgerv1.Telling{Sleutel: k, Aantal: counts[k]}
	}
	return out
}

// dateOf is d.Date() without going through time.Time: the loonwaarde
// development writes two dates per resident per period, and for a large
// caseload time's conversion showed in the profile. Howard Hinnant's
// civil_from_days (proleptic Gregorian), checked against region.Day.Date in
// the tests.
func dateOf(d region.Day) *ledgerv1.Date {
	z := int64(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	year := yoe + era*400
	if month <= 2 {
		year++
	}
	return &ledgerv1.Date{Year: int32(year), Month: int32(month), Day: int32(day)}
}
