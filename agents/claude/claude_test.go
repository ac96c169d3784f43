package claude_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/claude"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

// A local stand-in for the Anthropic Messages API, answering in its
// documented format (docs.anthropic.com, Messages: POST /v1/messages with
// x-api-key and anthropic-version headers; a message object with id, type,
// role, model, content blocks, stop_reason and usage; errors as
// {"type":"error","error":{"type":...,"message":...}}). The figures of its
// answers are each test's own.

const (
	testKey = "anthropic-test-key-5"
	// testModel is the configured model; the server answers with a dated
	// name, so the stored model is visibly the one the API reported.
	testModel     = "claude-test"
	answeredModel = "claude-test-20250101"
)

var clock = time.Date(2026, 6, 30, 20, 0, 0, 0, time.UTC)

// reply is one answer of the fake server.
type reply struct {
	status int
	header map[string]string
	body   string
}

// fakeAnthropic records every request and answers with the script.
type fakeAnthropic struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	script func(n int, req map[string]any) reply
}

func newFake(t *testing.T, script func(n int, req map[string]any) reply) *fakeAnthropic {
	t.Helper()
	f := &fakeAnthropic{script: script}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies = append(f.bodies, body)
		n := len(f.bodies)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Header.Get("x-api-key") != testKey:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
			return
		case r.Method != http.MethodPost || r.URL.Path != "/v1/messages" || r.Header.Get("anthropic-version") != "2023-06-01" ||
			!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"type":"error","error":{"type":"invalid_request_error","message":"bad request %s %s"}}`, r.Method, r.URL.Path)
			return
		}
		var req map[string]any
		if err := json.Unmarshal(body, &req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"type":"error","error":{"type":"invalid_request_error","message":"body is not JSON"}}`)
			return
		}
		rep := f.script(n, req)
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		if rep.status == 0 {
			rep.status = http.StatusOK
		}
		w.WriteHeader(rep.status)
		fmt.Fprint(w, rep.body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAnthropic) hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

func (f *fakeAnthropic) body(i int) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[i]
}

// provider is the configuration against the local server.
func (f *fakeAnthropic) provider(key string) agents.Provider {
	return agents.Provider{Name: agents.ProviderAnthropic, BaseURL: f.srv.URL, Key: key, Model: testModel, RatePerMinute: 60000,
		Timeout: 5 * time.Second, AllowedHosts: []string{"127.0.0.1"}, AllowLoopback: []string{strings.TrimPrefix(f.srv.URL, "http://")},
		MaxAttempts: 3, Backoff: 5 * time.Millisecond, MaxBodyBytes: 64 << 10}
}

// message is a documented message object.
func message(id, text, stop string, in, out int) reply {
	b, _ := json.Marshal(map[string]any{"id": id, "type": "message", "role": "assistant", "model": answeredModel,
		"content": []map[string]any{{"type": "text", "text": text}}, "stop_reason": stop, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": in, "output_tokens": out, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}})
	return reply{body: string(b)}
}

// setup is a test's database, a run row for the answers to belong to, and
// a harness calling the agent with the providers given.
type setup struct {
	db    *storage.DB
	runID uuid.UUID
	h     *enginetest.Harness
}

func newSetup(t *testing.T, providers map[string]agents.Provider) setup {
	t.Helper()
	db := pgtest.NewDB(t)
	run := uuid.New()
	hash := strings.Repeat("ab", 32)
	if _, err := db.Exec(context.Background(), `INSERT INTO pattern_versions (hash, pattern_id, document) VALUES ($1, 'test', '{}')`, hash); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(context.Background(), `INSERT INTO runs (id, pattern, pattern_hash, correlation_id) VALUES ($1, 'test', $2, 'c')`, run, hash); err != nil {
		t.Fatal(err)
	}
	h := enginetest.NewHarness(t, db, claude.New(agents.Deps{DB: db, Now: func() time.Time { return clock }, Providers: providers}))
	h.Run = agents.RunContext{RunID: run.String(), AsOfDate: "2026-06-30", PricingPackID: "PP_2026-06-30"}
	h.Step = "explain"
	return setup{db: db, runID: run, h: h}
}

func withFake(t *testing.T, f *fakeAnthropic) setup {
	return newSetup(t, map[string]agents.Provider{agents.ProviderAnthropic: f.provider(testKey)})
}

// subject is an output to explain, with figures whose paths and values
// the tests write out by hand.
var subject = json.RawMessage(`{"score": 72.5, "grade": "C", "ratings": [{"rating": "moat_strength", "score": 8.25, "weight": 0.4}],
	"payout_ratio": 0.4312, "empty": [], "note": "FY2025 statements"}`)

// subjectLines are the figures of subject as the prompt must carry them.
var subjectLines = []string{
	`subject.score = 72.5`, `subject.grade = "C"`, `subject.ratings[0].rating = "moat_strength"`, `subject.ratings[0].score = 8.25`,
	`subject.ratings[0].weight = 0.4`, `subject.payout_ratio = 0.4312`, `subject.empty = []`, `subject.note = "FY2025 statements"`,
}

func wantCode(t *testing.T, what string, err error, code string, contains ...string) {
	t.Helper()
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("%s: %v; want code %s", what, err, code)
	}
	for _, c := range contains {
		if !strings.Contains(ae.Message+" "+ae.Field, c) {
			t.Errorf("%s: %q (field %q) does not mention %q", what, ae.Message, ae.Field, c)
		}
	}
	if strings.Contains(ae.Message, testKey) {
		t.Errorf("%s: the error shows the key", what)
	}
}

// storedRow reads the ai_answers row of the run's step with plain SQL.
type storedRow struct {
	n                                                        int
	model, messageID, hash, answer, status, stop, capability string
	in, out, maxTokens                                       int
}

func readRow(t *testing.T, s setup, step string) storedRow {
	t.Helper()
	var r storedRow
	if err := s.db.QueryRow(context.Background(), `SELECT count(*) OVER (), model, message_id, prompt_hash, answer, status, stop_reason,
			capability, input_tokens, output_tokens, max_tokens FROM ai_answers WHERE run_id = $1 AND step_id = $2`, []any{s.runID, step},
		&r.n, &r.model, &r.messageID, &r.hash, &r.answer, &r.status, &r.stop, &r.capability, &r.in, &r.out, &r.maxTokens); err != nil {
		t.Fatalf("the stored answer of step %s: %v", step, err)
	}
	return r
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestExplainComplete: a complete answer is reported and stored as the
// API gave it, with the hash of the exact body the server received; the
// body carries every figure as path = value; the grounding lists the
// cited figures with the values sent, the citation of a path not sent and
// the numbers that match no figure sent (all written out by hand); a
// redelivery with the same prompt reuses the stored answer.
func TestExplainComplete(t *testing.T) {
	t.Parallel()
	text := "The score is 72.5 [[subject.score]] (grade C [[subject.grade]]), led by a moat of 8.3 [[subject.ratings[0].score]] " +
		"and a payout of 43.1% [[subject.payout_ratio]]. Growth of 12.7% [[subject.growth]] is strong, and 3 analysts agree; " +
		"the ratings [[subject.ratings]] as of 2026-06-30 [[ctx.asof_date]] were stored on 2026-07-01."
	f := newFake(t, func(n int, _ map[string]any) reply {
		return message(fmt.Sprintf("msg_%d", n), text, "end_turn", 812, 95)
	})
	s := withFake(t, f)
	var out claude.AnswerOutput
	s.h.MustCall("claude.explain", map[string]any{"subject": subject}, &out)
	if f.hits() != 1 {
		t.Fatalf("%d requests; want 1", f.hits())
	}
	body := f.body(0)
	var req struct {
		Model     string `json:"model"`
		MaxTokens int    `json:"max_tokens"`
		System    string `json:"system"`
		Messages  []struct {
			Role, Content string
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	if req.Model != testModel || req.MaxTokens != 1024 || len(req.Messages) != 1 || req.Messages[0].Role != "user" ||
		!strings.Contains(req.System, "[[aggregate.score]]") {
		t.Errorf("request model %q max_tokens %d messages %d system %q", req.Model, req.MaxTokens, len(req.Messages), req.System)
	}
	for _, l := range append([]string{`ctx.asof_date = "2026-06-30"`, `ctx.pricing_pack_id = "PP_2026-06-30"`}, subjectLines...) {
		if !strings.Contains(req.Messages[0].Content, "\n"+l+"\n") {
			t.Errorf("the prompt lacks the line %q:\n%s", l, req.Messages[0].Content)
		}
	}
	want := claude.AnswerOutput{Answer: text, Status: "complete", Model: answeredModel, MessageID: "msg_1", StopReason: "end_turn",
		InputTokens: 812, OutputTokens: 95, MaxTokens: 1024, PromptHash: sha(body)}
	got := out
	got.InputsUsed, got.Citations, got.UnsentCitations, got.UngroundedNumbers, got.Provenance = nil, nil, nil, nil, agents.Provenance{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("output %+v\nwant %+v", got, want)
	}
	wantUsed := []claude.InputUsed{
		{Name: "ctx", Figures: 2, Paths: []string{"ctx.asof_date", "ctx.pricing_pack_id"}},
		{Name: "subject", Figures: 8, Paths: []string{"subject.score", "subject.grade", "subject.ratings[0].rating", "subject.ratings[0].score",
			"subject.ratings[0].weight", "subject.payout_ratio", "subject.empty", "subject.note"}},
	}
	for i := range out.InputsUsed {
		out.InputsUsed[i].Bytes = 0
	}
	if !reflect.DeepEqual(out.InputsUsed, wantUsed) {
		t.Errorf("inputs used %+v; want %+v", out.InputsUsed, wantUsed)
	}
	wantCites := []claude.Citation{
		{Path: "subject.score", Value: json.RawMessage("72.5"), Figures: 1},
		{Path: "subject.grade", Value: json.RawMessage(`"C"`), Figures: 1},
		{Path: "subject.ratings[0].score", Value: json.RawMessage("8.25"), Figures: 1},
		{Path: "subject.payout_ratio", Value: json.RawMessage("0.4312"), Figures: 1},
		{Path: "subject.ratings", Figures: 3},
		{Path: "ctx.asof_date", Value: json.RawMessage(`"2026-06-30"`), Figures: 1},
	}
	if !reflect.DeepEqual(out.Citations, wantCites) {
		t.Errorf("citations %s; want %s", js(out.Citations), js(wantCites))
	}
	// 8.3 is 8.25 at one decimal, 43.1% is 0.4312; 12.7%, 3 and the date
	// 2026-07-01 match nothing sent.
	if !reflect.DeepEqual(out.UnsentCitations, []string{"subject.growth"}) ||
		!reflect.DeepEqual(out.UngroundedNumbers, []string{"12.7%", "3", "2026-07-01"}) {
		t.Errorf("unsent citations %q, ungrounded numbers %q; want [subject.growth] and [12.7%% 3 2026-07-01]", out.UnsentCitations, out.UngroundedNumbers)
	}
	if out.Provenance.AsOfDate != "2026-06-30" || out.Provenance.PricingPackID != "PP_2026-06-30" || !strings.Contains(out.Provenance.Source, answeredModel) {
		t.Errorf("provenance %+v", out.Provenance)
	}
	row := readRow(t, s, "explain")
	if row != (storedRow{n: 1, model: answeredModel, messageID: "msg_1", hash: sha(body), answer: text, status: "complete", stop: "end_turn",
		capability: "claude.explain", in: 812, out: 95, maxTokens: 1024}) {
		t.Errorf("stored row %+v", row)
	}

	// A redelivery of the same step with the same prompt: the stored
	// answer, no request.
	var again claude.AnswerOutput
	s.h.MustCall("claude.explain", map[string]any{"subject": subject}, &again)
	if f.hits() != 1 || !again.Reused || again.MessageID != "msg_1" || again.Answer != text || !reflect.DeepEqual(again.Citations, out.Citations) {
		t.Errorf("redelivery: %d requests, reused %v, message %s", f.hits(), again.Reused, again.MessageID)
	}
	// Another prompt for the same step asks again and replaces the row.
	s.h.MustCall("claude.explain", map[string]any{"subject": subject, "question": "Why C?", "max_tokens": 300}, &again)
	if row := readRow(t, s, "explain"); f.hits() != 2 || again.Reused || row.n != 1 || row.messageID != "msg_2" || row.maxTokens != 300 || row.hash != sha(f.body(1)) {
		t.Errorf("a new prompt: %d requests, reused %v, row %+v", f.hits(), again.Reused, row)
	}
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestStopReasons: the verdict of each documented stop reason, and what
// is stored.
func TestStopReasons(t *testing.T) {
	t.Parallel()
	tool := `{"id":"msg_t","type":"message","role":"assistant","model":"` + answeredModel + `","content":[{"type":"text","text":"Let me look."},` +
		`{"type":"tool_use","id":"toolu_1","name":"lookup","input":{}}],"stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":5}}`
	for _, tc := range []struct {
		name   string
		reply  reply
		status string
		code   string
		check  func(t *testing.T, o claude.AnswerOutput)
	}{
		{name: "max_tokens", reply: message("msg_m", "The score is 72.5 [[subject.score]] and the", "max_tokens", 500, 16), status: "truncated",
			check: func(t *testing.T, o claude.AnswerOutput) {
				if !o.Truncated || o.Refused || o.Answer != "The score is 72.5 [[subject.score]] and the" || !strings.Contains(o.TruncatedReason, "max_tokens") ||
					len(o.Citations) != 1 || len(o.UngroundedNumbers) != 0 {
					t.Errorf("truncated output %+v", o)
				}
			}},
		{name: "refusal", reply: message("msg_r", "I can't help with that.", "refusal", 500, 7), status: "refused",
			check: func(t *testing.T, o claude.AnswerOutput) {
				if !o.Refused || o.Truncated || o.Answer != "" || o.RefusalText != "I can't help with that." || o.RefusedReason == "" {
					t.Errorf("refused output %+v", o)
				}
			}},
		{name: "tool_use", reply: reply{body: tool}, code: agents.CodeUnavailable},
		{name: "pause_turn", reply: message("msg_p", "", "pause_turn", 5, 0), code: agents.CodeUnavailable},
		{name: "undocumented", reply: message("msg_u", "text", "sleeping", 5, 1), code: agents.CodeUnavailable},
		{name: "end_turn without text", reply: message("msg_e", "  ", "end_turn", 5, 1), code: agents.CodeUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(int, map[string]any) reply { return tc.reply })
			s := withFake(t, f)
			var out claude.AnswerOutput
			err := s.h.Call("claude.explain", map[string]any{"subject": subject, "max_tokens": 16}, &out)
			if tc.code != "" {
				wantCode(t, tc.name, err, tc.code)
				var n int
				if err := s.db.QueryRow(context.Background(), `SELECT count(*) FROM ai_answers`, nil, &n); err != nil || n != 0 {
					t.Errorf("%d answers stored (%v); a non-answer stores none", n, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tc.status || out.StopReason != tc.name {
				t.Errorf("status %s stop %s; want %s %s", out.Status, out.StopReason, tc.status, tc.name)
			}
			tc.check(t, out)
			if row := readRow(t, s, "explain"); row.status != tc.status || row.stop != tc.name || row.maxTokens != 16 || row.hash != sha(f.body(0)) {
				t.Errorf("stored %+v", row)
			}
		})
	}
}

// TestProviderErrors: the API's failures and the guards of the client
// map to the documented codes, with the requests each one takes.
func TestProviderErrors(t *testing.T) {
	t.Parallel()
	ok := message("msg_ok", "Fine: 72.5 [[subject.score]].", "end_turn", 10, 5)
	apiErr := func(status int, typ string) reply {
		return reply{status: status, body: `{"type":"error","error":{"type":"` + typ + `","message":"fixture"}}`}
	}
	for _, tc := range []struct {
		name   string
		key    string
		script func(n int) reply
		code   string // "" for success
		hits   int
		says   []string
	}{
		{name: "429 with Retry-After, then success", key: testKey, hits: 2, script: func(n int) reply {
			if n == 1 {
				r := apiErr(http.StatusTooManyRequests, "rate_limit_error")
				r.header = map[string]string{"Retry-After": "1"}
				return r
			}
			return ok
		}},
		{name: "5xx burst", key: testKey, code: agents.CodeUnavailable, hits: 3, says: []string{"529", "after 3 attempts"},
			script: func(int) reply { return apiErr(529, "overloaded_error") }},
		{name: "401", key: "wrong-key", code: agents.CodeProviderNotConfigured, hits: 1, says: []string{"DAWSOS_PROVIDERS_ANTHROPIC_KEY"},
			script: func(int) reply { return ok }},
		{name: "404 unknown model", key: testKey, code: agents.CodeProviderNotConfigured, hits: 1, says: []string{"providers.anthropic.model"},
			script: func(int) reply { return apiErr(http.StatusNotFound, "not_found_error") }},
		{name: "400", key: testKey, code: agents.CodeInvalidInput, hits: 1, says: []string{"400"},
			script: func(int) reply { return apiErr(http.StatusBadRequest, "invalid_request_error") }},
		{name: "malformed body", key: testKey, code: agents.CodeUnavailable, hits: 1, says: []string{"not its documented JSON"},
			script: func(int) reply { return reply{body: `{"id": "msg_x", "type": "message", "content": [`} }},
		{name: "undocumented message", key: testKey, code: agents.CodeUnavailable, hits: 1, says: []string{"stop_reason is missing"},
			script: func(int) reply {
				return reply{body: `{"id":"msg_x","type":"message","role":"assistant","model":"m","content":[],"usage":{"input_tokens":1,"output_tokens":1}}`}
			}},
		{name: "oversized body", key: testKey, code: agents.CodeUnavailable, hits: 1, says: []string{"larger than the limit"},
			script: func(int) reply { return message("msg_big", strings.Repeat("x", 70<<10), "end_turn", 1, 1) }},
		{name: "no key", key: "", code: agents.CodeProviderNotConfigured, hits: 0, says: []string{"DAWSOS_PROVIDERS_ANTHROPIC_KEY"},
			script: func(int) reply { return ok }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(n int, _ map[string]any) reply { return tc.script(n) })
			s := newSetup(t, map[string]agents.Provider{agents.ProviderAnthropic: f.provider(tc.key)})
			var out claude.AnswerOutput
			err := s.h.Call("claude.explain", map[string]any{"subject": subject}, &out)
			if f.hits() != tc.hits {
				t.Errorf("%d requests; want %d", f.hits(), tc.hits)
			}
			if tc.code == "" {
				if err != nil || out.Status != "complete" || out.MessageID != "msg_ok" {
					t.Fatalf("%v, %+v; want the answer", err, out)
				}
				return
			}
			wantCode(t, tc.name, err, tc.code, tc.says...)
		})
	}
	// No provider configured at all behaves as no key.
	s := newSetup(t, nil)
	wantCode(t, "no provider", s.h.Call("ai.explain", map[string]any{"aggregate": subject}, nil), agents.CodeProviderNotConfigured, "anthropic")
}

// TestInputLimits: inputs too large for a prompt, and malformed map
// arguments, are invalid_input naming the field, before any request.
func TestInputLimits(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(int, map[string]any) reply { return message("m", "x", "end_turn", 1, 1) })
	s := withFake(t, f)
	big := make([]float64, claude.MaxFigures+1)
	for i := range big {
		big[i] = float64(i) + 0.5
	}
	rows := make([]string, 100)
	for i := range rows {
		rows[i] = strings.Repeat("x", 3000)
	}
	wide := map[string]any{"rows": rows} // 100 figures, 300 kB
	for _, tc := range []struct {
		name, capability string
		args             map[string]any
		field            string
	}{
		{"too many figures", "claude.explain", map[string]any{"subject": big}, "subject"},
		{"too many bytes", "claude.summarize", map[string]any{"outputs": map[string]any{"small": subject, "wide": wide}}, "outputs.wide"},
		{"null subject", "claude.explain", map[string]any{"subject": nil}, "subject"},
		{"no outputs", "claude.summarize", map[string]any{"outputs": map[string]any{}}, "outputs"},
		{"name not an identifier", "claude.analyze", map[string]any{"outputs": map[string]any{"Bad Name": subject}, "question": "why?"}, "outputs.Bad Name"},
		{"name taken", "claude.portfolio_advice", map[string]any{"valued": subject, "context": map[string]any{"metrics": subject}}, "context.metrics"},
		{"ctx taken", "claude.financial_qa", map[string]any{"question": "why?", "context": map[string]any{"ctx": subject}}, "context.ctx"},
		{"max_tokens over the maximum", "claude.explain", map[string]any{"subject": subject, "max_tokens": 9000}, "max_tokens"},
		{"question missing", "claude.analyze", map[string]any{"outputs": map[string]any{"a": subject}}, "question"},
	} {
		err := s.h.Call(tc.capability, tc.args, nil)
		var ae *agents.Error
		if !errors.As(err, &ae) || ae.Code != agents.CodeInvalidInput {
			t.Errorf("%s: %v; want invalid_input", tc.name, err)
			continue
		}
		if !strings.Contains(ae.Field+" "+ae.Message+" "+js(ae.Fields), tc.field) {
			t.Errorf("%s: %v (field %q, fields %v) does not name %s", tc.name, ae, ae.Field, ae.Fields, tc.field)
		}
	}
	if f.hits() != 0 {
		t.Errorf("%d requests for invalid inputs; want none", f.hits())
	}
}

// TestEveryCapability: each capability sends its inputs under its roots
// (and its question), and answers.
func TestEveryCapability(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(n int, _ map[string]any) reply {
		return message(fmt.Sprintf("msg_%d", n), "Noted.", "end_turn", 10, 2)
	})
	s := withFake(t, f)
	small := json.RawMessage(`{"total": 1500.25, "weight": 0.125}`)
	for i, tc := range []struct {
		capability string
		args       map[string]any
		lines      []string
	}{
		{"claude.explain", map[string]any{"subject": small, "question": "What is the total?"},
			[]string{"subject.total = 1500.25", "Question: What is the total?"}},
		{"claude.summarize", map[string]any{"outputs": map[string]any{"twr": small, "nav": []any{}}, "focus": "risk"},
			[]string{"nav = []", "twr.total = 1500.25", "twr.weight = 0.125", "Focus: risk"}},
		{"claude.analyze", map[string]any{"outputs": map[string]any{"metrics": small}, "question": "Is it concentrated?"},
			[]string{"metrics.weight = 0.125", "Question: Is it concentrated?"}},
		{"ai.explain", map[string]any{"aggregate": small, "moat": json.RawMessage(`{"score": 7}`)},
			[]string{"aggregate.total = 1500.25", "moat.score = 7"}},
		{"claude.portfolio_advice", map[string]any{"valued": small, "metrics": json.RawMessage(`{"sharpe_1y": 1.1}`),
			"context": map[string]any{"sectors": json.RawMessage(`{"it": 0.3}`)}, "goal": "income"},
			[]string{"valued.total = 1500.25", "metrics.sharpe_1y = 1.1", "sectors.it = 0.3", "goal: income"}},
		{"claude.financial_qa", map[string]any{"question": "What is TWR?"}, []string{"Question: What is TWR?", `ctx.asof_date = "2026-06-30"`}},
		{"claude.scenario_analysis", map[string]any{"scenario": small, "hedges": json.RawMessage(`{"hedges": []}`)},
			[]string{"scenario.total = 1500.25", "hedges.hedges = []"}},
	} {
		h := *s.h
		h.Step = tc.capability
		var out claude.AnswerOutput
		h.MustCall(tc.capability, tc.args, &out)
		if out.Status != "complete" || out.Answer != "Noted." || f.hits() != i+1 {
			t.Errorf("%s: %+v after %d requests", tc.capability, out, f.hits())
			continue
		}
		var req struct{ Messages []struct{ Content string } }
		_ = json.Unmarshal(f.body(i), &req)
		for _, l := range tc.lines {
			if !strings.Contains(req.Messages[0].Content, l) {
				t.Errorf("%s: the prompt lacks %q:\n%s", tc.capability, l, req.Messages[0].Content)
			}
		}
		if row := readRow(t, s, tc.capability); row.capability != tc.capability {
			t.Errorf("%s: stored as %s", tc.capability, row.capability)
		}
	}
}
