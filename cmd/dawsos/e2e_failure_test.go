package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestE2EKill9DuringBurst kills the server with SIGKILL while 200 runs are
// being submitted and executed, restarts it on the same database and data
// directory, and checks the durability contract: every accepted run ends,
// and no step's result is applied twice.
func TestE2EKill9DuringBurst(t *testing.T) {
	t.Parallel()
	natsPort := freePort(t)
	// A short step timeout keeps the step deadline (attempts x timeout,
	// back-offs, 30 s) within the test's wait, so the recovery loop's
	// redispatch of overdue steps, the last line of defence, is in play.
	s := newServer(t, fmt.Sprintf("DAWSOS_NATS_LISTEN=127.0.0.1:%d", natsPort), "DAWSOS_STEPS_TIMEOUT=3s")
	s.natsURL = fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	s.setFault("sleep:30ms") // keep steps in flight when the kill lands
	s.start()

	const total = 200
	var mu sync.Mutex
	var accepted []string
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	killed := make(chan struct{})
	var once sync.Once
	for i := 0; i < total; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			code, body, err := s.request("POST", "/v1/runs", map[string]any{"pattern": "e2e_flaky", "inputs": map[string]any{"key": "k"}})
			if err != nil || code != http.StatusAccepted {
				return // refused or cut off by the kill: not accepted
			}
			mu.Lock()
			accepted = append(accepted, body["run_id"].(string))
			n := len(accepted)
			mu.Unlock()
			if n == total/2 {
				once.Do(func() {
					s.kill()
					close(killed)
				})
			}
		}(i)
	}
	wg.Wait()
	once.Do(func() { s.kill(); close(killed) })
	<-killed
	if len(accepted) < total/2 {
		t.Fatalf("only %d runs accepted before the kill", len(accepted))
	}

	s.setFault("")
	s.start()
	for _, id := range accepted {
		body := s.waitRun(id, 90*time.Second)
		if body["status"] != "succeeded" {
			t.Fatalf("run %s ended %v; want succeeded: %v", id, body["status"], body)
		}
	}
	// Each step result is applied at most once: one success event per step
	// and per run, whatever the bus redelivered.
	db := s.database(t)
	var dup int
	err := db.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT run_id, step_id FROM run_events
		WHERE type = 'step.succeeded' GROUP BY run_id, step_id HAVING count(*) > 1) d`).Scan(&dup)
	if err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Fatalf("%d steps have more than one success event", dup)
	}
	var unfinished int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM runs WHERE status = 'running'`).Scan(&unfinished); err != nil {
		t.Fatal(err)
	}
	if unfinished != 0 {
		t.Fatalf("%d runs still running after recovery", unfinished)
	}
	t.Logf("%d of %d runs accepted before the kill; all ended succeeded after restart", len(accepted), total)
}

// TestE2EBreakerDeadLettersAndReplay drives a capability that fails on
// demand: its breaker opens after exactly 5 counted failures, fails fast
// while open, lets one probe through after the (shortened) open time,
// every failed step is dead-lettered, and a bulk replay after the fault is
// cleared ends every run succeeded.
func TestE2EBreakerDeadLettersAndReplay(t *testing.T) {
	t.Parallel()
	// open_for must outlast runs 6 and 7 even on a loaded machine, or one
	// of them becomes the probe.
	s := newServer(t, "DAWSOS_BREAKERS_OPEN_FOR=6s", "DAWSOS_STEPS_MAX_ATTEMPTS=2")
	s.setFault("fail")
	s.start()

	var runs []string
	for i := 0; i < 7; i++ {
		id := s.submit("e2e_flaky", map[string]any{"key": "k"})
		body := s.waitRun(id, 30*time.Second)
		if body["status"] != "partial" {
			t.Fatalf("run %d (%s) ended %v; want partial (first step kept, f dead-lettered)", i, id, body["status"])
		}
		runs = append(runs, id)
	}
	dls := s.deadLetters(t)
	reasons := map[string]int{}
	for _, d := range dls {
		reasons[d["reason"].(string)]++
	}
	// One opening: had run 6 or 7 reached the breaker after probe_at (a
	// machine so loaded that two runs took longer than open_for), it would
	// have been a probe, run, failed and reopened the breaker.
	if b := s.breaker(t, "test.flaky"); len(dls) != 7 || reasons["exhausted"] != 5 || reasons["circuit_open"] != 2 || b["state"] != "open" || b["opens"] != 1.0 {
		t.Fatalf("after 7 failing runs: dead letters by reason %v (%d), breaker %v; want 5 exhausted then 2 circuit_open, and the breaker open once", reasons, len(dls), b)
	}

	// After open_for, exactly one probe: it fails (fault still on) and
	// reopens the breaker, a second opening.
	s.waitProbeDue(t, "test.flaky", time.Minute)
	probe := s.submit("e2e_flaky", map[string]any{"key": "probe"})
	if body := s.waitRun(probe, 30*time.Second); body["status"] != "partial" {
		t.Fatalf("probe run %s ended %v; want partial (the probe fails while the fault is on)", probe, body["status"])
	}
	runs = append(runs, probe)
	if b := s.breaker(t, "test.flaky"); b["state"] != "open" || b["opens"] != 2.0 {
		t.Fatalf("after a failed probe the breaker is %v; want open, opened twice", b)
	}
	last := s.deadLetters(t)[0]
	if last["reason"] != "exhausted" {
		t.Fatalf("the probe's dead letter has reason %v; want exhausted (it ran): %v", last["reason"], last)
	}

	// Clear the fault; the next probe closes the breaker.
	s.setFault("")
	s.waitProbeDue(t, "test.flaky", time.Minute)
	ok := s.submit("e2e_flaky", map[string]any{"key": "ok"})
	if body := s.waitRun(ok, 30*time.Second); body["status"] != "succeeded" {
		t.Fatalf("run %s after the fault was cleared: %v\nsteps: %v\nbreaker: %v\ndead letters: %v\nserver log:\n%s",
			ok, body["status"], body["steps"], s.breaker(t, "test.flaky"), s.deadLetters(t)[:2], s.logBuf.String())
	}
	if b := s.breaker(t, "test.flaky"); b["state"] != "closed" {
		t.Fatalf("breaker %v after a good probe; want closed", b)
	}

	code, body := s.do("POST", "/v1/dlq/replay", map[string]any{"capability": "test.flaky"})
	if code != http.StatusAccepted {
		t.Fatalf("bulk replay: %d %v", code, body)
	}
	for _, id := range runs {
		if body := s.waitRun(id, 30*time.Second); body["status"] != "succeeded" {
			t.Fatalf("run %s after replay: %v", id, body["status"])
		}
	}
}

func (s *server) deadLetters(t *testing.T) []map[string]any {
	t.Helper()
	code, body := s.do("GET", "/v1/dlq?limit=100", nil)
	if code != 200 {
		t.Fatalf("GET /v1/dlq: %d %v", code, body)
	}
	var out []map[string]any
	for _, x := range body["dead_letters"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// breaker returns the capability's entry of GET /v1/breakers.
func (s *server) breaker(t *testing.T, capability string) map[string]any {
	t.Helper()
	code, body := s.do("GET", "/v1/breakers", nil)
	if code != 200 {
		t.Fatalf("GET /v1/breakers: %d %v", code, body)
	}
	for _, x := range body["breakers"].([]any) {
		b := x.(map[string]any)
		if b["capability"] == capability {
			return b
		}
	}
	t.Fatalf("no breaker for %s in %v", capability, body)
	return nil
}

// waitProbeDue polls GET /v1/breakers until the capability's breaker is
// open and the probe_at it reports has passed, so that the next call is
// its probe. The breaker becomes half_open only when that call arrives,
// which leaves probe_at as the signal; the server and the test read the
// same host clock.
func (s *server) waitProbeDue(t *testing.T, capability string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		b := s.breaker(t, capability)
		at, _ := b["probe_at"].(string)
		probeAt, err := time.Parse(time.RFC3339Nano, at)
		if b["state"] == "open" && err == nil && time.Now().After(probeAt) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("breaker of %s not open with its probe due within %s; last seen %v at %s", capability, within, b, time.Now().Format(time.RFC3339Nano))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// database opens a connection to the server's database for checks.
func (s *server) database(t *testing.T) *pgx.Conn {
	t.Helper()
	var url string
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, "DAWSOS_DATABASE_URL="); ok {
			url = v
		}
	}
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}
