package storage

// The managed private PostgreSQL: `dawsos serve` without a database URL, and
// the test harness (storage/pgtest), run the machine's installed server
// binaries as a child process on a loopback port, with the data under the
// data directory. PostgreSQL refuses to run as root, so when started as root
// the server runs as an unprivileged user (postgres, else nobody).
//
// Layout, for a ManagedConfig.DataDir of VAR/postgres:
//
//	VAR/postgres/              the PostgreSQL data directory (PGDATA)
//	VAR/postgres/dawsos.port   the port picked on first start, reused later
//	VAR/postgres.log           the server's log (stdout and stderr)
//	VAR/postgres.init/         initdb's work directory, renamed into place

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ManagedConfig describes a managed private PostgreSQL.
type ManagedConfig struct {
	// DataDir is the PostgreSQL data directory; it is created and
	// initialised (initdb) on first start. Its parent holds the server log.
	DataDir string
	// BinDir holds initdb and postgres; empty means search for them
	// (pg_config --bindir, PATH, /usr/lib/postgresql/*/bin, newest first).
	BinDir string
	// Port is the loopback TCP port; 0 picks a free one on first start and
	// remembers it in the data directory, so a restart keeps its URL while
	// that port is free.
	Port int
	// User is the OS user the server runs as when this process is root
	// (PostgreSQL refuses to run as root); default "postgres" if that user
	// exists, else "nobody". Ignored when not root.
	User string
	// Database is the database the URL names; created on first start.
	// Default "dawsos".
	Database string
	// Fsync false turns off fsync, synchronous_commit and full_page_writes:
	// fast, and unsafe on power loss, so only tests use it.
	Fsync bool
	// Settings are extra server settings passed as -c name=value.
	Settings map[string]string
	// StartTimeout bounds the wait for the server to accept connections,
	// which includes crash recovery after a kill; default 2 minutes.
	StartTimeout time.Duration
	// Logger receives start and stop events; default slog.Default().
	Logger *slog.Logger

	// lookPath and systemGlob are the binary search, replaceable in tests
	// so that "nothing installed" can be simulated on a machine that has
	// PostgreSQL.
	lookPath   func(file string) (string, error)
	systemGlob string
	// busyWait bounds the wait for a live server on the data directory to
	// exit; default 15 seconds.
	busyWait time.Duration
}

// managedUser is the login role initdb creates; it is a superuser that
// authenticates with trust on loopback only.
const managedUser = "app"

// portFile remembers the auto-picked port inside the data directory.
const portFile = "dawsos.port"

// Managed is a running managed PostgreSQL server.
type Managed struct {
	cfg     ManagedConfig
	log     *slog.Logger
	binDir  string
	port    int
	logPath string
	cred    *syscall.Credential

	mu sync.Mutex
	// cur is the running server process: restarts replace it.
	cur      *life
	stopping bool
}

// life is one run of the server process.
type life struct {
	proc *os.Process
	// exited is closed when the process has exited; err is its wait
	// status, valid after that.
	exited chan struct{}
	err    error
}

func (m *Managed) current() *life {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur
}

// URL is the connection string of the managed database.
func (m *Managed) URL() string { return m.urlFor(m.cfg.Database) }

// ServerURL is the connection string of the server's maintenance database
// "postgres", for creating and dropping databases.
func (m *Managed) ServerURL() string { return m.urlFor("postgres") }

// Port is the TCP port the server listens on (127.0.0.1).
func (m *Managed) Port() int { return m.port }

// LogPath is the file that receives the server's output.
func (m *Managed) LogPath() string { return m.logPath }

// PID is the process ID of the postmaster.
func (m *Managed) PID() int { return m.current().proc.Pid }

// Done is closed when the current server process exits, expectedly or
// not.
func (m *Managed) Done() <-chan struct{} { return m.current().exited }

func (m *Managed) urlFor(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(managedUser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(m.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// StartManaged initialises the data directory if needed, starts the server
// and waits until it accepts connections and the configured database exists.
func StartManaged(ctx context.Context, cfg ManagedConfig) (*Managed, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("start managed postgres: no data directory configured")
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("start managed postgres: resolve data directory %s: %w", cfg.DataDir, err)
	}
	cfg.DataDir = dataDir
	if cfg.Database == "" {
		cfg.Database = "dawsos"
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	binDir, err := findServerBinaries(cfg)
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential(cfg.User)
	if err != nil {
		return nil, fmt.Errorf("start managed postgres in %s: %w", dataDir, err)
	}
	m := &Managed{
		cfg:     cfg,
		cred:    cred,
		log:     cfg.Logger.With("component", "managed_postgres", "data_dir", dataDir),
		binDir:  binDir,
		logPath: filepath.Join(filepath.Dir(dataDir), filepath.Base(dataDir)+".log"),
	}
	if err := prepareDirs(m.log, dataDir, cred); err != nil {
		return nil, fmt.Errorf("start managed postgres: prepare %s: %w", dataDir, err)
	}
	if err := m.initdb(ctx, cred); err != nil {
		return nil, err
	}
	if err := m.clearStalePID(ctx); err != nil {
		return nil, err
	}
	if err := m.startWithRetries(ctx, cred); err != nil {
		return nil, err
	}
	if err := m.ensureDatabase(ctx); err != nil {
		stopErr := m.Stop(context.WithoutCancel(ctx))
		return nil, errors.Join(err, stopErr)
	}
	m.log.Info("managed postgres ready", "port", m.port, "pid", m.PID(), "bin_dir", binDir)
	return m, nil
}

// Stop shuts the server down: SIGINT (fast shutdown: roll back open
// transactions, checkpoint, exit), then SIGKILL if it has not exited when ctx
// ends or after 30 seconds. It waits for the process to exit.
func (m *Managed) Stop(ctx context.Context) error {
	m.mu.Lock()
	m.stopping = true
	l := m.cur
	m.mu.Unlock()
	return m.stopLife(ctx, l)
}

// stopLife stops one run of the server (see Stop).
func (m *Managed) stopLife(ctx context.Context, l *life) error {
	select {
	case <-l.exited:
		return nil
	default:
	}
	if err := l.proc.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop managed postgres pid %d: %w", l.proc.Pid, err)
	}
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case <-l.exited:
		m.log.Info("managed postgres stopped", "pid", l.proc.Pid)
		return nil
	case <-ctx.Done():
	case <-timer.C:
	}
	m.log.Warn("managed postgres did not stop in time; killing it", "pid", l.proc.Pid)
	if err := l.proc.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill managed postgres pid %d: %w", l.proc.Pid, err)
	}
	<-l.exited
	return nil
}

// ErrManagedGaveUp means the managed server kept exiting and the
// supervisor stopped restarting it.
var ErrManagedGaveUp = errors.New("managed postgres keeps exiting")

// Supervise watches the server until ctx ends or Stop is called. When the
// server exits on its own (killed, crashed) it logs the exit at once and
// starts it again on the same port, waiting 250 ms, 500 ms, 1 s, ... between
// attempts, at most maxRestarts attempts in a row; onChange hears each
// exit (false) and each successful restart (true). It returns an error
// wrapping ErrManagedGaveUp when the attempts are spent, and nil when
// stopped.
func (m *Managed) Supervise(ctx context.Context, maxRestarts int, onChange func(up bool, err error)) error {
	for {
		l := m.current()
		select {
		case <-ctx.Done():
			return nil
		case <-l.exited:
		}
		m.mu.Lock()
		stopping := m.stopping
		m.mu.Unlock()
		if stopping {
			return nil
		}
		exitErr := fmt.Errorf("managed postgres pid %d exited (%v)", l.proc.Pid, l.err)
		m.log.Error("managed postgres exited; restarting it", "pid", l.proc.Pid, "status", fmt.Sprint(l.err))
		onChange(false, exitErr)
		// Same port: the pool's connection string names it.
		m.cfg.Port = m.port
		wait := 250 * time.Millisecond
		var err error
		for attempt := 1; attempt <= maxRestarts; attempt++ {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			wait *= 2
			if err = m.clearStalePID(ctx); err == nil {
				err = m.startWithRetries(ctx, m.cred)
			}
			if err == nil {
				break
			}
			m.log.Warn("restart managed postgres", "attempt", attempt, "err", err)
		}
		if err != nil {
			return fmt.Errorf("%w: %d restarts failed, last: %w", ErrManagedGaveUp, maxRestarts, err)
		}
		m.log.Info("managed postgres restarted", "port", m.port, "pid", m.PID())
		onChange(true, nil)
	}
}

// findServerBinaries returns a directory holding both initdb and postgres.
func findServerBinaries(cfg ManagedConfig) (string, error) {
	lookPath := cfg.lookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	glob := cfg.systemGlob
	if glob == "" {
		glob = "/usr/lib/postgresql/*/bin"
	}
	var looked []string
	try := func(dir string) bool {
		if dir == "" || slices.Contains(looked, dir) {
			return false
		}
		looked = append(looked, dir)
		return isExecutable(filepath.Join(dir, "postgres")) && isExecutable(filepath.Join(dir, "initdb"))
	}
	if cfg.BinDir != "" && try(cfg.BinDir) {
		return cfg.BinDir, nil
	}
	if pgConfig, err := lookPath("pg_config"); err == nil {
		out, err := exec.Command(pgConfig, "--bindir").Output()
		if dir := strings.TrimSpace(string(out)); err == nil && try(dir) {
			return dir, nil
		}
	}
	if p, err := lookPath("postgres"); err == nil && try(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob(glob)
	// Newest major version first: /usr/lib/postgresql/17/bin before 9.6.
	slices.SortFunc(dirs, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	for _, dir := range dirs {
		if try(dir) {
			return dir, nil
		}
	}
	where := "PATH, pg_config --bindir, " + glob
	if len(looked) > 0 {
		where = strings.Join(looked, ", ") + ", PATH"
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb, postgres) found (looked in %s): "+
		"install the postgresql package (Debian/Ubuntu: apt-get install postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql) "+
		"or set database.url / DAWSOS_DATABASE_URL to an existing server", where)
}

// compareVersions orders dotted version strings numerically ("9.6" < "15").
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return strings.Compare(a, b)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// serverCredential is the identity the server runs as: nil (this process's)
// unless this process is root.
func serverCredential(name string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var u *user.User
	var err error
	if name != "" {
		u, err = user.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("look up server user %q (PostgreSQL cannot run as root): %w", name, err)
		}
	} else {
		u, err = user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			return nil, fmt.Errorf("running as root and neither user postgres nor nobody exists; create one or set the managed postgres user: %w", err)
		}
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid %q of user %s: %w", u.Uid, u.Username, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid %q of user %s: %w", u.Gid, u.Username, err)
	}
	if uid == 0 {
		return nil, fmt.Errorf("server user %s is root; PostgreSQL refuses to run as root", u.Username)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// prepareDirs creates the data directory's parent and, when the server runs
// as another user, makes every ancestor traversable by it and gives it the
// data directory.
func prepareDirs(log *slog.Logger, dataDir string, cred *syscall.Credential) error {
	parent := filepath.Dir(dataDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	if cred == nil {
		return nil
	}
	// The server user needs search (x) permission on every ancestor. Only
	// the x bit for others is added, never read or write, and only where
	// it is missing; the change is logged because it is outside our tree.
	for dir := parent; ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 && !ownedBy(fi, cred) {
			mode := fi.Mode().Perm() | 0o001
			if err := os.Chmod(dir, mode); err != nil {
				return fmt.Errorf("make %s traversable for the server user: %w", dir, err)
			}
			log.Warn("added search permission for others so the unprivileged server user can reach its data", "dir", dir, "mode", fmt.Sprintf("%04o", mode))
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	fi, err := os.Stat(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // initdb creates it, already owned by the server user
	}
	if err != nil {
		return err
	}
	if ownedBy(fi, cred) {
		return nil
	}
	// An existing directory owned by someone else (made by a test harness,
	// or copied as root): hand it to the server user.
	return filepath.WalkDir(dataDir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(cred.Uid), int(cred.Gid))
	})
}

func ownedBy(fi fs.FileInfo, cred *syscall.Credential) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == cred.Uid
}

// initdb initialises the data directory once. It runs in a sibling work
// directory that is renamed into place, so a crash during initdb never
// leaves a half-initialised data directory behind.
func (m *Managed) initdb(ctx context.Context, cred *syscall.Credential) error {
	dataDir := m.cfg.DataDir
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err == nil {
		return nil
	}
	if entries, err := os.ReadDir(dataDir); err == nil && len(entries) > 0 {
		return fmt.Errorf("start managed postgres: data directory %s is not empty and holds no PostgreSQL cluster (no PG_VERSION); empty it or choose another data_dir", dataDir)
	}
	work := dataDir + ".init"
	if err := os.RemoveAll(work); err != nil {
		return fmt.Errorf("initdb: remove leftover %s: %w", work, err)
	}
	if err := os.Mkdir(work, 0o700); err != nil {
		return fmt.Errorf("initdb: create %s: %w", work, err)
	}
	if cred != nil {
		if err := os.Chown(work, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("initdb: give %s to the server user: %w", work, err)
		}
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, filepath.Join(m.binDir, "initdb"),
		"-D", work, "-U", managedUser, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Dir = "/" // the server user may not be able to enter our working directory
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		_ = os.RemoveAll(work)
		return fmt.Errorf("initdb %s: %w\n%s", dataDir, err, lastLines(out.Bytes(), 20))
	}
	// rename(2) replaces an empty directory, so a pre-created empty data
	// directory is fine.
	if err := os.Rename(work, dataDir); err != nil {
		return fmt.Errorf("initdb: move %s to %s: %w", work, dataDir, err)
	}
	m.log.Info("initialised postgres data directory", "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// clearStalePID handles a postmaster.pid left by a server that was killed.
// PostgreSQL itself ignores one whose process is gone, but after a container
// restart the recorded PID can belong to an unrelated live process, which it
// would take for a running server. A live postgres on this data directory is
// an error, unless it exits on its own within a few seconds (the server of a
// killed dawsos gets SIGINT through the parent-death signal).
func (m *Managed) clearStalePID(ctx context.Context) error {
	pidPath := filepath.Join(m.cfg.DataDir, "postmaster.pid")
	wait := m.cfg.busyWait
	if wait <= 0 {
		wait = 15 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		b, err := os.ReadFile(pidPath)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", pidPath, err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		pid, err := strconv.Atoi(strings.TrimSpace(first))
		if err != nil || pid <= 0 {
			m.log.Warn("removing unreadable postmaster.pid", "content", first)
			return removeIfExists(pidPath)
		}
		if !isPostgresProcess(pid) {
			m.log.Info("removing stale postmaster.pid of a server that is no longer running", "stale_pid", pid)
			// The server's own check would mostly do, but it takes a
			// reused PID of a live process of the server user for a
			// running server and refuses to start.
			return removeIfExists(pidPath)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("start managed postgres: another PostgreSQL server (pid %d) is running on data directory %s; stop it first", pid, m.cfg.DataDir)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for old postgres pid %d to exit: %w", pid, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// isPostgresProcess reports whether pid is alive and may be a postgres
// process. It errs on the side of "yes": removing the postmaster.pid of a
// live server would let a second one start on the same files. Only a dead
// process, a zombie, or one whose /proc name is not postgres counts as no.
func isPostgresProcess(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// A zombie has exited; it only waits for its parent to reap it.
		if _, rest, ok := strings.Cut(string(st), ") "); ok && strings.HasPrefix(rest, "Z") {
			return false
		}
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return true
	}
	return strings.TrimSpace(string(comm)) == "postgres"
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// startWithRetries starts the server, retrying the transient failures of a
// restart: an auto-picked port taken between the check and the bind, and the
// shared memory of a killed server whose children have not yet exited.
func (m *Managed) startWithRetries(ctx context.Context, cred *syscall.Credential) error {
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		m.port, err = m.choosePort(attempt > 0 && errors.Is(err, errPortInUse))
		if err != nil {
			return err
		}
		err = m.start(ctx, cred)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errPortInUse) && !errors.Is(err, errSharedMemoryInUse) {
			return err
		}
		if errors.Is(err, errPortInUse) && m.cfg.Port != 0 {
			return err
		}
		m.log.Info("retrying managed postgres start", "reason", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("start managed postgres: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return err
}

var (
	errPortInUse         = errors.New("port in use")
	errSharedMemoryInUse = errors.New("shared memory of an earlier server still in use")
)

// choosePort returns the configured port, else the remembered one if it is
// free, else a new free port, which it remembers.
func (m *Managed) choosePort(forceNew bool) (int, error) {
	if m.cfg.Port != 0 {
		return m.cfg.Port, nil
	}
	path := filepath.Join(m.cfg.DataDir, portFile)
	if !forceNew {
		if b, err := os.ReadFile(path); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 && p < 65536 && portFree(p) {
				return p, nil
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free loopback port: %w", err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	if err := os.WriteFile(path, []byte(strconv.Itoa(p)+"\n"), 0o644); err != nil {
		return 0, fmt.Errorf("remember port in %s: %w", path, err)
	}
	return p, nil
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// start runs postgres once and waits until it accepts connections.
func (m *Managed) start(ctx context.Context, cred *syscall.Credential) error {
	args := []string{"-D", m.cfg.DataDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port=" + strconv.Itoa(m.port),
		"-c", "unix_socket_directories=",
	}
	if !m.cfg.Fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	names := make([]string, 0, len(m.cfg.Settings))
	for k := range m.cfg.Settings {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		args = append(args, "-c", k+"="+m.cfg.Settings[k])
	}
	logFile, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open postgres log %s: %w", m.logPath, err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	logStart, _ := logFile.Seek(0, io.SeekEnd)

	cmd := exec.Command(filepath.Join(m.binDir, "postgres"), args...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		// Its own process group, so a Ctrl-C meant for dawsos does not
		// shut the database down under a draining server; dawsos stops
		// it last.
		Setpgid: true,
		// If dawsos dies (kill -9), the server shuts down too instead of
		// holding the data directory for the next start.
		Pdeathsig: syscall.SIGINT,
	}
	started := make(chan error, 1)
	l := &life{exited: make(chan struct{})}
	// The parent-death signal fires when the forking OS thread exits, not
	// the process, so the child is started from a locked thread that stays
	// alive, blocked in Wait, for exactly the life of the child.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(l.exited)
			return
		}
		l.proc = cmd.Process
		started <- nil
		l.err = cmd.Wait()
		close(l.exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres in %s: %w", m.cfg.DataDir, err)
	}
	m.mu.Lock()
	m.cur = l
	m.mu.Unlock()

	waitCtx, cancel := context.WithTimeout(ctx, m.cfg.StartTimeout)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(waitCtx, 2*time.Second)
		conn, err := pgx.Connect(cctx, m.ServerURL())
		ccancel()
		if err == nil {
			_ = conn.Close(context.WithoutCancel(ctx))
			return nil
		}
		select {
		case <-l.exited:
			tail := m.logSince(logStart)
			cause := fmt.Errorf("postgres exited during start-up (%v)", l.err)
			switch {
			case bytes.Contains(tail, []byte("Address already in use")) || bytes.Contains(tail, []byte("could not create any TCP/IP sockets")):
				cause = fmt.Errorf("%w: port %d: %w", errPortInUse, m.port, cause)
			case bytes.Contains(tail, []byte("pre-existing shared memory block")):
				cause = fmt.Errorf("%w: %w", errSharedMemoryInUse, cause)
			}
			return fmt.Errorf("start managed postgres in %s: %w; last lines of %s:\n%s", m.cfg.DataDir, cause, m.logPath, lastLines(tail, 20))
		case <-waitCtx.Done():
			_ = m.stopLife(context.WithoutCancel(ctx), l)
			return fmt.Errorf("start managed postgres in %s: not accepting connections on port %d after %s: %w; last lines of %s:\n%s",
				m.cfg.DataDir, m.port, m.cfg.StartTimeout, err, m.logPath, lastLines(m.logSince(logStart), 20))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logSince reads the server log from offset on (this start's output).
func (m *Managed) logSince(offset int64) []byte {
	f, err := os.Open(m.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	return b
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ensureDatabase creates the configured database if it does not exist yet
// (first start, or a crash between initdb and this step).
func (m *Managed) ensureDatabase(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, m.ServerURL())
	if err != nil {
		return fmt.Errorf("connect to managed postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(cctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", m.cfg.Database).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", m.cfg.Database, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(cctx, "CREATE DATABASE "+pgx.Identifier{m.cfg.Database}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", m.cfg.Database, err)
	}
	m.log.Info("created database", "database", m.cfg.Database)
	return nil
}
