package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestE2EDatabaseOutage runs serve on its managed PostgreSQL under a
// steady submitter and kills the postmaster (kill -9). During the outage
// submissions answer 503 database_unavailable with Retry-After, never
// 500; the supervisor restarts the server; every run accepted before,
// during or after the outage ends succeeded.
func TestE2EDatabaseOutage(t *testing.T) {
	t.Parallel()
	s := newServer(t, "DAWSOS_DATABASE_URL=")
	s.start()
	pidOf := func() int {
		b, err := os.ReadFile(filepath.Join(s.dataDir, "postgres", "postmaster.pid"))
		if err != nil {
			return 0
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
		return pid
	}
	first := pidOf()
	if first == 0 {
		t.Fatalf("no postmaster.pid under %s; log:\n%s", s.dataDir, s.logBuf.String())
	}

	var mu sync.Mutex
	codes := map[int]int{}
	var accepted []string
	var bad []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			req, _ := http.NewRequest("POST", s.base+"/v1/runs", strings.NewReader(`{"pattern": "e2e_one", "inputs": {"v": `+strconv.Itoa(i)+`}}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+s.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				continue
			}
			var body struct {
				RunID string `json:"run_id"`
				Code  string `json:"code"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			switch {
			case resp.StatusCode == http.StatusAccepted:
				accepted = append(accepted, body.RunID)
			case resp.StatusCode == http.StatusServiceUnavailable && (body.Code != "database_unavailable" || resp.Header.Get("Retry-After") == ""):
				bad = append(bad, fmt.Sprintf("503 with code %q and Retry-After %q", body.Code, resp.Header.Get("Retry-After")))
			case resp.StatusCode != http.StatusServiceUnavailable:
				bad = append(bad, fmt.Sprintf("%d %s", resp.StatusCode, body.Code))
			}
			mu.Unlock()
		}
	}()
	count := func(code int) int { mu.Lock(); defer mu.Unlock(); return codes[code] }
	waitFor := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(within); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("%s: not within %s; answers %v; log:\n%s", what, within, codes, s.logBuf.String())
			}
		}
	}
	waitFor("runs accepted before the outage", 30*time.Second, func() bool { return count(http.StatusAccepted) >= 20 })
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	waitFor("503 during the outage", 30*time.Second, func() bool { return count(http.StatusServiceUnavailable) >= 1 })
	waitFor("a restarted postmaster", 60*time.Second, func() bool { p := pidOf(); return p != 0 && p != first })
	acceptedBefore := count(http.StatusAccepted)
	waitFor("runs accepted after the restart", 60*time.Second, func() bool { return count(http.StatusAccepted) >= acceptedBefore+20 })
	back := time.Now()
	close(stop)
	wg.Wait()

	if len(bad) > 0 {
		t.Errorf("answers that are neither 202 nor 503 database_unavailable with Retry-After: %v", bad)
	}
	if codes[http.StatusInternalServerError] != 0 {
		t.Errorf("%d answers were 500", codes[http.StatusInternalServerError])
	}
	var lastEnd time.Time
	for _, id := range accepted {
		run := s.waitRun(id, 2*time.Minute)
		if run["status"] != "succeeded" {
			t.Errorf("run %s accepted around the outage ended %v", id, run["status"])
		}
		lastEnd = time.Now()
	}
	t.Logf("answers %v; %d runs accepted, all ended; postmaster killed, submissions accepted again %.1fs later, every run ended %.1fs after that",
		codes, len(accepted), back.Sub(killed).Seconds(), lastEnd.Sub(back).Seconds())
	if !strings.Contains(s.logBuf.String(), "managed postgres exited") {
		t.Errorf("the log does not report the postmaster's exit:\n%s", s.logBuf.String())
	}
}
