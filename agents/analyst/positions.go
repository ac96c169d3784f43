package analyst

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) positions() agents.Def {
	return agents.Read(agents.Meta{
		Name:        "ledger.positions",
		Description: "Open positions aggregated per security from the portfolio's lots as of the run's date, optionally with per-lot detail.",
		Reads:       []string{"portfolios", "lots", "securities", "transactions"},
		Codes:       []string{agents.CodeNotFound},
	}, a.Positions)
}

// PositionsInput asks for a portfolio's open positions.
type PositionsInput struct {
	PortfolioID uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	IncludeLots bool      `json:"include_lots,omitempty" doc:"Add the open lots behind each position."`
}

// Position is one security's open quantity and cost.
type Position struct {
	SecurityID uuid.UUID       `json:"security_id"`
	Symbol     string          `json:"symbol"`
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Sector     string          `json:"sector"`
	Country    string          `json:"country"`
	Currency   string          `json:"currency"`
	Quantity   decimal.Decimal `json:"quantity"`
	CostBasis  decimal.Decimal `json:"cost_basis"`
	AvgCost    decimal.Decimal `json:"avg_cost"`
	Lots       int             `json:"lots"`
	Acquired   string          `json:"first_acquired"`
}

// LotDetail is one open lot.
type LotDetail struct {
	LotID        uuid.UUID       `json:"lot_id"`
	SecurityID   uuid.UUID       `json:"security_id"`
	Symbol       string          `json:"symbol"`
	Acquired     string          `json:"acquired"`
	QuantityOpen decimal.Decimal `json:"quantity_open"`
	CostPerShare decimal.Decimal `json:"cost_per_share"`
	CostBasis    decimal.Decimal `json:"cost_basis"`
	Currency     string          `json:"currency"`
}

// PositionsOutput lists the open positions.
type PositionsOutput struct {
	PortfolioID  uuid.UUID   `json:"portfolio_id"`
	BaseCurrency string      `json:"base_currency"`
	AsOfDate     string      `json:"asof_date"`
	Positions    []Position  `json:"positions"`
	Lots         []LotDetail `json:"lots,omitempty"`
}

// Positions implements ledger.positions: the lots open at the end of the
// run's as-of date, aggregated per security.
func (a *Analyst) Positions(ctx context.Context, c *agents.Call, in PositionsInput) (PositionsOutput, error) {
	asOf, err := c.Run.AsOf()
	if err != nil {
		return PositionsOutput{}, err
	}
	out := PositionsOutput{PortfolioID: in.PortfolioID, AsOfDate: c.Run.AsOfDate, Positions: []Position{}}
	p, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return out, err
	}
	out.BaseCurrency = p.BaseCurrency
	ps, err := storage.OpenPositions(ctx, c.DB, in.PortfolioID, asOf)
	if err != nil {
		return out, err
	}
	for _, p := range ps {
		out.Positions = append(out.Positions, positionOut(p))
	}
	if !in.IncludeLots {
		return out, nil
	}
	lots, err := storage.LotsAsOf(ctx, c.DB, in.PortfolioID, asOf)
	if err != nil {
		return out, err
	}
	for _, l := range lots {
		out.Lots = append(out.Lots, LotDetail{
			LotID: l.ID, SecurityID: l.SecurityID, Symbol: l.Symbol, Acquired: l.AcquiredDate.Format(time.DateOnly),
			QuantityOpen: l.QuantityOpen, CostPerShare: l.CostPerShare, CostBasis: l.CostBasisOpen, Currency: l.Currency,
		})
	}
	return out, nil
}

func positionOut(p storage.Position) Position {
	return Position{
		SecurityID: p.SecurityID, Symbol: p.Symbol, Name: p.Name, Type: p.Type, Sector: p.Sector, Country: p.Country,
		Currency: p.Currency, Quantity: p.Quantity, CostBasis: p.CostBasis, AvgCost: p.AvgCost, Lots: p.Lots,
		Acquired: p.FirstAcquired.Format(time.DateOnly),
	}
}
