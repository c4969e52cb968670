package main

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeFlag is a number of bytes written as 64MiB, 512KiB, 2GiB or bytes.
type sizeFlag struct{ n *int64 }

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}

func (f sizeFlag) String() string {
	if f.n == nil || *f.n == 0 {
		return ""
	}
	for _, u := range sizeUnits[:3] {
		if *f.n%u.mult == 0 {
			return strconv.FormatInt(*f.n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f sizeFlag) Set(s string) error {
	num, mult := s, int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return fmt.Errorf("%q is geen grootte (bijv. 64MiB, 512KiB of een aantal bytes)", s)
	}
	*f.n = v * mult
	return nil
}
