package harvester

import (
	"context"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
)

func (a *Harvester) fetchFundamentals() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "provider.fetch_fundamentals",
		Description: "A security's annual statements from FMP (income, balance sheet, cash flow) stored in fundamentals with source " +
			"and fetch time; while the last fetch is younger than FMP's staleness the stored rows answer without a call.",
		Reads:  []string{"securities", "provider_fetches", "fundamentals"},
		Writes: []string{"fundamentals", "provider_fetches"},
		Codes:  []string{agents.CodeNotFound, agents.CodeProviderNotConfigured},
	}, a.FetchFundamentals)
}

// FetchFundamentalsInput names the security.
type FetchFundamentalsInput struct {
	SecurityID uuid.UUID `json:"security_id" doc:"The security (an equity: providers have no statements of funds)."`
	Years      int       `json:"years,omitempty" jsonschema:"minimum=1,maximum=10,default=5" doc:"Fiscal years to fetch and return, newest first."`
}

// FetchFundamentals implements provider.fetch_fundamentals.
func (a *Harvester) FetchFundamentals(ctx context.Context, c *agents.Call, in FetchFundamentalsInput) (FundamentalsOutput, error) {
	return a.statements(ctx, c, in.SecurityID, in.Years, mustFetch)
}
