package main

import (
	"fmt"
	"strings"

	"github.com/gooi-vechtstreek/ledger/services/bounds"
)

// printable shows text from the ledger on a terminal as it is stored, with
// every character a terminal would act on (ESC, NUL, a newline, a bidi
// override) written as an escape: the server refuses them today, but an
// event stored before it did is shown as well, and must not clear a
// screen or hide a line.
func printable(s string) string {
	if !strings.ContainsFunc(s, bounds.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case bounds.IsControl(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case bounds.IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
