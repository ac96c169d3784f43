package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

// TestNewDBIsolated writes a row in one fresh database and checks that a
// second fresh database does not see it, and that both carry the migrated
// schema with nothing pending.
func TestNewDBIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := pgtest.NewDB(t), pgtest.NewDB(t)

	var nameA, nameB string
	if err := a.QueryRow(ctx, "SELECT current_database()", nil, &nameA); err != nil {
		t.Fatal(err)
	}
	if err := b.QueryRow(ctx, "SELECT current_database()", nil, &nameB); err != nil {
		t.Fatal(err)
	}
	if nameA == nameB {
		t.Fatalf("two NewDB calls gave the same database %q", nameA)
	}
	for _, db := range []*storage.DB{a, b} {
		current, latest, pending, err := storage.MigrationStatus(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if pending != 0 || current != latest || latest == 0 {
			t.Errorf("MigrationStatus of a fresh test database = current %d, latest %d, pending %d; want current = latest > 0, pending 0", current, latest, pending)
		}
	}

	if _, err := a.Exec(ctx, "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec(ctx, "INSERT INTO only_in_a VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := a.QueryRow(ctx, "SELECT x FROM only_in_a", nil, &x); err != nil || x != 42 {
		t.Fatalf("read back from database a: got %d, %v; want 42, nil", x, err)
	}
	var exists bool
	if err := b.QueryRow(ctx, "SELECT to_regclass('only_in_a') IS NOT NULL", nil, &exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("table created in database %s is visible in database %s", nameA, nameB)
	}
}

// TestURLDroppedAtCleanup checks that a database made by URL exists during
// the test and is gone after its cleanup, even with a session still open.
func TestURLDroppedAtCleanup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var name string
	t.Run("inner", func(t *testing.T) {
		u := pgtest.URL(t)
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		// Left open on purpose: DROP ... WITH (FORCE) must end it.
		t.Cleanup(func() { _ = conn.Close(context.Background()) })
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	conn, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if name == "" || n != 0 {
		t.Errorf("database %q: %d rows in pg_database after the test ended; want 0", name, n)
	}
}

// TestParallelNewDB creates several databases at once from the one template,
// which PostgreSQL only allows one at a time.
func TestParallelNewDB(t *testing.T) {
	t.Parallel()
	for i := range 6 {
		t.Run("db", func(t *testing.T) {
			t.Parallel()
			db := pgtest.NewDB(t)
			if _, err := db.Exec(context.Background(), "SELECT $1::int", i); err != nil {
				t.Fatal(err)
			}
		})
	}
}
