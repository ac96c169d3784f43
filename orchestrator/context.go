package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// StorageResolver fixes a run's context from the database: the newest fresh
// pricing pack on or before the as-of date, and the ledger commit hash of
// the portfolio the run is about (its portfolio_id input), so every step of
// the run computes on the same prices and the same transactions.
type StorageResolver struct{ DB *storage.DB }

// Resolve implements ContextResolver.
func (r StorageResolver) Resolve(ctx context.Context, req ContextRequest) (agents.RunContext, error) {
	var sc agents.RunContext
	err := r.DB.Snapshot(ctx, func(tx pgx.Tx) error {
		var err error
		sc, err = newResolution(tx).resolve(ctx, req)
		return err
	})
	return sc, err
}

// ResolveMany implements BatchResolver: every request is resolved in one
// snapshot, each pack and each portfolio's ledger hash looked up once. A
// request's own problem (a coded error) is its entry in errs; any other
// error, the database's, fails them all.
func (r StorageResolver) ResolveMany(ctx context.Context, reqs []ContextRequest) ([]agents.RunContext, []error, error) {
	out := make([]agents.RunContext, len(reqs))
	errs := make([]error, len(reqs))
	err := r.DB.Snapshot(ctx, func(tx pgx.Tx) error {
		res := newResolution(tx)
		for i, req := range reqs {
			sc, err := res.resolve(ctx, req)
			var ae *agents.Error
			if err != nil && !errors.As(err, &ae) {
				return err
			}
			out[i], errs[i] = sc, err
		}
		return nil
	})
	return out, errs, err
}

// resolution resolves contexts inside one snapshot, remembering what it
// has looked up.
type resolution struct {
	tx     pgx.Tx
	packs  map[string]packLookup
	first  *packLookup
	ledger map[uuid.UUID]string
}

type packLookup struct {
	id    string
	date  time.Time
	found bool
}

func newResolution(tx pgx.Tx) *resolution {
	return &resolution{tx: tx, packs: map[string]packLookup{}, ledger: map[uuid.UUID]string{}}
}

func (r *resolution) resolve(ctx context.Context, req ContextRequest) (agents.RunContext, error) {
	sc := agents.RunContext{AsOfDate: req.AsOfDate, UserID: req.UserID}
	asOf, err := time.Parse(time.DateOnly, req.AsOfDate)
	if err != nil {
		return sc, agents.FieldError("asof_date", "asof_date %q is not YYYY-MM-DD", req.AsOfDate)
	}
	// Every run is pinned to a pack when one exists, also when its
	// pattern does not reference {{ctx.pricing_pack_id}}: capabilities
	// that value positions read the pack from the run's context. Only a
	// pattern that references it fails without one.
	pack, err := r.pack(ctx, asOf)
	if err != nil {
		return sc, err
	}
	switch {
	case pack.found:
		sc.PricingPackID = pack.id
	case req.NeedsPack && !req.AllowStalePack:
		// A date before the first pack can never get one: that is the
		// request's fault, not a pack still being built.
		first, err := r.firstPack(ctx)
		if err != nil {
			return sc, err
		}
		if first.found && asOf.Before(first.date) {
			return sc, agents.FieldError("asof_date", "asof_date %s is before the first pricing pack, dated %s",
				req.AsOfDate, first.date.Format(time.DateOnly))
		}
		return sc, agents.Errorf(agents.CodePricingPackWarming,
			"no fresh pricing pack on or before %s; retry when one is built, or submit with allow_stale_pack", req.AsOfDate)
	}
	if v, ok := req.Inputs["portfolio_id"]; ok {
		id, err := uuid.Parse(fmt.Sprint(v))
		if err != nil {
			return sc, agents.FieldError("inputs.portfolio_id", "portfolio_id is not a uuid")
		}
		if sc.LedgerCommitHash, err = r.ledgerHash(ctx, id); err != nil {
			return sc, err
		}
	}
	return sc, nil
}

func (r *resolution) pack(ctx context.Context, asOf time.Time) (packLookup, error) {
	key := asOf.Format(time.DateOnly)
	if p, ok := r.packs[key]; ok {
		return p, nil
	}
	var l packLookup
	p, err := storage.PackForDate(ctx, r.tx, asOf)
	switch {
	case errors.Is(err, storage.ErrNoFreshPack):
	case err != nil:
		return l, err
	default:
		l = packLookup{id: p.ID, found: true}
	}
	r.packs[key] = l
	return l, nil
}

func (r *resolution) firstPack(ctx context.Context) (packLookup, error) {
	if r.first == nil {
		d, ok, err := storage.FirstFreshPackDate(ctx, r.tx)
		if err != nil {
			return packLookup{}, err
		}
		r.first = &packLookup{date: d, found: ok}
	}
	return *r.first, nil
}

// ledgerHash is the portfolio's ledger commit hash; not_found when there
// is no such portfolio.
func (r *resolution) ledgerHash(ctx context.Context, id uuid.UUID) (string, error) {
	if h, ok := r.ledger[id]; ok {
		return h, nil
	}
	if _, err := storage.GetPortfolio(ctx, r.tx, id); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return "", &agents.Error{Code: agents.CodeNotFound, Message: fmt.Sprintf("portfolio %s does not exist", id), Field: "inputs.portfolio_id"}
		}
		return "", err
	}
	h, err := storage.LedgerCommitHash(ctx, r.tx, id)
	if err != nil {
		return "", err
	}
	r.ledger[id] = h
	return h, nil
}
