package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"

	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) {
	// The end-to-end tests talk HTTP with http.DefaultClient, whose idle
	// keep-alive connections are closed when each server stops; goleak then
	// finds whatever else a test left running.
	pgtest.MainWithLeakCheck(m)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// dawsosBinary builds the binary once per test run, with the test
// capabilities compiled in.
func dawsosBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dawsos-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "dawsos")
		cmd := exec.Command("go", "build", "-tags", "dawsos_testcaps", "-o", binPath, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// e2ePatterns are written to the patterns directory the server loads.
var e2ePatterns = map[string]string{
	"e2e_one.json": `{"id": "e2e_one", "inputs": {"v": {"type": "integer", "default": 1}},
		"steps": [{"capability": "test.noop", "as": "a", "args": {"value": "{{inputs.v}}"}},
		          {"capability": "test.noop", "as": "b", "args": {"value": "{{a.value}}"}}],
		"outputs": ["b"]}`,
	"e2e_burn.json": `{"id": "e2e_burn", "inputs": {"ms": {"type": "number", "default": 5}},
		"steps": [{"capability": "test.burn", "as": "b", "args": {"ms": "{{inputs.ms}}"}}],
		"outputs": ["b"]}`,
	"e2e_flaky.json": `{"id": "e2e_flaky", "inputs": {"key": {"type": "string", "default": "k"}},
		"steps": [{"capability": "test.noop", "as": "first", "args": {"value": "{{inputs.key}}"}},
		          {"capability": "test.flaky", "as": "f", "args": {"key": "{{first.value}}"}},
		          {"capability": "test.noop", "as": "after", "args": {"value": "{{f.key}}"}}],
		"outputs": ["first", "after"]}`,
}

// The secrets every e2e server gets: its JWT secret and the passwords of
// its NATS listener's accounts. The tests mint tokens with the same secret.
const (
	e2eJWTSecret          = "e2e-jwt-secret-0123456789abcdef0123456789"
	e2eOrchestratorNATSPW = "e2e-nats-orchestrator-password"
	e2eWorkerNATSPW       = "e2e-nats-worker-password"
	e2eSubscriberNATSPW   = "e2e-nats-subscriber-password"
)

// server is one dawsos process under test.
type server struct {
	t       *testing.T
	cmd     *exec.Cmd
	base    string
	dataDir string
	env     []string
	fault   string
	logBuf  *syncBuffer
	// cmdArgs are the binary's arguments; "serve" when empty.
	cmdArgs []string
	// natsURL, when the server listens for NATS clients, lets a failing
	// test report the consumers' state.
	natsURL string
	// admin is the ADMIN every request acts as, made before the first
	// start; token is its access token, minted with e2eJWTSecret.
	admin uuid.UUID
	token string
}

// consumerReport describes the JetStream consumers, for failure messages.
func (s *server) consumerReport() string {
	if s.natsURL == "" {
		return ""
	}
	nc, err := nats.Connect(s.natsURL, nats.UserInfo(bus.AccountOrchestrator, e2eOrchestratorNATSPW))
	if err != nil {
		return "consumers: " + err.Error()
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		return "consumers: " + err.Error()
	}
	var b strings.Builder
	for _, stream := range []string{"STEPS", "RESULTS"} {
		if si, err := js.StreamInfo(stream); err == nil {
			fmt.Fprintf(&b, "stream %s: msgs %d\n", stream, si.State.Msgs)
		}
		for ci := range js.ConsumersInfo(stream) {
			fmt.Fprintf(&b, "  %s: pending %d, ack pending %d, redelivered %d, waiting %d, push bound %v, delivered %d/%d, ack floor %d\n",
				ci.Name, ci.NumPending, ci.NumAckPending, ci.NumRedelivered, ci.NumWaiting, ci.PushBound, ci.Delivered.Consumer, ci.Delivered.Stream, ci.AckFloor.Stream)
		}
	}
	return b.String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newServer prepares a server on its own database, data directory and
// port; extra are DAWSOS_* settings.
func newServer(t *testing.T, extra ...string) *server {
	t.Helper()
	dir, err := os.MkdirTemp("", "dawsos-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pdir := filepath.Join(dir, "patterns")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, doc := range e2ePatterns {
		if err := os.WriteFile(filepath.Join(pdir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	s := &server{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), dataDir: filepath.Join(dir, "var"), fault: filepath.Join(dir, "fault")}
	s.env = append(os.Environ(),
		"DAWSOS_DATABASE_URL="+pgtest.URL(t),
		"DAWSOS_DATA_DIR="+s.dataDir,
		fmt.Sprintf("DAWSOS_SERVER_LISTEN=127.0.0.1:%d", port),
		"DAWSOS_PATTERNS_DIR="+pdir,
		"DAWSOS_TEST_FAULT_FILE="+s.fault,
		"DAWSOS_STEPS_INITIAL_BACKOFF=20ms",
		"DAWSOS_ORCHESTRATOR_RECOVERY_INTERVAL=500ms",
		"DAWSOS_LOG_LEVEL=warn",
		"DAWSOS_AUTH_JWT_SECRET="+e2eJWTSecret,
		"DAWSOS_NATS_ACCOUNTS_ORCHESTRATOR_PASSWORD="+e2eOrchestratorNATSPW,
		"DAWSOS_NATS_ACCOUNTS_WORKER_PASSWORD="+e2eWorkerNATSPW,
		"DAWSOS_NATS_ACCOUNTS_SUBSCRIBER_PASSWORD="+e2eSubscriberNATSPW,
	)
	s.env = append(s.env, extra...)
	return s
}

// envValue is the last setting of a variable in env, as a process sees it.
func envValue(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// ensureAdmin makes the ADMIN the requests act as, once: straight in the
// test database, or, for a server on its own managed PostgreSQL, with
// `dawsos users add` on the same data directory before the server starts.
func (s *server) ensureAdmin() {
	s.t.Helper()
	if s.token != "" {
		return
	}
	if url := envValue(s.env, "DAWSOS_DATABASE_URL"); url != "" {
		s.admin = insertUser(s.t, url, "admin@e2e.example", "e2e-admin-password", "ADMIN")
	} else {
		s.admin = s.addUserWithCLI("admin@e2e.example", "e2e-admin-password", "ADMIN")
	}
	s.token = mintToken(s.t, s.admin, "ADMIN")
}

// insertUser creates a user with a bcrypt hash of password (at bcrypt's
// lowest cost, to keep the tests fast) and returns its id.
func insertUser(t *testing.T, dbURL, email, password, role string) uuid.UUID {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var id uuid.UUID
	if err := c.QueryRow(ctx, `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3) RETURNING id`, email, string(hash), role).Scan(&id); err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return id
}

func (s *server) addUserWithCLI(email, password, role string) uuid.UUID {
	s.t.Helper()
	if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(dawsosBinary(s.t), "users", "add", "--email", email, "--role", role, "--password-stdin")
	cmd.Env = s.env
	cmd.Dir = s.dataDir[:len(s.dataDir)-len("/var")]
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("dawsos users add: %v\n%s", err, out)
	}
	for _, f := range strings.Fields(string(out)) {
		if id, err := uuid.Parse(f); err == nil {
			return id
		}
	}
	s.t.Fatalf("dawsos users add printed no id:\n%s", out)
	return uuid.Nil
}

// mintToken is an hour-long access token for a user, signed with the
// servers' secret.
func mintToken(t *testing.T, id uuid.UUID, role string) string {
	t.Helper()
	signer, err := ingress.NewHS256Signer([]byte(e2eJWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := signer.Mint(id, role, uuid.Nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (s *server) start() {
	s.t.Helper()
	s.ensureAdmin()
	s.logBuf = &syncBuffer{}
	args := s.cmdArgs
	if len(args) == 0 {
		args = []string{"serve"}
	}
	s.cmd = exec.Command(dawsosBinary(s.t), args...)
	s.cmd.Env = s.env
	s.cmd.Dir = s.dataDir[:len(s.dataDir)-len("/var")]
	s.cmd.Stdout = s.logBuf
	s.cmd.Stderr = s.logBuf
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(s.stop)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if s.cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("server not ready within 60s; log:\n%s", s.logBuf.String())
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

func (s *server) stop() {
	defer http.DefaultClient.CloseIdleConnections()
	if s.cmd == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		s.kill()
	}
}

func (s *server) setFault(mode string) {
	s.t.Helper()
	if err := os.WriteFile(s.fault, []byte(mode), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *server) do(method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	code, out, err := s.request(method, path, body)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return code, out
}

// request sends one JSON request; a transport error is returned, not
// fatal, because some tests expect the server to be gone.
func (s *server) request(method, path string, body any) (int, map[string]any, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"_raw": string(raw)}
	}
	return resp.StatusCode, out, nil
}

func (s *server) submit(pattern string, inputs map[string]any) string {
	s.t.Helper()
	code, body := s.do("POST", "/v1/runs", map[string]any{"pattern": pattern, "inputs": inputs})
	if code != http.StatusAccepted {
		s.t.Fatalf("submit %s: %d %v", pattern, code, body)
	}
	return body["run_id"].(string)
}

// waitRun polls until the run is no longer running.
func (s *server) waitRun(id string, within time.Duration) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		code, body := s.do("GET", "/v1/runs/"+id, nil)
		if code == 200 && body["status"] != "running" {
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, body := s.do("GET", "/v1/runs/"+id, nil)
	steps, _ := json.MarshalIndent(body["steps"], "", " ")
	log := s.logBuf.String()
	if len(log) > 4000 {
		log = log[len(log)-4000:]
	}
	s.t.Fatalf("run %s did not end within %s; steps:\n%s\n%s\nserver log (end):\n%s", id, within, steps, s.consumerReport(), log)
	return nil
}

func TestE2ESubmitStreamFinish(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.start()
	id := s.submit("e2e_one", map[string]any{"v": 42})
	// The stream ends after run.completed; the deadline only turns a stream
	// that never ends into a failure that shows what it sent.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/v1/runs/"+id+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	var types []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			types = append(types, ev)
		}
	}
	want := "run.accepted step.dispatched step.succeeded step.dispatched step.succeeded run.completed"
	if ctx.Err() != nil {
		t.Fatalf("event stream of run %s did not end within 60s; events so far %q, want %q", id, strings.Join(types, " "), want)
	}
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("events of run %s: %q; want %q", id, got, want)
	}
	body := s.waitRun(id, 10*time.Second)
	outs := body["outputs"].(map[string]any)
	if body["status"] != "succeeded" || outs["b"].(map[string]any)["value"].(float64) != 42 {
		t.Fatalf("run %v", body)
	}
}
