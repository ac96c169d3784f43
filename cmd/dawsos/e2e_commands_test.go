package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dawsos/dawsos/storage/pgtest"
)

// runBinary runs the built dawsos with args in a fresh directory and the
// given DAWSOS_* settings.
func runBinary(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	dir, err := os.MkdirTemp("", "dawsos-cmd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cmd := exec.Command(dawsosBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "DAWSOS_DATA_DIR="+filepath.Join(dir, "var"), "DAWSOS_LOG_LEVEL=warn"), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestE2EMigrateSeedAndLint runs the operator's commands that need no
// server: migrate on an empty database, seed twice (the second run adds
// nothing) with the truth file, and patterns lint on a good and a bad
// directory.
func TestE2EMigrateSeedAndLint(t *testing.T) {
	t.Parallel()
	db := "DAWSOS_DATABASE_URL=" + pgtest.EmptyURL(t)
	out, err := runBinary(t, []string{db}, "migrate")
	if err != nil || !strings.Contains(out, "migrations are current") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	truth := filepath.Join(t.TempDir(), "truth.json")
	args := []string{"seed", "--seed", "3", "--truth", truth,
		"--admin-password", "a-secret", "--manager-password", "m-secret", "--viewer-password", "v-secret"}
	out, err = runBinary(t, []string{db}, args...)
	if err != nil || !strings.Contains(out, "pricing packs") {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	if strings.Contains(out, "a-secret") {
		t.Fatalf("seed printed a password that was given on the command line:\n%s", out)
	}
	raw, err := os.ReadFile(truth)
	if err != nil {
		t.Fatal(err)
	}
	var tr map[string]any
	if err := json.Unmarshal(raw, &tr); err != nil || len(tr) == 0 {
		t.Fatalf("truth file is not a JSON object: %v\n%s", err, raw)
	}
	again, err := runBinary(t, []string{db}, args...)
	if err != nil {
		t.Fatalf("second seed: %v\n%s", err, again)
	}
	portfolios := 0
	for _, line := range strings.Split(again, "\n") {
		if strings.Contains(line, " portfolio ") {
			portfolios++
			if !strings.HasSuffix(strings.TrimSpace(line), "(0 new)") {
				t.Errorf("second seed added transactions: %s", line)
			}
		}
	}
	if portfolios < 3 {
		t.Fatalf("second seed reported %d portfolios; want at least 3:\n%s", portfolios, again)
	}

	out, err = runBinary(t, nil, "patterns", "lint")
	if err != nil || !strings.Contains(out, "all patterns are valid") {
		t.Fatalf("patterns lint: %v\n%s", err, out)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "bad.json"), []byte(`{"id": "bad", "steps": [{"capability": "no.such", "as": "a", "args": {"x": "{{inputs.nope}}"}}], "outputs": ["b"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = runBinary(t, nil, "patterns", "lint", bad)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("lint of a bad pattern: %v; want exit 1\n%s", err, out)
	}
	for _, want := range []string{"bad.json", "unknown_capability", "$.steps[0]", "$.outputs[0]"} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output does not name %q:\n%s", want, out)
		}
	}
}
