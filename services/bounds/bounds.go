// Package bounds is the one place where what the API takes is limited:
// every string has a length and a character set, every number a range,
// every date the calendar, every enum its declared values, every id its
// canonical form, and a request carries no field the API does not know.
//
// The API checks every request against it before anything is decided or
// handed to the broker; the import checks every line with it, so that a
// line out of bounds is a refused line, not a refused file. The CLI goes
// through the API and so through the same bounds.
package bounds

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// ErrOutOfBounds is wrapped by every *Violation.
var ErrOutOfBounds = errors.New("input out of bounds")

// Rule names: one per kind of violation.
const (
	RuleTeLang       = "invoer.te-lang"
	RuleBereik       = "invoer.buiten-bereik"
	RuleTeken        = "invoer.teken"
	RuleID           = "invoer.id"
	RuleDatum        = "invoer.datum"
	RuleWaarde       = "invoer.onbekende-waarde"
	RuleOnbekendVeld = "invoer.onbekend-veld"
	RuleTeVeel       = "invoer.te-veel"
	RuleTeGroot      = "invoer.te-groot"
)

// Violation is a field out of its bound. Its reason never repeats the text
// it refuses: a field may hold a BSN or a name typed in the wrong place.
type Violation struct {
	Rule  string
	Field string // path in the request, e.g. "plaatsing.minuten_per_week"
	Reden string
}

func (v *Violation) Error() string {
	return "geweigerd [" + v.Rule + "] " + v.Field + ": " + v.Reden
}

// Refused returns the rule and reason, as every refusal of the ledger does.
func (v *Violation) Refused() (rule, reden string) { return v.Rule, v.Field + ": " + v.Reden }

// Unwrap lets errors.Is match ErrOutOfBounds.
func (v *Violation) Unwrap() error { return ErrOutOfBounds }

// Check checks m and every message in it against the bounds. It returns
// the first violation, in field order.
func Check(m proto.Message) error {
	if m == nil {
		return nil
	}
	if v := check(m.ProtoReflect(), ""); v != nil {
		return v
	}
	return nil
}

func check(m protoreflect.Message, path string) *Violation {
	md := m.Descriptor()
	if len(m.GetUnknown()) > 0 {
		return &Violation{Rule: RuleOnbekendVeld, Field: orRoot(path), Reden: "het verzoek bevat velden die de ledger niet kent; stuur alleen de velden van de API (zie api.proto)"}
	}
	if d, ok := m.Interface().(*ledgerv1.Date); ok {
		if err := event.CheckDate(d); err != nil {
			return &Violation{Rule: RuleDatum, Field: orRoot(path), Reden: "geen geldige datum tussen 1900-01-01 en 2999-12-31"}
		}
		return nil
	}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		p := join(path, fd)
		b, bounded := Fields[fd.FullName()]
		if fd.IsList() {
			l := m.Get(fd).List()
			if bounded && b.MaxItems > 0 && l.Len() > b.MaxItems {
				return &Violation{Rule: RuleTeVeel, Field: p, Reden: fmt.Sprintf("%d elementen; ten hoogste %d (%s)", l.Len(), b.MaxItems, b.Why)}
			}
			if b.CheckedByCaller {
				continue
			}
			for j := range l.Len() {
				if v := value(fd, l.Get(j), b, bounded, fmt.Sprintf("%s[%d]", p, j)); v != nil {
					return v
				}
			}
			continue
		}
		if v := value(fd, m.Get(fd), b, bounded, p); v != nil {
			return v
		}
	}
	return nil
}

func value(fd protoreflect.FieldDescriptor, v protoreflect.Value, b Bound, bounded bool, path string) *Violation {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return check(v.Message(), path)
	case protoreflect.EnumKind:
		if fd.Enum().Values().ByNumber(v.Enum()) == nil {
			return &Violation{Rule: RuleWaarde, Field: path, Reden: fmt.Sprintf("%d is geen bekende waarde van %s", v.Enum(), fd.Enum().Name())}
		}
		return nil
	case protoreflect.BoolKind:
		return nil
	}
	if !bounded {
		// TestEveryFieldBounded keeps this from happening; refuse rather
		// than let an unbounded value through.
		return &Violation{Rule: RuleBereik, Field: path, Reden: "dit veld heeft geen grens in de ledger; meld dit aan de beheerder"}
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return checkString(v.String(), b, path)
	case protoreflect.BytesKind:
		if n := len(v.Bytes()); n > int(b.Max) {
			return &Violation{Rule: RuleTeLang, Field: path, Reden: fmt.Sprintf("%d bytes; ten hoogste %d (%s)", n, b.Max, b.Why)}
		}
		return nil
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		return checkNumber(v.Int(), b, path)
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		n := v.Uint()
		if n > uint64(b.Max) {
			return &Violation{Rule: RuleBereik, Field: path, Reden: outOfRange(fmt.Sprint(n), b)}
		}
		return checkNumber(int64(n), b, path)
	}
	return &Violation{Rule: RuleBereik, Field: path, Reden: "dit soort veld kent de ledger niet"}
}

func checkNumber(n int64, b Bound, path string) *Violation {
	if n == 0 && b.ZeroMeans != "" {
		return nil
	}
	if n < b.Min || n > b.Max {
		return &Violation{Rule: RuleBereik, Field: path, Reden: outOfRange(fmt.Sprint(n), b)}
	}
	return nil
}

func outOfRange(n string, b Bound) string {
	r := fmt.Sprintf("%s ligt buiten %d tot en met %d (%s)", n, b.Min, b.Max, b.Why)
	if b.ZeroMeans != "" {
		r += "; 0 of weglaten is " + b.ZeroMeans
	}
	return r
}

func checkString(s string, b Bound, path string) *Violation {
	if s == "" {
		return nil
	}
	if !utf8.ValidString(s) {
		return &Violation{Rule: RuleTeken, Field: path, Reden: "geen geldige UTF-8-tekst"}
	}
	// An id's form says more than its length: check it first.
	if n := utf8.RuneCountInString(s); n > int(b.Max) && b.Kind != UUID && b.Kind != Gemeente {
		return &Violation{Rule: RuleTeLang, Field: path, Reden: fmt.Sprintf("%d tekens; ten hoogste %d (%s)", n, b.Max, b.Why)}
	}
	switch b.Kind {
	case UUID:
		id, err := uuid.Parse(s)
		if err != nil || id.String() != s || id == uuid.Nil {
			return &Violation{Rule: RuleID, Field: path, Reden: "geen id in de vorm xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (UUID, kleine letters, zonder accolades of urn:uuid:)"}
		}
	case Gemeente:
		if !IsGemeenteCode(s) {
			return &Violation{Rule: RuleID, Field: path, Reden: "geen gemeentecode in de vorm GM en vier cijfers (CBS), bijv. GM0402"}
		}
	case Digits:
		for _, r := range s {
			if r < '0' || r > '9' {
				return &Violation{Rule: RuleTeken, Field: path, Reden: "alleen cijfers toegestaan"}
			}
		}
	case Code:
		for i, r := range s {
			if !isCodeRune(r) {
				return &Violation{Rule: RuleTeken, Field: path, Reden: fmt.Sprintf("teken %d is niet toegestaan; een code bestaat uit letters, cijfers en - _ . : /", utf8.RuneCountInString(s[:i])+1)}
			}
		}
	case Text:
		for i, r := range s {
			if IsControl(r) {
				return &Violation{Rule: RuleTeken, Field: path, Reden: fmt.Sprintf("teken %d is een stuurteken (zoals een regelovergang, tab, NUL of ESC); tekst is één regel zonder stuurtekens", utf8.RuneCountInString(s[:i])+1)}
			}
		}
		if strings.TrimSpace(s) == "" {
			return &Violation{Rule: RuleTeken, Field: path, Reden: "alleen spaties; laat het veld weg of vul het in"}
		}
	}
	return nil
}

// IsGemeenteCode reports whether s is written as a CBS gemeentecode: GM and
// four digits.
func IsGemeenteCode(s string) bool {
	if len(s) != 6 || s[0] != 'G' || s[1] != 'M' {
		return false
	}
	for _, c := range s[2:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isCodeRune(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/", r))
}

// IsControl is a character a terminal or a CSV reader acts on instead of
// showing: C0 and C1 controls, DEL, line and paragraph separators, and the
// bidirectional overrides that make text read other than it is stored.
func IsControl(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\ufeff':
		return true
	}
	return false
}

func join(path string, fd protoreflect.FieldDescriptor) string {
	if path == "" {
		return string(fd.Name())
	}
	return path + "." + string(fd.Name())
}

func orRoot(path string) string {
	if path == "" {
		return "verzoek"
	}
	return path
}
