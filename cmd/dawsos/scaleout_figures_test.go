package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// TestScaleOutFigures measures what adding workers adds: `serve --agents
// none` (API and orchestrator) with 1, 2 and 3 `dawsos worker` processes,
// each running one test.burn step at a time (5 ms of hashing on one core),
// and steps.max_in_flight set to the cluster's concurrency (workers x 1).
// `dawsos bench --burn-down N` submits N one-step runs and times them to
// the last recorded end. It is a measurement, not a check of speed: it
// runs only when DAWSOS_BENCH_SCALEOUT names N, logs runs/s per worker
// count, and fails only when a run does not succeed.
//
//	DAWSOS_BENCH_SCALEOUT=3000 go test ./cmd/dawsos -run TestScaleOutFigures -v
func TestScaleOutFigures(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DAWSOS_BENCH_SCALEOUT"))
	if n <= 0 {
		t.Skip("a measurement: set DAWSOS_BENCH_SCALEOUT=N (runs per worker count) to run it")
	}
	ms := os.Getenv("DAWSOS_BENCH_SCALEOUT_MS")
	if ms == "" {
		ms = "5"
	}
	var rows []string
	for workers := 1; workers <= 3; workers++ {
		natsPort := freePort(t)
		s := newServer(t, fmt.Sprintf("DAWSOS_NATS_LISTEN=127.0.0.1:%d", natsPort),
			"DAWSOS_STEPS_CONCURRENCY=1", fmt.Sprintf("DAWSOS_STEPS_MAX_IN_FLIGHT=%d", workers))
		s.cmdArgs = []string{"serve", "--agents", "none"}
		s.natsURL = fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
		s.start()
		for w := range workers {
			startWorker(t, s, s.natsURL, fmt.Sprintf("%s-worker%d", s.dataDir, w))
		}
		// A short warm-up, so every worker has joined the consumer before
		// the measured burn-down starts.
		bench := func(count int) burnDownReport {
			cmd := exec.Command(dawsosBinary(t), "bench", "--pattern", "e2e_burn", "--input", "ms="+ms, "--json",
				"--server", s.base, "--burn-down", strconv.Itoa(count), "--batch-size", "500")
			cmd.Env = append(os.Environ(), "DAWSOS_TOKEN="+s.token)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("dawsos bench: %v\n%s", err, out)
			}
			var r burnDownReport
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatal(err)
			}
			if r.NotSucceeded != 0 {
				t.Fatalf("%d workers: %d runs did not succeed; server log:\n%s", workers, r.NotSucceeded, s.logBuf.String())
			}
			return r
		}
		bench(50 * workers)
		r := bench(n)
		rows = append(rows, fmt.Sprintf("%d worker(s): %d runs in %.2f s, %.0f runs/s (ideal %.0f: workers x 1000/%s ms)",
			workers, r.Runs, r.ElapsedS, r.RunsPerS, float64(workers)*1000/mustFloat(t, ms), ms))
		s.stop()
	}
	for _, r := range rows {
		t.Log(r)
	}
}

func mustFloat(t *testing.T, s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
