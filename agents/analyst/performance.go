package analyst

import (
	"context"
	"fmt"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/lots"
)

// What the performance, attribution and chart capabilities share: the
// run's dates and pack, and the output types of a dated window.

// runDate is the run's as-of date, or today (the agent's clock, UTC) when
// the run has none, as the orchestrator defaults it.
func (a *Analyst) runDate(c *agents.Call) (time.Time, error) {
	t, err := c.Run.AsOf()
	if err != nil || !t.IsZero() {
		return t, err
	}
	now := time.Now
	if a.deps.Now != nil {
		now = a.deps.Now
	}
	y, m, d := now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}

// valuationPack loads the pack a capability values with: final (a warming
// pack is pricing_pack_warming) and dated on or before the as-of date.
func valuationPack(ctx context.Context, q storage.Querier, id string, asOf time.Time) (storage.Pack, error) {
	p, err := storage.GetPack(ctx, q, id)
	if err != nil {
		return p, err
	}
	if p.Status == storage.PackWarming {
		return p, fmt.Errorf("pricing pack %s: %w", id, storage.ErrPackNotFinal)
	}
	if p.Date.After(asOf) {
		return p, agents.FieldError("pricing_pack_id", "pricing pack %s is dated %s, after the run's as-of date %s",
			id, day(p.Date), day(asOf))
	}
	return p, nil
}

// provenanceAt is the run's provenance with the pack and as-of date the
// figures were actually computed with.
func provenanceAt(c *agents.Call, packID string, asOf time.Time, method, convention string) agents.Provenance {
	p := c.Provenance(method, convention)
	if packID != "" {
		p.PricingPackID = packID
	}
	p.AsOfDate = day(asOf)
	return p
}

// day formats a date as YYYY-MM-DD.
func day(t time.Time) string { return t.Format(time.DateOnly) }

// wholeHistory is a lookback longer than any stored history (400 years of
// trading days), for figures computed since inception.
const wholeHistory = 100_000

// LookbackWindow says which daily values a lookback figure was computed
// on; the outputs of the lookback capabilities embed it.
type LookbackWindow struct {
	LookbackDays int    `json:"lookback_days" doc:"The trading days asked for."`
	Days         int    `json:"days" doc:"The trading days (daily returns) the figure covers: lookback_days, or fewer when the history is shorter."`
	Complete     bool   `json:"complete" doc:"Whether the history covers the whole lookback (days = lookback_days)."`
	StartDate    string `json:"start_date" doc:"The valued day the window opens on (YYYY-MM-DD): the close before the first daily return."`
	EndDate      string `json:"end_date" doc:"The last valued day of the window (YYYY-MM-DD)."`
	CalendarDays int    `json:"calendar_days" doc:"Calendar days from start_date to end_date."`
}

func windowOf(s returnSeries, lookback int) LookbackWindow {
	first, last := s.Values[0].Date, s.Values[len(s.Values)-1].Date
	return LookbackWindow{LookbackDays: lookback, Days: len(s.Returns), Complete: len(s.Returns) >= lookback,
		StartDate: day(first), EndDate: day(last), CalendarDays: lots.CalendarDays(first, last)}
}

// minReturns is how many daily returns a lookback figure needs: the whole
// lookback when the caller requires it, else least (the figure's own
// minimum).
func minReturns(requireFull bool, lookback, least int) int {
	if requireFull {
		return max(lookback, least)
	}
	return least
}
