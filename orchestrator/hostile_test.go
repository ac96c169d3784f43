package orchestrator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/storage"
)

// TestHostileMessagesNeverLoop publishes every kind of message the engine
// cannot apply on each subject it consumes (a capability's steps and the
// results), through a real NATS connection. Each must be applied, recorded
// as a dead letter or counted within one delivery: afterwards runs of the
// capability still complete, the consumers hold nothing unacknowledged and
// redelivered nothing, and every message is in the dead letters or a
// counter.
func TestHostileMessagesNeverLoop(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	e := setup(t, envOpts{maxMessage: limit, concurrency: 2})
	ctx := context.Background()
	finished := e.submit(t, "one", nil)
	before := e.wait(t, finished)
	if before.Status != storage.RunSucceeded {
		t.Fatalf("setup run ended %s", before.Status)
	}
	unknownRun := uuid.NewString()
	big := `{"run_id": "` + uuid.NewString() + `", "pad": "` + strings.Repeat("x", limit+1) + `"}`
	step := func(s string) *nats.Msg {
		m := nats.NewMsg(bus.StepSubject("test.flaky"))
		m.Data = []byte(s)
		return m
	}
	result := func(s string) *nats.Msg {
		m := nats.NewMsg(bus.ResultSubject(uuid.NewString()))
		m.Data = []byte(s)
		return m
	}
	type bad struct {
		name string
		msg  *nats.Msg
		// payload is what the dead letter keeps; "" when the message is
		// only counted.
		payload string
	}
	cases := []bad{
		{"step: not JSON", step("\x00\xff not json"), "\x00\xff not json"},
		{"step: wrong shape", step(`[1, 2, 3]`), `[1, 2, 3]`},
		{"step: run_id not a uuid", step(`{"version": 1, "run_id": "run-1; DROP TABLE runs", "step_id": "f", "attempt": 1, "capability": "test.flaky", "args": {}}`), "run-1; DROP TABLE runs"},
		{"step: unknown run, bad arguments", step(`{"version": 1, "run_id": "` + unknownRun + `", "step_id": "f", "attempt": 1, "capability": "test.flaky", "args": {"nope": 1}}`), ""},
		{"step: oversized", step(big), big[:4096]},
		{"result: not JSON", result("{"), "{"},
		{"result: malformed run id", result(`{"version": 1, "run_id": "x", "step_id": "a", "attempt": 1, "ok": true}`), `"run_id": "x"`},
		{"result: unknown run", result(`{"version": 1, "run_id": "` + uuid.NewString() + `", "step_id": "a", "attempt": 1, "ok": true, "output": {}}`), ""},
		{"result: oversized", result(big), big[:4096]},
		{"result: finished run", result(`{"version": 1, "run_id": "` + finished + `", "step_id": "a", "attempt": 1, "ok": true, "output": {"value": "late"}}`), ""},
	}
	for _, c := range cases {
		if _, err := e.bus.JS.PublishMsg(ctx, c.msg); err != nil {
			t.Fatalf("%s: publish: %v", c.name, err)
		}
	}
	// Runs of the capability whose subject took the bad messages complete.
	for range 3 {
		if d := e.wait(t, e.submit(t, "dag", map[string]any{"key": "after"})); d.Status != storage.RunSucceeded {
			t.Fatalf("a run after the bad messages ended %s: %+v", d.Status, d.Errors)
		}
	}
	// 8 dead letters (all but the counted finished-run result and the
	// unknown-run step, whose dead letter is an orphan row too: so 9).
	var dls []storage.DeadLetterRow
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if dls, err = listDeadLetters(e); err != nil {
			t.Fatal(err)
		}
		if len(dls) >= 9 || time.Now().After(deadline) {
			break
		}
	}
	if len(dls) != 9 {
		for _, d := range dls {
			t.Logf("dead letter: source %s reason %s claimed %v payload %.60q", d.Source, d.Reason, d.ClaimedRunID, d.RawPayload)
		}
		t.Fatalf("%d dead letters; want 9 (every bad message but the late result for a finished run)", len(dls))
	}
	for _, c := range cases {
		if c.payload == "" {
			continue
		}
		found := false
		for _, d := range dls {
			if strings.Contains(string(d.RawPayload), c.payload) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no dead letter keeps %.40q", c.name, c.payload)
		}
	}
	orphans := 0
	for _, d := range dls {
		if d.RunID == nil && d.ClaimedRunID != nil && *d.ClaimedRunID == unknownRun {
			orphans++
		}
		if d.Reason == bus.ReasonOversized && len(d.RawPayload) > 4096 {
			t.Errorf("an oversized dead letter keeps %d bytes; want a bounded prefix", len(d.RawPayload))
		}
	}
	if orphans != 1 {
		t.Errorf("%d dead letters for the unknown run %s; want one, recorded without its run", orphans, unknownRun)
	}
	if got := counterValue(t, e, "dawsos_results_ignored_total", "ended_run"); got < 1 {
		t.Errorf("dawsos_results_ignored_total{reason=ended_run} = %v; the late result for a finished run must be counted", got)
	}
	for _, c := range []struct{ stream, consumer string }{{bus.StreamSteps, "step_test-flaky"}, {bus.StreamResults, bus.ResultsConsumer}} {
		js, err := e.bus.Conn.JetStream()
		if err != nil {
			t.Fatal(err)
		}
		var info *nats.ConsumerInfo
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if info, err = js.ConsumerInfo(c.stream, c.consumer); err != nil {
				t.Fatal(err)
			}
			if info.NumAckPending == 0 && info.NumPending == 0 {
				break
			}
		}
		if info.NumAckPending != 0 || info.NumPending != 0 || info.NumRedelivered != 0 {
			t.Errorf("consumer %s: %d pending, %d unacknowledged, %d redelivered; every bad message must be settled in one delivery",
				c.consumer, info.NumPending, info.NumAckPending, info.NumRedelivered)
		}
	}
	if d, err := e.engine.Get(ctx, finished); err != nil || !jsonEq(string(d.Outputs["a"]), string(before.Outputs["a"])) {
		t.Errorf("the finished run's output is now %s (%v); a late result must change nothing", d.Outputs["a"], err)
	}
}

// counterValue reads one labelled counter from the test's registry.
func counterValue(t *testing.T, e *env, name, label string) float64 {
	t.Helper()
	mfs, err := e.prom.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
