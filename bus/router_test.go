package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

// startBus runs an embedded NATS on a temporary store for one test.
func startBus(t *testing.T) *bus.Bus {
	t.Helper()
	dir, err := os.MkdirTemp("", "dawsos-bus-")
	if err != nil {
		t.Fatal(err)
	}
	b, err := bus.Start(context.Background(), bus.Config{StoreDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Close()
		os.RemoveAll(dir)
	})
	return b
}

// results collects step results from the RESULTS stream.
func results(t *testing.T, b *bus.Bus) <-chan bus.StepResult {
	t.Helper()
	ch := make(chan bus.StepResult, 100)
	ctx := context.Background()
	c, err := b.JS.CreateOrUpdateConsumer(ctx, bus.StreamResults, jetstream.ConsumerConfig{Durable: "test", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := c.Consume(func(m jetstream.Msg) {
		var r bus.StepResult
		if err := json.Unmarshal(m.Data(), &r); err != nil {
			t.Errorf("undecodable result %q", m.Data())
		}
		_ = m.Ack()
		ch <- r
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cc.Stop)
	return ch
}

type harness struct {
	b     *bus.Bus
	db    *storage.DB
	r     *bus.AgentRouter
	out   <-chan bus.StepResult
	calls atomic.Int64
	// running and maxRunning count attempts running at once.
	running, maxRunning atomic.Int64
}

// newHarness runs a router with one capability whose behaviour is fn.
func newHarness(t *testing.T, failures int, timeout time.Duration, fn func(ctx context.Context, req *bus.StepRequest) (json.RawMessage, error)) *harness {
	t.Helper()
	return newHarnessWith(t, harnessOpts{failures: failures, timeout: timeout, backoff: 5 * time.Millisecond, cancelGrace: 2 * time.Second}, fn)
}

type harnessOpts struct {
	failures int
	timeout  time.Duration
	backoff  time.Duration
	grace    time.Duration
	ackWait  time.Duration
	// cancelGrace bounds the wait for a timed-out attempt to stop.
	cancelGrace time.Duration
}

func newHarnessWith(t *testing.T, o harnessOpts, fn func(ctx context.Context, req *bus.StepRequest) (json.RawMessage, error)) *harness {
	t.Helper()
	failures, timeout := o.failures, o.timeout
	h := &harness{b: startBus(t), db: pgtest.NewDB(t)}
	h.out = results(t, h.b)
	r, err := h.b.NewAgentRouter(context.Background(), bus.AgentRouterConfig{
		Breaker:        bus.BreakerConfig{Failures: failures, OpenFor: time.Hour},
		InitialBackoff: o.backoff,
		ShutdownGrace:  o.grace,
		AckWait:        o.ackWait,
		DeadLetters:    orchestrator.DeadLetterStore{DB: h.db},
		Classify:       orchestrator.Classify,
		CancelGrace:    o.cancelGrace,
		Logger:         slog.New(slog.DiscardHandler),
	}, []bus.Handler{{
		Capability: "test.cap", Agent: "test", Timeout: timeout, MaxAttempts: 3, Concurrency: 1,
		Invoke: func(ctx context.Context, req *bus.StepRequest) (json.RawMessage, error) {
			n := h.running.Add(1)
			defer h.running.Add(-1)
			for {
				m := h.maxRunning.Load()
				if n <= m || h.maxRunning.CompareAndSwap(m, n) {
					break
				}
			}
			h.calls.Add(1)
			return fn(ctx, req)
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = r.Run(ctx) }()
	<-r.Running()
	t.Cleanup(func() {
		_ = r.Close()
		cancel()
	})
	h.r = r
	return h
}

// insertRun writes the run and step a request belongs to, so a dead letter
// can reference them.
func (h *harness) insertRun(t *testing.T, runID string) {
	t.Helper()
	err := h.db.Tx(context.Background(), func(tx pgx.Tx) error {
		_, err := storage.WriteRunChanges(context.Background(), tx, storage.RunChanges{RunID: runID,
			Version: &storage.PatternVersion{Hash: testHash, PatternID: "p", Document: []byte(`{}`)},
			NewRun: &storage.RunRow{ID: runID, Pattern: "p", PatternHash: testHash,
				Inputs: json.RawMessage(`{}`), Context: json.RawMessage(`{}`), CorrelationID: "c"},
			NewSteps: []storage.StepRow{{RunID: runID, StepID: "s", Capability: "test.cap", Status: "queued", Attempt: 1}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testHash names the pattern version the test runs pin.
var testHash = strings.Repeat("ab", 32)

func (h *harness) send(t *testing.T) string {
	t.Helper()
	runID := uuid.NewString()
	h.insertRun(t, runID)
	err := h.b.PublishSteps(context.Background(), []bus.StepRequest{{RunID: runID, StepID: "s", Attempt: 1, Capability: "test.cap", Args: json.RawMessage(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	return runID
}

func (h *harness) next(t *testing.T) bus.StepResult {
	t.Helper()
	select {
	case r := <-h.out:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("no step result within 20s")
	}
	return bus.StepResult{}
}

func (h *harness) deadLetters(t *testing.T) []storage.DeadLetterRow {
	t.Helper()
	var out []storage.DeadLetterRow
	err := h.db.Tx(context.Background(), func(tx pgx.Tx) error {
		var err error
		out, err = storage.ListDeadLetters(context.Background(), tx, storage.DeadLetterFilter{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRouterOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		fn        func(ctx context.Context, req *bus.StepRequest) (json.RawMessage, error)
		timeout   time.Duration
		wantOK    bool
		wantCode  string
		wantTries int
		wantDL    string // reason, "" for none
	}{
		{"success", func(context.Context, *bus.StepRequest) (json.RawMessage, error) {
			return json.RawMessage(`{"v":1}`), nil
		},
			time.Second, true, "", 1, ""},
		{"retryable error is retried then dead-lettered", func(context.Context, *bus.StepRequest) (json.RawMessage, error) {
			return nil, agents.Errorf(agents.CodeUnavailable, "down")
		}, time.Second, false, agents.CodeUnavailable, 3, bus.ReasonExhausted},
		{"final error is not retried", func(context.Context, *bus.StepRequest) (json.RawMessage, error) {
			return nil, agents.FieldError("portfolio_id", "bad")
		}, time.Second, false, agents.CodeInvalidInput, 1, bus.ReasonFinalError},
		{"panic becomes a retryable error", func(context.Context, *bus.StepRequest) (json.RawMessage, error) { panic("boom") },
			time.Second, false, "panic", 3, bus.ReasonExhausted},
		{"timeout per attempt", func(ctx context.Context, _ *bus.StepRequest) (json.RawMessage, error) {
			time.Sleep(300 * time.Millisecond) // ignores ctx on purpose
			return json.RawMessage(`{}`), nil
		}, 50 * time.Millisecond, false, "timeout", 3, bus.ReasonExhausted},
		{"foreign error is a retryable internal error", func(context.Context, *bus.StepRequest) (json.RawMessage, error) {
			return nil, errors.New("surprise")
		}, time.Second, false, "internal", 3, bus.ReasonExhausted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, 100, c.timeout, c.fn)
			runID := h.send(t)
			r := h.next(t)
			if r.RunID != runID || r.OK != c.wantOK || r.Tries != c.wantTries {
				t.Fatalf("result %+v; want ok=%v tries=%d for run %s", r, c.wantOK, c.wantTries, runID)
			}
			if !c.wantOK && (r.Error == nil || r.Error.Code != c.wantCode) {
				t.Fatalf("error %+v; want code %s", r.Error, c.wantCode)
			}
			dls := h.deadLetters(t)
			if c.wantDL == "" {
				if len(dls) != 0 {
					t.Fatalf("dead letters %+v; want none", dls)
				}
				return
			}
			if len(dls) != 1 || dls[0].Reason != c.wantDL || dls[0].ID != r.DeadLetterID || dls[0].Tries != c.wantTries {
				t.Fatalf("dead letters %+v; want one with reason %s, id %s, tries %d", dls, c.wantDL, r.DeadLetterID, c.wantTries)
			}
		})
	}
}

func TestRouterBreakerFailsFastAfterFiveCountedFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 5, time.Second, func(context.Context, *bus.StepRequest) (json.RawMessage, error) {
		return nil, agents.Errorf(agents.CodeUnavailable, "down")
	})
	for i := 1; i <= 7; i++ {
		h.send(t)
		r := h.next(t)
		wantCode, wantTries := agents.CodeUnavailable, 3
		if i > 5 {
			wantCode, wantTries = agents.CodeCircuitOpen, 0
		}
		if r.OK || r.Error.Code != wantCode || r.Tries != wantTries || r.DeadLetterID == "" {
			t.Fatalf("step %d: result %+v; want code %s after %d tries, dead-lettered", i, r, wantCode, wantTries)
		}
	}
	if got := h.calls.Load(); got != 15 {
		t.Fatalf("capability called %d times; want 15 (5 steps x 3 attempts, none while open)", got)
	}
	snap, _ := h.r.Breaker("test.cap")
	if s := snap.Snapshot(); s.State != bus.BreakerOpen {
		t.Fatalf("breaker %s; want open", s.State)
	}
	reasons := map[string]int{}
	for _, d := range h.deadLetters(t) {
		reasons[d.Reason]++
	}
	if reasons[bus.ReasonExhausted] != 5 || reasons[bus.ReasonCircuitOpen] != 2 {
		t.Fatalf("dead letters by reason %v; want 5 exhausted, 2 circuit_open", reasons)
	}
}

func TestRouterDeadLettersUndecodableMessagesAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 5, time.Second, func(context.Context, *bus.StepRequest) (json.RawMessage, error) {
		return json.RawMessage(`{}`), nil
	})
	m := nats.NewMsg(bus.StepSubject("test.cap"))
	m.Data = []byte("{not json")
	if _, err := h.b.JS.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if dls := h.deadLetters(t); len(dls) > 0 {
			if len(dls) != 1 || dls[0].Reason != bus.ReasonUndecodable || string(dls[0].RawPayload) != "{not json" {
				t.Fatalf("dead letters %+v; want one undecodable with the raw payload", dls)
			}
			if h.calls.Load() != 0 {
				t.Fatalf("capability called %d times for an undecodable message", h.calls.Load())
			}
			// The message was acknowledged: nothing is left to redeliver.
			info, err := h.b.JS.Stream(context.Background(), bus.StreamSteps)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 50; i++ {
				st, _ := info.Info(context.Background())
				if st.State.Msgs == 0 {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatal("undecodable message still in the STEPS stream")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(fmt.Sprintf("no dead letter for the undecodable message; capability called %d times", h.calls.Load()))
}

func TestRouterBackoffDoublesFromTheInitialWait(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls []time.Time
	h := newHarnessWith(t, harnessOpts{failures: 100, timeout: time.Second, backoff: 200 * time.Millisecond},
		func(context.Context, *bus.StepRequest) (json.RawMessage, error) {
			mu.Lock()
			calls = append(calls, time.Now())
			mu.Unlock()
			return nil, agents.Errorf(agents.CodeUnavailable, "down")
		})
	h.send(t)
	h.next(t)
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 3 {
		t.Fatalf("%d attempts; want 3", len(calls))
	}
	// At least 200 ms then 400 ms between attempts; the exact schedule is
	// checked without a clock in TestRetryWaits.
	g1, g2 := calls[1].Sub(calls[0]), calls[2].Sub(calls[1])
	if g1 < 200*time.Millisecond || g2 < 400*time.Millisecond {
		t.Fatalf("waits %v and %v; want at least 200ms and 400ms", g1, g2)
	}
}

func TestRouterShutdownDoesNotDeadLetterStepsInFlight(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	var once sync.Once
	// The step outlasts the shutdown grace, so Close cancels it.
	h := newHarnessWith(t, harnessOpts{failures: 1, timeout: 10 * time.Second, backoff: 10 * time.Millisecond, grace: 200 * time.Millisecond},
		func(ctx context.Context, _ *bus.StepRequest) (json.RawMessage, error) {
			once.Do(func() { close(started) })
			<-ctx.Done()
			return nil, ctx.Err()
		})
	h.send(t)
	<-started
	if err := h.r.Close(); err != nil {
		t.Fatal(err)
	}
	if dls := h.deadLetters(t); len(dls) != 0 {
		t.Fatalf("dead letters %+v after a shutdown; a step cut short is not a failure", dls)
	}
	br, _ := h.r.Breaker("test.cap")
	if s := br.Snapshot(); s.State != bus.BreakerClosed || s.ConsecutiveFailures != 0 {
		t.Fatalf("breaker %+v after a shutdown; want closed with no failure counted", s)
	}
	// The bus's main connection, which publishes for the whole process,
	// is still usable after the router closed its subscribers.
	if err := h.b.Healthy(); err != nil {
		t.Fatal(err)
	}
}

// TestRouterStepLongerThanTheAckWaitRunsOnce: the heartbeat renews the
// delivery, so a step that outlasts the consumer's ack wait is neither
// redelivered nor cut short.
func TestRouterStepLongerThanTheAckWaitRunsOnce(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOpts{failures: 5, timeout: 10 * time.Second, backoff: 10 * time.Millisecond, ackWait: time.Second},
		func(ctx context.Context, _ *bus.StepRequest) (json.RawMessage, error) {
			select {
			case <-time.After(2500 * time.Millisecond):
				return json.RawMessage(`{"done":true}`), nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		})
	h.send(t)
	r := h.next(t)
	if !r.OK || r.Tries != 1 {
		t.Fatalf("result %+v; want success on the first try", r)
	}
	// Without the heartbeat the server would have delivered the step again
	// after one ack wait, while it still ran: the consumer would count a
	// redelivery. Once the delivery is acknowledged, it must count none.
	info := waitConsumerIdle(t, h.b, bus.StreamSteps, "step_test-cap")
	if info.NumRedelivered != 0 || h.calls.Load() != 1 {
		t.Fatalf("consumer redelivered %d, capability called %d times; want the step delivered and run once", info.NumRedelivered, h.calls.Load())
	}
}

// waitConsumerIdle polls a consumer until it has nothing pending or
// awaiting acknowledgement, and returns its info.
func waitConsumerIdle(t *testing.T, b *bus.Bus, stream, consumer string) *nats.ConsumerInfo {
	t.Helper()
	js, err := b.Conn.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	var info *nats.ConsumerInfo
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if info, err = js.ConsumerInfo(stream, consumer); err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 && info.NumPending == 0 {
			return info
		}
	}
	t.Fatalf("consumer %s still has %d pending and %d unacknowledged", consumer, info.NumPending, info.NumAckPending)
	return nil
}

// TestTimedOutAttemptNeverOverlapsTheNext: an attempt that ignores its
// cancelled context for a while is waited for (up to the cancel grace)
// before the next attempt starts, so two attempts of a step never run at
// once; one that outlasts the grace is abandoned, and the step still ends.
func TestTimedOutAttemptNeverOverlapsTheNext(t *testing.T) {
	t.Parallel()
	slow := func(ctx context.Context, _ *bus.StepRequest) (json.RawMessage, error) {
		time.Sleep(300 * time.Millisecond) // ignores ctx on purpose
		return json.RawMessage(`{}`), nil
	}
	h := newHarnessWith(t, harnessOpts{failures: 100, timeout: 50 * time.Millisecond, backoff: time.Millisecond, cancelGrace: 5 * time.Second}, slow)
	h.send(t)
	r := h.next(t)
	if r.OK || r.Error.Code != agents.CodeTimeout || r.Tries != 3 {
		t.Fatalf("result %+v; want a timeout after 3 tries", r)
	}
	if m := h.maxRunning.Load(); m != 1 {
		t.Fatalf("%d attempts ran at once; a retry must wait for the cancelled attempt", m)
	}
	abandoned := newHarnessWith(t, harnessOpts{failures: 100, timeout: 50 * time.Millisecond, backoff: time.Millisecond, cancelGrace: 10 * time.Millisecond}, slow)
	abandoned.send(t)
	if r := abandoned.next(t); r.OK || r.Error.Code != agents.CodeTimeout {
		t.Fatalf("result %+v; want a timeout even when the attempt outlasts the grace", r)
	}
}

// TestConsumerNamesAreInjective: capabilities whose names differ only in
// where the dot is get consumers of their own and their own steps.
func TestConsumerNamesAreInjective(t *testing.T) {
	t.Parallel()
	b := startBus(t)
	db := pgtest.NewDB(t)
	out := results(t, b)
	var hs []bus.Handler
	for _, name := range []string{"a.b_c", "a_b.c"} {
		name := name
		hs = append(hs, bus.Handler{Capability: name, Agent: "test", Timeout: time.Second, MaxAttempts: 1, Concurrency: 1,
			Invoke: func(context.Context, *bus.StepRequest) (json.RawMessage, error) {
				return json.Marshal(map[string]string{"ran": name})
			}})
	}
	r, err := b.NewAgentRouter(context.Background(), bus.AgentRouterConfig{
		Breaker: bus.BreakerConfig{Failures: 5, OpenFor: time.Hour}, DeadLetters: orchestrator.DeadLetterStore{DB: db},
		Classify: orchestrator.Classify, Logger: slog.New(slog.DiscardHandler),
	}, hs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = r.Run(ctx) }()
	<-r.Running()
	t.Cleanup(func() { _ = r.Close(); cancel() })
	for _, name := range []string{"a.b_c", "a_b.c"} {
		if err := b.PublishSteps(context.Background(), []bus.StepRequest{{RunID: uuid.NewString(), StepID: "s", Attempt: 1, Capability: name, Args: json.RawMessage(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]string{}
	for range 2 {
		select {
		case res := <-out:
			var o map[string]string
			_ = json.Unmarshal(res.Output, &o)
			got[res.Capability] = o["ran"]
		case <-time.After(20 * time.Second):
			t.Fatalf("results so far %v; want one from each capability", got)
		}
	}
	if got["a.b_c"] != "a.b_c" || got["a_b.c"] != "a_b.c" {
		t.Fatalf("results %v; each capability must get its own steps", got)
	}
}
