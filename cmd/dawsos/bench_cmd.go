package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

func init() {
	commandFactories = append(commandFactories, newBenchCmd)
}

// benchConfig are the settings of one load test.
type benchConfig struct {
	Server           string                     `json:"server"`
	Pattern          string                     `json:"pattern"`
	Inputs           map[string]json.RawMessage `json:"inputs"`
	AsOfDate         string                     `json:"asof_date,omitempty"`
	AllowStalePack   bool                       `json:"allow_stale_pack,omitempty"`
	Rate             float64                    `json:"rate_per_s"`
	Duration         time.Duration              `json:"-"`
	Warmup           time.Duration              `json:"-"`
	ConcurrencyLimit int                        `json:"concurrency_limit"`
	WaitTimeout      time.Duration              `json:"-"`
	// Mix, when set, replaces Pattern and Inputs: submissions go round the
	// entries, each taking its weight's share of the sends.
	Mix []benchMixEntry `json:"mix,omitempty"`
	// ReportEvery, when set, adds one interval line per period with the
	// server's process and queue figures.
	ReportEvery time.Duration `json:"-"`
	// The durations again, readable in the JSON report.
	DurationS    float64 `json:"duration_s"`
	WarmupS      float64 `json:"warmup_s"`
	WaitTimeoutS float64 `json:"wait_timeout_s"`
}

// benchMixEntry is one pattern of a mixed load.
type benchMixEntry struct {
	Pattern string                     `json:"pattern"`
	Inputs  map[string]json.RawMessage `json:"inputs"`
	Weight  int                        `json:"weight"`
}

// benchInterval is one period of a long bench: the runs that ended in it,
// their latency, and what the server reported at its end.
type benchInterval struct {
	EndS      float64 `json:"end_s"`
	Ended     int     `json:"ended"`
	Failed    int     `json:"failed"`
	Errors    int     `json:"errors"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	RSSMB     float64 `json:"rss_mb"`
	Gorouts   float64 `json:"goroutines"`
	PoolInUse float64 `json:"pool_acquired"`
	PoolTotal float64 `json:"pool_total"`
	Steps     float64 `json:"steps_queued"`
	Results   float64 `json:"results_queued"`
	Running   float64 `json:"runs_running"`
}

// benchCounts are the outcomes of the measured submissions.
type benchCounts struct {
	// Scheduled is every send time of the measured window; each one ends
	// as exactly one of the outcomes below, or in Interrupted.
	Scheduled int `json:"scheduled"`
	Sent      int `json:"sent"`
	// Dropped were not sent because --concurrency-limit requests were in
	// flight at their send time.
	Dropped   int `json:"dropped"`
	Succeeded int `json:"succeeded"`
	Partial   int `json:"partial"`
	Failed    int `json:"failed"`
	Canceled  int `json:"canceled"`
	// Timeouts are runs still running when ?wait ended (202), or answers
	// that did not come within the wait timeout plus a grace period.
	Timeouts        int `json:"timeouts"`
	HTTPErrors      int `json:"http_errors"`
	TransportErrors int `json:"transport_errors"`
	// Interrupted were in flight when the bench was stopped (Ctrl-C).
	Interrupted int `json:"interrupted"`
	// StatusCodes counts the HTTP status of every answer.
	StatusCodes map[string]int `json:"status_codes"`
}

// latencyStats summarise latencies in milliseconds.
type latencyStats struct {
	Count int     `json:"count"`
	Min   float64 `json:"min_ms"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// benchMachine names where the load generator ran.
type benchMachine struct {
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GoVersion  string `json:"go_version"`
}

// benchReport is the result of a load test; --json prints it.
type benchReport struct {
	Settings benchConfig  `json:"settings"`
	Machine  benchMachine `json:"machine"`
	Counts   benchCounts  `json:"counts"`
	// OfferedRate is sent / duration; ThroughputPerS is terminal answers
	// / ElapsedS, the longer of the duration and the time from the start
	// of the measured window to the last terminal answer.
	OfferedRate    float64 `json:"offered_rate_per_s"`
	ThroughputPerS float64 `json:"throughput_per_s"`
	ElapsedS       float64 `json:"elapsed_s"`
	// Latency is from the scheduled send time to the terminal answer, for
	// runs that ended (succeeded, partial, failed, canceled).
	Latency latencyStats `json:"latency"`
	// SendLagMaxMS is how late the scheduler sent, at worst; a large value
	// means this machine could not keep the rate (latency still counts
	// from the scheduled time).
	SendLagMaxMS float64 `json:"send_lag_max_ms"`
	// ErrorSamples holds the first error message per HTTP status or kind.
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	Interrupted  bool              `json:"interrupted"`
	// Intervals are the periods of --report-every.
	Intervals []benchInterval `json:"intervals,omitempty"`
}

type benchFlags struct {
	clientFlags
	pattern     string
	inputs      []string
	inputsJSON  string
	asOf        string
	allowStale  bool
	rate        float64
	duration    time.Duration
	warmup      time.Duration
	limit       int
	waitTimeout time.Duration
	json        bool
	mixJSON     string
	reportEvery time.Duration
	burnDown    int
	batchSize   int
	roundTrip   int
}

// waitGrace is added to the wait timeout for the client's own deadline:
// the server answers at the end of the wait, so only a stuck server
// reaches it.
const waitGrace = 15 * time.Second

func newBenchCmd(g *globals) *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench --pattern P [--input k=v ...] --rate R --duration D",
		Short: "Load-test a DawsOS server at a fixed arrival rate and report run latency percentiles",
		Long: `bench is an open-loop load generator: it submits runs of a pattern at a
FIXED rate of R runs/s for D, each at its scheduled time whatever the runs
already sent are doing, so a slow server does not slow the load down
(no coordinated omission). Send times are computed (start + i/R) rather than
taken from a ticker, which would silently drop ticks when late; a late send
goes out at once and its latency still counts from its scheduled time.

Each run is submitted with POST /v1/runs?wait=<wait-timeout>, so the answer
comes when the run ends: one request per run, and the latency is scheduled
send → terminal answer. (Submit + event stream would add a second request
per run and measure the same end.) The server caps ?wait at its
server.wait_max (default 60s); a run not ended by then answers 202 and
counts as a timeout.

At most --concurrency-limit requests are in flight; a send due while the
limit is reached is not made and counts as dropped. --warmup sends at the
same rate before the measured window; its runs are not counted.

Reported: counts (scheduled, sent, dropped, succeeded, partial, failed,
canceled, timeouts, HTTP and transport errors, status codes), achieved
throughput (ended runs / the longer of D and the time from the window's
start to the last ended run), latency min, mean, p50, p90, p99, max (exact,
nearest-rank over every sample), the machine and the settings. A progress
bar shows on stderr when it is a terminal and --json is not set. The exit
code is 1 when no run ended at all.

Every request carries the credential of the client commands: --auth-token,
else $DAWSOS_TOKEN, else the login ` + "`dawsos login`" + ` stored. An API key (POST
/v1/auth/keys) suits a long bench best: it does not expire with the access
token. A credential the server refuses shows as HTTP errors (401).

` + inputRules + `

Two closed-loop modes take the definitions of the River peer benchmark
instead: --burn-down N submits N runs through POST /v1/runs:batch
(--batch-size a call) and reports runs/s from the first call until none of
the pattern is running (the server's agents start at once, so the time
includes the submissions); --round-trip N runs N runs one after the other
and reports their latency, submission to recorded done.

Example:
  dawsos bench --pattern portfolio_overview --input portfolio_id=7f1c9a3e-2d4b-4c1a-9e8f-0a1b2c3d4e5f \
      --rate 50 --duration 60s --warmup 5s --json
  dawsos bench --pattern e2e_one --burn-down 30000`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchCmd(cmd, g, f)
		},
	}
	addClientFlags(cmd, &f.clientFlags)
	fl := cmd.Flags()
	fl.StringVar(&f.pattern, "pattern", "", "the pattern to run (required)")
	fl.StringArrayVarP(&f.inputs, "input", "i", nil, "an input k=v or k:=JSON (repeatable; see Inputs)")
	fl.StringVar(&f.inputsJSON, "inputs-json", "", "inputs as a JSON object, or @file")
	fl.StringVar(&f.asOf, "asof", "", "as-of date of the runs' data, YYYY-MM-DD")
	fl.BoolVar(&f.allowStale, "allow-stale-pack", false, "run on the latest pricing pack even when it is not fresh")
	fl.Float64Var(&f.rate, "rate", 10, "arrival rate, runs per second")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "length of the measured window")
	fl.DurationVar(&f.warmup, "warmup", 0, "unmeasured load at the same rate before the window")
	fl.IntVar(&f.limit, "concurrency-limit", 1000, "most requests in flight; sends beyond it are dropped and counted")
	fl.DurationVar(&f.waitTimeout, "wait-timeout", 30*time.Second, "?wait of each submission: how long a run may take")
	fl.BoolVar(&f.json, "json", false, "print one JSON report on stdout, no progress bar")
	fl.StringVar(&f.mixJSON, "mix-json", "", `a mixed load instead of --pattern: a JSON list [{"pattern", "inputs", "weight"}], or @file`)
	fl.DurationVar(&f.reportEvery, "report-every", 0, "print a line per period: runs ended, p50/p99, and the server's RSS, goroutines, pool and queues (from /metrics)")
	fl.IntVar(&f.burnDown, "burn-down", 0, "instead of a rate: submit N runs through POST /v1/runs:batch and time until none is running")
	fl.IntVar(&f.batchSize, "batch-size", 1000, "runs per batch call with --burn-down")
	fl.IntVar(&f.roundTrip, "round-trip", 0, "instead of a rate: run N runs one after the other (?wait) and report their latency")
	return cmd
}

func runBenchCmd(cmd *cobra.Command, g *globals, f *benchFlags) error {
	var mix []benchMixEntry
	if f.mixJSON != "" {
		raw := []byte(f.mixJSON)
		if len(raw) > 0 && raw[0] == '@' {
			b, err := os.ReadFile(f.mixJSON[1:])
			if err != nil {
				return usageErrorf("--mix-json: %v", err)
			}
			raw = b
		}
		if err := json.Unmarshal(raw, &mix); err != nil || len(mix) == 0 {
			return usageErrorf("--mix-json must be a non-empty JSON list of {pattern, inputs, weight}: %v", err)
		}
		for i, m := range mix {
			if m.Pattern == "" || m.Weight < 1 {
				return usageErrorf("--mix-json entry %d needs a pattern and a weight of at least 1", i)
			}
		}
		if f.pattern == "" {
			f.pattern = "mix"
		}
	}
	switch {
	case f.pattern == "":
		return usageErrorf("--pattern (or --mix-json) is required")
	case (f.burnDown > 0 || f.roundTrip > 0) && len(mix) > 0:
		return usageErrorf("--burn-down and --round-trip run one --pattern, not a --mix-json")
	case f.burnDown < 0 || f.roundTrip < 0:
		return usageErrorf("--burn-down and --round-trip take a positive number of runs")
	case f.rate <= 0 || math.IsInf(f.rate, 0) || math.IsNaN(f.rate):
		return usageErrorf("--rate must be a positive number of runs per second, got %v", f.rate)
	case f.duration <= 0:
		return usageErrorf("--duration must be positive, got %s", f.duration)
	case f.warmup < 0:
		return usageErrorf("--warmup must not be negative, got %s", f.warmup)
	case f.limit < 1:
		return usageErrorf("--concurrency-limit must be at least 1, got %d", f.limit)
	case f.waitTimeout < time.Second:
		return usageErrorf("--wait-timeout must be at least 1s, got %s", f.waitTimeout)
	}
	if f.asOf != "" {
		if _, err := time.Parse(time.DateOnly, f.asOf); err != nil {
			return usageErrorf("--asof must be a date YYYY-MM-DD, got %q", f.asOf)
		}
	}
	inputs, err := parseInputs(f.inputs, f.inputsJSON)
	if err != nil {
		return err
	}
	c, err := f.client(g)
	if err != nil {
		return err
	}
	defer c.close()
	if f.burnDown > 0 || f.roundTrip > 0 {
		return runClosedLoop(cmd, c, f, inputs)
	}
	cfg := benchConfig{
		Server: c.base.String(), Pattern: f.pattern, Inputs: inputs, AsOfDate: f.asOf, AllowStalePack: f.allowStale, Rate: f.rate,
		Duration: f.duration, Warmup: f.warmup, ConcurrencyLimit: f.limit, WaitTimeout: f.waitTimeout,
		Mix: mix, ReportEvery: f.reportEvery,
	}
	var progress func()
	if !f.json && isTerminal(os.Stderr) {
		bar := progressbar.NewOptions64(int64(scheduleLen(f.rate, f.warmup+f.duration)),
			progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription("runs"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		defer func() { _ = bar.Finish() }()
		progress = func() { _ = bar.Add(1) }
	}
	if f.reportEvery > 0 {
		w := cmd.ErrOrStderr()
		fmt.Fprintln(w, "interval_end_s ended failed errors p50_ms p99_ms rss_mb goroutines pool_acquired pool_total steps_queued results_queued runs_running")
		reportLine = func(iv benchInterval) {
			fmt.Fprintf(w, "%.0f %d %d %d %.1f %.1f %.1f %.0f %.0f %.0f %.0f %.0f %.0f\n", iv.EndS, iv.Ended, iv.Failed, iv.Errors,
				iv.P50, iv.P99, iv.RSSMB, iv.Gorouts, iv.PoolInUse, iv.PoolTotal, iv.Steps, iv.Results, iv.Running)
		}
		defer func() { reportLine = nil }()
	}
	rep, err := runBench(cmd.Context(), cfg, withBearer(benchHTTPClient(f.limit, f.waitTimeout), c.token), progress)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.json {
		if err := printJSON(out, rep); err != nil {
			return err
		}
	} else {
		printBenchReport(out, rep)
	}
	if rep.Latency.Count == 0 && !rep.Interrupted {
		return &exitError{code: exitAPI, err: errors.New("no run ended; see the error counts")}
	}
	return nil
}

// runClosedLoop runs --burn-down or --round-trip and prints its report.
func runClosedLoop(cmd *cobra.Command, c *apiClient, f *benchFlags, inputs map[string]json.RawMessage) error {
	if f.burnDown > 0 && f.roundTrip > 0 {
		return usageErrorf("--burn-down and --round-trip are two measurements; give one")
	}
	if f.batchSize < 1 {
		return usageErrorf("--batch-size must be at least 1, got %d", f.batchSize)
	}
	body := submitRequest{Pattern: f.pattern, Inputs: inputs, AsOfDate: f.asOf, AllowStalePack: f.allowStale}
	out := cmd.OutOrStdout()
	if f.burnDown > 0 {
		rep, err := runBurnDown(cmd.Context(), c, f.pattern, body, f.burnDown, f.batchSize)
		if err != nil {
			return err
		}
		if f.json {
			return printJSON(out, rep)
		}
		fmt.Fprintf(out, "burn-down: %d runs of %s in batches of %d: submitted in %.2f s, all ended after %.2f s: %.0f runs/s (%d of 3 sampled not succeeded)\n",
			rep.Runs, rep.Pattern, rep.BatchSize, rep.SubmitS, rep.ElapsedS, rep.RunsPerS, rep.NotSucceeded)
		return nil
	}
	hc := withBearer(benchHTTPClient(1, f.waitTimeout), c.token)
	rep, err := runRoundTrip(cmd.Context(), c, hc, f.pattern, body, f.roundTrip, f.waitTimeout)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(out, rep)
	}
	l := rep.Latency
	fmt.Fprintf(out, "round trip: %d runs of %s one at a time: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms (%d not succeeded)\n",
		l.Count, rep.Pattern, l.P50, l.P90, l.P99, l.Max, rep.Failed)
	return nil
}

// thisMachine names the machine the load generator runs on.
func thisMachine() benchMachine {
	return benchMachine{NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version()}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// benchHTTPClient keeps one idle connection per possible in-flight request,
// so the load does not churn connections, and bounds each request by the
// wait plus a grace period.
func benchHTTPClient(limit int, wait time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = limit
	tr.MaxIdleConnsPerHost = limit
	tr.MaxConnsPerHost = 0
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: tr, Timeout: wait + waitGrace}
}

// withBearer makes hc send token (the client commands' credential: an
// API key suits a long bench best, as it does not expire with the access
// token) with every request; "" leaves hc as it is.
func withBearer(hc *http.Client, token string) *http.Client {
	if token != "" {
		hc.Transport = bearerTransport{token: token, next: hc.Transport}
	}
	return hc
}

// bearerTransport adds the credential to every request the load sends.
type bearerTransport struct {
	token string
	next  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// scheduleOffset is the send time of the i-th submission after the start.
// Computing it from i (not by adding an interval) keeps rounding from
// drifting the rate.
func scheduleOffset(i int, rate float64) time.Duration {
	return time.Duration(float64(i) * float64(time.Second) / rate)
}

// scheduleLen is how many submissions fall in [0, window) at rate.
func scheduleLen(rate float64, window time.Duration) int {
	n := int(math.Ceil(window.Seconds() * rate))
	for n > 0 && scheduleOffset(n-1, rate) >= window {
		n--
	}
	for scheduleOffset(n, rate) < window {
		n++
	}
	return n
}

// benchOutcome is the result of one submission.
type benchOutcome struct {
	kind     string // succeeded, partial, failed, canceled, timeout, http_error, transport_error, interrupted
	status   int
	latency  time.Duration
	doneAt   time.Time
	errorMsg string
}

// benchCollector accumulates outcomes from many goroutines.
type benchCollector struct {
	mu        sync.Mutex
	counts    benchCounts
	latencies []float64
	lastDone  time.Time
	samples   map[string]string
	// window holds the latencies of the current --report-every period.
	window       []float64
	windowFailed int
	windowErrors int
}

// reportLine, when set, prints each interval as it ends (the command sets
// it; tests leave it nil).
var reportLine func(benchInterval)

// scrapeServer reads the server's process and queue figures from
// /metrics into iv; a figure it cannot read stays 0.
func scrapeServer(ctx context.Context, hc *http.Client, server string, iv *benchInterval) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/metrics", nil)
	if err != nil {
		return
	}
	resp, err := hc.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			iv.RSSMB = v / (1 << 20)
		case "go_goroutines":
			iv.Gorouts = v
		case "dawsos_db_pool_acquired_conns":
			iv.PoolInUse = v
		case "dawsos_db_pool_total_conns":
			iv.PoolTotal = v
		case `dawsos_jetstream_stream_messages{stream="STEPS"}`:
			iv.Steps = v
		case `dawsos_jetstream_stream_messages{stream="RESULTS"}`:
			iv.Results = v
		case `dawsos_runs{status="running"}`:
			iv.Running = v
		}
	}
}

// takeInterval returns the runs ended since the last call and their
// latencies' p50 and p99.
func (b *benchCollector) takeInterval() benchInterval {
	b.mu.Lock()
	win, failed, errs := b.window, b.windowFailed, b.windowErrors
	b.window, b.windowFailed, b.windowErrors = nil, 0, 0
	b.mu.Unlock()
	l := latencySummary(win)
	return benchInterval{Ended: l.Count, Failed: failed, Errors: errs, P50: l.P50, P99: l.P99}
}

func (b *benchCollector) add(o benchOutcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := &b.counts
	switch o.kind {
	case "succeeded", "partial", "failed", "canceled":
		b.window = append(b.window, float64(o.latency)/float64(time.Millisecond))
		if o.kind != "succeeded" {
			b.windowFailed++
		}
	default:
		b.windowErrors++
	}
	if o.status != 0 {
		c.StatusCodes[strconv.Itoa(o.status)]++
	}
	switch o.kind {
	case "succeeded", "partial", "failed", "canceled":
		switch o.kind {
		case "succeeded":
			c.Succeeded++
		case "partial":
			c.Partial++
		case "failed":
			c.Failed++
		case "canceled":
			c.Canceled++
		}
		b.latencies = append(b.latencies, float64(o.latency)/float64(time.Millisecond))
		if o.doneAt.After(b.lastDone) {
			b.lastDone = o.doneAt
		}
	case "timeout":
		c.Timeouts++
	case "http_error":
		c.HTTPErrors++
	case "interrupted":
		c.Interrupted++
	default:
		c.TransportErrors++
	}
	if o.errorMsg != "" {
		key := o.kind
		if o.status != 0 {
			key = strconv.Itoa(o.status)
		}
		if _, ok := b.samples[key]; !ok {
			b.samples[key] = o.errorMsg
		}
	}
}

// runBench runs the open-loop schedule and returns the report. progress,
// when not nil, is called once per scheduled submission as it ends
// (answered or dropped), from any goroutine.
func runBench(ctx context.Context, cfg benchConfig, hc *http.Client, progress func()) (*benchReport, error) {
	var bodies [][]byte
	entries := cfg.Mix
	if len(entries) == 0 {
		entries = []benchMixEntry{{Pattern: cfg.Pattern, Inputs: cfg.Inputs, Weight: 1}}
	}
	for _, m := range entries {
		b, err := json.Marshal(submitRequest{Pattern: m.Pattern, Inputs: m.Inputs, AsOfDate: cfg.AsOfDate, AllowStalePack: cfg.AllowStalePack})
		if err != nil {
			return nil, fmt.Errorf("encode the submission of %s: %w", m.Pattern, err)
		}
		for range m.Weight {
			bodies = append(bodies, b)
		}
	}
	u, err := url.Parse(cfg.Server)
	if err != nil {
		return nil, usageErrorf("--server %q: %v", cfg.Server, err)
	}
	u.Path = u.Path + "/v1/runs"
	u.RawQuery = url.Values{"wait": {cfg.WaitTimeout.String()}}.Encode()
	target := u.String()
	if progress == nil {
		progress = func() {}
	}

	col := &benchCollector{counts: benchCounts{StatusCodes: map[string]int{}}, samples: map[string]string{}}
	var intervals []benchInterval
	stopReports := make(chan struct{})
	reportsDone := make(chan struct{})
	if cfg.ReportEvery > 0 {
		go func() {
			defer close(reportsDone)
			t := time.NewTicker(cfg.ReportEvery)
			defer t.Stop()
			begin := time.Now()
			for {
				select {
				case <-stopReports:
					return
				case <-t.C:
				}
				iv := col.takeInterval()
				iv.EndS = time.Since(begin).Seconds()
				scrapeServer(ctx, hc, cfg.Server, &iv)
				intervals = append(intervals, iv)
				if reportLine != nil {
					reportLine(iv)
				}
			}
		}()
	} else {
		close(reportsDone)
	}
	sem := make(chan struct{}, cfg.ConcurrencyLimit)
	var wg sync.WaitGroup
	window := cfg.Warmup + cfg.Duration
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var maxLag time.Duration
	start := time.Now()
	measureStart := start.Add(cfg.Warmup)
	interrupted := false
schedule:
	for i := 0; ; i++ {
		off := scheduleOffset(i, cfg.Rate)
		if off >= window {
			break
		}
		sched := start.Add(off)
		if d := time.Until(sched); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				timer.Stop()
				interrupted = true
				break schedule
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			interrupted = true
			break
		}
		measured := off >= cfg.Warmup
		if lag := time.Since(sched); measured && lag > maxLag {
			maxLag = lag
		}
		if measured {
			col.mu.Lock()
			col.counts.Scheduled++
			col.mu.Unlock()
		}
		select {
		case sem <- struct{}{}:
		default:
			if measured {
				col.mu.Lock()
				col.counts.Dropped++
				col.mu.Unlock()
			}
			progress()
			continue
		}
		if measured {
			col.mu.Lock()
			col.counts.Sent++
			col.mu.Unlock()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := submitOnce(ctx, hc, target, bodies[i%len(bodies)], sched)
			<-sem
			if measured {
				col.add(o)
			}
			progress()
		}()
	}
	wg.Wait()
	close(stopReports)
	<-reportsDone
	hc.CloseIdleConnections()
	if ctx.Err() != nil {
		interrupted = true
	}

	rep := &benchReport{
		Settings:     cfg,
		Machine:      thisMachine(),
		Counts:       col.counts,
		Interrupted:  interrupted,
		SendLagMaxMS: float64(maxLag) / float64(time.Millisecond),
	}
	rep.Settings.DurationS, rep.Settings.WarmupS, rep.Settings.WaitTimeoutS = cfg.Duration.Seconds(), cfg.Warmup.Seconds(), cfg.WaitTimeout.Seconds()
	if len(col.samples) > 0 {
		rep.ErrorSamples = col.samples
	}
	rep.Intervals = intervals
	rep.OfferedRate = float64(col.counts.Sent) / cfg.Duration.Seconds()
	rep.Latency = latencySummary(col.latencies)
	if n := rep.Latency.Count; n > 0 {
		// Sends span the window less one interval; dividing by at least
		// the window keeps a fast server from showing more than offered.
		elapsed := max(col.lastDone.Sub(measureStart), cfg.Duration)
		rep.ElapsedS = elapsed.Seconds()
		if elapsed > 0 {
			rep.ThroughputPerS = float64(n) / elapsed.Seconds()
		}
	}
	return rep, nil
}

// submitOnce submits one run with ?wait and classifies the answer; the
// latency counts from the scheduled send time.
func submitOnce(ctx context.Context, hc *http.Client, target string, body []byte, sched time.Time) benchOutcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return benchOutcome{kind: "transport_error", errorMsg: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return benchOutcome{kind: "interrupted"}
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			return benchOutcome{kind: "timeout", errorMsg: err.Error()}
		}
		return benchOutcome{kind: "transport_error", errorMsg: err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		msg := decodeAPIError(resp).Error()
		return benchOutcome{kind: "http_error", status: resp.StatusCode, errorMsg: msg}
	}
	var doc struct {
		Status string `json:"status"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	_, _ = io.Copy(io.Discard, resp.Body) // so the connection is reused
	done := time.Now()
	if err != nil {
		if ctx.Err() != nil {
			return benchOutcome{kind: "interrupted", status: resp.StatusCode}
		}
		return benchOutcome{kind: "transport_error", status: resp.StatusCode, errorMsg: "decode the run document: " + err.Error()}
	}
	o := benchOutcome{status: resp.StatusCode, latency: done.Sub(sched), doneAt: done}
	switch doc.Status {
	case "succeeded", "partial", "failed", "canceled":
		o.kind = doc.Status
	case "running":
		o.kind = "timeout"
	default:
		o.kind = "http_error"
		o.errorMsg = fmt.Sprintf("unexpected run status %q", doc.Status)
	}
	return o
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// percentile is the nearest-rank percentile (0 < p ≤ 100) of ascending
// samples: the smallest sample with at least p % of the samples at or
// below it, i.e. sorted[ceil(p/100·n) − 1].
func percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	// The epsilon keeps p/100·n that is an integer in exact arithmetic
	// (0.9·10) from rounding up past it.
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// latencySummary sorts the samples (in place) and summarises them.
func latencySummary(ms []float64) latencyStats {
	if len(ms) == 0 {
		return latencyStats{}
	}
	slices.Sort(ms)
	sum := 0.0
	for _, v := range ms {
		sum += v
	}
	return latencyStats{
		Count: len(ms), Min: ms[0], Max: ms[len(ms)-1], Mean: sum / float64(len(ms)),
		P50: percentile(ms, 50), P90: percentile(ms, 90), P99: percentile(ms, 99),
	}
}

// printBenchReport prints the report for a person.
func printBenchReport(w io.Writer, r *benchReport) {
	s, m, c, l := r.Settings, r.Machine, r.Counts, r.Latency
	fmt.Fprintf(w, "bench: pattern %s at %g runs/s for %s (warmup %s), concurrency limit %d, wait %s\n",
		s.Pattern, s.Rate, s.Duration, s.Warmup, s.ConcurrencyLimit, s.WaitTimeout)
	fmt.Fprintf(w, "server %s; load generator %s/%s, %d CPUs, %s\n", s.Server, m.GOOS, m.GOARCH, m.NumCPU, m.GoVersion)
	if r.Interrupted {
		fmt.Fprintln(w, "INTERRUPTED: the figures cover only what ran")
	}
	fmt.Fprintf(w, "scheduled %d, sent %d, dropped %d (concurrency limit)\n", c.Scheduled, c.Sent, c.Dropped)
	fmt.Fprintf(w, "succeeded %d, partial %d, failed %d, canceled %d, timeouts %d, http errors %d, transport errors %d, interrupted %d\n",
		c.Succeeded, c.Partial, c.Failed, c.Canceled, c.Timeouts, c.HTTPErrors, c.TransportErrors, c.Interrupted)
	fmt.Fprintf(w, "offered %.1f runs/s, throughput %.1f runs/s (ended runs over %.2fs)\n", r.OfferedRate, r.ThroughputPerS, r.ElapsedS)
	if l.Count > 0 {
		fmt.Fprintf(w, "latency ms, scheduled send to end, %d runs: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  mean %.1f  min %.1f\n",
			l.Count, l.P50, l.P90, l.P99, l.Max, l.Mean, l.Min)
	}
	fmt.Fprintf(w, "scheduler lag max %.1f ms\n", r.SendLagMaxMS)
	keys := make([]string, 0, len(r.ErrorSamples))
	for k := range r.ErrorSamples {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "first %s error: %s\n", k, r.ErrorSamples[k])
	}
}
