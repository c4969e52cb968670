package web

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
)

// The charts are SVG drawn on the server: they need no script, and each
// carries a title and a description for a screen reader, while the same
// numbers stand in a table beside it.

type point struct {
	Label string
	Value int64
}

// pair is two (or three) values of one label: instroom and uitstroom, or
// costs, budget and forecast.
type pair struct {
	Label   string
	A, B, C int64
}

const (
	chartW, chartH = 640, 240
	padL, padR     = 72, 16
	padT, padB     = 16, 40
)

// lineChart draws values over labels as a line with dots.
func lineChart(id, title string, pts []point) template.HTML {
	if len(pts) == 0 {
		return ""
	}
	var max int64 = 1
	for _, p := range pts {
		max = maxOf(max, p.Value)
	}
	max = niceTop(max)
	w, h := float64(chartW-padL-padR), float64(chartH-padT-padB)
	x := func(i int) float64 {
		if len(pts) == 1 {
			return padL + w/2
		}
		return padL + w*float64(i)/float64(len(pts)-1)
	}
	y := func(v int64) float64 { return padT + h - h*float64(v)/float64(max) }
	var b strings.Builder
	open(&b, id, title, describePoints(pts))
	axes(&b, max, func(v int64) string { return itoa(v) })
	var path []string
	for i, p := range pts {
		path = append(path, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Value)))
	}
	fmt.Fprintf(&b, `<polyline class="grafiek-lijn" fill="none" points="%s"/>`, strings.Join(path, " "))
	for i, p := range pts {
		fmt.Fprintf(&b, `<circle class="grafiek-punt" cx="%.1f" cy="%.1f" r="3"/>`, x(i), y(p.Value))
		fmt.Fprintf(&b, `<text class="grafiek-as" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(i), chartH-padB+18, template.HTMLEscapeString(p.Label))
	}
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

// pairBars draws two bars per label (a third as a tick when withC): for
// costs, the bar of what was spent beside the bar of the budget, and the
// forecast to the year's end as a mark.
func pairBars(id, title string, ps []pair, nameA, nameB string, money bool) template.HTML {
	if len(ps) == 0 {
		return ""
	}
	var max int64 = 1
	for _, p := range ps {
		max = maxOf(max, maxOf(p.A, maxOf(p.B, p.C)))
	}
	max = niceTop(max)
	format := func(v int64) string { return itoa(v) }
	if money {
		format = func(v int64) string { return euroRound(v) }
	}
	w, h := float64(chartW-padL-padR), float64(chartH-padT-padB)
	slot := w / float64(len(ps))
	bar := slot * 0.35
	y := func(v int64) float64 { return padT + h - h*float64(v)/float64(max) }
	var desc []string
	for _, p := range ps {
		d := fmt.Sprintf("%s: %s %s, %s %s", p.Label, nameA, format(p.A), nameB, format(p.B))
		if money && p.C != 0 {
			d += ", prognose " + format(p.C)
		}
		desc = append(desc, d)
	}
	var b strings.Builder
	open(&b, id, title, strings.Join(desc, "; "))
	axes(&b, max, format)
	for i, p := range ps {
		x0 := padL + slot*float64(i) + slot*0.12
		fmt.Fprintf(&b, `<rect class="grafiek-a" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x0, y(maxOf(p.A, 0)), bar, padT+h-y(maxOf(p.A, 0)))
		fmt.Fprintf(&b, `<rect class="grafiek-b" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x0+bar, y(maxOf(p.B, 0)), bar, padT+h-y(maxOf(p.B, 0)))
		if money && p.C > 0 {
			fmt.Fprintf(&b, `<line class="grafiek-c" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, x0-2, x0+bar+2, y(p.C), y(p.C))
		}
		label := p.Label
		if r := []rune(label); len(r) > 18 {
			label = string(r[:17]) + "…"
		}
		fmt.Fprintf(&b, `<text class="grafiek-as" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x0+bar, chartH-padB+18, template.HTMLEscapeString(label))
	}
	// The legend, so that colour is never the only way to tell the bars.
	fmt.Fprintf(&b, `<rect class="grafiek-a" x="%d" y="%d" width="10" height="10"/><text class="grafiek-as" x="%d" y="%d">%s</text>`, padL, chartH-12, padL+14, chartH-3, template.HTMLEscapeString(nameA))
	fmt.Fprintf(&b, `<rect class="grafiek-b grafiek-b-legenda" x="%d" y="%d" width="10" height="10"/><text class="grafiek-as" x="%d" y="%d">%s</text>`, padL+110, chartH-12, padL+124, chartH-3, template.HTMLEscapeString(nameB))
	if money {
		fmt.Fprintf(&b, `<line class="grafiek-c" x1="%d" x2="%d" y1="%d" y2="%d"/><text class="grafiek-as" x="%d" y="%d">prognose jaareinde</text>`, padL+220, padL+232, chartH-7, chartH-7, padL+236, chartH-3)
	}
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

func open(b *strings.Builder, id, title, desc string) {
	fmt.Fprintf(b, `<svg class="grafiek" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-titel %s-beschrijving" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, id, id)
	fmt.Fprintf(b, `<title id="%s-titel">%s</title><desc id="%s-beschrijving">%s</desc>`, id, template.HTMLEscapeString(title), id, template.HTMLEscapeString(desc))
}

func axes(b *strings.Builder, max int64, format func(int64) string) {
	h := float64(chartH - padT - padB)
	for i := 0; i <= 4; i++ {
		v := max * int64(i) / 4
		y := padT + h - h*float64(i)/4
		fmt.Fprintf(b, `<line class="grafiek-raster" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(b, `<text class="grafiek-as" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, template.HTMLEscapeString(format(v)))
	}
}

func describePoints(pts []point) string {
	var out []string
	for _, p := range pts {
		out = append(out, p.Label+" "+itoa(p.Value))
	}
	return strings.Join(out, ", ")
}

// euroRound writes cents as whole euros, "€ 12.345".
func euroRound(c int64) string {
	s := euro((c + 50) / 100 * 100)
	return strings.TrimSuffix(s, ",00")
}

// niceTop is the top of an axis of four steps at or above max, each step
// 1, 2 or 5 times a power of ten: the tick labels are round numbers.
func niceTop(max int64) int64 {
	step := int64(1)
	for {
		for _, f := range []int64{1, 2, 5} {
			if 4*f*step >= max {
				return 4 * f * step
			}
		}
		step *= 10
	}
}

func maxOf(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func formatFloat(f float64, prec int) string {
	return strings.ReplaceAll(strconv.FormatFloat(f, 'f', prec, 64), ".", ",")
}
