// Package testcaps holds capabilities that exist for tests and benchmarks
// only: a no-op and one that fails on demand. The dawsos binary includes
// them only when built with the dawsos_testcaps tag, so a production
// binary cannot run them.
package testcaps

import (
	"context"
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

// Register adds test.noop and test.flaky. test.flaky reads the file named
// by faultFile at every call: when it holds "fail" the call fails with a
// retryable error, "final" with a final one, "panic" panics, "sleep:<d>"
// sleeps; otherwise (or when the file is absent) it succeeds. A test flips
// the fault on and off by writing the file, also across processes.
func Register(r *agents.Registry, faultFile string) {
	agents.Register(r, agents.Meta{Name: "test.noop", Agent: Agent, Description: "Returns its input; measures the engine's own overhead."},
		func(ctx context.Context, rc agents.RunContext, in NoopInput) (NoopOutput, error) {
			return NoopOutput(in), nil
		})
	agents.Register(r, agents.Meta{Name: "test.flaky", Agent: Agent, Description: "Fails on demand, for breaker and dead-letter tests."},
		func(ctx context.Context, rc agents.RunContext, in FlakyInput) (FlakyOutput, error) {
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
		})
}
