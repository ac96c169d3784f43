// Package pgtest gives every test its own PostgreSQL database, cloned from a
// template migrated once per test binary. It uses the server named by
// DAWSOS_TEST_DATABASE_URL when set, else starts one private PostgreSQL
// (storage.StartManaged, fsync off) per test binary on first use.
//
// Use it from TestMain, one of:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) } // + goleak
//
// and in a test:
//
//	db := pgtest.NewDB(t) // *storage.DB on a fresh, migrated database
//
// Each test binary's tests may run in parallel; each NewDB database is
// dropped when its test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/dawsos/dawsos/storage"
)

// EnvURL names an existing server to use instead of a private one. Its
// user must be allowed to create databases.
const EnvURL = "DAWSOS_TEST_DATABASE_URL"

// TemplateName is the migrated template on the private server; on a server
// from EnvURL a random suffix is added so that test binaries running at
// the same time do not share (and drop) one template.
const TemplateName = "dawsos_template"

// server is the per-binary state, created on first use.
type server struct {
	managed  *storage.Managed // nil when EnvURL is used
	tempDir  string           // removed at the end; "" when EnvURL is used
	url      string           // maintenance database URL
	admin    *pgxpool.Pool    // for CREATE and DROP DATABASE
	template string
}

var (
	mu       sync.Mutex // guards srv, startErr, closed
	srv      *server
	startErr error
	closed   bool

	// createMu serialises CREATE DATABASE ... TEMPLATE: PostgreSQL
	// rejects a copy while another session uses the template.
	createMu sync.Mutex
)

// Main runs the tests of a package and exits with their code, stopping the
// private server (if one was started) and removing its files first. Call it
// from TestMain.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// MainWithLeakCheck is Main plus goleak: when the tests pass, it fails the
// binary if goroutines remain after the server's pools are closed. Leak
// options (goleak.IgnoreTopFunction, ...) are passed on.
func MainWithLeakCheck(m *testing.M, opts ...goleak.Option) {
	code := Run(m)
	if code == 0 {
		if err := goleak.Find(opts...); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Run runs the tests and tears down the harness, returning the tests' exit
// code; for a TestMain that does more after the tests. It leaves no
// goroutines of its own behind.
func Run(m *testing.M) int {
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: shut down: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func shutdown() error {
	mu.Lock()
	defer mu.Unlock()
	closed = true
	if srv == nil {
		return nil
	}
	s := srv
	srv = nil
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var errs []error
	if s.managed == nil {
		// A shared server: remove what this binary created.
		if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{s.template}.Sanitize()+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("drop template %s: %w", s.template, err))
		}
	}
	s.admin.Close()
	if s.managed != nil {
		if err := s.managed.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.tempDir != "" {
		if err := os.RemoveAll(s.tempDir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", s.tempDir, err))
		}
	}
	return errors.Join(errs...)
}

// get returns the server, starting it and migrating the template on first
// use. A start-up failure is remembered, so every later test fails fast
// with the same message.
func get() (*server, error) {
	mu.Lock()
	defer mu.Unlock()
	if srv != nil || startErr != nil {
		return srv, startErr
	}
	if closed {
		return nil, errors.New("pgtest: used after Main returned")
	}
	srv, startErr = start()
	return srv, startErr
}

func start() (_ *server, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Not the named result: an error return sets that to nil before the
	// cleanup below reads it.
	s := &server{template: TemplateName}
	defer func() {
		if err != nil {
			if s.admin != nil {
				s.admin.Close()
			}
			if s.managed != nil {
				_ = s.managed.Stop(context.Background())
			}
			if s.tempDir != "" {
				_ = os.RemoveAll(s.tempDir)
			}
		}
	}()
	if u := os.Getenv(EnvURL); u != "" {
		s.url = u
		s.template = TemplateName + "_" + randomHex(4)
	} else {
		removeAbandoned()
		// Not t.TempDir(): as root its 0700 parent shuts out the server
		// user. StartManaged makes this directory reachable for it.
		s.tempDir, err = os.MkdirTemp("", tempPrefix)
		if err != nil {
			return nil, fmt.Errorf("pgtest: create temp dir: %w", err)
		}
		if err := os.Chmod(s.tempDir, 0o755); err != nil {
			return nil, fmt.Errorf("pgtest: chmod %s: %w", s.tempDir, err)
		}
		s.managed, err = storage.StartManaged(ctx, storage.ManagedConfig{
			DataDir: filepath.Join(s.tempDir, "pgdata"),
			// Off for speed; DAWSOS_PGTEST_FSYNC=on gives benchmarks the
			// default durability their peers are measured with.
			Fsync:  os.Getenv("DAWSOS_PGTEST_FSYNC") == "on",
			Logger: slog.New(slog.DiscardHandler),
			Settings: map[string]string{
				// Enough for many parallel tests with 8-connection pools.
				"max_connections": "300",
			},
		})
		if err != nil {
			return nil, fmt.Errorf("pgtest: start private PostgreSQL (or set %s): %w", EnvURL, err)
		}
		s.url = s.managed.ServerURL()
	}
	pc, err := pgxpool.ParseConfig(s.url)
	if err != nil {
		return nil, fmt.Errorf("pgtest: parse server url: %w", err)
	}
	pc.MaxConns = 4
	s.admin, err = pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("pgtest: connect to server: %w", err)
	}
	if err := s.admin.Ping(ctx); err != nil {
		return nil, fmt.Errorf("pgtest: connect to server: %w", err)
	}
	if err := s.migrateTemplate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// migrateTemplate creates the template database and applies every migration
// to it; the pool on it is closed before any copy is made.
func (s *server) migrateTemplate(ctx context.Context) error {
	ident := pgx.Identifier{s.template}.Sanitize()
	if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgtest: drop old template %s: %w", s.template, err)
	}
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return fmt.Errorf("pgtest: create template %s: %w", s.template, err)
	}
	db, err := storage.Open(ctx, storage.PoolConfig{URL: withDatabase(s.url, s.template), MaxConns: 2, AcquireTimeout: 30 * time.Second})
	if err != nil {
		return fmt.Errorf("pgtest: open template %s: %w", s.template, err)
	}
	defer db.Close()
	if _, err := storage.Migrate(ctx, db); err != nil {
		return fmt.Errorf("pgtest: migrate template %s: %w", s.template, err)
	}
	return nil
}

// ServerURL is the connection URL of the test server's maintenance
// database, starting the server if needed. It panics if the server cannot
// start, which fails the test that called it.
func ServerURL() string {
	s, err := get()
	if err != nil {
		panic(err)
	}
	return s.url
}

// TemplateDatabase is the name of the migrated template on the test server.
func TemplateDatabase(t testing.TB) string {
	t.Helper()
	s, err := get()
	if err != nil {
		t.Fatal(err)
	}
	return s.template
}

// NewDB creates a fresh database cloned from the migrated template and
// opens a pool on it (8 connections, 10 s acquire timeout). The pool is
// closed and the database dropped when the test ends.
func NewDB(t testing.TB) *storage.DB {
	t.Helper()
	u := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := storage.Open(ctx, storage.PoolConfig{URL: u, MaxConns: 8, AcquireTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("pgtest: open test database: %v", err)
	}
	// Cleanups run last-in first-out: the pool closes before URL's
	// cleanup drops the database.
	t.Cleanup(db.Close)
	return db
}

// URL creates a fresh database cloned from the migrated template and returns
// its connection URL without opening a pool, for tests that hand the URL
// to a dawsos process (DAWSOS_DATABASE_URL). The database is dropped when
// the test ends, ending any sessions still connected to it.
func URL(t testing.TB) string {
	t.Helper()
	s, err := get()
	if err != nil {
		t.Fatal(err)
	}
	name := "test_" + randomHex(8)
	if err := s.createFromTemplate(name); err != nil {
		t.Fatal(err)
	}
	s.dropAtCleanup(t, name)
	return withDatabase(s.url, name)
}

// EmptyURL creates a fresh database with no migration applied (a copy of
// template1) and returns its URL, for tests of migrating itself (storage,
// `dawsos migrate`). It is dropped when the test ends.
func EmptyURL(t testing.TB) string {
	t.Helper()
	s, err := get()
	if err != nil {
		t.Fatal(err)
	}
	name := "test_empty_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create empty database %s: %v", name, err)
	}
	s.dropAtCleanup(t, name)
	return withDatabase(s.url, name)
}

func (s *server) dropAtCleanup(t testing.TB, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop test database %s: %v", name, err)
		}
	})
}

func (s *server) createFromTemplate(name string) error {
	createMu.Lock()
	defer createMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{s.template}.Sanitize()
	for attempt := 1; ; attempt++ {
		_, err := s.admin.Exec(ctx, sql)
		if err == nil {
			return nil
		}
		// 55006 object_in_use: a session still on the template, such as
		// a dying one from the migration pool; it goes away shortly.
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55006" || attempt >= 50 {
			return fmt.Errorf("pgtest: create test database %s from %s: %w", name, s.template, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const tempPrefix = "dawsos-pgtest-"

// removeAbandoned deletes the directories of test binaries that were killed
// before they could clean up (go test -timeout, Ctrl-C): older than an hour
// and without a live server. Their servers stopped through the
// parent-death signal.
func removeAbandoned() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if err != nil || time.Since(fi.ModTime()) < time.Hour {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, "pgdata", "postmaster.pid")); err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && pid > 0 && !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
				continue
			}
		}
		_ = os.RemoveAll(dir)
	}
}

// withDatabase returns the connection string u with its database replaced;
// u is a postgres:// URL or a keyword/value string.
func withDatabase(u, db string) string {
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		pu, err := url.Parse(u)
		if err == nil {
			pu.Path = "/" + db
			pu.RawPath = ""
			return pu.String()
		}
	}
	// In keyword/value form a later keyword wins.
	return u + " dbname=" + db
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b)
}
