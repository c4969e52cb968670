package beleidsview

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/projections/region"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

func TestDateOf(t *testing.T) {
	for d := region.YMD(1899, 12, 1); d < region.YMD(2101, 3, 1); d++ {
		if got, want := dateOf(d), d.Date(); !proto.Equal(got, want) {
			t.Fatalf("dateOf(%s) = %v, want %v", d, got, want)
		}
	}
}

// The words are the command line's (cmd/ledger/enums.go): the enum value
// without its prefix, lower case, '-' between words.
func TestWords(t *testing.T) {
	tests := []struct{ got, want string }{
		{TredeWord(ledgerv1.Trede_TREDE_DIRECT_BEMIDDELBAAR), "direct-bemiddelbaar"},
		{TredeWord(ledgerv1.Trede_TREDE_UNSPECIFIED), "onbekend"},
		{DoelgroepWord(ledgerv1.Doelgroep_DOELGROEP_BESCHUT_WERK), "beschut-werk"},
		{DoelgroepWord(ledgerv1.Doelgroep(99)), "99"},
		{TypeWord(ledgerv1.PlaatsingType_PLAATSING_TYPE_LKS_BAAN), "lks-baan"},
		{UitstroomReden(ledgerv1.UitstroomReden_UITSTROOM_REDEN_REGULIER_WERK), "regulier-werk"},
		{UitstroomReden(ledgerv1.UitstroomReden_UITSTROOM_REDEN_UNSPECIFIED), "onbekend"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
