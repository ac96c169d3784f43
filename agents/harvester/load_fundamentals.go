package harvester

import (
	"context"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
)

func (a *Harvester) loadFundamentals() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "fundamentals.load",
		Description: "The rating inputs of a security: its stored annual statement lines, fetched from FMP first when they are " +
			"missing or older than FMP's staleness and FMP is configured; stale stored statements are returned, marked stale, when it is not.",
		Reads:  []string{"securities", "provider_fetches", "fundamentals"},
		Writes: []string{"fundamentals", "provider_fetches"},
		Codes:  []string{agents.CodeNotFound, agents.CodeProviderNotConfigured},
	}, a.LoadFundamentals)
}

// LoadFundamentalsInput names the security.
type LoadFundamentalsInput struct {
	SecurityID uuid.UUID `json:"security_id" doc:"The security."`
	Years      int       `json:"years,omitempty" jsonschema:"minimum=1,maximum=10,default=5" doc:"Fiscal years to return, newest first."`
}

// LoadFundamentals implements fundamentals.load. Without stored statements
// and without an FMP key it fails with provider_not_configured: there is
// nothing to rate, and the key is what would fix it.
func (a *Harvester) LoadFundamentals(ctx context.Context, c *agents.Call, in LoadFundamentalsInput) (FundamentalsOutput, error) {
	return a.statements(ctx, c, in.SecurityID, in.Years, storedWillDo)
}
