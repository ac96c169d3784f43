package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// allowedImports is ARCHITECTURE.md §1's table: which project folders each
// folder may import. Subpackages belong to their folder (agents/analyst is
// agents, storage/seed is storage).
var allowedImports = map[string][]string{
	"cmd":          {"*"},
	"ingress":      {"orchestrator", "patterns", "agents", "bus", "storage", "console"},
	"console":      {"orchestrator", "patterns", "agents", "bus", "storage"},
	"orchestrator": {"patterns", "agents", "bus", "storage"},
	"patterns":     {},
	"agents":       {"storage", "quant", "agents"},
	"bus":          {},
	"storage":      {"migrations", "storage"},
	"migrations":   {},
	"quant":        {},
}

const module = "github.com/dawsos/dawsos"

func folderOf(pkg string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	top, _, _ := strings.Cut(rel, "/")
	return top
}

// TestImportsFollowTheLayout keeps the dependency direction of the layout
// table true, and keeps agent subpackages from importing each other.
func TestImportsFollowTheLayout(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		from := folderOf(p.ImportPath)
		if p.ImportPath == module {
			continue // the tools file at the root pins modules only
		}
		allowed, known := allowedImports[from]
		if !known {
			t.Errorf("package %s is in folder %q, which the layout table does not list", p.ImportPath, from)
			continue
		}
		checked++
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := folderOf(imp)
			if to == "cmd" {
				t.Errorf("%s imports %s: nothing imports cmd", p.ImportPath, imp)
			}
			if from == "agents" && p.ImportPath != module+"/agents" && imp != module+"/agents" && strings.HasPrefix(imp, module+"/agents/") {
				t.Errorf("%s imports %s: agent subpackages never import each other", p.ImportPath, imp)
			}
			ok := false
			for _, a := range allowed {
				if a == "*" || a == to {
					ok = true
				}
			}
			if !ok && to != from {
				t.Errorf("%s imports %s: %s may import only %v", p.ImportPath, imp, from, allowed)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d packages; go list output looks wrong", checked)
	}
}
