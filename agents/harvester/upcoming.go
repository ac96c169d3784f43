package harvester

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Harvester) upcoming() agents.Def {
	return agents.Read(agents.Meta{
		Name:        "corporate_actions.upcoming",
		Description: "The dividends, splits and earnings dates of the given securities with an event date from the as-of date through the next days_ahead days, from corporate_actions.",
		Reads:       []string{"securities", "corporate_actions"},
		Codes:       []string{agents.CodeNotFound},
	}, a.Upcoming)
}

// UpcomingInput names the securities and the horizon.
type UpcomingInput struct {
	Positions []SecurityRef `json:"positions" jsonschema:"maxItems=500" doc:"The securities, e.g. the positions of ledger.positions."`
	DaysAhead int           `json:"days_ahead,omitempty" jsonschema:"minimum=1,maximum=730,default=90" doc:"Days after the as-of date."`
}

// UpcomingOutput lists the actions by event date.
type UpcomingOutput struct {
	From       string            `json:"from" doc:"The as-of date (included)."`
	To         string            `json:"to" doc:"The as-of date + days_ahead (included)."`
	Actions    []ActionOut       `json:"actions"`
	Counts     map[string]int    `json:"counts" doc:"Actions per type."`
	Provenance agents.Provenance `json:"provenance"`
}

// Upcoming implements corporate_actions.upcoming.
func (a *Harvester) Upcoming(ctx context.Context, c *agents.Call, in UpcomingInput) (UpcomingOutput, error) {
	from, err := a.asOfDate(c)
	if err != nil {
		return UpcomingOutput{}, err
	}
	to := from.AddDate(0, 0, in.DaysAhead)
	out := UpcomingOutput{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Actions: []ActionOut{},
		Counts: map[string]int{storage.ActionDividend: 0, storage.ActionSplit: 0, storage.ActionEarnings: 0}}
	out.Provenance = c.Provenance("stored corporate_actions with an event date in [as-of date, as-of date + days_ahead]",
		"event date = ex-date of dividends and splits, report date of earnings")
	secs, err := loadSecurities(ctx, c.DB, in.Positions)
	if err != nil {
		return out, err
	}
	ids := make([]uuid.UUID, len(secs))
	for i, s := range secs {
		ids[i] = s.ID
	}
	acts, err := storage.ListCorporateActions(ctx, c.DB, ids, []string{storage.ActionDividend, storage.ActionSplit, storage.ActionEarnings}, from, to)
	if err != nil {
		return out, err
	}
	for _, x := range acts {
		out.Actions = append(out.Actions, actionOut(x))
		out.Counts[x.Type]++
	}
	return out, nil
}
