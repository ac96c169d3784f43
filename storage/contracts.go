package storage

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// TableCounters are one backend's counts of the scans and row changes of
// every table of the public schema, from pg_stat_xact_user_tables. On
// PostgreSQL 15 those counts are the backend's pending statistics, which
// accumulate over transactions until the backend flushes them (when it is
// idle outside a transaction), so a transaction's own work is the
// difference between counts read at its start and at its end.
type TableCounters map[string][2]int64 // scans, row changes

// ReadTableCounters reads the counters of the current backend.
func ReadTableCounters(ctx context.Context, q Querier) (TableCounters, error) {
	rows, err := q.Query(ctx, `SELECT relname::text, seq_scan + coalesce(idx_scan, 0), n_tup_ins + n_tup_upd + n_tup_del
		FROM pg_stat_xact_user_tables WHERE schemaname = 'public'`)
	if err != nil {
		return nil, fmt.Errorf("read table statistics: %w", err)
	}
	type count struct {
		Name           string
		Scans, Changes int64
	}
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[count])
	if err != nil {
		return nil, fmt.Errorf("read table statistics: %w", err)
	}
	out := make(TableCounters, len(cs))
	for _, c := range cs {
		out[c.Name] = [2]int64{c.Scans, c.Changes}
	}
	return out, nil
}

// Touched lists the tables read (scanned) and written (rows changed)
// between before and now.
func (now TableCounters) Touched(before TableCounters) (read, wrote []string) {
	for name, c := range now {
		b := before[name]
		if c[0] > b[0] {
			read = append(read, name)
		}
		if c[1] > b[1] {
			wrote = append(wrote, name)
		}
	}
	return read, wrote
}

// ForeignKeyTargets maps each table of the public schema to the tables its
// foreign keys reference.
func ForeignKeyTargets(ctx context.Context, q Querier) (map[string][]string, error) {
	rows, err := q.Query(ctx, `SELECT c.relname::text, r.relname::text FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND n.nspname = 'public' ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read foreign keys: %w", err)
	}
	type fk struct{ From, To string }
	fks, err := pgx.CollectRows(rows, pgx.RowToStructByPos[fk])
	if err != nil {
		return nil, fmt.Errorf("read foreign keys: %w", err)
	}
	out := map[string][]string{}
	for _, f := range fks {
		out[f.From] = append(out[f.From], f.To)
	}
	return out, nil
}
