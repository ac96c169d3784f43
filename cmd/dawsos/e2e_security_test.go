package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/dawsos/dawsos/bus"
)

// TestE2ESecretsStayOutOfLogsAndRuns runs a whole session against the
// built binary at debug log level: logins over the API and with `dawsos
// login`, a wrong password, refreshes, an API key, runs submitted and
// followed (HTTP, SSE, the CLI and an outside NATS subscriber), logout.
// Then it searches everything the server wrote (its log, every run
// document, and the rows of the runs, their steps and events, dead
// letters and the audit log) for the JWT secret, the passwords, the NATS
// passwords, a provider key and every token and key issued, and finds
// none of them.
func TestE2ESecretsStayOutOfLogsAndRuns(t *testing.T) {
	t.Parallel()
	natsPort := freePort(t)
	providerKey := "provider-key-" + uuid.NewString()
	s := newServer(t, "DAWSOS_LOG_LEVEL=debug", fmt.Sprintf("DAWSOS_NATS_LISTEN=127.0.0.1:%d", natsPort),
		"DAWSOS_PROVIDERS_FMP_KEY="+providerKey)
	s.natsURL = fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	dbURL := envValue(s.env, "DAWSOS_DATABASE_URL")
	email, password := "analyst@e2e.example", "analyst-password-"+uuid.NewString()
	insertUser(t, dbURL, email, password, "USER")
	s.start()
	secrets := map[string]string{
		"jwt secret": e2eJWTSecret, "password": password, "admin token": s.token, "provider key": providerKey,
		"nats orchestrator password": e2eOrchestratorNATSPW, "nats worker password": e2eWorkerNATSPW, "nats subscriber password": e2eSubscriberNATSPW,
	}
	var runs []string

	// The API: a wrong password, a login, a refresh, an API key.
	wrong := "wrong-password-" + uuid.NewString()
	secrets["wrong password"] = wrong
	if code, _ := s.as("", "POST", "/v1/auth/login", map[string]any{"email": email, "password": wrong}); code != http.StatusUnauthorized {
		t.Fatalf("login with a wrong password: %d", code)
	}
	code, tok := s.as("", "POST", "/v1/auth/login", map[string]any{"email": email, "password": password})
	if code != http.StatusOK {
		t.Fatalf("login: %d %v", code, tok)
	}
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)
	secrets["access token"], secrets["refresh token"] = access, refresh
	code, tok = s.as("", "POST", "/v1/auth/refresh", map[string]any{"refresh_token": refresh})
	if code != http.StatusOK {
		t.Fatalf("refresh: %d %v", code, tok)
	}
	access, refresh = tok["access_token"].(string), tok["refresh_token"].(string)
	secrets["refreshed access token"], secrets["second refresh token"] = access, refresh
	code, key := s.as(access, "POST", "/v1/auth/keys", map[string]any{"name": "e2e"})
	if code != http.StatusCreated {
		t.Fatalf("create key: %d %v", code, key)
	}
	secrets["api key"] = key["key"].(string)

	// An outside subscriber follows the runs.
	nc, err := nats.Connect(s.natsURL, nats.UserInfo(bus.AccountSubscriber, e2eSubscriberNATSPW))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	events := make(chan *nats.Msg, 256)
	if _, err := nc.ChanSubscribe("dawsos.run.>", events); err != nil {
		t.Fatal(err)
	}

	// Runs with the token, with the key, and followed over SSE.
	for _, cred := range []string{access, secrets["api key"]} {
		code, body := s.as(cred, "POST", "/v1/runs?wait=30s", map[string]any{"pattern": "e2e_one", "inputs": map[string]any{"v": 7},
			"idempotency_key": "idem-" + uuid.NewString()})
		if code != http.StatusOK || body["status"] != "succeeded" {
			t.Fatalf("run with a credential: %d %v", code, body)
		}
		runs = append(runs, body["run_id"].(string))
	}

	// The CLI: log in from a prompt on standard input, run and follow,
	// log out.
	creds := filepath.Join(t.TempDir(), "credentials.json")
	cli := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(dawsosBinary(t), append(args, "--server", s.base)...)
		cmd.Env = append(os.Environ(), "DAWSOS_CREDENTIALS_FILE="+creds, "DAWSOS_TOKEN=")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("dawsos %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := cli(email+"\n"+password+"\n", "login")
	if !strings.Contains(out, "logged in") {
		t.Fatalf("dawsos login: %s", out)
	}
	if st, err := os.Stat(creds); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stored login %s: %v, mode %v; want 0600", creds, err, st.Mode())
	}
	stored, err := loadCredentials(creds)
	if err != nil {
		t.Fatal(err)
	}
	l := stored.Servers[s.base]
	secrets["cli access token"], secrets["cli refresh token"] = l.AccessToken, l.RefreshToken
	out += cli("", "run", "e2e_one", "--input", "v=9", "--follow")
	if !strings.Contains(out, "succeeded") {
		t.Fatalf("dawsos run --follow with the stored login: %s", out)
	}
	out += cli("", "logout")
	if code, _ := s.as(l.AccessToken, "GET", "/v1/auth/me", nil); code != http.StatusUnauthorized {
		t.Errorf("the CLI's token after dawsos logout: %d, want 401", code)
	}
	if code, _ := s.as(access, "POST", "/v1/auth/logout", map[string]any{"refresh_token": refresh}); code != http.StatusNoContent {
		t.Errorf("logout: %d", code)
	}

	// Everything the server wrote.
	code, list := s.as("", "GET", "/v1/runs?limit=100", nil)
	if code != http.StatusOK {
		t.Fatalf("list runs: %d", code)
	}
	var haystack strings.Builder
	for _, r := range list["runs"].([]any) {
		id := r.(map[string]any)["run_id"].(string)
		_, doc := s.as("", "GET", "/v1/runs/"+id, nil)
		fmt.Fprintf(&haystack, "%v\n", doc)
	}
	if n := len(list["runs"].([]any)); n != 3 {
		t.Errorf("%d runs listed; want the 3 of the test", n)
	}
	haystack.WriteString(dumpTables(t, dbURL, "runs", "run_steps", "run_events", "dead_letters", "audit_log", "replays"))
	haystack.WriteString(s.logBuf.String())
	haystack.WriteString(out)
	drain := time.After(2 * time.Second)
collect:
	for {
		select {
		case m := <-events:
			haystack.Write(m.Data)
		case <-drain:
			break collect
		}
	}
	if !strings.Contains(s.logBuf.String(), "level=DEBUG") {
		t.Fatalf("the server did not log at debug level; the search proves little:\n%s", s.logBuf.String())
	}
	text := haystack.String()
	if !strings.Contains(text, email) || !strings.Contains(text, runs[0]) {
		t.Fatalf("the search does not see the user's email and runs; it proves nothing")
	}
	for what, secret := range secrets {
		if secret == "" {
			t.Fatalf("%s is empty; the test lost it", what)
		}
		if strings.Contains(text, secret) {
			i := strings.Index(text, secret)
			t.Errorf("the %s appears in what the server wrote: ...%s...", what, text[max(0, i-200):min(len(text), i+len(secret)+50)])
		}
	}
}

// as sends one JSON request with a bearer credential ("" for the test's
// ADMIN).
func (s *server) as(cred, method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	saved := s.token
	if cred != "" {
		s.token = cred
	}
	defer func() { s.token = saved }()
	return s.do(method, path, body)
}

// dumpTables is every row of the tables as text.
func dumpTables(t *testing.T, dbURL string, tables ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var b strings.Builder
	for _, table := range tables {
		rows, err := c.Query(ctx, `SELECT row_to_json(x)::text FROM `+table+` x`)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			b.WriteString(line)
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}
