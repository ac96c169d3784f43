package agents_test

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

	"github.com/dawsos/dawsos/agents"
)

// TestCodesTableIsTheOnlySource walks the repository's Go code (tests
// excluded) and checks the table of codes against it: every code constant
// is used somewhere outside codes.go (so the table lists nothing dead),
// every row has a title and an error status, and no file of a package that
// may import agents spells a code out as a string literal (so no code is
// declared a second time). bus and storage may not import agents: the bus
// takes every code from the classifier it is given, and their own string
// sets (dead-letter reasons, CSV row issues) are other namespaces.
func TestCodesTableIsTheOnlySource(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..")
	// The constants of codes.go, by identifier and by value.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	idents := map[string]string{} // CodeX -> value
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, sp := range g.Specs {
			vs := sp.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(n.Name, "Code") {
					v, _ := strconv.Unquote(lit.Value)
					idents[n.Name] = v
				}
			}
		}
	}
	if len(idents) != len(agents.Codes) {
		t.Errorf("codes.go declares %d code constants, the table has %d rows", len(idents), len(agents.Codes))
	}
	values := map[string]string{}
	for id, v := range idents {
		values[v] = id
		info, ok := agents.Codes[v]
		if !ok {
			t.Errorf("%s (%q) has no row in agents.Codes", id, v)
			continue
		}
		if info.Status < 400 || info.Title == "" {
			t.Errorf("%s: status %d, title %q", id, info.Status, info.Title)
		}
		if info.Counted && !info.Retryable {
			t.Errorf("%s counts towards the breaker but is final; only failures worth retrying say anything about health", id)
		}
	}
	used := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		file, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return err
		}
		isTable := filepath.Base(path) == "codes.go" && filepath.Base(filepath.Dir(path)) == "agents"
		rel, _ := filepath.Rel(root, path)
		top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		mayImport := top == "agents" || top == "orchestrator" || top == "ingress" || top == "cmd"
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.Field:
				// Struct tags are not code literals.
				if x.Tag != nil {
					if x.Type != nil {
						ast.Inspect(x.Type, func(ast.Node) bool { return true })
					}
					return false
				}
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "agents" {
					if _, isCode := idents[x.Sel.Name]; isCode && !isTable {
						used[x.Sel.Name] = true
					}
				}
			case *ast.Ident:
				if _, isCode := idents[x.Name]; isCode && !isTable && file.Name.Name == "agents" {
					used[x.Name] = true
				}
			case *ast.BasicLit:
				if x.Kind != token.STRING || isTable || !mayImport {
					return true
				}
				if v, err := strconv.Unquote(x.Value); err == nil {
					if id, isCode := values[v]; isCode && !allowedLiteral(v) {
						t.Errorf("%s: the string %q spells out %s; use agents.%s", fset.Position(x.Pos()), v, id, id)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range idents {
		if !used[id] {
			t.Errorf("%s is in the table but no code outside codes.go produces it", id)
		}
	}
}

// allowedLiteral lists code values that are also ordinary words other code
// uses as strings for other purposes (a config key, a metric label).
func allowedLiteral(v string) bool {
	switch v {
	case "timeout", "internal", "panic", "conflict", "canceled":
		return true
	}
	return false
}
