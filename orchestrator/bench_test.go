package orchestrator_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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

// runToEnd submits a one-step run of test.noop and waits for its end.
func runToEnd(b *testing.B, e *env) time.Duration {
	start := time.Now()
	s, err := e.engine.Submit(context.Background(), orchestrator.SubmitRequest{Pattern: "one"})
	if err != nil {
		b.Fatal(err)
	}
	for {
		changed, stop := e.engine.Changed(s.RunID)
		var status string
		err := e.db.QueryRow(context.Background(), `SELECT status FROM runs WHERE id = $1`, []any{s.RunID}, &status)
		if err != nil {
			b.Fatal(err)
		}
		if status != storage.RunRunning {
			stop()
			if status != storage.RunSucceeded {
				b.Fatalf("run %s ended %s", s.RunID, status)
			}
			return time.Since(start)
		}
		select {
		case <-changed:
		case <-time.After(5 * time.Second):
			b.Fatalf("run %s did not end within 5s", s.RunID)
		}
		stop()
	}
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
	e := setup(b, envOpts{concurrency: 32, pool: 32})
	runToEnd(b, e)
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
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "steps/s")
	reportLatencies(b, lat)
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
