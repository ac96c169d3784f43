package analyst

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
)

func (a *Analyst) computeTWR() agents.Def {
	return agents.Read(agents.Meta{
		Name: "metrics.compute_twr",
		Description: "Time-weighted return over the last lookback_days trading days, chained from the daily TWR series of the " +
			"portfolio's daily values; total, and annualised with 365-day years when the window is longer than one calendar year.",
		Reads: []string{"portfolios", "portfolio_daily_values"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData},
	}, a.ComputeTWR)
}

// TWRInput asks for the time-weighted return over a lookback.
type TWRInput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	LookbackDays  int       `json:"lookback_days,omitempty" jsonschema:"minimum=1,maximum=2520,default=252" doc:"Trading days (daily returns) to chain."`
	RequireFull   bool      `json:"require_full,omitempty" doc:"Fail with insufficient_data when the history has fewer daily returns than lookback_days, instead of computing over the shorter history."`
	IncludeSeries bool      `json:"include_series,omitempty" doc:"Add the daily returns and the cumulative return of each day (for a performance chart)."`
}

// TWRPoint is one day of the daily TWR series.
type TWRPoint struct {
	Date       string  `json:"date" doc:"The valued day, YYYY-MM-DD."`
	Return     float64 `json:"return" doc:"The day's time-weighted return, a decimal."`
	Cumulative float64 `json:"cumulative" doc:"The return chained from the window's start to this day, a decimal."`
}

// TWROutput is the time-weighted return of a window.
type TWROutput struct {
	PortfolioID uuid.UUID `json:"portfolio_id"`
	LookbackWindow
	// TWR is the headline figure under the calendar rule.
	TWR         float64 `json:"twr" doc:"The return under the calendar rule: total_return when the window spans one calendar year or less, else annualised (365-day years)."`
	Annualized  bool    `json:"annualized" doc:"Whether twr is annualised."`
	TotalReturn float64 `json:"total_return" doc:"The cumulative return of the window, Π(1+rₜ) − 1, never annualised."`
	// Series is empty unless include_series.
	Series     []TWRPoint        `json:"series" doc:"The daily returns, oldest first; empty unless include_series."`
	Provenance agents.Provenance `json:"provenance"`
}

// twrConvention states the flow and annualisation conventions of every
// TWR figure.
const twrConvention = "daily TWR chained geometrically; external flows split the days, inflows at the start of the day and outflows " +
	"at the end: 1+rₜ = (Vₜ + outₜ)/(Vₜ₋₁ + inₜ); not annualised up to one calendar year, annualised with 365-day years beyond"

// ComputeTWR implements metrics.compute_twr.
func (a *Analyst) ComputeTWR(ctx context.Context, c *agents.Call, in TWRInput) (TWROutput, error) {
	out := TWROutput{PortfolioID: in.PortfolioID, Series: []TWRPoint{}}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	s, err := portfolioReturns(ctx, c.DB, in.PortfolioID, asOf, in.LookbackDays, minReturns(in.RequireFull, in.LookbackDays, 1))
	if err != nil {
		return out, err
	}
	out.LookbackWindow = windowOf(s, in.LookbackDays)
	first, last := s.Values[0].Date, s.Values[len(s.Values)-1].Date
	g := 1.0
	for _, r := range s.Returns {
		g *= 1 + r.Return
		if in.IncludeSeries {
			out.Series = append(out.Series, TWRPoint{Date: day(r.Date), Return: r.Return, Cumulative: g - 1})
		}
	}
	if out.TotalReturn, err = quant.ChainReturns(s.Floats()); err != nil {
		return out, fmt.Errorf("twr of portfolio %s: %w", in.PortfolioID, err)
	}
	if out.TWR, out.Annualized, err = quant.AnnualiseCalendarReturn(out.TotalReturn, first, last); err != nil {
		return out, fmt.Errorf("twr of portfolio %s: %w", in.PortfolioID, err)
	}
	out.Provenance = c.ProvenanceAt("", asOf, fmt.Sprintf("quant.DailyTWR over the portfolio_daily_values from %s to %s, chained", day(first), day(last)),
		twrConvention)
	return out, nil
}
