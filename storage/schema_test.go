package storage_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/schema.golden from the migrated schema")

// schemaSnapshot renders the public schema (tables, columns with types,
// nullability, defaults, identity and generation, constraints and indexes
// with their definitions) in a stable order.
func schemaSnapshot(ctx context.Context, t *testing.T, db *storage.DB) string {
	t.Helper()
	var b strings.Builder
	section := func(title, sql string) {
		fmt.Fprintf(&b, "== %s\n", title)
		err := db.Query(ctx, func(rows pgx.Rows) error {
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					return err
				}
				parts := make([]string, len(vals))
				for i, v := range vals {
					if v == nil {
						parts[i] = "-"
					} else {
						parts[i] = fmt.Sprint(v)
					}
				}
				b.WriteString(strings.Join(parts, " | "))
				b.WriteByte('\n')
			}
			return nil
		}, sql)
		if err != nil {
			t.Fatalf("snapshot %s: %v", title, err)
		}
	}
	section("tables", `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`)
	section("columns", `SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
			CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END,
			pg_get_expr(d.adbin, d.adrelid), nullif(a.attidentity, ''), nullif(a.attgenerated, '')
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY c.relname, a.attnum`)
	section("constraints", `SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
		FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`)
	section("indexes", `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2`)
	return b.String()
}

// TestSchema compares the migrated schema with testdata/schema.golden
// (regenerate with go test ./storage -run TestSchema -update), then runs
// the migrations again and checks that nothing is applied or changed.
func TestSchema(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db := pgtest.NewDB(t)
	got := schemaSnapshot(ctx, t, db)
	golden := filepath.Join("testdata", "schema.golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read %s (create it with -update): %v", golden, err)
	}
	if got != string(want) {
		t.Errorf("schema differs from %s (rerun with -update if intended):\n%s", golden, firstDiff(got, string(want)))
	}

	applied, err := storage.Migrate(ctx, db)
	if err != nil || len(applied) != 0 {
		t.Errorf("second Migrate applied %v, %v; want nothing", applied, err)
	}
	if again := schemaSnapshot(ctx, t, db); again != got {
		t.Errorf("schema changed by a second Migrate:\n%s", firstDiff(again, got))
	}
}

// firstDiff shows the first differing line of two snapshots.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return "(no line differs)"
}

// TestSchemaInvariants: every domain table has a primary key and a
// created_at column.
func TestSchemaInvariants(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := pgtest.NewDB(t)
	var missing []string
	err := db.Query(ctx, func(rows pgx.Rows) error {
		for rows.Next() {
			var table string
			var pk, created bool
			if err := rows.Scan(&table, &pk, &created); err != nil {
				return err
			}
			if !pk {
				missing = append(missing, table+": primary key")
			}
			if !created {
				missing = append(missing, table+": created_at")
			}
		}
		return nil
	}, `SELECT c.relname,
			EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'),
			EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'created_at' AND NOT a.attisdropped)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT IN ('goose_db_version', 'run_events', 'run_steps', 'runs', 'dead_letters', 'replays')
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("tables lacking: %v", missing)
	}
}

// TestSchemaConstraints: rows that break a rule of DOMAIN.md §2 are
// refused by the named constraint.
func TestSchemaConstraints(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "CAD")
	lot := f.buy("2024-01-02", "XYZ", "10", "1", "").OpenedLot
	f.buildPack("2024-01-02", map[string]string{"XYZ": "1"}, nil)
	if _, err := f.db.Exec(f.ctx, `INSERT INTO alerts (id, user_id, name, condition) VALUES ('00000000-0000-0000-0000-0000000000a1', $1, 'a', '{}')`, f.user); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, sql, constraint string
		args                  []any
	}{
		{"open above original", `UPDATE lots SET quantity_open = 11 WHERE id = $1`, "lots_check", []any{lot}},
		{"negative open", `UPDATE lots SET quantity_open = -1 WHERE id = $1`, "lots_quantity_open_check", []any{lot}},
		{"second price per pack and security", `INSERT INTO prices (pack_id, security_id, pack_date, close, currency)
			SELECT pack_id, security_id, pack_date, 2, currency FROM prices`, "prices_pkey", nil},
		{"fx to itself", `INSERT INTO fx_rates (pack_id, from_ccy, to_ccy, pack_date, rate) VALUES ('PP_2024-01-02', 'CAD', 'CAD', '2024-01-02', 1)`, "fx_rates_check", nil},
		{"fx rate zero", `INSERT INTO fx_rates (pack_id, from_ccy, to_ccy, pack_date, rate) VALUES ('PP_2024-01-02', 'USD', 'CAD', '2024-01-02', 0)`, "fx_rates_rate_check", nil},
		{"pack id and date disagree", `INSERT INTO pricing_packs (id, pack_date) VALUES ('PP_2024-01-03', '2024-01-04')`, "pricing_packs_check", nil},
		{"bad pack status", `UPDATE pricing_packs SET status = 'stale'`, "pricing_packs_status_check", nil},
		{"bad role", `INSERT INTO users (email, password_hash, role) VALUES ('x@example.com', 'h', 'ROOT')`, "users_role_check", nil},
		{"bad method", `UPDATE portfolios SET cost_basis_method = 'MAGIC'`, "portfolios_cost_basis_method_check", nil},
		{"second notification of an alert in a day", `INSERT INTO notifications (user_id, alert_id, kind, delivered_at)
			VALUES ($1, '00000000-0000-0000-0000-0000000000a1', 'alert', '2024-01-02 01:00+00'),
			       ($1, '00000000-0000-0000-0000-0000000000a1', 'alert', '2024-01-02 23:00+00')`, "notifications_user_alert_day", []any{f.user}},
	}
	for _, c := range cases {
		_, err := f.db.Exec(f.ctx, c.sql, c.args...)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.ConstraintName != c.constraint {
			t.Errorf("%s: err = %v, want a violation of %s", c.name, err, c.constraint)
		}
	}
	// The next UTC day is another day.
	if _, err := f.db.Exec(f.ctx, `INSERT INTO notifications (user_id, alert_id, kind, delivered_at)
		VALUES ($1, '00000000-0000-0000-0000-0000000000a1', 'alert', '2024-01-02 23:00+00'),
		       ($1, '00000000-0000-0000-0000-0000000000a1', 'alert', '2024-01-03 00:30+00')`, f.user); err != nil {
		t.Errorf("notifications on two UTC days: %v", err)
	}
}
