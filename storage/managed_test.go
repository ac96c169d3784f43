package storage_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
)

// managedDir makes a directory for a managed server's files. Not
// t.TempDir(): as root its 0700 parent would shut the server user out.
func managedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dawsos-managed-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func startManaged(t *testing.T, cfg storage.ManagedConfig) *storage.Managed {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := storage.StartManaged(ctx, cfg)
	if err != nil {
		t.Fatalf("StartManaged(%s): %v", cfg.DataDir, err)
	}
	t.Cleanup(func() { _ = m.Stop(context.Background()) })
	return m
}

func exec1(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func count(t *testing.T, url, sql string) int {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestManagedLifecycle walks one data directory through the restarts a
// `dawsos serve` sees: first start (initdb), clean stop and start (same
// port, data kept), a second server on the same directory (refused), the
// remembered port taken by someone else (new port), kill -9 of the server
// (stale postmaster.pid, crash recovery, committed data kept), a stale
// postmaster.pid whose PID now belongs to another live process, and a
// server that exits during start-up.
func TestManagedLifecycle(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(managedDir(t), "pg")
	// fsync on: this test checks that a commit survives kill -9.
	cfg := storage.ManagedConfig{DataDir: dataDir, Fsync: true}

	m1 := startManaged(t, cfg)
	if !strings.HasPrefix(m1.URL(), "postgres://app@127.0.0.1:"+strconv.Itoa(m1.Port())+"/dawsos?") {
		t.Errorf("URL() = %q; want postgres://app@127.0.0.1:%d/dawsos?sslmode=disable", m1.URL(), m1.Port())
	}
	exec1(t, m1.URL(), "CREATE TABLE kept (x int)")
	exec1(t, m1.URL(), "INSERT INTO kept VALUES (1)")
	if os.Geteuid() == 0 {
		fi, err := os.Stat(dataDir)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid == 0 {
			t.Errorf("data directory %s is owned by root; want the unprivileged server user", dataDir)
		}
	}

	// A second server on the same directory while the first runs.
	_, err := storage.StartManaged(context.Background(), storage.WithBusyWait(storage.ManagedConfig{DataDir: dataDir, Logger: slog.New(slog.DiscardHandler)}, 300*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "another PostgreSQL server") {
		t.Errorf("StartManaged on a data directory in use: %v; want an error saying another server runs there", err)
	}

	if err := m1.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "dawsos.port"))
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(m1.Port()) {
		t.Errorf("remembered port file = %q, %v; want %d", b, err, m1.Port())
	}

	m2 := startManaged(t, cfg)
	if m2.Port() != m1.Port() {
		t.Errorf("port after restart = %d; want the remembered %d", m2.Port(), m1.Port())
	}
	if n := count(t, m2.URL(), "SELECT count(*) FROM kept"); n != 1 {
		t.Errorf("rows after clean restart = %d; want 1", n)
	}
	if err := m2.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The remembered port is taken: a new one is picked and remembered.
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(m1.Port())))
	if err != nil {
		t.Fatal(err)
	}
	m3 := startManaged(t, cfg)
	_ = l.Close()
	if m3.Port() == m1.Port() {
		t.Errorf("port with the remembered one taken = %d; want another", m3.Port())
	}
	if b, _ := os.ReadFile(filepath.Join(dataDir, "dawsos.port")); strings.TrimSpace(string(b)) != strconv.Itoa(m3.Port()) {
		t.Errorf("port file after picking a new port = %q; want %d", b, m3.Port())
	}
	exec1(t, m3.URL(), "INSERT INTO kept VALUES (2)") // committed with fsync on

	// kill -9 the postmaster: its postmaster.pid stays behind.
	if err := syscall.Kill(m3.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-m3.Done()
	if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); err != nil {
		t.Fatalf("postmaster.pid after kill -9: %v; want it left behind", err)
	}
	m4 := startManaged(t, cfg)
	if n := count(t, m4.URL(), "SELECT count(*) FROM kept"); n != 2 {
		t.Errorf("rows after kill -9 and restart = %d; want 2", n)
	}
	if err := m4.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The same directory serves the remaining cases, which saves an
	// initdb each on this small machine.
	staleReusedPID(t, cfg, m4.Port())
	earlyExit(t, cfg)
}

// staleReusedPID puts the PID of a live process that is not PostgreSQL, run
// by the server user, into postmaster.pid of a stopped server: after a
// container restart a killed server's PID is often reused, and PostgreSQL
// alone would refuse to start, taking it for a running server.
func staleReusedPID(t *testing.T, cfg storage.ManagedConfig, port int) {
	t.Helper()
	dataDir := cfg.DataDir
	if pidFile, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid")); err == nil {
		t.Fatalf("postmaster.pid left after a clean stop: %q", pidFile)
	}

	sleep := exec.Command("sleep", "60")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			t.Skip("no unprivileged user to run the impostor process as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		sleep.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}}
	}
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleep.Process.Kill(); _ = sleep.Wait() }()
	// The layout of postmaster.pid (PostgreSQL 10 and later): PID, data
	// directory, start time, port, socket directory, listen address,
	// shared memory key and ID, status.
	stale := strings.Join([]string{strconv.Itoa(sleep.Process.Pid), dataDir, "1700000000", strconv.Itoa(port), "", "127.0.0.1", "  5432001     32768", "ready   "}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dataDir, "postmaster.pid"), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	m := startManaged(t, cfg)
	if n := count(t, m.URL(), "SELECT count(*) FROM kept"); n != 2 {
		t.Errorf("rows after a start over a reused stale PID = %d; want 2", n)
	}
	if err := m.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestManagedNoBinaries(t *testing.T) {
	t.Parallel()
	empty := managedDir(t)
	cfg := storage.WithoutBinarySearch(storage.ManagedConfig{DataDir: filepath.Join(empty, "pg"), BinDir: empty})
	_, err := storage.StartManaged(context.Background(), cfg)
	if err == nil {
		t.Fatal("StartManaged with no binaries anywhere succeeded")
	}
	for _, want := range []string{"no PostgreSQL server binaries", empty, "apt-get install postgresql", "DAWSOS_DATABASE_URL", "database.url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestManagedDataDirNotACluster(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(managedDir(t), "pg")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := storage.StartManaged(context.Background(), storage.ManagedConfig{DataDir: dataDir, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("StartManaged on a non-empty non-cluster directory: %v; want an error saying it is not empty", err)
	}
	if b, err := os.ReadFile(filepath.Join(dataDir, "notes.txt")); err != nil || string(b) != "mine" {
		t.Errorf("user file after the refusal = %q, %v; want it untouched", b, err)
	}
}

// earlyExit makes the server fail at start (a bad setting) and checks that
// the error carries its log.
func earlyExit(t *testing.T, cfg storage.ManagedConfig) {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Settings = map[string]string{"no_such_setting": "1"}
	_, err := storage.StartManaged(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "no_such_setting") || !strings.Contains(err.Error(), "exited during start-up") {
		t.Errorf("StartManaged with an unknown setting: %v; want an error quoting the server log", err)
	}
}

// TestManagedSupervisorRestartsTheServer kills the postmaster twice (kill
// -9, then a fast shutdown as an operator's pg_ctl stop would do): each
// time the supervisor reports the exit, starts the server again on the
// same port, and committed data is still there; Stop ends the
// supervision without a restart.
func TestManagedSupervisorRestartsTheServer(t *testing.T) {
	t.Parallel()
	m := startManaged(t, storage.ManagedConfig{DataDir: filepath.Join(managedDir(t), "pg"), Fsync: true})
	exec1(t, m.URL(), "CREATE TABLE kept (x int)")
	exec1(t, m.URL(), "INSERT INTO kept VALUES (1)")
	port := m.Port()
	events := make(chan bool, 10)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- m.Supervise(ctx, 5, func(up bool, _ error) { events <- up }) }()
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT} {
		pid := m.PID()
		if err := syscall.Kill(pid, sig); err != nil {
			t.Fatal(err)
		}
		for _, want := range []bool{false, true} {
			select {
			case up := <-events:
				if up != want {
					t.Fatalf("after %v: event up=%v; want %v", sig, up, want)
				}
			case <-time.After(90 * time.Second):
				t.Fatalf("after %v of pid %d: no event up=%v from the supervisor", sig, pid, want)
			}
		}
		if m.PID() == pid || m.Port() != port {
			t.Fatalf("after %v: pid %d (was %d), port %d (was %d); want a new process on the same port", sig, m.PID(), pid, m.Port(), port)
		}
		if n := count(t, m.URL(), "SELECT count(*) FROM kept"); n != 1 {
			t.Fatalf("after %v: %d rows kept; want the committed one", sig, n)
		}
	}
	if err := m.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Supervise after Stop: %v; want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Supervise did not return after Stop")
	}
	select {
	case up := <-events:
		t.Fatalf("event up=%v after Stop; a stopped server is not restarted", up)
	default:
	}
}
