package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
)

// The console's tests drive the real binary in headless Chromium: log in,
// check the portfolio overview's figures against the API's run document,
// watch a run's steps turn green live, trip a breaker, replay dead letters
// (one with edited arguments, a group in bulk), and check that a VIEWER
// gets no operator action and is refused one anyway. Screenshots of every
// view go to $DAWSOS_ARTIFACTS (or a temporary folder).

const chromiumPath = "/usr/bin/chromium"

// consoleSlowPattern runs long enough for a browser to see its steps
// change: two CPU-bound steps, each followed by a no-op.
const consoleSlowPattern = `{"id": "console_slow", "name": "Console slow chain",
  "inputs": {"ms": {"type": "number", "default": 1200, "description": "Milliseconds each burn step takes."}},
  "steps": [
    {"capability": "test.burn", "as": "a", "args": {"ms": "{{inputs.ms}}"}},
    {"capability": "test.noop", "as": "b", "args": {"value": "{{a.hashes}}"}},
    {"capability": "test.burn", "as": "c", "args": {"ms": "{{inputs.ms}}"}},
    {"capability": "test.noop", "as": "d", "args": {"value": "{{c.hashes}}"}}
  ],
  "outputs": ["b", "d"]}`

const (
	consoleManagerPW = "console-manager-password"
	consoleViewerPW  = "console-viewer-password"
	consoleAdminPW   = "console-admin-password"
)

// browser is one headless Chromium with a fresh profile.
type browser struct {
	t      *testing.T
	ctx    context.Context
	shots  string
	base   string
	cancel func()
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: the console's browser tests must run in CI (test.sh installs Debian's chromium)", chromiumPath)
		}
		t.Skipf("%s is missing; run ./test.sh to install it", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	ctx, tcancel := context.WithTimeout(bctx, 6*time.Minute)
	shots := os.Getenv("DAWSOS_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx, shots: shots, base: base, cancel: func() { tcancel(); bcancel(); acancel() }}
	t.Cleanup(b.cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.failed(what, err)
	}
}

func (b *browser) failed(what string, err error) {
	b.t.Helper()
	{
		hctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		html, _ := chromedp.Run(hctx, chromedp.OuterHTML(chromedp.CSS("main")))
		cancel()
		b.shot("failed-" + regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(what), "-"))
		b.t.Fatalf("%s: %v\npage main:\n%.3000s", what, err, html)
	}
}

// shot writes a full-page PNG named name.png.
func (b *browser) shot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
	return p
}

// evalJS evaluates an expression in the page (awaiting a promise) and
// decodes its value.
func evalJS[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.failed("evaluate "+js, err)
	}
	return v
}

// eval evaluates an expression and decodes its value into out.
func (b *browser) eval(js string, out any) {
	b.t.Helper()
	v := evalJS[any](b, js)
	raw, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(raw, out)
	}
	if err != nil {
		b.t.Fatalf("decode the value of %s: %v", js, err)
	}
}

// poll waits until the expression is true.
func (b *browser) poll(what, expr string, within time.Duration) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.failed(what, err)
	}
}

// waitAcross waits until the expression is true, across the page's own
// navigations (an evaluation that a navigation interrupts is retried).
func (b *browser) waitAcross(what, expr string, within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	b.failed(what, fmt.Errorf("not true within %s (last error: %v)", within, last))
}

func (b *browser) login(email, password, next string) {
	b.t.Helper()
	b.run("open "+next, chromedp.Navigate(b.base+next), chromedp.WaitVisible(chromedp.ID("#email")))
	b.run("log in as "+email,
		chromedp.SendKeys(chromedp.ID("#email"), email),
		chromedp.SendKeys(chromedp.ID("#password"), password),
		chromedp.Click(chromedp.ID("#signin")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="who"]`)))
}

func (b *browser) cookie(name string) string {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base}})
	if err != nil {
		b.failed("read cookies", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// apiCall is one JSON request with a bearer token or a cookie header.
func apiCall(t *testing.T, method, url string, headers map[string]string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func apiLogin(t *testing.T, base, email, password string) string {
	t.Helper()
	code, body := apiCall(t, "POST", base+"/v1/auth/login", nil, map[string]string{"email": email, "password": password})
	if code != 200 {
		t.Fatalf("API login %s: %d %s", email, code, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &tok)
	return tok.AccessToken
}

// consoleServer starts a server with the demo data, the test capabilities,
// the slow pattern and a breaker that opens after three failures and
// stays open until reset.
func consoleServer(t *testing.T) *server {
	t.Helper()
	s := newServer(t, "DAWSOS_BREAKERS_FAILURES=3", "DAWSOS_BREAKERS_OPEN_FOR=1h")
	pdir := envValue(s.env, "DAWSOS_PATTERNS_DIR")
	if err := os.WriteFile(filepath.Join(pdir, "console_slow.json"), []byte(consoleSlowPattern), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	seed := exec.Command(dawsosBinary(t), "seed", "--seed", "1",
		"--admin-password", consoleAdminPW, "--manager-password", consoleManagerPW, "--viewer-password", consoleViewerPW)
	seed.Env, seed.Dir = s.env, filepath.Dir(s.dataDir)
	if out, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("dawsos seed: %v\n%s", err, out)
	}
	s.start()
	return s
}

// lookup walks a path such as valued.positions[3].weight through decoded
// JSON.
func lookup(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		name, idx, hasIdx := strings.Cut(part, "[")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[name]; !ok {
			return nil, false
		}
		if hasIdx {
			i, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			arr, ok := v.([]any)
			if err != nil || !ok || i >= len(arr) {
				return nil, false
			}
			v = arr[i]
		}
	}
	return v, true
}

// shownMatches checks the text a figure shows against its raw value: the
// shown number (a percentage is the raw value times 100) must be the raw
// value rounded to as many decimals as are shown.
func shownMatches(shown, raw string) bool {
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return shown == "–" || shown == raw
	}
	s := strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(shown), "−", "-"), ",", "")
	if p, isPct := strings.CutSuffix(s, " %"); isPct {
		s, f = p, f*100
	}
	g, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return false
	}
	decimals := 0
	if dot := strings.Index(s, "."); dot >= 0 {
		decimals = len(s) - dot - 1
	}
	return math.Abs(g-f) <= 0.5*math.Pow(10, -float64(decimals))+1e-9
}

func TestE2EConsole(t *testing.T) {
	t.Parallel()
	s := consoleServer(t)
	b := newBrowser(t, s.base)
	manager := apiLogin(t, s.base, "manager@dawsos.example", consoleManagerPW)
	asManager := map[string]string{"Authorization": "Bearer " + manager}

	// Logging in: a page without a session sends the browser to the form.
	b.run("open the console", chromedp.Navigate(s.base+"/runs"), chromedp.WaitVisible(chromedp.ID("#email")))
	var loc string
	b.eval(`location.pathname + location.search`, &loc)
	if loc != "/login?next=%2Fruns" {
		t.Errorf("an anonymous /runs went to %q, want the login form with next=/runs", loc)
	}
	b.shot("01-login")
	b.run("a wrong password", chromedp.SendKeys(chromedp.ID("#email"), "manager@dawsos.example"),
		chromedp.SendKeys(chromedp.ID("#password"), "wrong password"), chromedp.Click(chromedp.ID("#signin")),
		chromedp.WaitVisible(chromedp.ID("#login-error")))
	b.login("manager@dawsos.example", consoleManagerPW, "/runs")
	if b.cookie("dawsos_session") == "" {
		t.Fatal("no session cookie after logging in")
	}
	var httpOnly bool
	b.eval(`!document.cookie.includes("dawsos_session")`, &httpOnly)
	if !httpOnly {
		t.Error("the session cookie is readable from script")
	}

	t.Run("portfolio overview figures are the run document's", func(t *testing.T) {
		_, body := apiCall(t, "GET", s.base+"/v1/portfolios", asManager, nil)
		var ps struct {
			Portfolios []struct{ ID, Name string } `json:"portfolios"`
		}
		_ = json.Unmarshal(body, &ps)
		pid := ""
		for _, p := range ps.Portfolios {
			if p.Name == "CAD Demo Portfolio" {
				pid = p.ID
			}
		}
		if pid == "" {
			t.Fatalf("the manager has no CAD Demo Portfolio: %s", body)
		}
		b.run("open the overview", chromedp.Navigate(s.base+"/portfolios/"+pid+"?view=overview"),
			chromedp.WaitVisible(chromedp.ID("#h-value")))
		b.shot("05-portfolio-overview")
		checkFigures(t, b, s.base, asManager, 30)
		b.run("follow a figure to its step", chromedp.Click(chromedp.CSS(`a.fig[data-figure="twr.twr"]`)),
			chromedp.WaitVisible(chromedp.ID("#step-twr")))
		b.shot("06-provenance-step")
		b.run("portfolios", chromedp.Navigate(s.base+"/portfolios"), chromedp.WaitVisible(chromedp.ID("#portfolios")))
		b.shot("04-portfolios")

		// The other views: each submits its pattern's run, follows it and
		// shows its outputs' figures, all from the run document.
		for i, view := range []string{"risk", "scenarios", "cycle_risk", "tax", "harvest"} {
			b.run("open view "+view, chromedp.Navigate(s.base+"/portfolios/"+pid+"?view="+view))
			b.waitAcross("view "+view+" shows its run's figures", `document.readyState === "complete" && document.getElementById("run-ref") !== null`, 90*time.Second)
			b.shot(fmt.Sprintf("05%c-portfolio-%s", 'a'+i, view))
			checkFigures(t, b, s.base, asManager, 3)
		}
	})

	t.Run("a submitted run's steps turn green live", func(t *testing.T) {
		b.run("open the pattern", chromedp.Navigate(s.base+"/patterns/console_slow"), chromedp.WaitVisible(chromedp.ID("#run-form")))
		b.shot("08-pattern-form")
		b.run("submit", chromedp.SetValue(chromedp.ID("#in-ms"), "1500"), chromedp.Click(chromedp.ID("#run-button")),
			chromedp.WaitVisible(chromedp.ID("#node-d")))
		var pending int
		b.eval(`window.__sameDocument = true; document.querySelectorAll('.node:not([data-state="succeeded"])').length`, &pending)
		if pending == 0 {
			t.Fatal("every step had succeeded when the run's page opened; the run is too fast to watch")
		}
		b.poll("a first step turns green", `document.querySelector('#node-a').dataset.state === "succeeded"`, 30*time.Second)
		b.shot("09-run-live")
		b.poll("every step turns green", `document.querySelectorAll('.node[data-state="succeeded"]').length === 4 && document.getElementById("run-status").textContent === "succeeded"`, 60*time.Second)
		var same bool
		b.eval(`window.__sameDocument === true`, &same)
		if !same {
			t.Error("the page reloaded while the run ran; it must update over SSE")
		}
		b.poll("the step details arrive", `document.querySelector('#run[data-done]') !== null`, 10*time.Second)
		b.shot("10-run-done")
		b.run("runs list", chromedp.Navigate(s.base+"/runs?pattern=console_slow"), chromedp.WaitVisible(chromedp.ID("#runs")))
		b.shot("02-runs")
	})

	var deadLetter string
	t.Run("a failing capability opens its breaker and dead-letters", func(t *testing.T) {
		s.setFault("fail")
		// Three counted failures open the breaker; the fourth run's step
		// is refused by it.
		for i := 0; i < 4; i++ {
			code, body := apiCall(t, "POST", s.base+"/v1/runs?wait=30s", asManager, map[string]any{"pattern": "e2e_flaky", "inputs": map[string]any{"key": "k"}})
			if code != 200 {
				t.Fatalf("run e2e_flaky: %d %s", code, body)
			}
		}
		b.run("capabilities", chromedp.Navigate(s.base+"/capabilities"),
			chromedp.WaitVisible(chromedp.CSS(`tr[data-capability="test.flaky"] [data-breaker]`)))
		var state string
		b.eval(`document.querySelector('tr[data-capability="test.flaky"] [data-breaker]').textContent`, &state)
		if state != "open" {
			t.Errorf("test.flaky's breaker shows %q, want open", state)
		}
		b.shot("11-capabilities-breaker-open")
		b.run("dead letters", chromedp.Navigate(s.base+"/dlq?capability=test.flaky"), chromedp.WaitVisible(chromedp.ID("#dlq-total")))
		var groups []string
		b.eval(`[...document.querySelectorAll(".dlgroup")].map(g => g.dataset.code)`, &groups)
		if len(groups) != 2 {
			t.Errorf("dead-letter groups of test.flaky: %v; want unavailable and circuit_open", groups)
		}
		b.eval(`document.querySelector('.dlgroup[data-code="unavailable"] tr[data-dl]').dataset.dl`, &deadLetter)
		b.shot("12-dead-letters")

		// The runs list filters by a failing step and by capability, in
		// the database: the four e2e_flaky runs failed at step f.
		for _, c := range []struct {
			query, pattern string
			want           int
		}{{"failing=f", "e2e_flaky", 4}, {"failing=test.flaky", "e2e_flaky", 4}, {"capability=test.burn", "console_slow", 1}, {"failing=a", "", 0}} {
			b.run("runs "+c.query, chromedp.Navigate(s.base+"/runs?"+c.query), chromedp.WaitVisible(chromedp.ID("#runs")))
			var pats []string
			b.eval(`[...document.querySelectorAll("#runs tr[data-run] td:nth-child(2)")].map(td => td.textContent)`, &pats)
			if len(pats) != c.want {
				t.Errorf("/runs?%s lists %d runs %v; want %d", c.query, len(pats), pats, c.want)
			}
			for _, p := range pats {
				if p != c.pattern {
					t.Errorf("/runs?%s lists a run of %s; want only %s", c.query, p, c.pattern)
				}
			}
		}
	})

	t.Run("replay one with an edited argument, and a group in bulk", func(t *testing.T) {
		if deadLetter == "" {
			t.Skip("no dead letter to replay")
		}
		s.setFault("")
		// The API takes the session cookie only with the CSRF token.
		cookie := "dawsos_session=" + b.cookie("dawsos_session") + "; dawsos_csrf=" + b.cookie("dawsos_csrf")
		if code, body := apiCall(t, "POST", s.base+"/v1/breakers/test.flaky/reset", map[string]string{"Cookie": cookie}, nil); code != 403 {
			t.Errorf("reset with the cookie and no CSRF header: %d %s, want 403", code, body)
		}
		b.run("reset the breaker", chromedp.Navigate(s.base+"/capabilities"),
			chromedp.Click(chromedp.CSS(`tr[data-capability="test.flaky"] [data-action="reset-breaker"]`)))
		b.poll("the breaker closes", `document.querySelector('tr[data-capability="test.flaky"] [data-breaker]').textContent === "closed"`, 10*time.Second)
		b.run("force it open", chromedp.Click(chromedp.CSS(`tr[data-capability="test.flaky"] [data-action="open-breaker"]`)))
		b.poll("the breaker shows open", `document.querySelector('tr[data-capability="test.flaky"] [data-breaker]').textContent === "open"`, 10*time.Second)
		if br := s.breaker(t, "test.flaky"); br["state"] != "open" {
			t.Errorf("after Force open the API has the breaker %v", br)
		}
		b.run("reset it again", chromedp.Click(chromedp.CSS(`tr[data-capability="test.flaky"] [data-action="reset-breaker"]`)))
		b.poll("the breaker closes again", `document.querySelector('tr[data-capability="test.flaky"] [data-breaker]').textContent === "closed"`, 10*time.Second)

		b.run("open the dead letter", chromedp.Navigate(s.base+"/dlq/"+deadLetter), chromedp.WaitVisible(chromedp.ID("#args")))
		b.run("a bad edit is refused", chromedp.SetValue(chromedp.ID("#args"), `{"key": 7}`), chromedp.Click(chromedp.ID("#check")),
			chromedp.WaitVisible(chromedp.CSS("#check-verdict.error")))
		var disabled bool
		b.eval(`document.getElementById("replay").disabled`, &disabled)
		if !disabled {
			t.Error("Replay is enabled for arguments that break the schema")
		}
		b.run("edit and check", chromedp.SetValue(chromedp.ID("#args"), `{"key": "edited"}`), chromedp.Click(chromedp.ID("#check")))
		b.poll("the new check's verdict", `document.getElementById("check-verdict") !== null && !document.getElementById("check-verdict").classList.contains("error") && document.getElementById("diff") !== null`, 10*time.Second)
		var diff string
		b.eval(`document.getElementById("diff").innerText`, &diff)
		if !strings.Contains(diff, "key") || !strings.Contains(diff, `"k"`) || !strings.Contains(diff, `"edited"`) {
			t.Errorf("the diff shows %q; want key from \"k\" to \"edited\"", diff)
		}
		b.shot("13-replay-check-diff")
		b.run("replay", chromedp.Click(chromedp.ID("#replay")), chromedp.WaitVisible(chromedp.ID("#replayed-run")),
			chromedp.Click(chromedp.ID("#replayed-run")), chromedp.WaitVisible(chromedp.ID("#run-status")))
		b.poll("the replayed run finishes", `document.getElementById("run-status").textContent === "succeeded"`, 30*time.Second)
		b.shot("14-replayed-run")
		var runID string
		b.eval(`document.getElementById("run").dataset.runId`, &runID)
		_, body := apiCall(t, "GET", s.base+"/v1/runs/"+runID, asManager, nil)
		var d struct {
			Status  string `json:"status"`
			Outputs struct {
				After struct {
					Value string `json:"value"`
				} `json:"after"`
			} `json:"outputs"`
		}
		_ = json.Unmarshal(body, &d)
		if d.Status != "succeeded" || d.Outputs.After.Value != "edited" {
			t.Errorf("replayed run %s: status %s, after %q; want succeeded with the edited key", runID, d.Status, d.Outputs.After.Value)
		}

		b.run("the circuit_open group", chromedp.Navigate(s.base+"/dlq?code=circuit_open"),
			chromedp.Click(chromedp.CSS(`[data-action="bulk-preview"]`)), chromedp.WaitVisible(chromedp.CSS(".bulk-preview [data-count]")))
		var count string
		b.eval(`document.querySelector(".bulk-preview [data-count]").textContent`, &count)
		if count != "1" {
			t.Errorf("bulk preview counts %s, want 1", count)
		}
		b.run("bulk replay", chromedp.Click(chromedp.CSS(`[data-action="bulk-replay"]`)))
		b.poll("per-item results", `document.querySelectorAll('.bulk-results tr[data-result="ok"]').length === 1`, 15*time.Second)
		b.shot("15-bulk-replay")
	})

	t.Run("a VIEWER sees no operator action and is refused one", func(t *testing.T) {
		b.run("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("#email")))
		if b.cookie("dawsos_session") != "" {
			t.Error("the session cookie outlived the logout")
		}
		b.login("viewer@dawsos.example", consoleViewerPW, "/capabilities")
		var buttons int
		b.eval(`document.querySelectorAll('[data-action="reset-breaker"], [data-action="bulk-preview"], #replay').length`, &buttons)
		if buttons != 0 {
			t.Errorf("a VIEWER's capabilities page has %d operator buttons", buttons)
		}
		b.shot("16-viewer-capabilities")
		var statuses []int
		b.eval(`Promise.all([
			fetch("/v1/breakers/test.flaky/reset", {method: "POST", headers: {"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content}}).then(r => r.status),
			fetch("/v1/dlq/`+deadLetter+`/replay", {method: "POST", headers: {"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content, "Content-Type": "application/json"}, body: "{}"}).then(r => r.status),
			fetch("/v1/breakers/test.flaky/reset", {method: "POST"}).then(r => r.status),
			fetch("/dlq/`+deadLetter+`/check", {method: "POST", headers: {"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content, "Content-Type": "application/json"}, body: "{}"}).then(r => r.status)
		])`, &statuses)
		for i, st := range statuses {
			if st != 403 {
				t.Errorf("forged operator request %d as a VIEWER: %d, want 403", i, st)
			}
		}
		b.run("the viewer's dlq", chromedp.Navigate(s.base+"/dlq"), chromedp.WaitVisible(chromedp.ID("#dlq-total")))
		b.shot("17-viewer-dlq")
		b.run("patterns", chromedp.Navigate(s.base+"/patterns"), chromedp.WaitVisible(chromedp.ID("#patterns")))
		b.shot("07-patterns")
	})

	t.Run("first paint with 10,000 runs", func(t *testing.T) {
		b.run("sign the viewer out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("#email")))
		b.login("manager@dawsos.example", consoleManagerPW, "/runs")
		insertRuns(t, envValue(s.env, "DAWSOS_DATABASE_URL"), 10000)
		_, body := apiCall(t, "GET", s.base+"/v1/runs?pattern=portfolio_overview&limit=1", asManager, nil)
		var rs struct {
			Runs []struct {
				RunID string `json:"run_id"`
			} `json:"runs"`
		}
		_ = json.Unmarshal(body, &rs)
		var overview string
		if len(rs.Runs) == 1 {
			code, doc := apiCall(t, "GET", s.base+"/v1/runs/"+rs.Runs[0].RunID, asManager, nil)
			var d struct {
				Inputs struct {
					PortfolioID string `json:"portfolio_id"`
				} `json:"inputs"`
			}
			_ = json.Unmarshal(doc, &d)
			if code == 200 {
				overview = "/portfolios/" + d.Inputs.PortfolioID + "?view=overview"
			}
		}
		if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(b.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
			t.Fatal(err)
		}
		for _, page := range []struct{ name, path, ready string }{
			{"runs list, 10,000 runs", "/runs", "#runs"},
			{"portfolio overview", overview, "#h-value"},
		} {
			if page.path == "" {
				t.Errorf("no overview run to open")
				continue
			}
			start := time.Now()
			b.run("open "+page.name, chromedp.Navigate(s.base+page.path), chromedp.WaitVisible(chromedp.CSS(page.ready)))
			wall := time.Since(start)
			var m struct {
				Interactive, Loaded, Bytes, Resources float64
			}
			b.eval(`(() => { const n = performance.getEntriesByType("navigation")[0];
				const rs = performance.getEntriesByType("resource");
				return {Interactive: n.domInteractive, Loaded: n.loadEventEnd, Resources: rs.length,
					Bytes: n.transferSize + rs.reduce((s, r) => s + r.transferSize, 0)}; })()`, &m)
			t.Logf("first paint of %s: time to interactive %.0f ms, load %.0f ms, navigate-to-ready %s, %.0f bytes transferred in %.0f requests",
				page.name, m.Interactive, m.Loaded, wall.Round(time.Millisecond), m.Bytes, m.Resources+1)
		}
		_, _ = chromedp.Call(b.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: false})
		b.shot("03-runs-10000")
	})
}

// checkFigures compares every figure the page shows (data-figure) with the
// value at its path in the API's document of the page's run, checks the
// shown text is that value rounded, and that each links to its step. It
// wants at least least figures and a succeeded run.
func checkFigures(t *testing.T, b *browser, base string, asManager map[string]string, least int) {
	t.Helper()
	var figs []struct {
		Path, Raw, Shown, Href string
	}
	var runID string
	b.eval(`document.getElementById("run-ref").dataset.runId`, &runID)
	b.eval(`[...document.querySelectorAll("[data-figure]")].map(e => ({Path: e.dataset.figure, Raw: e.dataset.raw, Shown: e.textContent, Href: e.getAttribute("href")}))`, &figs)
	code, doc := apiCall(t, "GET", base+"/v1/runs/"+runID, asManager, nil)
	if code != 200 {
		t.Fatalf("GET /v1/runs/%s: %d %s", runID, code, doc)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var d struct {
		Status  string         `json:"status"`
		Outputs map[string]any `json:"outputs"`
		Steps   []any          `json:"steps"`
	}
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Status != "succeeded" || len(figs) < least {
		t.Fatalf("run %s: status %s, %d figures shown; want succeeded and at least %d\nsteps: %.3000v", runID, d.Status, len(figs), least, d.Steps)
	}
	for _, f := range figs {
		v, ok := lookup(map[string]any(d.Outputs), f.Path)
		want := fmt.Sprint(v)
		if v == nil {
			want = "null"
		}
		if !ok || want != f.Raw {
			t.Errorf("figure %s shows raw %q; the run document has %q (found %v)", f.Path, f.Raw, want, ok)
			continue
		}
		if !shownMatches(f.Shown, f.Raw) {
			t.Errorf("figure %s shows %q for %s", f.Path, f.Shown, f.Raw)
		}
		step, _, _ := strings.Cut(f.Path, ".")
		if f.Href != "/runs/"+runID+"#step-"+step {
			t.Errorf("figure %s links to %q, want its step %s of run %s", f.Path, f.Href, step, runID)
		}
	}
	t.Logf("%d figures of run %s match its document", len(figs), runID)
}

// insertRuns adds n finished runs of the manager's newest run's pattern,
// spread over the past days, straight into the database.
func insertRuns(t *testing.T, url string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	tag, err := c.Exec(ctx, `INSERT INTO runs (id, pattern, pattern_hash, status, inputs, context, correlation_id, user_id, created_at, updated_at, finished_at)
		SELECT gen_random_uuid(), r.pattern, r.pattern_hash, 'succeeded', r.inputs, r.context, 'bulk-' || g, r.user_id,
			now() - interval '1 hour' - g * interval '1 minute', now(), now() - interval '1 hour' - g * interval '1 minute' + interval '1 second'
		FROM generate_series(1, $1) g,
			(SELECT pattern, pattern_hash, inputs, context, user_id FROM runs WHERE pattern = 'e2e_one' OR pattern = 'console_slow' ORDER BY created_at DESC LIMIT 1) r`, n)
	if err != nil || tag.RowsAffected() != int64(n) {
		t.Fatalf("insert %d runs: %v (%d inserted)", n, err, tag.RowsAffected())
	}
}
