package main

import (
	"context"
	"encoding/json"
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

// TestE2EBenchBurnDownAndRoundTrip runs the two closed-loop measurements
// against a real server: the burn-down's runs are all in PostgreSQL,
// succeeded, when it reports, and the round trip times each of its runs.
func TestE2EBenchBurnDownAndRoundTrip(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.start()
	bench := func(args ...string) []byte {
		cmd := exec.Command(dawsosBinary(t), append([]string{"bench", "--pattern", "e2e_one", "--json", "--server", s.base}, args...)...)
		cmd.Env = append(os.Environ(), "DAWSOS_TOKEN="+s.token)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("dawsos bench %v: %v\n%s", args, err, out)
		}
		return out
	}
	var burn burnDownReport
	if err := json.Unmarshal(bench("--burn-down", "300", "--batch-size", "100"), &burn); err != nil {
		t.Fatal(err)
	}
	var succeeded, running int
	db := s.database(t)
	if err := db.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status = 'running')
		FROM runs WHERE pattern = 'e2e_one'`).Scan(&succeeded, &running); err != nil {
		t.Fatal(err)
	}
	if burn.Runs != 300 || burn.NotSucceeded != 0 || burn.RunsPerS <= 0 || succeeded != 300 || running != 0 {
		t.Fatalf("burn-down %+v; database: %d succeeded, %d running; want 300 succeeded and none running when it reports", burn, succeeded, running)
	}
	var rt roundTripReport
	if err := json.Unmarshal(bench("--round-trip", "5"), &rt); err != nil {
		t.Fatal(err)
	}
	if rt.Latency.Count != 5 || rt.Failed != 0 || rt.Latency.P50 <= 0 || rt.Latency.Max < rt.Latency.P50 {
		t.Fatalf("round trip %+v", rt)
	}
}
