package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage/pgtest"
)

// TestE2EStartupFailsFast checks that serve refuses to start, quickly,
// with a non-zero exit code and a message that says what is wrong, for
// each thing that can be wrong at start-up.
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

	cases := []struct {
		name     string
		files    map[string]string // written to a temporary directory
		args     []string
		env      []string
		wantCode int
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
			cmd := exec.CommandContext(ctx, bin, append([]string{"serve"}, tc.args...)...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "DAWSOS_DATA_DIR="+filepath.Join(dir, "var"), "DAWSOS_LOG_LEVEL=error",
				"DAWSOS_DATABASE_URL="+pgtest.URL(t), "DAWSOS_SERVER_LISTEN=127.0.0.1:0")
			cmd.Env = append(cmd.Env, tc.env...)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("serve did not fail within 60s:\n%s", out)
			}
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != tc.wantCode {
				t.Fatalf("exit: %v; want code %d\n%s", err, tc.wantCode, out)
			}
			last := lastLine(string(out))
			if !strings.HasPrefix(last, "dawsos: ") || !strings.Contains(string(out), tc.want) {
				t.Fatalf("output does not end with one dawsos: line naming %q:\n%s", tc.want, out)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "dawsos: ") {
			return lines[i]
		}
	}
	return lines[len(lines)-1]
}
