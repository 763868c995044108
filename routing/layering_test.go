package routing

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoPeerImport holds the layering of ARCHITECTURE.md: routing is
// handed what it needs and never imports peer or server.
func TestNoPeerImport(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			switch strings.Trim(imp.Path.Value, `"`) {
			case "lnd.xprv/peer", "lnd.xprv/server":
				t.Errorf("%s imports %s", name, imp.Path.Value)
			}
		}
	}
}
