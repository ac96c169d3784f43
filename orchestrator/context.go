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
	sc := agents.RunContext{AsOfDate: req.AsOfDate, UserID: req.UserID}
	asOf, err := time.Parse(time.DateOnly, req.AsOfDate)
	if err != nil {
		return sc, agents.FieldError("asof_date", "asof_date %q is not YYYY-MM-DD", req.AsOfDate)
	}
	err = r.DB.Snapshot(ctx, func(tx pgx.Tx) error {
		// Every run is pinned to a pack when one exists, also when its
		// pattern does not reference {{ctx.pricing_pack_id}}: capabilities
		// that value positions read the pack from the run's context. Only a
		// pattern that references it fails without one.
		{
			p, err := storage.PackForDate(ctx, tx, asOf)
			switch {
			case errors.Is(err, storage.ErrNoFreshPack):
				if req.NeedsPack && !req.AllowStalePack {
					// A date before the first pack can never get one: that
					// is the request's fault, not a pack still being built.
					first, ok, ferr := storage.FirstFreshPackDate(ctx, tx)
					if ferr != nil {
						return ferr
					}
					if ok && asOf.Before(first) {
						return agents.FieldError("asof_date", "asof_date %s is before the first pricing pack, dated %s",
							req.AsOfDate, first.Format(time.DateOnly))
					}
					return agents.Errorf(agents.CodePricingPackWarming,
						"no fresh pricing pack on or before %s; retry when one is built, or submit with allow_stale_pack", req.AsOfDate)
				}
			case err != nil:
				return err
			default:
				sc.PricingPackID = p.ID
			}
		}
		if v, ok := req.Inputs["portfolio_id"]; ok {
			id, err := uuid.Parse(fmt.Sprint(v))
			if err != nil {
				return agents.FieldError("inputs.portfolio_id", "portfolio_id is not a uuid")
			}
			if _, err := storage.GetPortfolio(ctx, tx, id); err != nil {
				if errors.Is(err, storage.ErrNotFound) {
					return &agents.Error{Code: agents.CodeNotFound, Message: fmt.Sprintf("portfolio %s does not exist", id), Field: "inputs.portfolio_id"}
				}
				return err
			}
			h, err := storage.LedgerCommitHash(ctx, tx, id)
			if err != nil {
				return err
			}
			sc.LedgerCommitHash = h
		}
		return nil
	})
	return sc, err
}
