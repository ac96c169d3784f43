package analyst

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) positionContribution() agents.Def {
	return agents.Read(agents.Meta{
		Name: "position.compute_contribution",
		Description: "A held position's contribution to the portfolio's return over the last lookback_days daily values: " +
			"the sum over days of the position's start-of-day weight × its base-currency return that day, with the " +
			"portfolio return it is part of.",
		Reads: []string{"portfolios", "securities", "lots", "transactions", "pricing_packs", "prices", "fx_rates",
			"corporate_actions", "portfolio_daily_values"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodeMissingPrice, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.PositionContribution)
}

// PositionContributionOutput is one position's contribution.
type PositionContributionOutput struct {
	PortfolioID  uuid.UUID `json:"portfolio_id"`
	SecurityID   uuid.UUID `json:"security_id"`
	Symbol       string    `json:"symbol"`
	BaseCurrency string    `json:"base_currency"`
	StartDate    string    `json:"start_date"`
	EndDate      string    `json:"end_date"`
	Days         int       `json:"days" doc:"Daily returns in the window."`
	DaysHeld     int       `json:"days_held" doc:"Days the position was held at the start of the day (weight > 0)."`

	Contribution float64 `json:"contribution" doc:"Σ over days of weight (start of day) × the position's base-currency return that day, decimal fraction of the portfolio."`
	// PositionReturnBase chains the position's daily base returns.
	PositionReturnBase float64 `json:"position_return_base" doc:"Π(1 + daily base return) − 1 of one share over the window (split-adjusted)."`
	PortfolioReturn    float64 `json:"portfolio_return" doc:"The portfolio's TWR over the same days, chained."`
	// PortfolioReturnArithmetic is what the contributions of every holding
	// and the cash add up to.
	PortfolioReturnArithmetic float64  `json:"portfolio_return_arithmetic" doc:"Σ of the portfolio's daily returns: the sum the daily contributions of all holdings and cash add up to."`
	ShareOfPortfolioReturn    *float64 `json:"share_of_portfolio_return" doc:"contribution / portfolio_return_arithmetic; null when that is 0."`
	StartWeight               float64  `json:"start_weight" doc:"Weight at the end of the window's first day."`
	EndWeight                 float64  `json:"end_weight" doc:"Weight at the end of the window."`
	AverageWeight             float64  `json:"average_weight" doc:"Mean of the daily start-of-day weights."`

	Provenance agents.Provenance `json:"provenance"`
}

// PositionContribution implements position.compute_contribution.
func (a *Analyst) PositionContribution(ctx context.Context, c *agents.Call, in PositionLookbackInput) (PositionContributionOutput, error) {
	pack, err := runPack(ctx, c)
	if err != nil {
		return PositionContributionOutput{}, err
	}
	h, err := heldPosition(ctx, c.DB, in.PortfolioID, in.SecurityID, pack.Date)
	if err != nil {
		return PositionContributionOutput{}, err
	}
	rs, err := portfolioReturns(ctx, c.DB, in.PortfolioID, pack.Date, in.LookbackDays, in.LookbackDays)
	if err != nil {
		return PositionContributionOutput{}, err
	}
	dates := make([]time.Time, len(rs.Values))
	for i, v := range rs.Values {
		dates[i] = v.Date
	}
	us, err := loadUnitSeries(ctx, c.DB, in.PortfolioID, []storage.Security{h.Security}, h.Portfolio.BaseCurrency, dates)
	if err != nil {
		return PositionContributionOutput{}, err
	}
	u := us[h.Security.ID]
	txs, err := securityTxs(ctx, c.DB, in.PortfolioID, in.SecurityID, dates[len(dates)-1])
	if err != nil {
		return PositionContributionOutput{}, err
	}
	qty := quantityHeld(txs, dates)
	value := func(i int) float64 { return qty[i].Mul(u.Closes[i]).Mul(u.Rates[i]).InexactFloat64() }

	n := len(dates) - 1
	weights := make([]float64, n)
	out := PositionContributionOutput{
		PortfolioID: in.PortfolioID, SecurityID: in.SecurityID, Symbol: h.Security.Symbol, BaseCurrency: h.Portfolio.BaseCurrency,
		StartDate: dates[0].Format(time.DateOnly), EndDate: dates[n].Format(time.DateOnly), Days: n,
		Provenance: c.Provenance("daily contributions from the stored daily values and the position's quantity (ledger), closes and rates on each day",
			"contribution = Σₜ wₜ₋₁·rₜ with wₜ₋₁ = position value at the end of day t−1 / (portfolio value then + day t's inflows), "+
				"rₜ the split-adjusted base-currency return of one share (trades count from the close of their day); the sum is arithmetic, "+
				"so contributions of all holdings add to Σ daily portfolio returns, not to the chained TWR; decimal fractions, not annualised"),
	}
	growth, posGrowth := 1.0, 1.0
	for t := 1; t <= n; t++ {
		v := rs.Values
		prev := v[t-1].Total.InexactFloat64()
		if flow := v[t].NetExternalFlow.InexactFloat64(); flow > 0 {
			prev += flow
		}
		if prev <= 0 {
			return PositionContributionOutput{}, agents.Errorf(agents.CodeInsufficientData, "portfolio %s is worth %g at the start of %s, so weights are undefined",
				in.PortfolioID, prev, dates[t].Format(time.DateOnly))
		}
		weights[t-1] = value(t-1) / prev
		if weights[t-1] > 0 {
			out.DaysHeld++
		}
		out.AverageWeight += weights[t-1] / float64(n)
		growth *= 1 + rs.Returns[t-1].Return
		out.PortfolioReturnArithmetic += rs.Returns[t-1].Return
		posGrowth *= 1 + u.Base[t-1]
	}
	contrib, err := quant.ContributionToReturn(weights, u.Base)
	if err != nil {
		return PositionContributionOutput{}, fmt.Errorf("contribution of %s: %w", h.Security.Symbol, err)
	}
	out.Contribution = contrib.Total
	out.PortfolioReturn = growth - 1
	out.PositionReturnBase = posGrowth - 1
	if out.PortfolioReturnArithmetic != 0 {
		s := out.Contribution / out.PortfolioReturnArithmetic
		out.ShareOfPortfolioReturn = &s
	}
	if t0 := rs.Values[0].Total.InexactFloat64(); t0 > 0 {
		out.StartWeight = value(0) / t0
	}
	if tn := rs.Values[n].Total.InexactFloat64(); tn > 0 {
		out.EndWeight = value(n) / tn
	}
	return out, nil
}
