package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dawsos/dawsos/orchestrator"
)

func init() {
	commandFactories = append(commandFactories, newRunCmd)
}

// Exit codes of `dawsos run --follow` by the run's final status.
const (
	exitRunPartial = 3
	exitRunFailed  = 4
)

// inputRules is the help text of --input, shared with bench.
const inputRules = `Inputs:
  --input k=v      v is sent as JSON when it is a JSON number, true, false,
                   an object or an array (42, 0.15, -1e3, true, {"a":1}, [1,2]);
                   anything else is sent as a string (AAPL, 2024-01-31,
                   007, null, "quoted" keeps its quotes).
  --input k:=JSON  v is always JSON and must be valid: k:=null, k:='"42"'
                   (the string "42"), k:=[] (like httpie).
  --inputs-json    a JSON object of inputs ('{"k": 1}', or @file.json);
                   --input values are applied over it. Naming the same key
                   twice with --input is a usage error.`

// runFlags are the flags of `dawsos run`.
type runFlags struct {
	clientFlags
	inputs         []string
	inputsJSON     string
	follow         bool
	idempotencyKey string
	asOf           string
	allowStale     bool
	json           bool
	batch          string
	batchSize      int
}

func newRunCmd(g *globals) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run PATTERN [--input k=v ...] [--follow] | run --batch FILE.jsonl",
		Short: "Submit a run of a pattern to a DawsOS server, and optionally follow it to the end",
		Long: `run submits PATTERN with its inputs to the server (POST /v1/runs) and prints
the run id. With --follow it streams the run's events as they happen (one
line each: time, event, step, capability, status or error), reconnecting
with Last-Event-ID if the connection drops, then prints the run document:
a summary (status, each step's status and duration, errors), or the whole
document as indented JSON with --json.

` + inputRules + `

With --batch FILE (one JSON object per line: {"pattern", "inputs",
"idempotency_key", "asof_date", "allow_stale_pack"}; "-" reads standard
input) the runs go to POST /v1/runs:batch, --batch-size lines a call, each
call accepted whole or refused whole; it prints one run id a line (with
"existing" when an idempotency key named an earlier run), or a JSON list
with --json. A refused call stops the command and names its first line;
the calls before it stay accepted.

Exit codes: 0 submitted (without --follow) or succeeded; 3 partial; 4 failed
or canceled; 1 API error or server unreachable; 2 usage error.

Example:
  dawsos run portfolio_overview --input portfolio_id=7f1c9a3e-2d4b-4c1a-9e8f-0a1b2c3d4e5f \
      --input lookback_days=252 --follow`,
		Args: usageArgs(func(cmd *cobra.Command, args []string) error {
			if f.batch != "" {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.batch != "" {
				return runBatch(cmd, g, f)
			}
			return runRun(cmd, g, f, args[0])
		},
	}
	addClientFlags(cmd, &f.clientFlags)
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.inputs, "input", "i", nil, "an input k=v or k:=JSON (repeatable; see Inputs)")
	fl.StringVar(&f.inputsJSON, "inputs-json", "", "inputs as a JSON object, or @file")
	fl.BoolVarP(&f.follow, "follow", "f", false, "stream the run's events and wait for its end")
	fl.StringVar(&f.idempotencyKey, "idempotency-key", "", "submit at most once under this key: a repeat returns the first run")
	fl.StringVar(&f.asOf, "asof", "", "as-of date of the run's data, YYYY-MM-DD")
	fl.BoolVar(&f.allowStale, "allow-stale-pack", false, "run on the latest pricing pack even when it is not fresh")
	fl.BoolVar(&f.json, "json", false, "print JSON (the submission answer, or with --follow the final run document)")
	fl.StringVar(&f.batch, "batch", "", "submit the runs of a JSON-lines file (- for standard input) in batches instead of one PATTERN")
	fl.IntVar(&f.batchSize, "batch-size", 1000, "runs per batch call with --batch (at most the server's server.batch_max)")
	return cmd
}

// submitRequest is the body of POST /v1/runs.
type submitRequest struct {
	Pattern        string                     `json:"pattern"`
	Inputs         map[string]json.RawMessage `json:"inputs"`
	IdempotencyKey string                     `json:"idempotency_key,omitempty"`
	AsOfDate       string                     `json:"asof_date,omitempty"`
	AllowStalePack bool                       `json:"allow_stale_pack,omitempty"`
}

// acceptedRun is the answer to POST /v1/runs without ?wait.
type acceptedRun struct {
	RunID  string            `json:"run_id"`
	Status string            `json:"status"`
	Links  map[string]string `json:"links"`
}

func runRun(cmd *cobra.Command, g *globals, f *runFlags, pattern string) error {
	inputs, err := parseInputs(f.inputs, f.inputsJSON)
	if err != nil {
		return err
	}
	if f.asOf != "" {
		if _, err := time.Parse(time.DateOnly, f.asOf); err != nil {
			return usageErrorf("--asof must be a date YYYY-MM-DD, got %q", f.asOf)
		}
	}
	c, err := f.client(g)
	if err != nil {
		return err
	}
	defer c.close()
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	body := submitRequest{Pattern: pattern, Inputs: inputs, IdempotencyKey: f.idempotencyKey, AsOfDate: f.asOf, AllowStalePack: f.allowStale}
	_, raw, err := c.doJSON(ctx, c.hc, http.MethodPost, "/v1/runs", nil, body)
	if err != nil {
		return fmt.Errorf("submit a run of %s: %w", pattern, err)
	}
	var acc acceptedRun
	if err := json.Unmarshal(raw, &acc); err != nil || acc.RunID == "" {
		return fmt.Errorf("decode the answer to the submission of %s: %w", pattern, errors.Join(err, errors.New("no run_id")))
	}
	if !f.follow {
		if f.json {
			return printIndented(out, raw)
		}
		fmt.Fprintf(out, "%s (%s)\n", acc.RunID, acc.Status)
		return nil
	}
	if !f.json {
		fmt.Fprintf(out, "run %s submitted\n", acc.RunID)
	}
	// With --json the events go to stderr so stdout holds one document.
	evOut := out
	if f.json {
		evOut = cmd.ErrOrStderr()
	}
	doc, err := followRun(ctx, c, acc.RunID, evOut)
	if err != nil {
		return err
	}
	if f.json {
		if err := printJSON(out, doc); err != nil {
			return err
		}
	} else {
		printRunSummary(out, doc)
	}
	return exitForStatus(doc.RunID, doc.Status)
}

// exitForStatus maps a run's final status to the command's exit code.
func exitForStatus(runID, status string) error {
	switch status {
	case "succeeded":
		return nil
	case "partial":
		return &exitError{code: exitRunPartial, err: fmt.Errorf("run %s ended partial", runID)}
	case "failed", "canceled":
		return &exitError{code: exitRunFailed, err: fmt.Errorf("run %s ended %s", runID, status)}
	}
	return &exitError{code: exitAPI, err: fmt.Errorf("run %s has not ended (status %q)", runID, status)}
}

// parseInputs builds the inputs of a run from --inputs-json and --input
// (the rules are inputRules).
func parseInputs(pairs []string, inputsJSON string) (map[string]json.RawMessage, error) {
	inputs := map[string]json.RawMessage{}
	if inputsJSON != "" {
		src := []byte(inputsJSON)
		if name, ok := strings.CutPrefix(inputsJSON, "@"); ok {
			b, err := os.ReadFile(name)
			if err != nil {
				return nil, usageErrorf("--inputs-json: read %s: %v", name, err)
			}
			src = b
		}
		if err := json.Unmarshal(src, &inputs); err != nil || inputs == nil {
			return nil, usageErrorf("--inputs-json must be a JSON object: %v", err)
		}
	}
	seen := map[string]bool{}
	for _, p := range pairs {
		k, raw, err := parseInput(p)
		if err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, usageErrorf("--input %s is given twice", k)
		}
		seen[k] = true
		inputs[k] = raw
	}
	return inputs, nil
}

// parseInput parses one --input: k=v or k:=JSON.
func parseInput(p string) (string, json.RawMessage, error) {
	k, v, ok := strings.Cut(p, "=")
	if !ok {
		return "", nil, usageErrorf("--input %q must be k=v or k:=JSON", p)
	}
	forced := strings.HasSuffix(k, ":")
	k = strings.TrimSuffix(k, ":")
	if k == "" {
		return "", nil, usageErrorf("--input %q has no key", p)
	}
	if forced {
		if !json.Valid([]byte(v)) {
			return "", nil, usageErrorf("--input %s:= needs valid JSON, got %q", k, v)
		}
		return k, compactJSON(v), nil
	}
	return k, inputValue(v), nil
}

// inputValue applies the k=v rule: JSON numbers, booleans, objects and
// arrays are sent as such, anything else as a string.
func inputValue(v string) json.RawMessage {
	t := strings.TrimSpace(v)
	if t != "" && json.Valid([]byte(t)) {
		switch c := t[0]; {
		case c == '{' || c == '[' || c == '-' || (c >= '0' && c <= '9'):
			return compactJSON(t)
		case t == "true" || t == "false":
			return json.RawMessage(t)
		}
	}
	s, _ := json.Marshal(v) // a string always encodes
	return s
}

func compactJSON(v string) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(v)); err != nil {
		return json.RawMessage(v)
	}
	return b.Bytes()
}

// eventEnvelope is the data of one SSE event of a run.
type eventEnvelope struct {
	RunID  string          `json:"run_id"`
	Seq    int64           `json:"seq"`
	Type   string          `json:"type"`
	StepID string          `json:"step_id"`
	Data   json.RawMessage `json:"data"`
	At     time.Time       `json:"at"`
}

// eventData are the fields of an event's data that a line shows.
type eventData struct {
	Capability   string         `json:"capability"`
	Attempt      int            `json:"attempt"`
	Status       string         `json:"status"`
	DurationMS   *float64       `json:"duration_ms"`
	Tries        int            `json:"tries"`
	Reason       string         `json:"reason"`
	DeadLetterID string         `json:"dead_letter_id"`
	ReplayID     string         `json:"replay_id"`
	Steps        map[string]int `json:"steps"`
	Error        *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// formatEvent renders one event as a line: time, type, step, capability,
// status or error.
func formatEvent(m sseMessage) string {
	var env eventEnvelope
	if err := json.Unmarshal([]byte(m.Data), &env); err != nil {
		return fmt.Sprintf("%-12s %-19s %s", "-", m.Event, m.Data)
	}
	typ := env.Type
	if typ == "" {
		typ = m.Event
	}
	var d eventData
	_ = json.Unmarshal(env.Data, &d) // an unexpected shape still prints the envelope
	ts := "-"
	if !env.At.IsZero() {
		ts = env.At.Local().Format("15:04:05.000")
	}
	parts := []string{fmt.Sprintf("%-12s %-19s", ts, typ)}
	if env.StepID != "" {
		parts = append(parts, "step="+env.StepID)
	}
	if d.Capability != "" {
		parts = append(parts, "capability="+d.Capability)
	}
	if d.Attempt > 1 {
		parts = append(parts, fmt.Sprintf("attempt=%d", d.Attempt))
	}
	if d.Status != "" {
		parts = append(parts, "status="+d.Status)
	}
	if d.DurationMS != nil {
		parts = append(parts, fmt.Sprintf("duration=%s", fmtMS(*d.DurationMS)))
	}
	if d.Tries > 1 {
		parts = append(parts, fmt.Sprintf("tries=%d", d.Tries))
	}
	if d.Reason != "" {
		parts = append(parts, fmt.Sprintf("reason=%q", d.Reason))
	}
	if d.ReplayID != "" {
		parts = append(parts, "replay="+d.ReplayID)
	}
	if d.DeadLetterID != "" {
		parts = append(parts, "dead_letter="+d.DeadLetterID)
	}
	if len(d.Steps) > 0 {
		keys := make([]string, 0, len(d.Steps))
		for k := range d.Steps {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		counts := make([]string, 0, len(keys))
		for _, k := range keys {
			counts = append(counts, fmt.Sprintf("%s=%d", k, d.Steps[k]))
		}
		parts = append(parts, "steps["+strings.Join(counts, " ")+"]")
	}
	if d.Error != nil {
		parts = append(parts, fmt.Sprintf("error=%s: %s", d.Error.Code, d.Error.Message))
	}
	return strings.TrimRight(strings.Join(parts, " "), " ")
}

func fmtMS(ms float64) string {
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%.2fs", ms/1000)
	case ms < 10:
		return fmt.Sprintf("%.1fms", ms)
	}
	return fmt.Sprintf("%.0fms", ms)
}

// Reconnection of an event stream: the delay when the server named none,
// and how many failures in a row end the follow.
const (
	defaultReconnect     = time.Second
	maxReconnectFailures = 10
)

// followRun streams a run's events to w until run.completed, then fetches
// the run document. A run still running after run.completed (a replay
// reopened it) is followed on.
func followRun(ctx context.Context, c *apiClient, runID string, w io.Writer) (*orchestrator.RunDocument, error) {
	lastID := ""
	for {
		var err error
		lastID, err = streamEvents(ctx, c, runID, lastID, func(m sseMessage) {
			fmt.Fprintln(w, formatEvent(m))
		})
		if err != nil {
			return nil, err
		}
		var doc orchestrator.RunDocument
		if _, err := c.call(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(runID), nil, nil, &doc); err != nil {
			return nil, fmt.Errorf("load run %s: %w", runID, err)
		}
		if doc.Status != "running" {
			return &doc, nil
		}
	}
}

// streamEvents reads GET /v1/runs/{id}/events from after lastID, calling
// fn for each event, until run.completed. A dropped connection or a 5xx
// answer reconnects with Last-Event-ID, so no event is lost or repeated;
// it returns the last event id seen.
func streamEvents(ctx context.Context, c *apiClient, runID, lastID string, fn func(sseMessage)) (string, error) {
	failures := 0
	delay := defaultReconnect
	for {
		done, progressed, retry, err := streamOnce(ctx, c, runID, &lastID, fn)
		if retry > 0 {
			delay = retry
		}
		if done {
			return lastID, nil
		}
		if err != nil && !isRetryable(err) {
			return lastID, fmt.Errorf("follow the events of run %s: %w", runID, err)
		}
		if progressed {
			failures = 0
		} else {
			failures++
		}
		if failures >= maxReconnectFailures {
			return lastID, fmt.Errorf("follow the events of run %s: %d reconnections in a row failed: %w", runID, failures, err)
		}
		select {
		case <-ctx.Done():
			return lastID, fmt.Errorf("follow the events of run %s: %w", runID, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// streamOnce reads one connection of the event stream. done reports that
// run.completed arrived; progressed that at least one event did.
func streamOnce(ctx context.Context, c *apiClient, runID string, lastID *string, fn func(sseMessage)) (done, progressed bool, retry time.Duration, err error) {
	req, err := c.newRequest(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(runID)+"/events", nil, nil)
	if err != nil {
		return false, false, 0, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if *lastID != "" {
		req.Header.Set("Last-Event-ID", *lastID)
	}
	resp, err := c.stream.Do(req)
	if err != nil {
		return false, false, 0, transportError(req.Method, req.URL.Path, c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, false, 0, decodeAPIError(resp)
	}
	r := newSSEReader(resp.Body)
	r.LastID = *lastID
	for {
		m, err := r.Next()
		retry = r.Retry
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // the stream ended before run.completed
			}
			return false, progressed, retry, err
		}
		*lastID = r.LastID
		progressed = true
		fn(m)
		if m.Event == "run.completed" {
			return true, true, retry, nil
		}
	}
}

// printRunSummary prints the status, each step and the errors of a run.
func printRunSummary(w io.Writer, d *orchestrator.RunDocument) {
	took := ""
	if d.FinishedAt != nil {
		took = " in " + d.FinishedAt.Sub(d.CreatedAt).Round(time.Millisecond).String()
	}
	fmt.Fprintf(w, "run %s (%s): %s%s\n", d.RunID, d.Pattern, d.Status, took)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tCAPABILITY\tSTATUS\tDURATION\tATTEMPTS")
	for _, s := range d.Steps {
		dur := "-"
		if s.DurationMS != nil {
			dur = fmtMS(*s.DurationMS)
		}
		status := s.Status
		if len(s.BlockedBy) > 0 {
			status += " (blocked by " + strings.Join(s.BlockedBy, ", ") + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\n", s.ID, s.Capability, status, dur, s.Attempts)
	}
	_ = tw.Flush()
	if len(d.Errors) > 0 {
		fmt.Fprintln(w, "errors:")
		for _, e := range d.Errors {
			fmt.Fprintf(w, "  %s (%s, %s): %s\n", e.StepID, e.Capability, e.Status, errorSummary(e.Error))
		}
	}
	if len(d.Outputs) > 0 {
		keys := make([]string, 0, len(d.Outputs))
		for k := range d.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "outputs: %s (--json prints them)\n", strings.Join(keys, ", "))
	}
}

// errorSummary renders a step error {code, message} as "code: message".
func errorSummary(raw json.RawMessage) string {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(raw, &e); err != nil || e.Code == "" {
		return string(raw)
	}
	return e.Code + ": " + e.Message
}

// printJSON prints v as indented JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON output: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// printIndented re-indents a JSON answer of the server.
func printIndented(w io.Writer, raw []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("indent the server's JSON: %w", err)
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}
