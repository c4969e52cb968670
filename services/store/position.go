package store

import (
	"fmt"
	"strconv"
	"strings"
)

// ParsePosition reads the form Position.String writes, "commit/prepare".
// Positions travel in bus headers and checkpoints in this form.
func ParsePosition(s string) (Position, error) {
	c, p, ok := strings.Cut(s, "/")
	if !ok {
		return Position{}, fmt.Errorf("position %q: want commit/prepare", s)
	}
	commit, err1 := strconv.ParseUint(c, 10, 64)
	prepare, err2 := strconv.ParseUint(p, 10, 64)
	if err1 != nil || err2 != nil {
		return Position{}, fmt.Errorf("position %q: want two numbers", s)
	}
	return Position{Commit: commit, Prepare: prepare}, nil
}
