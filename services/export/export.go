// Package export writes the files a gemeente receives: the cost lines of a
// year and the SRG counts of a half year, as CSV. The command line and the
// web pages write them with the same code, so that a download is byte for
// byte the file `ledger export` writes, and `ledger audit replay` makes
// again.
package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// CostHeader is the header of the cost file: the column names a gemeente's
// financial system maps once and relies on.
var CostHeader = []string{"soort", "gemeente", "maand", "zaak", "plaatsing", "product", "budgetstroom", "taakveld",
	"beleidsversie", "beleid_event", "van", "tot_en_met", "dagen", "minuten", "tarief_cent", "bedrag_cent", "bedrag_euro",
	"boeking", "verdeelsleutel", "methode", "gewicht", "totaal_gewicht", "events", "opmerking"}

// WriteCosts writes cost lines (';' separated, UTF-8) and returns their
// total in cents.
func WriteCosts(out io.Writer, regels []*ledgerv1.Kostenregel) (int64, error) {
	w := csv.NewWriter(out)
	w.Comma = ';'
	if err := w.Write(CostHeader); err != nil {
		return 0, err
	}
	var total int64
	for _, r := range regels {
		total += r.GetBedragCent()
		if err := w.Write(CostRow(r)); err != nil {
			return 0, err
		}
	}
	w.Flush()
	return total, w.Error()
}

// CostRow is one cost line as the file has it, in CostHeader's order: also
// what `ledger audit verschil` compares, so that a difference it shows is a
// difference in the file.
func CostRow(r *ledgerv1.Kostenregel) []string {
	method := ""
	if m := r.GetMethode(); m != 0 {
		method = Word(m, "VERDEELMETHODE_")
	}
	return []string{r.GetSoort(), r.GetGemeente(), r.GetMaand(), r.GetZaak(), r.GetPlaatsing(), r.GetProduct(),
		Word(r.GetBudgetstroom(), "BUDGETSTROOM_"), r.GetTaakveld(), r.GetBeleidsversie(), r.GetBeleidEvent(),
		event.FormatDate(r.GetVan()), event.FormatDate(r.GetTotEnMet()), itoa(r.GetDagen()), itoa(r.GetMinuten()),
		itoa(r.GetTariefCent()), itoa(r.GetBedragCent()), Euro(r.GetBedragCent()),
		r.GetBoeking(), r.GetVerdeelsleutel(), method, itoa(r.GetGewicht()), itoa(r.GetTotaalGewicht()),
		strings.Join(r.GetEvents(), " "), r.GetOpmerking()}
}

// SRGHeader is the header of the SRG file.
var SRGHeader = []string{"code", "omschrijving", "gestart", "beeindigd", "lopend"}

// WriteSRG writes SRG counts (';' separated).
func WriteSRG(out io.Writer, tellingen []*ledgerv1.SrgTelling) error {
	w := csv.NewWriter(out)
	w.Comma = ';'
	if err := w.Write(SRGHeader); err != nil {
		return err
	}
	for _, t := range tellingen {
		if err := w.Write(SRGRow(t)); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// SRGRow is one SRG count as the file has it.
func SRGRow(t *ledgerv1.SrgTelling) []string {
	return []string{t.GetCode(), t.GetOmschrijving(), itoa(t.GetGestart()), itoa(t.GetBeeindigd()), itoa(t.GetLopend())}
}

// Word is the word of an enum value in files and on the command line: its
// name without the prefix, lower case, '-' between words
// (PLAATSING_TYPE_BESCHUT_WERK → beschut-werk). A number the enum does not
// know is written as the number.
func Word(e protoreflect.Enum, prefix string) string {
	v := e.Descriptor().Values().ByNumber(e.Number())
	if v == nil {
		return fmt.Sprint(int32(e.Number()))
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(string(v.Name()), prefix)), "_", "-")
}

// Euro writes cents as "1234,56".
func Euro(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d,%02d", sign, cents/100, cents%100)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
