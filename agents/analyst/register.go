package analyst

import "github.com/dawsos/dawsos/agents"

// Register adds every capability of the agent to r.
func Register(r *agents.Registry, a *Analyst) {
	agents.Register(r, agents.Meta{
		Name: "ledger.positions", Agent: Agent,
		Description: "Open positions aggregated per security from the portfolio's lots as of the run's date, optionally with per-lot detail.",
		Reads:       []string{"portfolios", "lots", "securities"},
	}, a.Positions)
	agents.Register(r, agents.Meta{
		Name: "pricing.apply_pack", Agent: Agent,
		Description: "Values given positions with a pricing pack's closes and FX rates: local value, market value in the base currency, unrealised P&L, weight, total.",
		Reads:       []string{"prices", "fx_rates", "pricing_packs"},
	}, a.ApplyPack)
	agents.Register(r, agents.Meta{
		Name: "portfolio.get_valued_positions", Agent: Agent,
		Description: "Positions and cash of a portfolio valued with the run's pricing pack, in one step.",
		Reads:       []string{"portfolios", "lots", "transactions", "securities", "prices", "fx_rates", "pricing_packs"},
	}, a.GetValuedPositions)
	agents.Register(r, agents.Meta{
		Name: "portfolio.sector_allocation", Agent: Agent,
		Description: "Value and weight per sector (from securities.sector) of valued positions, cash as its own line.",
	}, a.SectorAllocation)
}
