package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/testcaps"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// TestE2EStartupFailsFast checks that serve and worker refuse to start,
// quickly, with a non-zero exit code and a message that says what is
// wrong, for each thing that can be wrong at start-up.
func TestE2EStartupFailsFast(t *testing.T) {
	t.Parallel()
	bin := dawsosBinary(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })

	// A database whose schema conflicts with the first migration.
	conflictURL := pgtest.EmptyURL(t)
	c, err := pgx.Connect(context.Background(), conflictURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(context.Background(), `CREATE TABLE runs (x int)`); err != nil {
		t.Fatal(err)
	}
	c.Close(context.Background())

	// A worker gets as far as choosing its agents only when nats.url names
	// a NATS server with JetStream: this one runs in the test process.
	natsDir, err := os.MkdirTemp("", "dawsos-startup-nats-")
	if err != nil {
		t.Fatal(err)
	}
	nb, err := bus.Start(context.Background(), bus.Config{Listen: "127.0.0.1:0", StoreDir: natsDir,
		Accounts: []bus.Account{{Role: bus.AccountWorker, Password: e2eWorkerNATSPW}}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nb.Close()
		os.RemoveAll(natsDir)
	})
	workerEnv := []string{"DAWSOS_NATS_URL=" + nb.ClientURL(), "DAWSOS_NATS_USER=" + bus.AccountWorker, "DAWSOS_NATS_PASSWORD=" + e2eWorkerNATSPW}
	unknownAgent := unknownAgentMessage("no_such_agent")

	cases := []struct {
		name     string
		cmd      string            // serve when empty
		files    map[string]string // written to a temporary directory
		args     []string
		env      []string
		wantCode int // any non-zero code when 0
		want     string
	}{
		{name: "unknown config key", files: map[string]string{"c.yaml": "colour: blue\n"}, args: []string{"--config", "c.yaml"},
			wantCode: 2, want: "colour"},
		{name: "invalid config value", env: []string{"DAWSOS_BREAKERS_FAILURES=0"}, wantCode: 2, want: "breakers.failures"},
		{name: "unknown capability in config", files: map[string]string{"c.yaml": "capabilities:\n  portfolio.sector_alocation:\n    timeout: 5s\n"},
			args: []string{"--config", "c.yaml"}, wantCode: 2, want: "capabilities.portfolio.sector_alocation"},
		{name: "unreachable database", env: []string{"DAWSOS_DATABASE_URL=postgres://app@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"},
			wantCode: 1, want: "database unreachable"},
		{name: "migrations cannot be applied", env: []string{"DAWSOS_DATABASE_URL=" + conflictURL}, wantCode: 1, want: "00001_engine.sql"},
		{name: "pattern does not validate", files: map[string]string{"p/bad.json": `{"id": "bad", "steps": [{"capability": "no.such", "as": "a", "args": {}}], "outputs": ["a"]}`},
			env: []string{"DAWSOS_PATTERNS_DIR=p"}, wantCode: 1, want: "unknown_capability"},
		{name: "port in use", env: []string{"DAWSOS_SERVER_LISTEN=" + busy.Addr().String()}, wantCode: 1, want: "already in use"},
		{name: "serve with an unknown agent", args: []string{"--agents", "no_such_agent"}, wantCode: 2, want: unknownAgent},
		{name: "worker with an unknown agent", cmd: "worker", args: []string{"--agents", "no_such_agent"}, env: workerEnv, wantCode: 2, want: unknownAgent},
		{name: "serve without a JWT secret", env: []string{"DAWSOS_AUTH_JWT_SECRET="}, wantCode: 2, want: "DAWSOS_AUTH_JWT_SECRET"},
		{name: "JWT secret too short", env: []string{"DAWSOS_AUTH_JWT_SECRET=short"}, wantCode: 2, want: "auth.jwt_secret"},
		{name: "JWT secret in the configuration file", files: map[string]string{"c.yaml": "auth:\n  jwt_secret: in-the-file\n"},
			args: []string{"--config", "c.yaml"}, wantCode: 2, want: "DAWSOS_AUTH_JWT_SECRET"},
		{name: "nats listener without accounts", env: []string{"DAWSOS_NATS_LISTEN=127.0.0.1:0"}, wantCode: 2, want: "nats.listen"},
		{name: "worker with a wrong nats password", cmd: "worker", args: []string{"--agents", "test"},
			env: append(append([]string{}, workerEnv...), "DAWSOS_NATS_PASSWORD=wrong"), wantCode: 1, want: "uthorization"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, err := os.MkdirTemp("", "dawsos-startup-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			for name, body := range tc.files {
				p := filepath.Join(dir, name)
				_ = os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			name := tc.cmd
			if name == "" {
				name = "serve"
			}
			cmd := exec.CommandContext(ctx, bin, append([]string{name}, tc.args...)...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "DAWSOS_DATA_DIR="+filepath.Join(dir, "var"), "DAWSOS_LOG_LEVEL=error",
				"DAWSOS_DATABASE_URL="+pgtest.URL(t), "DAWSOS_SERVER_LISTEN=127.0.0.1:0", "DAWSOS_AUTH_JWT_SECRET="+e2eJWTSecret)
			cmd.Env = append(cmd.Env, tc.env...)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("dawsos %s %s did not fail within 60s:\n%s", name, strings.Join(tc.args, " "), out)
			}
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() == 0 || (tc.wantCode != 0 && ee.ExitCode() != tc.wantCode) {
				want := "a non-zero code"
				if tc.wantCode != 0 {
					want = fmt.Sprintf("code %d", tc.wantCode)
				}
				t.Fatalf("dawsos %s %s: exit %v; want %s\n%s", name, strings.Join(tc.args, " "), err, want, out)
			}
			if n := countPrefixed(string(out), "dawsos: "); n != 1 {
				t.Fatalf("dawsos %s %s: output has %d dawsos: lines; want one naming %q:\n%s", name, strings.Join(tc.args, " "), n, tc.want, out)
			}
			if msg := errorText(string(out)); !strings.Contains(msg, tc.want) {
				t.Fatalf("dawsos %s %s: output does not end with one dawsos: error naming %q:\n%s", name, strings.Join(tc.args, " "), tc.want, out)
			}
		})
	}
}

// unknownAgentMessage is what orchestrator.Handlers says of an --agents
// name the binary does not host. The known agents are those of agentList,
// the one list, plus the test agent the e2e binary is built with.
func unknownAgentMessage(name string) string {
	reg := agents.NewRegistry(agents.Options{})
	for _, c := range agentList {
		reg.Add(c(agents.Deps{}))
	}
	reg.Add(testcaps.New("")(agents.Deps{}))
	return fmt.Sprintf("unknown agent %q (known: %s)", name, strings.Join(reg.Agents(), ", "))
}

// errorText is the error a failed command printed: its dawsos: line and
// any detail lines after it (a pattern's problems), without the log lines
// before it; "" when there is no dawsos: line.
func errorText(out string) string {
	i := strings.LastIndex("\n"+out, "\ndawsos: ")
	if i < 0 {
		return ""
	}
	return out[i:]
}

// countPrefixed counts the lines of s that start with prefix.
func countPrefixed(s, prefix string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}
