package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Outcomes of an audited action.
const (
	AuditOK     = "ok"
	AuditDenied = "denied"
	AuditFailed = "failed"
)

// AuditEntry is one row of audit_log: who (UserID, nil when the caller
// could not be identified), did what (Action) to what (Resource), with
// which outcome, from where, under which correlation id.
type AuditEntry struct {
	ID            int64           `json:"id"`
	UserID        *uuid.UUID      `json:"user_id"`
	Action        string          `json:"action"`
	Resource      string          `json:"resource"`
	Outcome       string          `json:"outcome"`
	Address       string          `json:"address,omitempty"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	Details       json.RawMessage `json:"details"`
	At            time.Time       `json:"at"`
}

// InsertAudit writes one row of audit_log in q, which is the transaction of
// the change it records whenever there is one.
func InsertAudit(ctx context.Context, q Querier, e AuditEntry) error {
	b := &pgx.Batch{}
	QueueAudit(b, e)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write audit entry %s on %s: %w", e.Action, e.Resource, err)
	}
	return nil
}

// QueueAudit adds the insert of one audit row to b, for writers that send
// their change as one batch.
func QueueAudit(b *pgx.Batch, e AuditEntry) {
	details := e.Details
	if len(details) == 0 {
		details = json.RawMessage(`{}`)
	}
	outcome := e.Outcome
	if outcome == "" {
		outcome = AuditOK
	}
	b.Queue(`INSERT INTO audit_log (user_id, action, resource, outcome, details, ip, correlation_id)
		VALUES ($1, $2, $3, $4, $5::jsonb, $6::inet, nullif($7, ''))`,
		e.UserID, e.Action, e.Resource, outcome, string(details), addressOrNil(e.Address), e.CorrelationID)
}

// addressOrNil keeps only what inet accepts, so an odd remote address never
// fails the change it is recorded with.
func addressOrNil(a string) *string {
	if net.ParseIP(a) == nil {
		return nil
	}
	return &a
}

// AuditFilter selects audit rows; zero fields select everything.
type AuditFilter struct {
	UserID  uuid.UUID
	Action  string
	Outcome string
	Before  *time.Time
	Limit   int
}

// ListAudit returns audit rows newest first.
func ListAudit(ctx context.Context, q Querier, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var user *uuid.UUID
	if f.UserID != uuid.Nil {
		user = &f.UserID
	}
	rows, err := q.Query(ctx, `SELECT id, user_id, action, resource, outcome, coalesce(host(ip), ''), coalesce(correlation_id, ''), details, at
		FROM audit_log
		WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2 = '' OR action = $2) AND ($3 = '' OR outcome = $3)
			AND ($4::timestamptz IS NULL OR at < $4)
		ORDER BY at DESC, id DESC LIMIT $5`, user, f.Action, f.Outcome, f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.UserID, &e.Action, &e.Resource, &e.Outcome, &e.Address, &e.CorrelationID, &e.Details, &e.At)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}

// AuditActor is the audited request a context belongs to: the HTTP edge
// puts one on the context of every request that changes something, and
// the code that makes the change records it with Audit inside the change's
// own transaction. The edge writes a row itself only for a request that
// committed no audited change (one refused, failed, or changing nothing in
// the database, such as a breaker reset).
type AuditActor struct {
	UserID        *uuid.UUID
	Action        string
	Resource      string
	Address       string
	CorrelationID string
	Details       json.RawMessage

	mu        sync.Mutex
	pending   int
	committed int
}

type auditKey struct{}

// WithAuditActor returns ctx carrying a.
func WithAuditActor(ctx context.Context, a *AuditActor) context.Context {
	return context.WithValue(ctx, auditKey{}, a)
}

// AuditActorFrom returns the request's actor, or nil.
func AuditActorFrom(ctx context.Context) *AuditActor {
	a, _ := ctx.Value(auditKey{}).(*AuditActor)
	return a
}

// Entry is the actor's row with the given resource ("" for the actor's
// own) and outcome.
func (a *AuditActor) Entry(resource, outcome string) AuditEntry {
	if resource == "" {
		resource = a.Resource
	}
	return AuditEntry{UserID: a.UserID, Action: a.Action, Resource: resource, Outcome: outcome,
		Address: a.Address, CorrelationID: a.CorrelationID, Details: a.Details}
}

// Committed reports whether a transaction of the request committed a row.
func (a *AuditActor) Committed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.committed > 0
}

func (a *AuditActor) addPending() {
	a.mu.Lock()
	a.pending++
	a.mu.Unlock()
}

// settle moves the rows written in the transaction that just ended to
// committed, or forgets them when it rolled back.
func (a *AuditActor) settle(commit bool) {
	a.mu.Lock()
	if commit {
		a.committed += a.pending
	}
	a.pending = 0
	a.mu.Unlock()
}

// Audit records the request's action on resource ("" for the actor's own)
// in q, the transaction of the change. Without an actor on ctx (the
// engine's own work, a test) it does nothing. The row counts as recorded
// once the transaction commits (DB.TxWith settles it).
func Audit(ctx context.Context, q Querier, resource string) error {
	return AuditOutcome(ctx, q, resource, AuditOK)
}

// AuditOutcome is Audit for a change whose outcome is not plain success:
// the revocation of a session whose refresh token was reused is recorded
// as denied, in the transaction that revokes it.
func AuditOutcome(ctx context.Context, q Querier, resource, outcome string) error {
	a := AuditActorFrom(ctx)
	if a == nil {
		return nil
	}
	if err := InsertAudit(ctx, q, a.Entry(resource, outcome)); err != nil {
		return err
	}
	a.addPending()
	return nil
}

// PendingAudit is the row of ctx's actor for a change written as one batch
// outside DB.TxWith (a run submission); nil without an actor. The writer
// calls AuditCommitted once the batch has committed.
func PendingAudit(ctx context.Context, resource string) *AuditEntry {
	a := AuditActorFrom(ctx)
	if a == nil {
		return nil
	}
	e := a.Entry(resource, AuditOK)
	return &e
}

// AuditCommitted notes that a batch carrying ctx's PendingAudit row has
// committed.
func AuditCommitted(ctx context.Context) {
	if a := AuditActorFrom(ctx); a != nil {
		a.addPending()
		a.settle(true)
	}
}

// settleAudit is called by DB.TxWith when a transaction ends.
func settleAudit(ctx context.Context, commit bool) {
	if a := AuditActorFrom(ctx); a != nil {
		a.settle(commit)
	}
}
