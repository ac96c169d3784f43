// Package testcaps holds capabilities that exist for tests and benchmarks
// only: a no-op, one that fails on demand, one that keeps a core busy and
// ones that hold a database connection. The dawsos binary includes them only when built with the
// dawsos_testcaps tag, so a production binary cannot run them.
package testcaps

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"strings"
	"time"

	"github.com/dawsos/dawsos/agents"
)

// Agent is the agent the test capabilities belong to.
const Agent = "test"

// NoopInput may carry anything; the no-op echoes it.
type NoopInput struct {
	Value json.RawMessage `json:"value,omitempty"`
}

// NoopOutput echoes the input.
type NoopOutput struct {
	Value json.RawMessage `json:"value,omitempty"`
}

// FlakyInput configures one call of test.flaky.
type FlakyInput struct {
	Key string `json:"key,omitempty"`
}

// FlakyOutput reports a successful call.
type FlakyOutput struct {
	OK  bool   `json:"ok"`
	Key string `json:"key,omitempty"`
}

// SleepInput asks test.pg_sleep to hold a connection for a while.
type SleepInput struct {
	Seconds float64 `json:"seconds" jsonschema:"minimum=0,maximum=3600"`
}

// SleepOutput reports a finished sleep.
type SleepOutput struct {
	Slept float64 `json:"slept"`
}

// BurnInput asks test.burn to keep a core busy for a while.
type BurnInput struct {
	MS float64 `json:"ms" jsonschema:"minimum=0,maximum=10000"`
}

// BurnOutput reports the work done.
type BurnOutput struct {
	Hashes int `json:"hashes"`
}

// New returns the test agent. test.flaky reads the file named by
// faultFile at every call: when it holds "fail" the call fails with a
// retryable error, "final" with a final one, "panic" panics, "sleep:<d>"
// sleeps; otherwise (or when the file is absent) it succeeds. A test flips
// the fault on and off by writing the file, also across processes.
func New(faultFile string) agents.Constructor {
	return func(agents.Deps) agents.Agent {
		return agents.Agent{Name: Agent, Capabilities: []agents.Def{
			agents.Compute(agents.Meta{Name: "test.noop", Description: "Returns its input; measures the engine's own overhead."},
				func(_ context.Context, _ *agents.Call, in NoopInput) (NoopOutput, error) { return NoopOutput(in), nil }),
			agents.Compute(agents.Meta{Name: "test.flaky", Description: "Fails on demand, for breaker and dead-letter tests."},
				func(ctx context.Context, _ *agents.Call, in FlakyInput) (FlakyOutput, error) {
					return flaky(ctx, faultFile, in)
				}),
			agents.Read(agents.Meta{Name: "test.db_ping", Description: "Runs SELECT 1 on a pooled connection: a healthy capability that needs the database."},
				func(ctx context.Context, c *agents.Call, _ NoopInput) (NoopOutput, error) {
					_, err := c.DB.Exec(ctx, `SELECT 1`)
					return NoopOutput{}, err
				}),
			agents.Compute(agents.Meta{Name: "test.burn", Description: "Hashes for ms milliseconds on one core: a CPU-bound step for scale-out measurements."},
				func(ctx context.Context, _ *agents.Call, in BurnInput) (BurnOutput, error) { return burn(ctx, in) }),
			agents.Read(agents.Meta{Name: "test.pg_sleep", Description: "Runs SELECT pg_sleep(seconds) on a pooled connection, for timeout tests."},
				func(ctx context.Context, c *agents.Call, in SleepInput) (SleepOutput, error) {
					_, err := c.DB.Exec(ctx, `SELECT pg_sleep($1)`, in.Seconds)
					return SleepOutput{Slept: in.Seconds}, err
				}),
		}}
	}
}

// burn hashes until in.MS milliseconds have passed, checking ctx between
// hashes so that a timeout stops it.
func burn(ctx context.Context, in BurnInput) (BurnOutput, error) {
	until := time.Now().Add(time.Duration(in.MS * float64(time.Millisecond)))
	sum := sha256.Sum256([]byte("dawsos"))
	n := 0
	for time.Now().Before(until) {
		if err := ctx.Err(); err != nil {
			return BurnOutput{}, err
		}
		for range 64 {
			sum = sha256.Sum256(sum[:])
		}
		n += 64
	}
	return BurnOutput{Hashes: n}, nil
}

func flaky(ctx context.Context, faultFile string, in FlakyInput) (FlakyOutput, error) {
	b, _ := os.ReadFile(faultFile)
	mode := strings.TrimSpace(string(b))
	switch {
	case mode == "fail":
		return FlakyOutput{}, agents.Errorf(agents.CodeUnavailable, "fault injected for %s", in.Key)
	case mode == "final":
		return FlakyOutput{}, agents.Errorf(agents.CodeInvalidInput, "final fault injected for %s", in.Key)
	case mode == "panic":
		panic("fault injected: panic")
	case strings.HasPrefix(mode, "sleep:"):
		d, err := time.ParseDuration(strings.TrimPrefix(mode, "sleep:"))
		if err == nil {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return FlakyOutput{}, ctx.Err()
			}
		}
	}
	return FlakyOutput{OK: true, Key: in.Key}, nil
}
