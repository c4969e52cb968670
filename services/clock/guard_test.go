package clock_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoOtherClock keeps "today" in one place: outside this package no Go
// file of the module, test files included, may take a date or a timestamp
// from the machine's clock. time.Now stays allowed where it measures a
// duration or a deadline (time.Since(start), time.Now().Add(timeout)) or
// makes a unique name (UnixNano); anything else — time.Now().In(loc),
// event.Date(time.Now()), timestamppb.Now(), time.Now passed as a clock — is
// reported with its place.
func TestNoOtherClock(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	var files int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "bin", "data", "demo-data", "node_modules", "testdata":
				return filepath.SkipDir
			}
			if filepath.Base(filepath.Dir(path)) == "services" && d.Name() == "clock" {
				return filepath.SkipDir // the one place that reads the machine's clock
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".pb.go") || strings.HasSuffix(path, ".connect.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		for _, p := range clockUses(f) {
			t.Errorf("%s: %s", fset.Position(p.pos), p.what)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("scanned only %d files: the walk does not see the module", files)
	}
}

// TestGuardCatches runs the check on small sources: a guard that passes
// everything would be worse than none.
func TestGuardCatches(t *testing.T) {
	cases := []struct {
		name string
		src  string
		bad  int
	}{
		{"date from the machine", `d := event.Date(time.Now().In(loc))`, 1},
		{"year from the machine", `y := time.Now().Year()`, 1},
		{"timestamp", `ts := timestamppb.Now()`, 1},
		{"timestamp of now", `ts := timestamppb.New(time.Now())`, 1},
		{"clock as a value", `now := time.Now; _ = now`, 1},
		{"variable used as a date", "t := time.Now()\n_ = t.Format(\"2006\")", 1},
		{"variable passed on", "t := time.Now()\nuse(t)", 1},
		{"latency", "start := time.Now()\n_ = time.Since(start)", 0},
		{"deadline", "deadline := time.Now().Add(time.Second)\nfor time.Now().Before(deadline) {}", 0},
		{"unique name", `_ = fmt.Sprint(time.Now().UnixNano())`, 0},
		{"field for an interval", "f.last = time.Now()\n_ = time.Since(f.last) > time.Second", 0},
		{"rate", "start := time.Now()\n_ = float64(n) / time.Since(start).Seconds()", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "package p\nimport (\n\"time\"\n\"google.golang.org/protobuf/types/known/timestamppb\"\n)\nfunc f() {\n" + tc.src + "\n}\n"
			f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := clockUses(f); len(got) != tc.bad {
				t.Errorf("%d findings, want %d: %v", len(got), tc.bad, got)
			}
		})
	}
}

type finding struct {
	pos  token.Pos
	what string
}

// durationOnly are the methods of a time.Time that use it as an instant on
// the monotonic clock, never as a date.
var durationOnly = map[string]bool{"Add": true, "Sub": true, "After": true, "Before": true, "UnixNano": true, "Compare": true, "Equal": true}

func clockUses(f *ast.File) []finding {
	timeName := importName(f, "time")
	var out []finding
	if name := importName(f, "google.golang.org/protobuf/types/known/timestamppb"); name != "" {
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && isPkgFunc(call.Fun, name, "Now") {
				out = append(out, finding{call.Pos(), "timestamppb.Now() reads the machine's clock: use a clock.Clock"})
			}
			return true
		})
	}
	if timeName == "" {
		return out
	}
	// Every time.Now() result kept in a variable or a field, by name: its
	// uses decide whether it is a duration or a date.
	kept := map[string]bool{}
	parents := map[ast.Node]ast.Node{}
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		if len(stack) > 0 {
			parents[n] = stack[len(stack)-1]
		}
		stack = append(stack, n)
		return true
	})
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || !isPkgFunc(sel, timeName, "Now") {
			return true
		}
		call, ok := parents[sel].(*ast.CallExpr)
		if !ok || call.Fun != sel {
			out = append(out, finding{sel.Pos(), "time.Now used as a clock: use a clock.Clock"})
			return true
		}
		switch p := parents[call].(type) {
		case *ast.SelectorExpr:
			if durationOnly[p.Sel.Name] {
				return true
			}
			out = append(out, finding{call.Pos(), "time.Now()." + p.Sel.Name + " takes a date or time from the machine: use a clock.Clock"})
		case *ast.AssignStmt:
			if len(p.Lhs) == 1 && len(p.Rhs) == 1 {
				if name := keptName(p.Lhs[0]); name != "" {
					kept[name] = true
					return true
				}
			}
			out = append(out, finding{call.Pos(), "time.Now() assigned: use a clock.Clock"})
		case *ast.BinaryExpr:
			return true // compared with a deadline
		default:
			out = append(out, finding{call.Pos(), "time.Now() used as a value: use a clock.Clock"})
		}
		return true
	})
	// A kept instant may only be measured from or compared with.
	ast.Inspect(f, func(n ast.Node) bool {
		e, ok := n.(ast.Expr)
		if !ok {
			return true
		}
		name := keptName(e)
		if name == "" || !kept[name] {
			return true
		}
		if _, isSel := e.(*ast.SelectorExpr); !isSel {
			if p, ok := parents[e].(*ast.SelectorExpr); ok && p.X != e {
				return true // a field name after a dot, not the variable
			}
		}
		switch p := parents[e].(type) {
		case *ast.AssignStmt:
			for _, l := range p.Lhs {
				if l == e {
					return true
				}
			}
		case *ast.CallExpr:
			if isPkgFunc(p.Fun, timeName, "Since") || isPkgFunc(p.Fun, timeName, "Until") {
				return true
			}
			if s, ok := p.Fun.(*ast.SelectorExpr); ok && durationOnly[s.Sel.Name] {
				return true // x.Sub(start), x.After(deadline)
			}
		case *ast.SelectorExpr:
			if p.X == e && durationOnly[p.Sel.Name] {
				return true
			}
		case *ast.BinaryExpr:
			return true
		case *ast.ValueSpec, *ast.Field, *ast.KeyValueExpr:
			return true
		}
		if _, isSel := e.(*ast.SelectorExpr); isSel {
			// The selector's own X is an identifier visited next; do not
			// report the same place twice.
			out = append(out, finding{e.Pos(), "an instant of the machine's clock (" + name + ") is used as a date or passed on: use a clock.Clock"})
			return false
		}
		out = append(out, finding{e.Pos(), "an instant of the machine's clock (" + name + ") is used as a date or passed on: use a clock.Clock"})
		return true
	})
	return out
}

// keptName names a variable (x) or a field (.x) a time is kept in.
func keptName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		if e.Name == "_" {
			return ""
		}
		return e.Name
	case *ast.SelectorExpr:
		return "." + e.Sel.Name
	}
	return ""
}

func isPkgFunc(e ast.Expr, pkg, fn string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != fn {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

// importName is the name a file uses for the package at path, or "".
func importName(f *ast.File, path string) string {
	for _, im := range f.Imports {
		if strings.Trim(im.Path.Value, `"`) != path {
			continue
		}
		if im.Name != nil {
			return im.Name.Name
		}
		return path[strings.LastIndex(path, "/")+1:]
	}
	return ""
}
