// Package storage owns the one PostgreSQL pool of a DawsOS process, the
// migration runner, the managed private PostgreSQL, and the queries of every
// aggregate (runs, dead letters, portfolios, prices, ledger, ...).
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolConfig sizes the one pool of a process.
type PoolConfig struct {
	// URL is a PostgreSQL connection string.
	URL string
	// MaxConns bounds the pool; pgxpool's own default (max(4, CPUs)) is
	// too small for 64 runs in flight, so it is always set from config.
	MaxConns int32
	// AcquireTimeout bounds the wait for a free connection. pgxpool waits
	// until the caller's context ends, which for a background context is
	// forever; every acquire here gets this deadline instead.
	AcquireTimeout time.Duration
	// PlanCacheMode is PostgreSQL's plan_cache_mode for the pool's
	// sessions: auto (the server's setting), force_custom_plan (the
	// default when empty) or force_generic_plan.
	PlanCacheMode string
}

// DB is the shared pool. Every agent and the orchestrator use the same *DB;
// nothing else in the process opens a connection of its own.
type DB struct {
	pool           *pgxpool.Pool
	acquireTimeout time.Duration
	stmts          *statementCounter
}

// ErrAcquireTimeout means no connection became free within the configured
// acquire timeout; callers treat it as a retryable infrastructure error.
var ErrAcquireTimeout = errors.New("storage: no free database connection within the acquire timeout")

// Open creates the pool and checks that the server answers.
func Open(ctx context.Context, cfg PoolConfig) (*DB, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	// When a query's context ends (a step's attempt timed out, a client went
	// away), ask the server to cancel the query, so it stops working and the
	// connection comes back to the pool usable. pgx's default instead sets a
	// deadline on the socket, which breaks the connection and leaves the
	// server running the query until it next writes to the client.
	pc.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, CancelRequestDelay: 0, DeadlineDelay: cancelGrace}
	}
	if cfg.AcquireTimeout <= 0 {
		cfg.AcquireTimeout = 5 * time.Second
	}
	// Every statement pgx sends is prepared and cached per connection, and
	// after five executions PostgreSQL may switch it to a generic plan
	// costed on the statistics of that moment. runs and run_steps start
	// empty and grow by thousands of rows a second, so a generic plan
	// chosen early stays a sequential scan until autovacuum next analyses
	// the table (a minute or more). Custom plans are re-planned with the
	// actual parameters each time; for these single-row statements that
	// costs less than the scans it avoids (BenchmarkRunOneStepInFlight64:
	// 2,569 steps/s with PostgreSQL's default, 2,997 with custom plans).
	// A plan_cache_mode given in the URL wins.
	mode := cfg.PlanCacheMode
	if mode == "" {
		mode = "force_custom_plan"
	}
	if _, set := pc.ConnConfig.RuntimeParams["plan_cache_mode"]; !set && mode != "auto" {
		pc.ConnConfig.RuntimeParams["plan_cache_mode"] = mode
	}
	stmts := &statementCounter{}
	pc.ConnConfig.Tracer = stmts
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("create database pool: %w", err)
	}
	db := &DB{pool: pool, acquireTimeout: cfg.AcquireTimeout, stmts: stmts}
	// The first ping opens a connection, which can take longer than a
	// short acquire timeout on a busy machine; it gets its own deadline.
	pctx, cancel := context.WithTimeout(ctx, max(cfg.AcquireTimeout, 15*time.Second))
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s: %w", redact(pc), err)
	}
	return db, nil
}

// redact names the host, port and database of a config without its password.
func redact(pc *pgxpool.Config) string {
	c := pc.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Pool exposes the underlying pool for libraries that need it (goose through
// stdlib, metrics). Queries go through Acquire, Tx or the helpers below so
// that every acquire has a deadline.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Acquire takes a connection, waiting at most the acquire timeout (or less if
// ctx ends first). The query itself runs under ctx alone.
func (db *DB) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, db.acquireTimeout)
	defer cancel()
	c, err := db.pool.Acquire(actx)
	if err != nil {
		if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			return nil, ErrAcquireTimeout
		}
		return nil, err
	}
	return c, nil
}

// cancelGrace is how long a query whose context ended may take to answer
// the server's cancellation before the socket is given a deadline too.
const cancelGrace = 2 * time.Second

// Tx runs fn in one transaction on a connection acquired with a deadline,
// committing when fn returns nil and rolling back otherwise.
func (db *DB) Tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return db.TxWith(ctx, pgx.TxOptions{}, fn)
}

// Snapshot runs fn in a REPEATABLE READ READ ONLY transaction: every query
// in it sees the same state, and opening it is one round trip.
func (db *DB) Snapshot(ctx context.Context, fn func(pgx.Tx) error) error {
	return db.TxWith(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// TxWith runs fn in a transaction with the given options. Audit rows fn
// writes for the request on ctx (see Audit) count as recorded only when
// the transaction commits.
func (db *DB) TxWith(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	c, err := db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	err = pgx.BeginTxFunc(ctx, c, opts, fn)
	settleAudit(ctx, err == nil)
	return err
}

// SendBatch sends a batch on a connection acquired with a deadline. Outside
// an explicit transaction the batch's statements run as one implicit
// transaction: all of them or none, in one round trip.
func (db *DB) SendBatch(ctx context.Context, b *pgx.Batch) error {
	c, err := db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return c.SendBatch(ctx, b).Close()
}

// Exec runs one statement outside an explicit transaction.
func (db *DB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := db.Acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	return c.Exec(ctx, sql, args...)
}

// Query runs fn over the rows of one query on a connection acquired with a
// deadline; the rows are closed before the connection is released.
func (db *DB) Query(ctx context.Context, fn func(pgx.Rows) error, sql string, args ...any) error {
	c, err := db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := fn(rows); err != nil {
		return err
	}
	return rows.Err()
}

// QueryRow scans one row into dest; pgx.ErrNoRows when there is none.
func (db *DB) QueryRow(ctx context.Context, sql string, args []any, dest ...any) error {
	c, err := db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return c.QueryRow(ctx, sql, args...).Scan(dest...)
}

// IsUnreachable reports whether err says the database cannot be reached:
// a connection that cannot be opened or was lost, or a server shutting
// down or starting (SQLSTATE classes 08 and 57P01-57P03). Such errors end
// when the server is back; callers answer "database unavailable".
func IsUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	// A connection lost mid-query surfaces as a network error inside pgx's
	// own wrapping; code outside storage that does I/O of its own returns
	// coded errors, so these are the database's.
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "conn closed")
}

// Watch pings the database every interval (each ping bounded by the
// interval) until ctx ends and calls onChange at each change between
// reachable and unreachable, starting from reachable: an outage is
// reported once when it starts and once when it ends, however many
// requests meet it.
func (db *DB) Watch(ctx context.Context, interval time.Duration, onChange func(up bool, err error)) {
	up := true
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, interval)
		err := db.pool.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if now := err == nil; now != up {
			up = now
			onChange(up, err)
		}
	}
}

// Querier is what both a connection and a transaction offer; query functions
// of the aggregates take one so they compose inside a caller's transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// collect reads every row of rows with scan, the function that also reads
// the one row of a QueryRow, so that each row type has one scanner.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}
