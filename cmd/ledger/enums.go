package main

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// choice maps a proto enum to the words used on the command line: the value
// name without its prefix, lower case, '-' between words
// (PLAATSING_TYPE_BESCHUT_WERK → beschut-werk). The enum is the list, so
// --help can never drift from what the API accepts.
type choice struct {
	desc   protoreflect.EnumDescriptor
	prefix string
}

var (
	doelgroepen      = choice{ledgerv1.Doelgroep(0).Descriptor(), "DOELGROEP_"}
	verwijzers       = choice{ledgerv1.Verwijzer(0).Descriptor(), "VERWIJZER_"}
	treden           = choice{ledgerv1.Trede(0).Descriptor(), "TREDE_"}
	plaatsingTypes   = choice{ledgerv1.PlaatsingType(0).Descriptor(), "PLAATSING_TYPE_"}
	uitvalRedenen    = choice{ledgerv1.UitvalReden(0).Descriptor(), "UITVAL_REDEN_"}
	uitstroomRedenen = choice{ledgerv1.UitstroomReden(0).Descriptor(), "UITSTROOM_REDEN_"}
	toestanden       = choice{ledgerv1.Toestand(0).Descriptor(), "TOESTAND_"}
)

// word is the command-line word of an enum number.
func (c choice) word(n protoreflect.EnumNumber) string {
	v := c.desc.Values().ByNumber(n)
	if v == nil {
		return fmt.Sprint(n)
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(string(v.Name()), c.prefix)), "_", "-")
}

// words lists the accepted values, without the unspecified zero value.
func (c choice) words() []string {
	var out []string
	vals := c.desc.Values()
	for i := 0; i < vals.Len(); i++ {
		if n := vals.Get(i).Number(); n != 0 {
			out = append(out, c.word(n))
		}
	}
	return out
}

func (c choice) help() string { return strings.Join(c.words(), ", ") }

// parse reads a command-line word.
func (c choice) parse(flagName, s string) (protoreflect.EnumNumber, error) {
	for _, w := range c.words() {
		if w == strings.ToLower(s) {
			return c.desc.Values().ByName(protoreflect.Name(c.prefix + strings.ToUpper(strings.ReplaceAll(w, "-", "_")))).Number(), nil
		}
	}
	return 0, usageErrorf("--%s %q: kies uit %s", flagName, s, c.help())
}
