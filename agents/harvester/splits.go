package harvester

import (
	"context"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Harvester) splits() agents.Def {
	return agents.Stage(agents.Meta{
		Name:        "corporate_actions.splits",
		Description: "The splits (ex-date and ratio) of the given securities in a date range, from corporate_actions; fetched from FMP first for securities whose last fetch is stale when FMP is configured.",
		Reads:       []string{"securities", "provider_fetches", "corporate_actions"},
		Writes:      []string{"corporate_actions", "provider_fetches"},
		Codes:       []string{agents.CodeNotFound, agents.CodeProviderNotConfigured},
	}, a.Split)
}

// Split implements corporate_actions.splits.
func (a *Harvester) Split(ctx context.Context, c *agents.Call, in ActionsInput) (ActionsOutput, error) {
	return a.listActions(ctx, c, storage.ActionSplit, in)
}
