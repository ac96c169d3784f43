package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2ERunBatch submits a JSON-lines file with dawsos run --batch, two
// runs a call: every line gets its own run, a repeated idempotency key
// names the earlier run, and each run ends with its own figure (b = v).
// A malformed line is a usage error naming it, before anything is sent.
func TestE2ERunBatch(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.start()
	file := filepath.Join(t.TempDir(), "runs.jsonl")
	lines := `{"pattern": "e2e_one", "inputs": {"v": 1}}
{"pattern": "e2e_one", "inputs": {"v": 2}}

{"pattern": "e2e_one", "inputs": {"v": 3}, "idempotency_key": "third"}
{"pattern": "e2e_one", "inputs": {"v": 3}, "idempotency_key": "third"}
`
	if err := os.WriteFile(file, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, error) {
		cmd := exec.Command(dawsosBinary(t), append(args, "--server", s.base)...)
		cmd.Env = append(os.Environ(), "DAWSOS_TOKEN="+s.token)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := cli("run", "--batch", file, "--batch-size", "2")
	if err != nil {
		t.Fatalf("dawsos run --batch: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSpace(out), "\n")
	if len(got) != 4 || got[3] != got[2]+" existing" || strings.Contains(got[2], " ") {
		t.Fatalf("dawsos run --batch printed %q; want four lines, the last naming the third's run as existing", got)
	}
	for i, want := range []float64{1, 2, 3} {
		body := s.waitRun(got[i], 30*time.Second)
		b := body["outputs"].(map[string]any)["b"].(map[string]any)["value"]
		if body["status"] != "succeeded" || b != want {
			t.Fatalf("run of line %d: %v with b %v; want succeeded with %v", i+1, body["status"], b, want)
		}
	}
	if err := os.WriteFile(file, []byte("{\"pattern\": \"e2e_one\"}\n{\"pattern\": \"e2e_one\", \"input\": {}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = cli("run", "--batch", file)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(out, "line 2") {
		t.Fatalf("a line with an unknown field: %v\n%s; want exit 2 naming line 2", err, out)
	}
}
