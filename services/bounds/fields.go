package bounds

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Kind is what a string field may hold.
type Kind int

const (
	// Text is one line for a person to read: any letters, no control
	// characters.
	Text Kind = iota
	// Code is an identifier: ASCII letters, digits and - _ . : /.
	Code
	// UUID is a case or event id in its canonical form.
	UUID
	// Gemeente is a CBS gemeentecode, GM and four digits.
	Gemeente
	// Digits is a number written as text (a BSN).
	Digits
	// Number is an integer field: Min and Max apply.
	Number
	// Bytes is opaque data: Max bytes.
	Bytes
	// List is a repeated field: MaxItems applies.
	List
)

func (k Kind) String() string {
	return [...]string{"tekst", "code", "uuid", "gemeentecode", "cijfers", "getal", "bytes", "lijst"}[k]
}

// Bound is the limit of one field.
type Bound struct {
	Kind Kind
	// Min and Max: the range of a number; Max is also the most characters
	// of a string and the most bytes of Bytes.
	Min, Max int64
	// ZeroMeans, for a number that may be left out: what 0 stands for.
	ZeroMeans string
	// MaxItems bounds a repeated field.
	MaxItems int
	// CheckedByCaller: the elements of this repeated field are checked one
	// by one by the code that handles them (an import line is refused on
	// its own, not the whole call).
	CheckedByCaller bool
	// Why, in Dutch, shown in the refusal and in the table of bounds.
	Why string
}

// Limits shared by several fields.
const (
	// MaxCent is the largest amount anywhere in the ledger: €100 billion,
	// far above any real tariff, budget or booking, and far enough below
	// the int64 limit that sums of many lines cannot overflow.
	MaxCent     = 10_000_000_000_000
	maxText     = 2000
	maxLine     = 200
	maxCode     = 64
	maxRevision = 1 << 40
)

var (
	uuidBound     = Bound{Kind: UUID, Max: 36, Why: "een UUID"}
	gemeenteBound = Bound{Kind: Gemeente, Max: 6, Why: "een CBS-gemeentecode"}
	actorBound    = Bound{Kind: Text, Max: 100, Why: "naam of id van de medewerker"}
	toelichting   = Bound{Kind: Text, Max: maxText, Why: "een toelichting van hooguit een alinea"}
	productBound  = Bound{Kind: Code, Max: maxCode, Why: "een productcode uit het beleid"}
	residentBound = Bound{Kind: Code, Max: maxCode, Why: "een pseudoniem of client-id, nooit een naam of BSN"}
	loonwaarde    = Bound{Kind: Number, Min: 0, Max: 100, Why: "een percentage"}
	yearBound     = Bound{Kind: Number, Min: 2000, Max: 2999, Why: "een kalenderjaar"}
	yearOrNow     = Bound{Kind: Number, Min: 2000, Max: 2999, ZeroMeans: "het lopende jaar", Why: "een kalenderjaar"}
	positieBound  = Bound{Kind: Code, Max: 41, Why: "een store-positie als commit/prepare, zoals een opdracht die teruggeeft"}
	amountBound   = Bound{Kind: Number, Min: 0, Max: MaxCent, Why: "eurocent, tot € 100 miljard"}
	countBound    = Bound{Kind: Number, Min: 0, Max: 10_000_000, Why: "een aantal inwoners of plaatsingen"}
)

// Fields is the bound of every scalar and repeated field the API takes,
// by its full protobuf name. Enums are bounded by their declared values,
// dates by the calendar (1900–2999), booleans need none.
// TestEveryFieldBounded fails when a field of a request has no entry, and
// `make test` checks that docs/bounds.md is this table.
var Fields = map[protoreflect.FullName]Bound{
	"ledger.v1.Date.year":  {Kind: Number, Min: 1900, Max: 2999, Why: "een datum in de geschiedenis of toekomst van de regeling"},
	"ledger.v1.Date.month": {Kind: Number, Min: 1, Max: 12, Why: "een maand"},
	"ledger.v1.Date.day":   {Kind: Number, Min: 1, Max: 31, Why: "een dag van de maand (en een echte kalenderdatum)"},

	"ledger.v1.RecordRequest.case_id":           uuidBound,
	"ledger.v1.RecordRequest.gemeente":          gemeenteBound,
	"ledger.v1.RecordRequest.actor":             actorBound,
	"ledger.v1.RecordRequest.expected_revision": {Kind: Number, Min: 0, Max: maxRevision, Why: "een revisie van de zaak"},
	"ledger.v1.RecordRequest.bsn":               {Kind: Digits, Max: 9, Why: "een BSN van negen cijfers"},
	"ledger.v1.RecordRequest.event_id":          uuidBound,
	"ledger.v1.RecordRequest.naam":              {Kind: Text, Max: maxLine, Why: "de naam van de inwoner (wordt versleuteld)"},

	"ledger.v1.FindCasesRequest.bsn":              {Kind: Digits, Max: 9, Why: "een BSN van negen cijfers"},
	"ledger.v1.FindCasesRequest.resident_id":      residentBound,
	"ledger.v1.FindCasesRequest.na_positie":       positieBound,
	"ledger.v1.RunRetentionRequest.na_positie":    positieBound,
	"ledger.v1.ReadEventsRequest.begin_na":        positieBound,
	"ledger.v1.ReadEventsRequest.tot_positie":     positieBound,
	"ledger.v1.ReadEventsRequest.max":             {Kind: Number, Min: 0, Max: 20000, ZeroMeans: "1000", Why: "gebeurtenissen per verzoek"},
	"ledger.v1.ReadEventsRequest.gemeente":        gemeenteBound,
	"ledger.v1.RecordRapportageRequest.gemeente":  gemeenteBound,
	"ledger.v1.RecordRapportageRequest.event_id":  uuidBound,
	"ledger.v1.Rapportage.soort":                  {Kind: Code, Max: 16, Why: "de soort rapportage (kosten, srg)"},
	"ledger.v1.Rapportage.half":                   {Kind: Number, Min: 0, Max: 2, ZeroMeans: "geen (kosten)", Why: "het halfjaar van een SRG-telling"},
	"ledger.v1.Rapportage.jaar":                   yearBound,
	"ledger.v1.Rapportage.positie":                positieBound,
	"ledger.v1.Rapportage.sha256":                 {Kind: Bytes, Max: 32, Why: "de SHA-256 van het aangeleverde bestand"},
	"ledger.v1.Rapportage.regels":                 {Kind: Number, Min: 0, Max: 10_000_000, Why: "regels in het aangeleverde bestand"},
	"ledger.v1.ForgetResidentRequest.bsn":         {Kind: Digits, Max: 9, Why: "een BSN van negen cijfers"},
	"ledger.v1.ForgetResidentRequest.resident_id": residentBound,
	"ledger.v1.InzageRequest.bsn":                 {Kind: Digits, Max: 9, Why: "een BSN van negen cijfers"},
	"ledger.v1.InzageRequest.resident_id":         residentBound,

	"ledger.v1.Aanmelding.resident_id":                 residentBound,
	"ledger.v1.EncryptedPersonalData.key_id":           {Kind: Code, Max: maxCode, Why: "id van de sleutel"},
	"ledger.v1.EncryptedPersonalData.algorithm":        {Kind: Code, Max: 32, Why: "naam van het algoritme"},
	"ledger.v1.EncryptedPersonalData.nonce":            {Kind: Bytes, Max: 64, Why: "een nonce"},
	"ledger.v1.EncryptedPersonalData.ciphertext":       {Kind: Bytes, Max: 16 << 10, Why: "versleutelde persoonsgegevens"},
	"ledger.v1.Intake.loonwaarde_procent":              loonwaarde,
	"ledger.v1.Intake.doel":                            toelichting,
	"ledger.v1.Plaatsing.werkgever":                    {Kind: Text, Max: maxLine, Why: "naam van de werkgever of werkplek"},
	"ledger.v1.Plaatsing.werkgever_kvk":                {Kind: Digits, Max: 8, Why: "KvK-nummer van de werkgever, 8 cijfers"},
	"ledger.v1.Plaatsing.minuten_per_week":             {Kind: Number, Min: 0, Max: 80 * 60, Why: "hooguit 80 uur per week"},
	"ledger.v1.Plaatsing.loonwaarde_procent":           loonwaarde,
	"ledger.v1.Plaatsing.lks_cent_per_maand":           {Kind: Number, Min: 0, Max: 1_000_000, Why: "loonkostensubsidie per maand in eurocent, tot € 10.000"},
	"ledger.v1.Plaatsing.product":                      productBound,
	"ledger.v1.Plaatsing.reden_langer":                 toelichting,
	"ledger.v1.Uitval.toelichting":                     toelichting,
	"ledger.v1.TerugvalOpVangnet.van_plaatsing":        uuidBound,
	"ledger.v1.TerugvalOpVangnet.toelichting":          toelichting,
	"ledger.v1.Uitstroom.toelichting":                  toelichting,
	"ledger.v1.Verhuizing.van_gemeente":                gemeenteBound,
	"ledger.v1.Verhuizing.naar_gemeente":               gemeenteBound,
	"ledger.v1.CaseSnapshot.resident_id":               residentBound,
	"ledger.v1.CaseSnapshot.loonwaarde_procent":        loonwaarde,
	"ledger.v1.CaseSnapshot.plaatsing":                 uuidBound,
	"ledger.v1.Correctie.corrigeert":                   uuidBound,
	"ledger.v1.Correctie.reden":                        toelichting,
	"ledger.v1.Correctie.overdrachten":                 {Kind: List, MaxItems: 100, Why: "verhuizingen na het gecorrigeerde feit; de ledger vult ze zelf in"},
	"ledger.v1.Overdracht.verhuizing":                  uuidBound,
	"ledger.v1.Overdracht.naar_gemeente":               gemeenteBound,
	"ledger.v1.Uren.product":                           productBound,
	"ledger.v1.Uren.minuten":                           {Kind: Number, Min: 0, Max: 2080 * 60, Why: "hooguit 2.080 uur (een jaar voltijds) in één opgave"},
	"ledger.v1.GetCaseRequest.case_id":                 uuidBound,
	"ledger.v1.ListCasesRequest.gemeente":              gemeenteBound,
	"ledger.v1.GetViewRequest.gemeente":                gemeenteBound,
	"ledger.v1.RecordBeleidRequest.gemeente":           gemeenteBound,
	"ledger.v1.RecordBeleidRequest.actor":              actorBound,
	"ledger.v1.RecordBeleidRequest.event_id":           uuidBound,
	"ledger.v1.RecordBeleidRequest.expected_versie":    {Kind: Number, Min: 0, Max: maxRevision, Why: "een aantal beleidsversies"},
	"ledger.v1.Beleid.producten":                       {Kind: List, MaxItems: 100, Why: "producten in één beleidsversie"},
	"ledger.v1.ProductTarief.product":                  productBound,
	"ledger.v1.ProductTarief.cent_per_jaar":            amountBound,
	"ledger.v1.ProductTarief.cent_per_uur":             amountBound,
	"ledger.v1.Beleid.budgetten":                       {Kind: List, MaxItems: 100, Why: "budgetten in één beleidsversie"},
	"ledger.v1.Budget.jaar":                            yearBound,
	"ledger.v1.Budget.cent":                            amountBound,
	"ledger.v1.Beleid.lks_norm":                        {Kind: Number, Min: 0, Max: 1_000_000, Why: "een aantal plaatsingen"},
	"ledger.v1.Beleid.wsw_cent_per_se":                 amountBound,
	"ledger.v1.Beleid.terugkeer_maanden":               {Kind: Number, Min: 0, Max: 120, ZeroMeans: "geen terugkeer", Why: "maanden na uitstroom naar regulier werk"},
	"ledger.v1.Beleid.toelichting":                     toelichting,
	"ledger.v1.Nacalculatie.reden":                     toelichting,
	"ledger.v1.Nacalculatie.besluit":                   {Kind: Text, Max: maxLine, Why: "kenmerk van het besluit"},
	"ledger.v1.GetBeleidRequest.gemeente":              gemeenteBound,
	"ledger.v1.RecordRegioRequest.actor":               actorBound,
	"ledger.v1.RecordRegioRequest.event_id":            uuidBound,
	"ledger.v1.Verdeelsleutel.jaar":                    yearBound,
	"ledger.v1.Verdeelsleutel.toelichting":             toelichting,
	"ledger.v1.GedeeldeKosten.cent":                    amountBound,
	"ledger.v1.GedeeldeKosten.omschrijving":            toelichting,
	"ledger.v1.Inkomsten.gemeente":                     gemeenteBound,
	"ledger.v1.Inkomsten.jaar":                         yearBound,
	"ledger.v1.Inkomsten.cent":                         amountBound,
	"ledger.v1.Inkomsten.correctie_cent":               amountBound,
	"ledger.v1.Inkomsten.correctie_reden":              toelichting,
	"ledger.v1.Inkomsten.omschrijving":                 toelichting,
	"ledger.v1.Doelen.gemeente":                        gemeenteBound,
	"ledger.v1.Doelen.jaar":                            yearBound,
	"ledger.v1.Doelen.bijstand":                        countBound,
	"ledger.v1.Doelen.doelgroepregister":               countBound,
	"ledger.v1.Doelen.lks_norm_vijftig_procent":        countBound,
	"ledger.v1.Doelen.lks_norm_vijfenzeventig_procent": countBound,
	"ledger.v1.Doelen.taakstelling_beschut":            countBound,
	"ledger.v1.Doelen.toelichting":                     toelichting,
	"ledger.v1.Resultaatverdeling.jaar":                yearBound,
	"ledger.v1.Resultaatverdeling.stromen":             {Kind: List, MaxItems: 10, Why: "budgetstromen in één resultaatverdeling"},
	"ledger.v1.Resultaatverdeling.besluit":             toelichting,
	"ledger.v1.Resultaatverdeling.toelichting":         toelichting,
	"ledger.v1.GetBeleidsviewRequest.gemeente":         gemeenteBound,
	"ledger.v1.GetBeleidsviewRequest.jaar":             yearOrNow,
	"ledger.v1.GetBeleidsviewRequest.maand":            {Kind: Number, Min: 1, Max: 12, ZeroMeans: "het hele jaar", Why: "een maand"},
	"ledger.v1.ExportKostenRequest.gemeente":           gemeenteBound,
	"ledger.v1.ExportKostenRequest.jaar":               yearOrNow,
	"ledger.v1.ExportSrgRequest.gemeente":              gemeenteBound,
	"ledger.v1.ExportSrgRequest.half":                  {Kind: Code, Max: 6, Why: "een halfjaar als 2025H1 of 2025H2"},
	"ledger.v1.ImportRequest.systeem":                  {Kind: Code, Max: maxCode, Why: "naam van het bronsysteem"},
	"ledger.v1.ImportRequest.actor":                    actorBound,
	"ledger.v1.ImportRequest.eerste_regel":             {Kind: Number, Min: 0, Max: 1 << 40, Why: "een regelnummer"},
	"ledger.v1.ImportRequest.regels":                   {Kind: List, MaxItems: 5000, CheckedByCaller: true, Why: "regels in één verzoek; de CLI stuurt er standaard 5.000"},
	"ledger.v1.ImportRegel.bron":                       {Kind: Text, Max: maxLine, Why: "id van het record in het bronsysteem"},
	"ledger.v1.ImportRegel.zaak":                       {Kind: Text, Max: maxLine, Why: "id van de zaak in het bronsysteem"},
	"ledger.v1.GetViewRequest.na_positie":              positieBound,
	"ledger.v1.GetBeleidsviewRequest.na_positie":       positieBound,
	"ledger.v1.ListCasesRequest.na_positie":            positieBound,
	"ledger.v1.ExportKostenRequest.na_positie":         positieBound,
	"ledger.v1.ExportSrgRequest.na_positie":            positieBound,
}

// Markdown renders the table of bounds for docs/bounds.md, in field order.
func Markdown() string {
	names := make([]string, 0, len(Fields))
	for n := range Fields {
		names = append(names, string(n))
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("# Bounds of the API's fields\n\n")
	b.WriteString("Generated from `services/bounds/fields.go` (`go test ./services/bounds -update`); every request\n")
	b.WriteString("is checked against it before anything is decided. Enums take only their declared values,\n")
	b.WriteString("dates only calendar dates from 1900-01-01 to 2999-12-31, and a request with a field the API\n")
	b.WriteString("does not know is refused. Text holds no control characters (no newline, tab, NUL, ESC, bidi\n")
	b.WriteString("overrides); an empty string is an absent field.\n\n")
	b.WriteString("| field | kind | bound | why |\n| --- | --- | --- | --- |\n")
	for _, n := range names {
		f := Fields[protoreflect.FullName(n)]
		var lim string
		switch f.Kind {
		case Number:
			lim = fmt.Sprintf("%d – %d", f.Min, f.Max)
			if f.ZeroMeans != "" {
				lim += "; 0: " + f.ZeroMeans
			}
		case List:
			lim = fmt.Sprintf("≤ %d items", f.MaxItems)
		case Bytes:
			lim = fmt.Sprintf("≤ %d bytes", f.Max)
		default:
			lim = fmt.Sprintf("≤ %d characters", f.Max)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", strings.TrimPrefix(n, "ledger.v1."), f.Kind, lim, f.Why)
	}
	return b.String()
}
