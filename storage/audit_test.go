package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// TestAuditIsPartOfTheChange: the row Audit writes commits and rolls back
// with the transaction it is written in, and the actor counts it as
// recorded only once that transaction has committed; without an actor
// Audit writes nothing.
func TestAuditIsPartOfTheChange(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	count := func() int {
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'test.change'`, nil, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := db.Tx(context.Background(), func(tx pgx.Tx) error { return storage.Audit(context.Background(), tx, "x") }); err != nil || count() != 0 {
		t.Fatalf("Audit without an actor: %v, %d rows; want none", err, count())
	}
	actor := &storage.AuditActor{Action: "test.change", Resource: "thing:1", Address: "not an address", CorrelationID: "c-1"}
	ctx := storage.WithAuditActor(context.Background(), actor)
	failed := errors.New("the change failed after its audit row")
	err := db.Tx(ctx, func(tx pgx.Tx) error {
		if err := storage.Audit(ctx, tx, ""); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) || count() != 0 || actor.Committed() {
		t.Fatalf("rolled back: %v, %d rows, committed %v; want no row and nothing recorded", err, count(), actor.Committed())
	}
	if err := db.Tx(ctx, func(tx pgx.Tx) error { return storage.Audit(ctx, tx, "") }); err != nil || count() != 1 || !actor.Committed() {
		t.Fatalf("committed: %v, %d rows, committed %v; want one row, recorded", err, count(), actor.Committed())
	}
	rows, err := func() ([]storage.AuditEntry, error) {
		var out []storage.AuditEntry
		err := db.Tx(context.Background(), func(tx pgx.Tx) error {
			var err error
			out, err = storage.ListAudit(context.Background(), tx, storage.AuditFilter{Action: "test.change"})
			return err
		})
		return out, err
	}()
	if err != nil || len(rows) != 1 || rows[0].Resource != "thing:1" || rows[0].CorrelationID != "c-1" || rows[0].Address != "" || rows[0].Outcome != storage.AuditOK {
		t.Fatalf("ListAudit: %+v %v; want the one row, its unparseable address left out", rows, err)
	}
}
