package orchestrator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// runToEnd submits a one-step run of test.noop and waits for its end, as
// an outside subscriber learns it: the run.completed event, which the
// engine publishes only once the run's end is committed. Waiting on the
// bus rather than polling PostgreSQL keeps the benchmark's own reads off
// the server it measures.
func runToEnd(b *testing.B, e *env) time.Duration {
	start := time.Now()
	s, err := e.engine.Submit(context.Background(), orchestrator.SubmitRequest{Pattern: "one"})
	if err != nil {
		b.Fatal(err)
	}
	select {
	case status := <-completionsOf(b, e).wait(s.RunID):
		if status != storage.RunSucceeded {
			b.Fatalf("run %s ended %s", s.RunID, status)
		}
		return time.Since(start)
	case <-time.After(10 * time.Second):
		b.Fatalf("run %s did not end within 10s", s.RunID)
		return 0
	}
}

// completions hands each run.completed event of an env to the waiter of
// its run, or keeps it until one comes.
type completions struct {
	mu      sync.Mutex
	waiters map[string]chan string
	arrived map[string]string
}

var (
	completionsMu  sync.Mutex
	completionsFor = map[*env]*completions{}
)

func completionsOf(b *testing.B, e *env) *completions {
	completionsMu.Lock()
	defer completionsMu.Unlock()
	if c, ok := completionsFor[e]; ok {
		return c
	}
	c := &completions{waiters: map[string]chan string{}, arrived: map[string]string{}}
	sub, err := e.bus.Conn.Subscribe(bus.EventSubject("*", "run.completed"), func(m *nats.Msg) {
		var ev struct {
			RunID string `json:"run_id"`
			Data  struct {
				Status string `json:"status"`
			} `json:"data"`
		}
		if json.Unmarshal(m.Data, &ev) != nil {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if w, ok := c.waiters[ev.RunID]; ok {
			delete(c.waiters, ev.RunID)
			w <- ev.Data.Status
			return
		}
		c.arrived[ev.RunID] = ev.Data.Status
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.bus.Conn.Flush(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = sub.Unsubscribe()
		completionsMu.Lock()
		delete(completionsFor, e)
		completionsMu.Unlock()
	})
	completionsFor[e] = c
	return c
}

func (c *completions) wait(runID string) <-chan string {
	ch := make(chan string, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.arrived[runID]; ok {
		delete(c.arrived, runID)
		ch <- st
		return ch
	}
	c.waiters[runID] = ch
	return ch
}

func reportLatencies(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
}

// BenchmarkRunOneStep measures the unloaded overhead of one step through
// the real path: submit transaction, JetStream to the handler, result back
// over JetStream, result transaction.
func BenchmarkRunOneStep(b *testing.B) {
	productionGC(b)
	e := setup(b, envOpts{concurrency: 16, pool: 16})
	runToEnd(b, e) // warm up consumers and connections
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat = append(lat, runToEnd(b, e))
	}
	b.StopTimer()
	reportLatencies(b, lat)
}

// BenchmarkRunOneStepInFlight64 keeps 64 one-step runs in flight and
// reports sustained steps per second.
func BenchmarkRunOneStepInFlight64(b *testing.B) {
	productionGC(b)
	e := setup(b, envOpts{concurrency: 32, pool: 32, resultConcurrency: resultConcurrencyFromEnv(16)})
	runToEnd(b, e)
	cpu := newCPUMeter(b, e)
	const inflight = 64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	next := make(chan struct{}, b.N)
	for i := 0; i < b.N; i++ {
		next <- struct{}{}
	}
	close(next)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < inflight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				d := runToEnd(b, e)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu.report(b, b.N)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "steps/s")
	reportLatencies(b, lat)
}

// BenchmarkBurnDown is River's burn-down measured on DawsOS: b.N one-step
// no-op runs are submitted first, 1,000 per batch, with the capability's
// 100 consumers stopped; then the consumers start and the clock runs until
// the b.N-th run is recorded done. Run it with -benchtime 30000x to match
// ../shared/bench/peer-river (JOBS=30000, BURN_WORKERS=100).
func BenchmarkBurnDown(b *testing.B) {
	productionGC(b)
	e := setup(b, envOpts{concurrency: 100, pool: 32, deferAgents: true, resultConcurrency: 256})
	ctx := context.Background()
	stmts := e.db.Statements()
	for done := 0; done < b.N; done += 1000 {
		reqs := make([]orchestrator.SubmitRequest, min(1000, b.N-done))
		for i := range reqs {
			reqs[i] = orchestrator.SubmitRequest{Pattern: "one"}
		}
		if _, err := e.engine.SubmitBatch(ctx, reqs); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	cpu := newCPUMeter(b, e)
	start := time.Now()
	e.startAgents()
	waitFinished(b, e, b.N, 5*time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()
	cpu.report(b, b.N)
	var succeeded int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM runs WHERE status = 'succeeded'`, nil, &succeeded); err != nil {
		b.Fatal(err)
	}
	if succeeded != b.N {
		b.Fatalf("%d of %d runs succeeded", succeeded, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "runs/s")
	b.ReportMetric(float64(e.db.Statements()-stmts)/float64(b.N), "stmts/run")
}

// BenchmarkSteadyState submits one run per call at a fixed rate
// (DAWSOS_BENCH_RATE runs/s, default 500) and reports the latency from
// submission to the run recorded done.
func BenchmarkSteadyState(b *testing.B) {
	productionGC(b)
	rate := 500
	if v, err := strconv.Atoi(os.Getenv("DAWSOS_BENCH_RATE")); err == nil && v > 0 {
		rate = v
	}
	e := setup(b, envOpts{concurrency: 100, pool: 32, resultConcurrency: 256})
	runToEnd(b, e)
	stmts := e.db.Statements()
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[i] = runToEnd(b, e)
		}()
	}
	wg.Wait()
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50_ms")
	b.ReportMetric(q(0.9), "p90_ms")
	b.ReportMetric(q(0.99), "p99_ms")
	b.ReportMetric(q(1), "max_ms")
	// The statements include the benchmark's own status reads (about two
	// per run).
	b.ReportMetric(float64(e.db.Statements()-stmts)/float64(b.N), "stmts/run")
}

// resultConcurrencyFromEnv lets DAWSOS_BENCH_RESULT_CONCURRENCY override a
// benchmark's orchestrator.result_concurrency.
func resultConcurrencyFromEnv(def int) int {
	if v, err := strconv.Atoi(os.Getenv("DAWSOS_BENCH_RESULT_CONCURRENCY")); err == nil && v > 0 {
		return v
	}
	return def
}

// productionGC runs the benchmark with the garbage collector's target
// serve and worker use (orchestrator.GCPercent), unless GOGC is set.
func productionGC(b *testing.B) {
	if os.Getenv("GOGC") != "" {
		return
	}
	prev := debug.SetGCPercent(orchestrator.GCPercent)
	b.Cleanup(func() { debug.SetGCPercent(prev) })
}

// waitFinished waits until the engine has ended n runs, reading its
// finished counter (incremented after each commit) rather than polling the
// database, whose count would cost the server as much as the runs.
func waitFinished(b *testing.B, e *env, n int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for {
		mfs, err := e.prom.Gather()
		if err != nil {
			b.Fatal(err)
		}
		var done float64
		for _, mf := range mfs {
			if mf.GetName() == "dawsos_runs_finished_total" {
				for _, m := range mf.GetMetric() {
					done += m.GetCounter().GetValue()
				}
			}
		}
		if int(done) >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d runs ended within %s", int(done), n, limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// BenchmarkJetStreamRoundTrip is the physical limit of one bus hop here:
// publish to a file-backed work-queue stream, consume, acknowledge.
func BenchmarkJetStreamRoundTrip(b *testing.B) {
	dir, err := os.MkdirTemp("", "dawsos-jsbench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bb, err := bus.Start(context.Background(), bus.Config{StoreDir: filepath.Join(dir, "nats")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer bb.Close()
	ctx := context.Background()
	c, err := bb.JS.CreateOrUpdateConsumer(ctx, bus.StreamSteps, jetstream.ConsumerConfig{Durable: "bench", FilterSubject: bus.StepSubject("bench.x"), AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		b.Fatal(err)
	}
	got := make(chan struct{}, 1)
	cc, err := c.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		got <- struct{}{}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()
	data := []byte(`{"run_id":"x","step_id":"a","attempt":1}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := nats.NewMsg(bus.StepSubject("bench.x"))
		m.Data = data
		if _, err := bb.JS.PublishMsg(ctx, m); err != nil {
			b.Fatal(err)
		}
		<-got
	}
}

// BenchmarkPostgresCommit is the physical limit of one durable write here:
// a small insert in its own committed transaction (fsync off in the test
// server, as in the harness; the managed server in production fsyncs).
func BenchmarkPostgresCommit(b *testing.B) {
	db := pgtest.NewDB(b)
	ctx := context.Background()
	hash := strings.Repeat("0", 64)
	if _, err := db.Exec(ctx, `INSERT INTO pattern_versions (hash, pattern_id, document) VALUES ($1, 'p', '{}')`, hash); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := db.Tx(ctx, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO runs (id, pattern, pattern_hash, inputs, context, correlation_id) VALUES ($1, 'p', $2, '{}', '{}', 'c')`, uuid.New(), hash)
			return err
		})
		if err != nil {
			b.Fatal(fmt.Errorf("commit: %w", err))
		}
	}
}

// cpuMeter reads the CPU time this process and the PostgreSQL server
// have used, so a benchmark can report CPU per run: a figure that, unlike
// runs per second, holds when other work shares the machine.
type cpuMeter struct {
	postmaster int
	goStart    time.Duration
	pgStart    time.Duration
}

func newCPUMeter(b *testing.B, e *env) *cpuMeter {
	var backend int
	if err := e.db.QueryRow(context.Background(), `SELECT pg_backend_pid()`, nil, &backend); err != nil {
		b.Fatal(err)
	}
	m := &cpuMeter{}
	if st, ok := procStat(backend); ok {
		m.postmaster = st.ppid
	}
	m.goStart, m.pgStart = m.read()
	return m
}

func (m *cpuMeter) read() (goCPU, pgCPU time.Duration) {
	if st, ok := procStat(os.Getpid()); ok {
		goCPU = st.cpu
	}
	if m.postmaster == 0 {
		return goCPU, 0
	}
	if st, ok := procStat(m.postmaster); ok {
		pgCPU += st.cpu
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := procStat(pid); ok && st.ppid == m.postmaster {
			pgCPU += st.cpu
		}
	}
	return goCPU, pgCPU
}

// report adds the CPU used since the meter started, per run.
func (m *cpuMeter) report(b *testing.B, runs int) {
	goCPU, pgCPU := m.read()
	b.ReportMetric(float64((goCPU-m.goStart).Microseconds())/float64(runs), "go_cpu_us/run")
	if m.postmaster != 0 {
		b.ReportMetric(float64((pgCPU-m.pgStart).Microseconds())/float64(runs), "pg_cpu_us/run")
	}
}

type procInfo struct {
	ppid int
	cpu  time.Duration
}

// procStat reads a process's parent and its user+system CPU time from
// /proc/PID/stat (fields 4, 14 and 15; clock ticks of 1/100 s on Linux).
func procStat(pid int) (procInfo, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procInfo{}, false
	}
	// The command name, field 2, is parenthesised and may hold spaces.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return procInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return procInfo{ppid: ppid, cpu: time.Duration(ut+st) * 10 * time.Millisecond}, true
}
