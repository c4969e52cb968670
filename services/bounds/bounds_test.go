package bounds_test

import (
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/gooi-vechtstreek/ledger/services/bounds"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var update = flag.Bool("update", false, "rewrite docs/bounds.md")

// requestMessages are every message a request of the service may hold.
func requestMessages() []protoreflect.MessageDescriptor {
	sd := ledgerv1.File_ledger_v1_api_proto.Services().Get(0)
	seen := map[protoreflect.FullName]bool{}
	var out []protoreflect.MessageDescriptor
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] {
			return
		}
		seen[md.FullName()] = true
		out = append(out, md)
		for i := range md.Fields().Len() {
			if f := md.Fields().Get(i); f.Message() != nil {
				walk(f.Message())
			}
		}
	}
	for i := range sd.Methods().Len() {
		walk(sd.Methods().Get(i).Input())
	}
	return out
}

func TestEveryFieldBounded(t *testing.T) {
	used := map[protoreflect.FullName]bool{}
	for _, md := range requestMessages() {
		for i := range md.Fields().Len() {
			f := md.Fields().Get(i)
			used[f.FullName()] = true
			b, ok := bounds.Fields[f.FullName()]
			switch {
			case f.IsList() && (!ok || b.MaxItems == 0):
				t.Errorf("%s: a repeated field without a maximum number of items", f.FullName())
			case f.IsList():
			case f.Kind() == protoreflect.MessageKind, f.Kind() == protoreflect.EnumKind, f.Kind() == protoreflect.BoolKind:
				if ok {
					t.Errorf("%s: a bound on a field that is checked by its kind", f.FullName())
				}
			case !ok:
				t.Errorf("%s (%s): no bound", f.FullName(), f.Kind())
			case b.Max <= 0 || b.Why == "":
				t.Errorf("%s: bound without a maximum or a reason", f.FullName())
			case b.Kind == bounds.Number && f.Kind() == protoreflect.StringKind, b.Kind != bounds.Number && f.Kind() != protoreflect.StringKind && f.Kind() != protoreflect.BytesKind:
				t.Errorf("%s: bound of kind %s on a %s field", f.FullName(), b.Kind, f.Kind())
			}
		}
	}
	for name := range bounds.Fields {
		if !used[name] {
			t.Errorf("%s: a bound for a field no request has", name)
		}
	}
}

func TestDocumented(t *testing.T) {
	const path = "../../docs/bounds.md"
	want := bounds.Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is not the table of services/bounds; run go test ./services/bounds -update", path)
	}
}

func plaatsing(p *ledgerv1.Plaatsing) *ledgerv1.RecordRequest {
	return &ledgerv1.RecordRequest{Gemeente: "GM0402", Transition: &ledgerv1.RecordRequest_Plaatsing{Plaatsing: p}}
}

func TestCheck(t *testing.T) {
	withUnknown := &ledgerv1.RecordRequest{Gemeente: "GM0402"}
	withUnknown.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1))
	nestedUnknown := &ledgerv1.Intake{Doel: "werk"}
	nestedUnknown.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 42, protowire.VarintType), 7))
	for _, tc := range []struct {
		name  string
		req   proto.Message
		rule  string // "" is accepted
		field string
	}{
		{"a plain plaatsing", plaatsing(&ledgerv1.Plaatsing{Werkgever: "Tomin B.V.", MinutenPerWeek: 32 * 60, LoonwaardeProcent: 60, Product: "beschut-werk"}), "", ""},
		{"minutes beyond 80 hours", plaatsing(&ledgerv1.Plaatsing{MinutenPerWeek: 20000}), bounds.RuleBereik, "plaatsing.minuten_per_week"},
		{"the largest uint32", plaatsing(&ledgerv1.Plaatsing{MinutenPerWeek: 4294967295}), bounds.RuleBereik, "plaatsing.minuten_per_week"},
		{"hours of 4294967295 minutes", &ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Uren{Uren: &ledgerv1.Uren{Product: "jobcoaching", Minuten: 4294967295}}}, bounds.RuleBereik, "uren.minuten"},
		{"loonwaarde 101", &ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{LoonwaardeProcent: 101}}}, bounds.RuleBereik, "intake.loonwaarde_procent"},
		{"negative LKS", plaatsing(&ledgerv1.Plaatsing{LksCentPerMaand: -1}), bounds.RuleBereik, "plaatsing.lks_cent_per_maand"},
		{"a werkgever of 1 MB", plaatsing(&ledgerv1.Plaatsing{Werkgever: strings.Repeat("x", 1<<20)}), bounds.RuleTeLang, "plaatsing.werkgever"},
		{"a werkgever of 200 letters with accents", plaatsing(&ledgerv1.Plaatsing{Werkgever: strings.Repeat("é", 200)}), "", ""},
		{"a werkgever of 201 letters", plaatsing(&ledgerv1.Plaatsing{Werkgever: strings.Repeat("é", 201)}), bounds.RuleTeLang, "plaatsing.werkgever"},
		{"an actor of 1 MB", &ledgerv1.RecordRequest{Actor: strings.Repeat("a", 1<<20)}, bounds.RuleTeLang, "actor"},
		{"NUL in a toelichting", &ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Uitval{Uitval: &ledgerv1.Uitval{Toelichting: "ziek\x00"}}}, bounds.RuleTeken, "uitval.toelichting"},
		{"ESC in a werkgever", plaatsing(&ledgerv1.Plaatsing{Werkgever: "\x1b[2J"}), bounds.RuleTeken, "plaatsing.werkgever"},
		{"a newline in a doel", &ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Doel: "a\nb"}}}, bounds.RuleTeken, "intake.doel"},
		{"a bidi override in an actor", &ledgerv1.RecordRequest{Actor: "jan\u202esnaj"}, bounds.RuleTeken, "actor"},
		{"only spaces", &ledgerv1.RecordRequest{Actor: "   "}, bounds.RuleTeken, "actor"},
		{"a space in a resident id", &ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Aanmelding{Aanmelding: &ledgerv1.Aanmelding{ResidentId: "Jan Jansen"}}}, bounds.RuleTeken, "aanmelding.resident_id"},
		{"an uppercase case id", &ledgerv1.RecordRequest{CaseId: "6F9619FF-8B86-4D11-B42D-00C04FC964FF"}, bounds.RuleID, "case_id"},
		{"a urn case id", &ledgerv1.RecordRequest{CaseId: "urn:uuid:6f9619ff-8b86-4d11-b42d-00c04fc964ff"}, bounds.RuleID, "case_id"},
		{"a braced event id", &ledgerv1.RecordRequest{EventId: "{6f9619ff-8b86-4d11-b42d-00c04fc964ff}"}, bounds.RuleID, "event_id"},
		{"the nil uuid", &ledgerv1.RecordRequest{EventId: "00000000-0000-0000-0000-000000000000"}, bounds.RuleID, "event_id"},
		{"a canonical case id", &ledgerv1.RecordRequest{CaseId: "6f9619ff-8b86-4d11-b42d-00c04fc964ff"}, "", ""},
		{"a lowercase gemeente", &ledgerv1.RecordRequest{Gemeente: "gm0402"}, bounds.RuleID, "gemeente"},
		{"a gemeente by name", &ledgerv1.GetViewRequest{Gemeente: "Hilversum"}, bounds.RuleID, "gemeente"},
		{"a BSN with letters", &ledgerv1.RecordRequest{Bsn: "12345678a"}, bounds.RuleTeken, "bsn"},
		{"a date of 31 February", &ledgerv1.RecordRequest{Datum: &ledgerv1.Date{Year: 2026, Month: 2, Day: 31}}, bounds.RuleDatum, "datum"},
		{"a date in year 20000", &ledgerv1.RecordRequest{Datum: &ledgerv1.Date{Year: 20000, Month: 1, Day: 1}}, bounds.RuleDatum, "datum"},
		{"an empty date", &ledgerv1.RecordRequest{Datum: &ledgerv1.Date{}}, bounds.RuleDatum, "datum"},
		{"an unknown enum number", &ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Intake{Intake: &ledgerv1.Intake{Trede: 99}}}, bounds.RuleWaarde, "intake.trede"},
		{"an unknown field", withUnknown, bounds.RuleOnbekendVeld, "verzoek"},
		{"an unknown nested field", &ledgerv1.RecordRequest{Transition: &ledgerv1.RecordRequest_Intake{Intake: nestedUnknown}}, bounds.RuleOnbekendVeld, "intake"},
		{"beleidsview of this year", &ledgerv1.GetBeleidsviewRequest{Gemeente: "GM0402"}, "", ""},
		{"beleidsview of month 13", &ledgerv1.GetBeleidsviewRequest{Gemeente: "GM0402", Jaar: 2026, Maand: 13}, bounds.RuleBereik, "maand"},
		{"beleidsview of year 1999", &ledgerv1.GetBeleidsviewRequest{Gemeente: "GM0402", Jaar: 1999}, bounds.RuleBereik, "jaar"},
		{"101 products", &ledgerv1.RecordBeleidRequest{Beleid: &ledgerv1.Beleid{Producten: make([]*ledgerv1.ProductTarief, 101)}}, bounds.RuleTeVeel, "beleid.producten"},
		{"a tariff of 2^62 cents", &ledgerv1.RecordBeleidRequest{Beleid: &ledgerv1.Beleid{Producten: []*ledgerv1.ProductTarief{{Product: "beschut-werk", CentPerJaar: 1 << 62}}}}, bounds.RuleBereik, "beleid.producten[0].cent_per_jaar"},
		{"5001 import lines", &ledgerv1.ImportRequest{Systeem: "suite4", Regels: make([]*ledgerv1.ImportRegel, 5001)}, bounds.RuleTeVeel, "regels"},
		{"an import line is the caller's to check", &ledgerv1.ImportRequest{Systeem: "suite4", Regels: []*ledgerv1.ImportRegel{{Bron: "a\x00"}}}, "", ""},
		{"the import line itself", &ledgerv1.ImportRegel{Bron: "a\x00"}, bounds.RuleTeken, "bron"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := bounds.Check(tc.req)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var v *bounds.Violation
			if !errors.As(err, &v) || !errors.Is(err, bounds.ErrOutOfBounds) {
				t.Fatalf("want a violation of %s, got %v", tc.rule, err)
			}
			if v.Rule != tc.rule || v.Field != tc.field {
				t.Errorf("got [%s] %s, want [%s] %s: %v", v.Rule, v.Field, tc.rule, tc.field, err)
			}
			if len(err.Error()) > 400 {
				t.Errorf("the refusal is %d bytes: it must not repeat the value", len(err.Error()))
			}
		})
	}
}

// FuzzCheck decodes arbitrary bytes as every request of the API and checks
// them: no panic, and in whatever Check accepts every string is within its
// length and holds no control character.
func FuzzCheck(f *testing.F) {
	seed, _ := proto.Marshal(plaatsing(&ledgerv1.Plaatsing{Werkgever: "Tomin", MinutenPerWeek: 1920}))
	f.Add(seed)
	f.Add([]byte{0x0a, 0x03, 'a', 0x00, 'b'})
	msgs := requestMessages()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		for _, md := range msgs {
			mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
			if err != nil {
				t.Fatal(err)
			}
			m := mt.New().Interface()
			if proto.Unmarshal(b, m) != nil || bounds.Check(m) != nil {
				continue
			}
			if bad := unclean(m.ProtoReflect()); bad != "" {
				t.Fatalf("%s accepted with %s", md.FullName(), bad)
			}
		}
	})
}

// unclean names a string field of m that is too long or holds a control
// character, outside the fields their caller checks.
func unclean(m protoreflect.Message) string {
	var bad string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		b := bounds.Fields[fd.FullName()]
		switch {
		case b.CheckedByCaller:
		case fd.IsList():
			for i := range v.List().Len() {
				if fd.Message() != nil {
					bad = unclean(v.List().Get(i).Message())
				}
			}
		case fd.Message() != nil:
			bad = unclean(v.Message())
		case fd.Kind() == protoreflect.StringKind:
			s := v.String()
			if utf8.RuneCountInString(s) > int(b.Max) || strings.ContainsFunc(s, unicode.IsControl) {
				bad = string(fd.FullName())
			}
		}
		return bad == ""
	})
	return bad
}
