package storage_test

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dawsos/dawsos/migrations"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// emptyDB opens a pool on a database without any migration applied.
func emptyDB(t *testing.T) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), storage.PoolConfig{URL: pgtest.EmptyURL(t), MaxConns: 4, AcquireTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// embeddedMigrations lists the migration files in the binary, whatever
// files the migrations folder holds when the test is built.
func embeddedMigrations(t *testing.T) []string {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("list embedded migrations: %v, %d files", err, len(files))
	}
	slices.Sort(files)
	return files
}

func TestMigrateAppliesAllOnceThenNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := emptyDB(t)
	files := embeddedMigrations(t)

	current, latest, pending, err := storage.MigrationStatus(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if current != 0 || pending != len(files) || latest <= 0 {
		t.Errorf("status before Migrate = (%d, %d, %d); want current 0, latest > 0, pending %d (files %v)", current, latest, pending, len(files), files)
	}
	// Reading the status of an unmigrated database must not create goose's table.
	var exists bool
	if err := db.QueryRow(ctx, "SELECT to_regclass('goose_db_version') IS NOT NULL", nil, &exists); err != nil || exists {
		t.Errorf("goose_db_version exists after MigrationStatus = %v (err %v); want false", exists, err)
	}

	applied, err := storage.Migrate(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(applied, files) {
		t.Errorf("first Migrate applied %v; want %v", applied, files)
	}
	again, err := storage.Migrate(ctx, db)
	if err != nil || len(again) != 0 {
		t.Errorf("second Migrate = %v, %v; want nothing applied, nil", again, err)
	}
	current2, latest2, pending2, err := storage.MigrationStatus(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if current2 != latest || latest2 != latest || pending2 != 0 {
		t.Errorf("status after Migrate = (%d, %d, %d); want (%d, %d, 0)", current2, latest2, pending2, latest, latest)
	}
	// The pool survives Migrate closing its *sql.DB.
	if _, err := db.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("pool after Migrate: %v", err)
	}
}

// TestMigrateConcurrent runs Migrate from two pools at once, as two
// processes starting together would: the advisory lock lets each file be
// applied exactly once.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := emptyDB(t)
	other, err := storage.Open(ctx, storage.PoolConfig{URL: db.Pool().Config().ConnString(), MaxConns: 4, AcquireTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	var wg sync.WaitGroup
	results := make([][]string, 2)
	errs := make([]error, 2)
	for i, d := range []*storage.DB{db, other} {
		wg.Go(func() { results[i], errs[i] = storage.Migrate(ctx, d) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	all := append(slices.Clone(results[0]), results[1]...)
	slices.Sort(all)
	if want := embeddedMigrations(t); !slices.Equal(all, want) {
		t.Errorf("files applied by two concurrent Migrate calls: %v and %v; want each of %v exactly once", results[0], results[1], want)
	}
}

// TestMigrateErrorNamesFile applies a set whose second file is broken.
func TestMigrateErrorNamesFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := emptyDB(t)
	fsys := fstest.MapFS{
		"00001_ok.sql":   {Data: []byte("-- +goose Up\nCREATE TABLE ok_table (x int);\n")},
		"00002_bad.sql":  {Data: []byte("-- +goose Up\nCREATE TABLE bad_table (x nosuchtype);\n")},
		"00003_next.sql": {Data: []byte("-- +goose Up\nCREATE TABLE next_table (x int);\n")},
	}
	applied, err := storage.MigrateFS(ctx, db, fsys)
	if err == nil || !strings.Contains(err.Error(), "00002_bad.sql") || !strings.Contains(err.Error(), "nosuchtype") {
		t.Errorf("Migrate with a broken 00002_bad.sql: error %v; want one naming the file and the cause", err)
	}
	if !slices.Equal(applied, []string{"00001_ok.sql"}) {
		t.Errorf("applied before the failure = %v; want [00001_ok.sql]", applied)
	}
	current, latest, pending, err := storage.MigrationStatusFS(ctx, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if current != 1 || latest != 3 || pending != 2 {
		t.Errorf("status after the failure = (%d, %d, %d); want (1, 3, 2)", current, latest, pending)
	}
}

func TestMigrateNewDBIsCurrent(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	applied, err := storage.Migrate(context.Background(), db)
	if err != nil || len(applied) != 0 {
		t.Errorf("Migrate on a pgtest.NewDB database = %v, %v; want nothing to apply", applied, err)
	}
}
