package harvester

import (
	"context"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Harvester) earnings() agents.Def {
	return agents.Stage(agents.Meta{
		Name:        "corporate_actions.earnings",
		Description: "The earnings report dates of the given securities in a date range, from corporate_actions; fetched from FMP first for securities whose last fetch is stale when FMP is configured.",
		Reads:       []string{"securities", "provider_fetches", "corporate_actions"},
		Writes:      []string{"corporate_actions", "provider_fetches"},
		Codes:       []string{agents.CodeNotFound, agents.CodeProviderNotConfigured},
	}, a.Earnings)
}

// Earnings implements corporate_actions.earnings.
func (a *Harvester) Earnings(ctx context.Context, c *agents.Call, in ActionsInput) (ActionsOutput, error) {
	return a.listActions(ctx, c, storage.ActionEarnings, in)
}
