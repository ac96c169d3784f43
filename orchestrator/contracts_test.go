package orchestrator_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
)

// TestRunIsPinnedToItsPatternVersion: a run waits in the dead-letter queue
// while its pattern is edited and the orchestrator restarted; the replayed
// run finishes under the version it was accepted with, and new runs use
// the new one.
func TestRunIsPinnedToItsPatternVersion(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	e.setFault(t, "final")
	id := e.submit(t, "dag", map[string]any{"key": "old"})
	d := e.wait(t, id)
	if d.Status != storage.RunPartial {
		t.Fatalf("status %s; want partial with f dead-lettered", d.Status)
	}
	oldHash := d.PatternHash
	dl := onlyDeadLetter(t, e)

	// The edit renames a step's output, removes two steps and changes what
	// after_f computes: under the new version the old run could not go on.
	edited := map[string]string{"dag.json": `{"id": "dag", "version": "2", "inputs": {"key": {"type": "string", "default": "k"}},
		"steps": [
			{"capability": "test.noop", "as": "a", "args": {"value": {"n": 1}}},
			{"capability": "test.flaky", "as": "f", "args": {"key": "{{inputs.key}}"}},
			{"capability": "test.noop", "as": "after_f", "args": {"value": "edited {{f.key}}"}}
		],
		"outputs": ["a", "after_f"]}`}
	e.restartEngine(t, edited)
	e.setFault(t, "")
	if _, err := e.engine.Replay(context.Background(), orchestrator.ReplayRequest{DeadLetterID: dl.ID, RequestedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	d = e.wait(t, id)
	if d.Status != storage.RunSucceeded || d.PatternHash != oldHash {
		t.Fatalf("replayed run %s under version %s; want succeeded under %s", d.Status, d.PatternHash, oldHash)
	}
	if got := string(d.Outputs["after_f"]); !jsonEq(got, `{"value":"old"}`) {
		t.Errorf("after_f = %s; want the old version's {\"value\":\"old\"}", got)
	}
	if _, ok := d.Outputs["gated"]; !ok || len(d.Steps) != 7 {
		t.Errorf("outputs %v with %d steps; want the old version's seven steps and its gated output", keys(d.Outputs), len(d.Steps))
	}
	var stored int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM pattern_versions WHERE hash = $1 AND pattern_id = 'dag'`, []any{oldHash}, &stored); err != nil || stored != 1 {
		t.Fatalf("pattern_versions holds %d rows for the old version (%v); want 1", stored, err)
	}

	fresh := e.submit(t, "dag", map[string]any{"key": "new"})
	nd := e.wait(t, fresh)
	if nd.Status != storage.RunSucceeded || nd.PatternHash == oldHash || nd.PatternVersion != "2" || len(nd.Steps) != 3 {
		t.Fatalf("new run %s under %s (version %q, %d steps); want the edited version 2 with 3 steps", nd.Status, nd.PatternHash, nd.PatternVersion, len(nd.Steps))
	}
	if got := string(nd.Outputs["after_f"]); !jsonEq(got, `{"value":"edited new"}`) {
		t.Errorf("new run after_f = %s; want {\"value\":\"edited new\"}", got)
	}
}

func keys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

const sleepPatterns = `{"id": "sleep", "inputs": {"s": {"type": "number", "default": 60}},
	"steps": [{"capability": "test.pg_sleep", "as": "z", "args": {"seconds": "{{inputs.s}}"}}], "outputs": ["z"]}`

const pingPattern = `{"id": "ping", "steps": [{"capability": "test.db_ping", "as": "p", "args": {}}], "outputs": ["p"]}`

// activeSleeps counts the backends running pg_sleep for this test's
// database.
func activeSleeps(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT pg_sleep%'`, nil, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTimedOutAttemptsAreCancelled: an attempt that runs SELECT
// pg_sleep(60) under a short timeout (300 ms here, to keep the test short)
// is cancelled on the server, so by the time its step is dead-lettered no
// backend runs the query and its connection is back in the pool; 100 such
// steps on a pool of 4 connections never starve a healthy capability that
// needs one.
func TestTimedOutAttemptsAreCancelled(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{
		pool:     4,
		failures: 1000, // keep the breaker shut so every sleep runs
		settings: map[string]orchestrator.StepSettings{
			"test.pg_sleep": {Timeout: 300 * time.Millisecond, MaxAttempts: 1, Concurrency: 8},
		},
		patterns: map[string]string{"sleep.json": sleepPatterns, "ping.json": pingPattern},
	})
	one := e.submit(t, "sleep", nil)
	d := e.wait(t, one)
	if d.Status != storage.RunFailed || len(d.Errors) != 1 || !strings.Contains(string(d.Errors[0].Error), agents.CodeTimeout) {
		t.Fatalf("sleep run %s with errors %+v; want failed with a timeout", d.Status, d.Errors)
	}
	if n := activeSleeps(t, e); n != 0 {
		t.Fatalf("%d backends still run pg_sleep after its step timed out; the query must be cancelled on the server", n)
	}
	if st := e.db.Pool().Stat(); st.AcquiredConns() != 0 {
		t.Fatalf("%d connections still acquired after the timed-out step ended", st.AcquiredConns())
	}

	var sleeps, pings []string
	for i := 0; i < 100; i++ {
		sleeps = append(sleeps, e.submit(t, "sleep", nil))
		if i%5 == 0 {
			pings = append(pings, e.submit(t, "ping", nil))
		}
	}
	for _, id := range pings {
		if d := e.wait(t, id); d.Status != storage.RunSucceeded {
			t.Fatalf("healthy run %s ended %s (%+v) while sleeps held the pool; it must not starve", id, d.Status, d.Errors)
		}
	}
	for _, id := range sleeps {
		if d := e.wait(t, id); d.Status != storage.RunFailed {
			t.Fatalf("sleep run %s ended %s; want failed by its timeout", id, d.Status)
		}
	}
	if n := activeSleeps(t, e); n != 0 {
		t.Fatalf("%d pg_sleep queries outlived their steps", n)
	}
}

// TestUndecodableResultsAreDeadLettered publishes results the orchestrator
// cannot read on the results subject: each is recorded as a dead letter
// with its raw payload and acknowledged, not redelivered, and runs go on.
func TestUndecodableResultsAreDeadLettered(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	ctx := context.Background()
	bad := [][]byte{
		[]byte("not json at all"),
		[]byte(`{"version": 1, "step_id": "a"}`),
		[]byte(`[1, 2, 3]`),
	}
	for i, b := range bad {
		m := nats.NewMsg(bus.ResultSubject("bogus-" + string(rune('a'+i))))
		m.Data = b
		if _, err := e.bus.JS.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	var dls []storage.DeadLetterRow
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var err error
		dls, err = listDeadLetters(e)
		if err != nil {
			t.Fatal(err)
		}
		if len(dls) >= len(bad) {
			break
		}
	}
	if len(dls) != len(bad) {
		t.Fatalf("%d dead letters; want one per undecodable result (%d)", len(dls), len(bad))
	}
	seen := map[string]bool{}
	for _, dl := range dls {
		if dl.Source != bus.SourceResult || dl.Reason != bus.ReasonUndecodable || dl.RunID != nil {
			t.Errorf("dead letter %+v; want source result, reason undecodable, no run", dl)
		}
		var se bus.StepError
		if err := json.Unmarshal(dl.Error, &se); err != nil || se.Code != agents.CodeUndecodable {
			t.Errorf("dead letter error %s; want code undecodable", dl.Error)
		}
		seen[string(dl.RawPayload)] = true
	}
	for _, b := range bad {
		if !seen[string(b)] {
			t.Errorf("no dead letter keeps the payload %q", b)
		}
	}
	info := resultsConsumer(t, e)
	if info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Errorf("results consumer: %d pending, %d redelivered; undecodable results must be acknowledged once", info.NumAckPending, info.NumRedelivered)
	}
	if d := e.wait(t, e.submit(t, "one", nil)); d.Status != storage.RunSucceeded {
		t.Errorf("a run after the bad results ended %s", d.Status)
	}
}

func listDeadLetters(e *env) ([]storage.DeadLetterRow, error) {
	var dls []storage.DeadLetterRow
	err := e.db.Snapshot(context.Background(), func(tx pgx.Tx) error {
		var err error
		dls, err = storage.ListDeadLetters(context.Background(), tx, storage.DeadLetterFilter{})
		return err
	})
	return dls, err
}

func resultsConsumer(t *testing.T, e *env) consumerInfo {
	t.Helper()
	// The results consumer is a push consumer, which the jetstream
	// package's Consumer refuses; the older API reads any consumer's info.
	js, err := e.bus.Conn.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	info, err := js.ConsumerInfo(bus.StreamResults, bus.ResultsConsumer)
	if err != nil {
		t.Fatal(err)
	}
	return consumerInfo{NumAckPending: info.NumAckPending, NumRedelivered: info.NumRedelivered}
}

type consumerInfo struct{ NumAckPending, NumRedelivered int }

// TestSubmitHonoursItsDeadline: with the runs table locked by another
// connection, a submission whose context ends before it can commit
// answers database_unavailable and leaves nothing behind once the lock
// goes; a submission after that is accepted.
func TestSubmitHonoursItsDeadline(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	ctx := context.Background()
	e.submit(t, "one", nil) // stores the pattern version
	var before int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM runs`, nil, &before); err != nil {
		t.Fatal(err)
	}
	conn, err := e.db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE runs IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = e.engine.Submit(sctx, orchestrator.SubmitRequest{Pattern: "one"})
	cancel()
	_ = tx.Rollback(ctx)
	conn.Release()
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeDatabaseUnavailable || !ae.Retryable {
		t.Fatalf("submit against a locked table: %v; want a retryable database_unavailable", err)
	}
	var after int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM runs`, nil, &after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("%d runs after the refused submission, %d before; a refused submission must not be committed", after, before)
	}
	if d := e.wait(t, e.submit(t, "one", nil)); d.Status != storage.RunSucceeded {
		t.Fatalf("a submission after the lock ended %s", d.Status)
	}
}
