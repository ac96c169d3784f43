package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PipelinedTx runs a read-decide-write transaction in two round trips
// where pgx's Tx takes four: BEGIN goes out in one batch with the reads
// of first, and the writes then returns go out in one batch with COMMIT.
// then may query q (the transaction's connection) when it must; a nil
// batch writes nothing. On any error the transaction is rolled back (and
// the connection discarded if even that fails), so the connection goes
// back to the pool clean. This is the orchestrator's hot path: every
// batch of step results is one such transaction.
func (db *DB) PipelinedTx(ctx context.Context, first *pgx.Batch, then func(q Querier) (*pgx.Batch, error)) (err error) {
	c, err := db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	defer func() {
		settleAudit(ctx, err == nil)
		if err == nil {
			return
		}
		// A failed statement leaves the transaction aborted and skips the
		// rest of its batch, COMMIT included: roll back explicitly.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, rerr := c.Exec(rctx, "ROLLBACK"); rerr != nil {
			_ = c.Conn().Close(rctx) // the pool drops a closed connection
		}
	}()
	reads := &pgx.Batch{}
	reads.Queue("BEGIN")
	for _, q := range first.QueuedQueries {
		reads.QueuedQueries = append(reads.QueuedQueries, q)
	}
	if err = c.SendBatch(ctx, reads).Close(); err != nil {
		return fmt.Errorf("begin and read: %w", err)
	}
	writes, err := then(c)
	if err != nil {
		return err
	}
	if writes == nil {
		writes = &pgx.Batch{}
	}
	writes.Queue("COMMIT")
	if err = c.SendBatch(ctx, writes).Close(); err != nil {
		return fmt.Errorf("write and commit: %w", err)
	}
	return nil
}
