package agents

import (
	"context"
	"fmt"
	"time"

	"github.com/dawsos/dawsos/storage"
)

// The date and the pack a capability computes with, and the provenance
// that states them. Every agent dates its figures the same way, so the
// rules are written once, here.

// AsOfOrToday is the run's as-of date or, for a call without one, today's
// UTC date by now (time.Now when nil): the date the orchestrator gives a
// run submitted without one, so a capability called directly dates its
// figures as a run would.
func (c *Call) AsOfOrToday(now func() time.Time) (time.Time, error) {
	t, err := c.Run.AsOf()
	if err != nil || !t.IsZero() {
		return t, err
	}
	if now == nil {
		now = time.Now
	}
	y, m, d := now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}

// RequireAsOf is the run's as-of date for capabilities that must not
// default it: what they store is dated by it, or what they read is the
// newest row on or before it.
func (c *Call) RequireAsOf() (time.Time, error) {
	t, err := c.Run.AsOf()
	if err != nil {
		return time.Time{}, err
	}
	if t.IsZero() {
		return time.Time{}, FieldError("ctx.asof_date", "the run has no as-of date")
	}
	return t, nil
}

// ProvenanceAt is the run's provenance with the pack (when packID is not
// empty) and the as-of date the figures were computed with, which an
// argument may have chosen instead of the run.
func (c *Call) ProvenanceAt(packID string, asOf time.Time, method, convention string) Provenance {
	p := c.Provenance(method, convention)
	if packID != "" {
		p.PricingPackID = packID
	}
	p.AsOfDate = asOf.Format(time.DateOnly)
	return p
}

// ValuationPack loads the pack a capability values with: final (a warming
// pack is pricing_pack_warming) and dated on or before the as-of date, so
// a figure never uses prices from after the date it is stated for.
func ValuationPack(ctx context.Context, q storage.Querier, id string, asOf time.Time) (storage.Pack, error) {
	p, err := storage.GetPack(ctx, q, id)
	if err != nil {
		return p, err
	}
	if p.Status == storage.PackWarming {
		return p, fmt.Errorf("pricing pack %s: %w", id, storage.ErrPackNotFinal)
	}
	if p.Date.After(asOf) {
		return p, FieldError("pricing_pack_id", "pricing pack %s is dated %s, after the run's as-of date %s",
			id, p.Date.Format(time.DateOnly), asOf.Format(time.DateOnly))
	}
	return p, nil
}
