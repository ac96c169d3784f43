package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/storage"
)

// BatchResolver is a ContextResolver that can fix the contexts of many
// runs at once (one snapshot, each lookup made once). A request's own
// problem is its entry in errs; err fails them all.
type BatchResolver interface {
	ResolveMany(ctx context.Context, reqs []ContextRequest) (scs []agents.RunContext, errs []error, err error)
}

// itemProblem is what is wrong with one run of a batch.
type itemProblem struct {
	index int
	err   error
}

// SubmitBatch accepts many runs in one transaction: all of them or none.
// When any item has a problem nothing is written and the error lists every
// item's problem as a field "runs[i].<field>". Idempotency keys work per
// item: an item whose key names an earlier run answers that run, as Submit
// does, and two items with one key and one request are one run.
func (e *Engine) SubmitBatch(ctx context.Context, reqs []SubmitRequest) ([]Submitted, error) {
	out, err := e.submitBatch(ctx, reqs)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		// A concurrent submission took one of the keys first: a second
		// pass finds its run.
		out, err = e.submitBatch(ctx, reqs)
	}
	return out, err
}

func (e *Engine) submitBatch(ctx context.Context, reqs []SubmitRequest) ([]Submitted, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	preps := make([]prepared, len(reqs))
	var probs []itemProblem
	for i, r := range reqs {
		pr, err := e.prepare(r)
		if err != nil {
			probs = append(probs, itemProblem{i, err})
			continue
		}
		preps[i] = pr
	}
	if len(probs) > 0 {
		return nil, batchError(len(reqs), probs)
	}
	out := make([]Submitted, len(reqs))
	todo, sameAs, probs, err := e.sortByKey(ctx, preps, out)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		return nil, batchError(len(reqs), probs)
	}
	scs, probs, err := e.resolveMany(ctx, preps, todo)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		return nil, batchError(len(reqs), probs)
	}
	runs := make([]newRun, len(todo))
	changes := make([]storage.RunChanges, len(todo))
	for k, i := range todo {
		runs[k] = e.build(ctx, preps[i], scs[k])
		changes[k] = runs[k].changes
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultSubmitDeadline)
	}
	// One batch without an explicit transaction is one implicit
	// transaction: every run is committed, or none.
	errs := e.writeBatch(ctx, changes, deadline, func(k int, evs []storage.EventRow) { runs[k].plan.events = evs })
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("submit a batch of %d runs: %w", len(todo), err)
	}
	if len(todo) > 0 {
		storage.AuditCommitted(ctx)
	}
	var steps []bus.StepRequest
	counts := map[string]int{}
	for k, i := range todo {
		out[i] = Submitted{RunID: runs[k].changes.RunID}
		steps = append(steps, runs[k].plan.requests...)
		counts[preps[i].pattern.ID]++
		e.versions.markStored(preps[i].pattern.Hash())
	}
	for i, j := range sameAs {
		out[i] = Submitted{RunID: out[j].RunID, Existing: true}
	}
	e.publishSteps(ctx, steps)
	for _, r := range runs {
		e.publishEvents(r.changes.RunID, r.plan.events)
	}
	for p, n := range counts {
		e.countSubmitted(p, n)
	}
	return out, nil
}

// sortByKey answers the items whose idempotency key names an earlier run
// (in out) and returns the indexes of the runs to create and, for an item
// that repeats an earlier item's key and request, that item's index.
func (e *Engine) sortByKey(ctx context.Context, preps []prepared, out []Submitted) (todo []int, sameAs map[int]int, probs []itemProblem, err error) {
	var keys []string
	for _, pr := range preps {
		if k := pr.req.IdempotencyKey; k != "" {
			keys = append(keys, k)
		}
	}
	existing := map[string]storage.KeyedRun{}
	if len(keys) > 0 {
		err = e.db.Snapshot(ctx, func(tx pgx.Tx) error {
			existing, err = storage.RunsByIdempotencyKeys(ctx, tx, keys)
			return err
		})
		if err != nil {
			return nil, nil, nil, err
		}
	}
	sameAs = map[int]int{}
	firstOf := map[string]int{}
	for i, pr := range preps {
		key := pr.req.IdempotencyKey
		if key == "" {
			todo = append(todo, i)
			continue
		}
		if r, ok := existing[key]; ok {
			if r.RequestHash != "" && r.RequestHash != pr.requestHash {
				probs = append(probs, itemProblem{i, keyReused(key, "run "+r.ID)})
				continue
			}
			out[i] = Submitted{RunID: r.ID, Existing: true}
			continue
		}
		if j, ok := firstOf[key]; ok {
			if preps[j].requestHash != pr.requestHash {
				probs = append(probs, itemProblem{i, keyReused(key, fmt.Sprintf("item %d of this batch", j))})
				continue
			}
			sameAs[i] = j
			continue
		}
		firstOf[key] = i
		todo = append(todo, i)
	}
	return todo, sameAs, probs, nil
}

func keyReused(key, usedBy string) error {
	return &agents.Error{Code: agents.CodeIdempotencyKeyReused, Field: "idempotency_key",
		Message: fmt.Sprintf("idempotency key %q was used for %s with another pattern, inputs or as-of date", key, usedBy)}
}

// resolveMany fixes the contexts of the items in todo, in one snapshot
// when the resolver can.
func (e *Engine) resolveMany(ctx context.Context, preps []prepared, todo []int) ([]agents.RunContext, []itemProblem, error) {
	scs := make([]agents.RunContext, len(todo))
	if e.cfg.Resolver == nil {
		for k, i := range todo {
			scs[k] = agents.RunContext{AsOfDate: preps[i].req.AsOfDate, UserID: preps[i].req.UserID}
		}
		return scs, nil, nil
	}
	creqs := make([]ContextRequest, len(todo))
	for k, i := range todo {
		creqs[k] = preps[i].contextRequest()
	}
	var errs []error
	if br, ok := e.cfg.Resolver.(BatchResolver); ok {
		var err error
		if scs, errs, err = br.ResolveMany(ctx, creqs); err != nil {
			return nil, nil, err
		}
	} else {
		errs = make([]error, len(todo))
		for k, r := range creqs {
			scs[k], errs[k] = e.cfg.Resolver.Resolve(ctx, r)
			var ae *agents.Error
			if errs[k] != nil && !errors.As(errs[k], &ae) {
				return nil, nil, errs[k]
			}
		}
	}
	var probs []itemProblem
	for k, err := range errs {
		if err != nil {
			probs = append(probs, itemProblem{todo[k], err})
		}
	}
	return scs, probs, nil
}

// batchError is the refusal of a batch: one field issue per problem, its
// field prefixed with the item ("runs[3].inputs.portfolio_id"). Its code
// is the items' code when they share one, else invalid_input.
func batchError(n int, probs []itemProblem) *agents.Error {
	e := &agents.Error{Message: fmt.Sprintf("%d of the %d runs of the batch cannot be accepted; none was", len(probs), n)}
	for _, p := range probs {
		ae := agents.Classify(p.err)
		prefix := fmt.Sprintf("runs[%d]", p.index)
		issues := ae.Fields
		if len(issues) == 0 {
			issues = []agents.FieldIssue{{Field: ae.Field, Code: ae.Code, Message: ae.Message}}
		}
		for _, f := range issues {
			field := prefix
			if f.Field != "" {
				field += "." + f.Field
			}
			code := f.Code
			if code == "" {
				code = ae.Code
			}
			e.Fields = append(e.Fields, agents.FieldIssue{Field: field, Code: code, Message: f.Message})
		}
		switch {
		case e.Code == "":
			e.Code, e.Retryable = ae.Code, ae.Retryable
		case e.Code != ae.Code:
			e.Code, e.Retryable = agents.CodeInvalidInput, false
		}
	}
	e.Field = e.Fields[0].Field
	return e
}
