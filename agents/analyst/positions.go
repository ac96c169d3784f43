package analyst

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// PositionsInput asks for a portfolio's open positions.
type PositionsInput struct {
	PortfolioID uuid.UUID `json:"portfolio_id"`
	// IncludeLots adds the open lots behind each position.
	IncludeLots bool `json:"include_lots,omitempty"`
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
func (a *Analyst) Positions(ctx context.Context, rc agents.RunContext, in PositionsInput) (PositionsOutput, error) {
	asOf, err := rc.AsOf()
	if err != nil {
		return PositionsOutput{}, err
	}
	out := PositionsOutput{PortfolioID: in.PortfolioID, AsOfDate: rc.AsOfDate, Positions: []Position{}}
	err = a.db.Tx(ctx, func(tx pgx.Tx) error {
		p, err := storage.GetPortfolio(ctx, tx, in.PortfolioID)
		if err != nil {
			return err
		}
		out.BaseCurrency = p.BaseCurrency
		ps, err := storage.OpenPositions(ctx, tx, in.PortfolioID, asOf)
		if err != nil {
			return err
		}
		for _, p := range ps {
			out.Positions = append(out.Positions, positionOut(p))
		}
		if !in.IncludeLots {
			return nil
		}
		lots, err := storage.LotsAsOf(ctx, tx, in.PortfolioID, asOf)
		if err != nil {
			return err
		}
		for _, l := range lots {
			out.Lots = append(out.Lots, LotDetail{
				LotID: l.ID, SecurityID: l.SecurityID, Symbol: l.Symbol, Acquired: l.AcquiredDate.Format(time.DateOnly),
				QuantityOpen: l.QuantityOpen, CostPerShare: l.CostPerShare, CostBasis: l.CostBasisOpen, Currency: l.Currency,
			})
		}
		return nil
	})
	if err != nil {
		return PositionsOutput{}, agents.FromStorage(err, "positions of portfolio %s", in.PortfolioID)
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
