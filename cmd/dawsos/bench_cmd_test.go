package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	t.Parallel()
	// Nearest rank: the value at 1-based rank ceil(p/100 · n) of the sorted
	// list. The cases are the worked examples of the nearest-rank method in
	// Wikipedia's "Percentile" article, each rank recomputed by hand here.
	five := []float64{15, 20, 35, 40, 50}
	ten := []float64{3, 6, 7, 8, 8, 10, 13, 15, 16, 20}
	eleven := []float64{3, 6, 7, 8, 8, 9, 10, 13, 15, 16, 20}
	cases := []struct {
		data []float64
		p    float64
		want float64
	}{
		{five, 5, 15},    // ceil(0.25) = 1 → 15
		{five, 30, 20},   // ceil(1.5) = 2 → 20
		{five, 40, 20},   // ceil(2.0) = 2 → 20 (an exact rank must not round up)
		{five, 50, 35},   // ceil(2.5) = 3 → 35
		{five, 100, 50},  // ceil(5) = 5 → 50
		{ten, 25, 7},     // ceil(2.5) = 3 → 7
		{ten, 50, 8},     // ceil(5) = 5 → 8
		{ten, 75, 15},    // ceil(7.5) = 8 → 15
		{ten, 90, 16},    // ceil(9.0) = 9 → 16 (0.9·10 in floating point)
		{ten, 100, 20},   // rank 10 → 20
		{eleven, 25, 7},  // ceil(2.75) = 3 → 7
		{eleven, 50, 9},  // ceil(5.5) = 6 → 9
		{eleven, 75, 15}, // ceil(8.25) = 9 → 15
		{eleven, 99, 20}, // ceil(10.89) = 11 → 20
		{[]float64{4}, 1, 4},
	}
	for _, c := range cases {
		if got := percentile(c.data, c.p); got != c.want {
			t.Errorf("percentile(%v, %g) = %g, want %g", c.data, c.p, got, c.want)
		}
	}
	if got := percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("percentile(nil, 50) = %g, want NaN", got)
	}
}

func TestLatencySummary(t *testing.T) {
	t.Parallel()
	// 1..100 ms shuffled: p50 = rank 50 = 50, p90 = 90, p99 = 99, max 100,
	// mean = 5050 / 100 = 50.5.
	ms := make([]float64, 100)
	for i := range ms {
		ms[i] = float64((i*37)%100 + 1) // 37 is prime to 100: a permutation of 1..100
	}
	got := latencySummary(ms)
	want := latencyStats{Count: 100, Min: 1, Mean: 50.5, P50: 50, P90: 90, P99: 99, Max: 100}
	if got != want {
		t.Errorf("latencySummary(1..100) = %+v, want %+v", got, want)
	}
}

func TestScheduleLen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rate   float64
		window time.Duration
		want   int
	}{
		{200, time.Second, 200}, // offsets 0, 5, …, 995 ms
		{3, time.Second, 3},     // 0, 333.3, 666.7 ms
		{3, time.Second + time.Nanosecond, 4},
		{0.5, 3 * time.Second, 2}, // 0 s, 2 s
		{1000, 10 * time.Millisecond, 10},
	}
	for _, c := range cases {
		if got := scheduleLen(c.rate, c.window); got != c.want {
			t.Errorf("scheduleLen(%g, %s) = %d, want %d", c.rate, c.window, got, c.want)
		}
	}
}

// slowServer answers POST /v1/runs?wait after delay with a run document
// whose status statusOf picks from the request's arrival number (from 0),
// and records the most requests it held at once.
type slowServer struct {
	*httptest.Server
	delay    time.Duration
	statusOf func(n int64) (int, string)
	// hold, when set, is called with each request's arrival number before
	// it is answered and blocks until the test lets it go.
	hold     func(r *http.Request, n int64)
	requests atomic.Int64
	inFlight atomic.Int64
	mu       sync.Mutex
	maxIn    int64
	badQuery atomic.Int64
}

func newSlowServer(t *testing.T, delay time.Duration, statusOf func(n int64) (int, string)) *slowServer {
	return startSlowServer(t, &slowServer{delay: delay, statusOf: statusOf})
}

// newHoldingServer is a slowServer whose requests also wait for hold.
func newHoldingServer(t *testing.T, delay time.Duration, hold func(r *http.Request, n int64)) *slowServer {
	return startSlowServer(t, &slowServer{delay: delay, hold: hold})
}

func startSlowServer(t *testing.T, s *slowServer) *slowServer {
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.requests.Add(1) - 1
		cur := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		s.mu.Lock()
		s.maxIn = max(s.maxIn, cur)
		s.mu.Unlock()
		var body submitRequest
		if r.Method != http.MethodPost || r.URL.Path != "/v1/runs" || r.URL.Query().Get("wait") == "" ||
			json.NewDecoder(r.Body).Decode(&body) != nil || body.Pattern != "p" {
			s.badQuery.Add(1)
		}
		if s.hold != nil {
			s.hold(r, n)
		}
		time.Sleep(s.delay) // the run the server simulates takes this long
		code, status := http.StatusOK, "succeeded"
		if s.statusOf != nil {
			code, status = s.statusOf(n)
		}
		if code >= 400 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(code)
			_, _ = fmt.Fprintf(w, `{"status":%d,"code":"unavailable","detail":"busy","correlation_id":"c%d"}`, code, n)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = fmt.Fprintf(w, `{"run_id":"r%d","status":%q,"steps":[]}`, n, status)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *slowServer) maxInFlight() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxIn
}

func benchTestConfig(url string, rate float64, d, warmup time.Duration, limit int) benchConfig {
	return benchConfig{Server: url, Pattern: "p", Inputs: nil, Rate: rate, Duration: d, Warmup: warmup,
		ConcurrencyLimit: limit, WaitTimeout: 5 * time.Second}
}

// TestBenchIsOpenLoop: 200 runs/s for 1 s against a server that takes
// 50 ms sends all 200 runs; a closed loop (one run at a time) would send
// about 1 s / 50 ms = 20 and never hold two requests at once. The server
// holds the first request until the second arrives, so an open loop holds
// two at once whatever the machine's load; a closed loop never sends the
// second, and the first goes on when the client gives up on it.
func TestBenchIsOpenLoop(t *testing.T) {
	t.Parallel()
	second := make(chan struct{})
	srv := newHoldingServer(t, 50*time.Millisecond, func(r *http.Request, n int64) {
		switch n {
		case 0:
			select {
			case <-second:
			case <-r.Context().Done():
			}
		case 1:
			close(second)
		}
	})
	var progressed atomic.Int64
	rep, err := runBench(context.Background(), benchTestConfig(srv.URL, 200, time.Second, 0, 1000),
		benchHTTPClient(1000, 5*time.Second), func() { progressed.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Counts
	if c.Scheduled != 200 || c.Sent != 200 || c.Dropped != 0 || c.Succeeded != 200 {
		t.Errorf("counts = %+v, want scheduled, sent and succeeded 200, dropped 0", c)
	}
	if got := srv.requests.Load(); got != 200 {
		t.Errorf("server saw %d requests, want 200", got)
	}
	if got := srv.badQuery.Load(); got != 0 {
		t.Errorf("%d requests lacked ?wait or the pattern", got)
	}
	if got := srv.maxInFlight(); got < 2 {
		t.Errorf("server held at most %d requests at once, want at least 2 (the second arrives while the first is held: open loop)", got)
	}
	if got := progressed.Load(); got != 200 {
		t.Errorf("progress called %d times, want 200", got)
	}
	if rep.Latency.Count != 200 || rep.Latency.Min < 50 {
		t.Errorf("latency = %+v, want 200 samples of at least the server's 50 ms", rep.Latency)
	}
	if c.StatusCodes["200"] != 200 {
		t.Errorf("status codes = %v, want 200×200", c.StatusCodes)
	}
}

// TestBenchConcurrencyLimit: with 3 requests allowed in flight, 30 sends
// due (100/s for 300 ms) and a server that holds every request until the
// other 27 sends were dropped, exactly 3 are sent and 27 dropped, and the
// server never holds more than 3. The drops are counted by the progress
// callback, which a drop calls at once and a sent run only when it ends;
// releasing on them, not after a delay, keeps the split exact on any
// machine. A bench that ignored the limit would send more than 3, never
// reach 27 drops, and fail when its client gives up on the held requests.
func TestBenchConcurrencyLimit(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var once sync.Once
	srv := newHoldingServer(t, 0, func(r *http.Request, _ int64) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	var progressed atomic.Int64
	rep, err := runBench(context.Background(), benchTestConfig(srv.URL, 100, 300*time.Millisecond, 0, 3),
		benchHTTPClient(3, 5*time.Second), func() {
			if progressed.Add(1) == 27 {
				once.Do(func() { close(release) })
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Counts
	if c.Scheduled != 30 || c.Sent != 3 || c.Dropped != 27 {
		t.Errorf("counts = %+v, want 30 scheduled, 3 sent, 27 dropped", c)
	}
	if int64(c.Sent) != srv.requests.Load() || c.Succeeded != c.Sent {
		t.Errorf("sent %d, succeeded %d, server saw %d; want all equal", c.Sent, c.Succeeded, srv.requests.Load())
	}
	if got := srv.maxInFlight(); got > 3 {
		t.Errorf("server held %d requests at once, want at most 3", got)
	}
}

// TestBenchClassifiesOutcomes cycles the server through every kind of
// answer; 10 requests give 2 of each of 5 kinds.
func TestBenchClassifiesOutcomes(t *testing.T) {
	t.Parallel()
	srv := newSlowServer(t, 0, func(n int64) (int, string) {
		switch n % 5 {
		case 0:
			return http.StatusOK, "succeeded"
		case 1:
			return http.StatusOK, "partial"
		case 2:
			return http.StatusOK, "failed"
		case 3:
			return http.StatusAccepted, "running" // ?wait ended first
		}
		return http.StatusServiceUnavailable, ""
	})
	rep, err := runBench(context.Background(), benchTestConfig(srv.URL, 50, 200*time.Millisecond, 0, 100),
		benchHTTPClient(100, 5*time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Counts
	want := benchCounts{Scheduled: 10, Sent: 10, Succeeded: 2, Partial: 2, Failed: 2, Timeouts: 2, HTTPErrors: 2,
		StatusCodes: map[string]int{"200": 6, "202": 2, "503": 2}}
	if fmt.Sprintf("%+v", c) != fmt.Sprintf("%+v", want) {
		t.Errorf("counts = %+v\nwant %+v", c, want)
	}
	if rep.Latency.Count != 6 {
		t.Errorf("latency samples = %d, want 6 (ended runs only)", rep.Latency.Count)
	}
	if got := rep.ErrorSamples["503"]; !strings.Contains(got, "unavailable: busy") {
		t.Errorf("error sample for 503 = %q, want the problem's code and detail", got)
	}
}

// TestBenchWarmupIsNotCounted: 100 runs/s with 100 ms of warmup and 200 ms
// measured sends 30 runs and counts the last 20.
func TestBenchWarmupIsNotCounted(t *testing.T) {
	t.Parallel()
	srv := newSlowServer(t, 0, nil)
	rep, err := runBench(context.Background(), benchTestConfig(srv.URL, 100, 200*time.Millisecond, 100*time.Millisecond, 100),
		benchHTTPClient(100, 5*time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.requests.Load(); got != 30 {
		t.Errorf("server saw %d requests, want 30", got)
	}
	if c := rep.Counts; c.Scheduled != 20 || c.Sent != 20 || c.Succeeded != 20 {
		t.Errorf("counts = %+v, want 20 measured", c)
	}
}

// TestBenchUnreachable counts transport errors and keeps a sample.
func TestBenchUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close() // nothing listens there any more
	rep, err := runBench(context.Background(), benchTestConfig(url, 100, 50*time.Millisecond, 0, 10),
		benchHTTPClient(10, 5*time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Counts; c.Sent != 5 || c.TransportErrors != 5 || rep.Latency.Count != 0 {
		t.Errorf("counts = %+v, latency %+v; want 5 transport errors", c, rep.Latency)
	}
	if rep.ErrorSamples["transport_error"] == "" {
		t.Errorf("no transport error sample in %v", rep.ErrorSamples)
	}
	var out strings.Builder
	printBenchReport(&out, rep)
	if !strings.Contains(out.String(), "transport errors 5") {
		t.Errorf("report does not show the transport errors:\n%s", out.String())
	}
}
