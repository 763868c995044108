package crashpoint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// declared maps each Point constant of points.go to its value.
func declared(t *testing.T) map[string]Point {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "points.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]Point)
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Point" {
				continue
			}
			for i, name := range vs.Names {
				v, err := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				out[name.Name] = Point(v)
			}
		}
	}
	return out
}

// hits finds every crashpoint.Hit(crashpoint.X) in the module's non-test
// Go files and returns, for each X, the files that call it.
func hits(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not at %s: %v", root, err)
	}
	out := make(map[string][]string)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name != "." && (strings.HasPrefix(name, ".") ||
				name == "testdata" || name == "bin") && path != root {

				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !isSel(call.Fun, "crashpoint", "Hit") || len(call.Args) != 1 {
				return true
			}
			sel, ok := call.Args[0].(*ast.SelectorExpr)
			if !ok || !isSel(sel, "crashpoint", sel.Sel.Name) {
				t.Errorf("%s: crashpoint.Hit takes a declared point "+
					"(crashpoint.Name), not %T", rel, call.Args[0])
				return true
			}
			out[sel.Sel.Name] = append(out[sel.Sel.Name], rel)
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func isSel(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

// TestEveryPointHitOnce: every declared point is listed by All and
// called at exactly one place in the module, and no call names an
// undeclared point.
func TestEveryPointHitOnce(t *testing.T) {
	decl := declared(t)
	if len(decl) == 0 {
		t.Fatal("no Point constant found in points.go")
	}
	listed := make(map[Point]bool)
	for _, i := range All() {
		if listed[i.Point] {
			t.Errorf("%s listed twice by All", i.Point)
		}
		listed[i.Point] = true
	}
	for name, p := range decl {
		if !listed[p] {
			t.Errorf("%s (%s) is declared but All does not list it", name, p)
		}
	}
	if len(listed) != len(decl) {
		t.Errorf("All lists %d points, points.go declares %d", len(listed), len(decl))
	}
	calls := hits(t)
	for name, files := range calls {
		if _, ok := decl[name]; !ok {
			t.Errorf("crashpoint.%s hit in %v is not declared", name, files)
		}
	}
	for name, p := range decl {
		switch files := calls[name]; len(files) {
		case 0:
			t.Errorf("%s (%s) is declared but no persisted step hits it", name, p)
		case 1:
		default:
			t.Errorf("%s (%s) is hit at %d places (%v): one point, one step",
				name, p, len(files), files)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, i := range All() {
		got, ok := Lookup(string(i.Point))
		if !ok || got != i {
			t.Errorf("Lookup(%q) = %v, %v", i.Point, got, ok)
		}
	}
	if _, ok := Lookup("no-such-point"); ok {
		t.Error("Lookup found an undeclared point")
	}
}
