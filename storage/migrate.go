package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/dawsos/dawsos/migrations"
)

// gooseTable is goose's default version table; MigrationStatus reads it
// directly so that /readyz never writes.
const gooseTable = "goose_db_version"

// Migrate applies every pending migration of migrations.FS and returns the
// file names it applied, in order (none when the schema is current). A
// PostgreSQL advisory lock (per database) serialises concurrent callers, so
// several processes may start at once. On failure the error names the file,
// and applied lists what succeeded before it.
func Migrate(ctx context.Context, db *DB) (applied []string, err error) {
	return migrateFS(ctx, db, migrations.FS)
}

func migrateFS(ctx context.Context, db *DB, fsys fs.FS) (applied []string, err error) {
	// Closing this *sql.DB releases its connections back to the pool and
	// leaves the pool itself open.
	sqlDB := stdlib.OpenDBFromPool(db.Pool())
	defer sqlDB.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("create migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		applied = append(applied, path.Base(r.Source.Path))
	}
	if err != nil {
		var pe *goose.PartialError
		if errors.As(err, &pe) {
			for _, r := range pe.Applied {
				applied = append(applied, path.Base(r.Source.Path))
			}
			return applied, fmt.Errorf("apply migration %s: %w", path.Base(pe.Failed.Source.Path), pe.Err)
		}
		return applied, fmt.Errorf("apply migrations: %w", err)
	}
	return applied, nil
}

// MigrationStatus reports the schema version of the database (current, 0
// when none is applied), the newest version embedded in this binary
// (latest), and how many embedded migrations are not applied (pending). It
// only reads, so /readyz can call it; a database never migrated has
// current 0 and every migration pending.
func MigrationStatus(ctx context.Context, db *DB) (current, latest int64, pending int, err error) {
	return migrationStatusFS(ctx, db, migrations.FS)
}

func migrationStatusFS(ctx context.Context, db *DB, fsys fs.FS) (current, latest int64, pending int, err error) {
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return 0, 0, 0, fmt.Errorf("list migrations: %w", err)
	}
	var versions []int64
	for _, f := range files {
		v, err := goose.NumericComponent(f)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("migration file %s: %w", f, err)
		}
		versions = append(versions, v)
	}
	if len(versions) > 0 {
		latest = slices.Max(versions)
	}
	appliedSet := map[int64]bool{}
	var exists bool
	if err := db.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", []any{gooseTable}, &exists); err != nil {
		return 0, latest, 0, fmt.Errorf("read migration status: %w", err)
	}
	if exists {
		// goose's provider deletes the row of a migration rolled back,
		// while its older API inserts is_applied = false; the newest row
		// of each version is its state either way.
		err := db.Query(ctx, func(rows pgx.Rows) error {
			var v int64
			var ok bool
			_, err := pgx.ForEachRow(rows, []any{&v, &ok}, func() error {
				if ok && v > 0 {
					appliedSet[v] = true
					current = max(current, v)
				}
				return nil
			})
			return err
		}, "SELECT DISTINCT ON (version_id) version_id, is_applied FROM "+gooseTable+" ORDER BY version_id, id DESC")
		if err != nil {
			return 0, latest, 0, fmt.Errorf("read migration status: %w", err)
		}
	}
	for _, v := range versions {
		if !appliedSet[v] {
			pending++
		}
	}
	return current, latest, pending, nil
}
