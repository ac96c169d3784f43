package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// The two closed-loop measurements River's peer benchmark makes
// (../shared/bench/peer-river), with its definitions, beside the open-loop
// --rate mode of bench_cmd.go:
//
//   - burn-down: N runs are submitted through POST /v1/runs:batch, 1,000 a
//     call, and the clock runs from the first call until no run of the
//     pattern is running any more, as PostgreSQL records it (GET
//     /v1/runs?status=running). The server's agents work while the
//     batches arrive, so the figure includes the submissions; River's
//     inserts all jobs before its workers start.
//   - round trip: one run at a time, POST /v1/runs?wait, each sent when
//     the one before it ended: the unloaded latency from submission to
//     the run recorded done.

// burnDownReport is the result of --burn-down.
type burnDownReport struct {
	Server    string  `json:"server"`
	Pattern   string  `json:"pattern"`
	Runs      int     `json:"runs"`
	BatchSize int     `json:"batch_size"`
	SubmitS   float64 `json:"submit_s"`
	ElapsedS  float64 `json:"elapsed_s"`
	RunsPerS  float64 `json:"runs_per_s"`
	// NotSucceeded counts the runs of the burn-down that ended otherwise.
	NotSucceeded int          `json:"not_succeeded"`
	Machine      benchMachine `json:"machine"`
}

// runBurnDown submits n runs in batches and waits until none is running.
func runBurnDown(ctx context.Context, c *apiClient, pattern string, body submitRequest, n, batch int) (*burnDownReport, error) {
	if running, err := runningCount(ctx, c, pattern); err != nil {
		return nil, err
	} else if running > 0 {
		return nil, usageErrorf("%d runs of %s are running already; a burn-down needs them ended first", running, pattern)
	}
	ids := make([]string, 0, n)
	start := time.Now()
	for sent := 0; sent < n; sent += batch {
		req := struct {
			Runs []submitRequest `json:"runs"`
		}{}
		for range min(batch, n-sent) {
			req.Runs = append(req.Runs, body)
		}
		var acc acceptedBatch
		if _, err := c.call(ctx, http.MethodPost, "/v1/runs:batch", nil, req, &acc); err != nil {
			return nil, fmt.Errorf("submit runs %d-%d: %w", sent+1, sent+len(req.Runs), err)
		}
		for _, r := range acc.Runs {
			ids = append(ids, r.RunID)
		}
	}
	submitted := time.Since(start)
	for {
		running, err := runningCount(ctx, c, pattern)
		if err != nil {
			return nil, err
		}
		if running == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	rep := &burnDownReport{Server: c.base.String(), Pattern: pattern, Runs: n, BatchSize: batch, SubmitS: submitted.Seconds(),
		ElapsedS: elapsed.Seconds(), RunsPerS: float64(n) / elapsed.Seconds(), Machine: thisMachine()}
	// Every run of the burn-down should have succeeded; a sample says so
	// (the first, the middle and the last).
	for _, id := range []string{ids[0], ids[len(ids)/2], ids[len(ids)-1]} {
		var doc struct {
			Status string `json:"status"`
		}
		if _, err := c.call(ctx, http.MethodGet, "/v1/runs/"+id, nil, nil, &doc); err != nil {
			return nil, err
		}
		if doc.Status != "succeeded" {
			rep.NotSucceeded++
		}
	}
	return rep, nil
}

// runningCount is whether runs of the pattern are running: 0 or 1 (the
// list is asked for one run at most).
func runningCount(ctx context.Context, c *apiClient, pattern string) (int, error) {
	var list struct {
		Runs []json.RawMessage `json:"runs"`
	}
	q := url.Values{"pattern": {pattern}, "status": {"running"}, "limit": {"1"}}
	if _, err := c.call(ctx, http.MethodGet, "/v1/runs", q, nil, &list); err != nil {
		return 0, fmt.Errorf("list running runs of %s: %w", pattern, err)
	}
	return len(list.Runs), nil
}

// roundTripReport is the result of --round-trip.
type roundTripReport struct {
	Server  string       `json:"server"`
	Pattern string       `json:"pattern"`
	Latency latencyStats `json:"latency"`
	Failed  int          `json:"failed"`
	Machine benchMachine `json:"machine"`
}

// runRoundTrip runs n runs one after the other with ?wait.
func runRoundTrip(ctx context.Context, c *apiClient, hc *http.Client, pattern string, body submitRequest, n int, wait time.Duration) (*roundTripReport, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	u := *c.base
	u.Path += "/v1/runs"
	u.RawQuery = url.Values{"wait": {wait.String()}}.Encode()
	rep := &roundTripReport{Server: c.base.String(), Pattern: pattern, Machine: thisMachine()}
	var ms []float64
	for range n {
		t0 := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("submit a run of %s: %w", pattern, err)
		}
		var doc struct {
			Status string `json:"status"`
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			return nil, fmt.Errorf("a run of %s answered %d (%v); round trips need runs that end within --wait-timeout", pattern, resp.StatusCode, err)
		}
		ms = append(ms, float64(time.Since(t0).Microseconds())/1000)
		if doc.Status != "succeeded" {
			rep.Failed++
		}
	}
	rep.Latency = latencySummary(ms)
	return rep, nil
}
