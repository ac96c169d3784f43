package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/dawsos/dawsos/agents"
)

var update = flag.Bool("update", false, "rewrite docs/capabilities.md from the registry")

// TestCapabilityCatalogIsCurrent compares docs/capabilities.md with the
// catalogue the registry of this binary generates (`dawsos capabilities
// --markdown`); -update rewrites the file.
func TestCapabilityCatalogIsCurrent(t *testing.T) {
	t.Parallel()
	reg := agents.NewRegistry(agents.Options{})
	for _, c := range agentList {
		reg.Add(c(agents.Deps{}))
	}
	got := reg.Markdown()
	path := filepath.Join("..", "..", "docs", "capabilities.md")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/dawsos -run TestCapabilityCatalogIsCurrent -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/capabilities.md is not what the registry generates; run go test ./cmd/dawsos -run TestCapabilityCatalogIsCurrent -update")
	}
	if len(reg.All()) == 0 {
		t.Fatal("the registry of the binary holds no capability")
	}
}
