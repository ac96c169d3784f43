package analyst

import (
	"context"
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
)

func (a *Analyst) computeSharpe() agents.Def {
	return agents.Read(agents.Meta{
		Name: "metrics.compute_sharpe",
		Description: "Sharpe ratio of the portfolio's daily TWR series over the last lookback_days trading days against the configured " +
			"annual risk-free rate, with the annualised volatility and the number of observations.",
		Reads: []string{"portfolios", "portfolio_daily_values"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData},
	}, a.ComputeSharpe)
}

// SharpeInput asks for the Sharpe ratio over a lookback.
type SharpeInput struct {
	PortfolioID  uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	LookbackDays int       `json:"lookback_days,omitempty" jsonschema:"minimum=2,maximum=2520,default=252" doc:"Trading days (daily returns) to use."`
	RequireFull  bool      `json:"require_full,omitempty" doc:"Fail with insufficient_data when the history has fewer daily returns than lookback_days, instead of computing over the shorter history."`
}

// SharpeOutput is the Sharpe ratio of a window.
type SharpeOutput struct {
	PortfolioID uuid.UUID `json:"portfolio_id"`
	LookbackWindow
	Sharpe       float64 `json:"sharpe" doc:"mean(r − rf)/std(r − rf) × √252, rf the daily risk-free rate."`
	Volatility   float64 `json:"volatility" doc:"Annualised volatility of the daily returns: sample standard deviation (ddof 1) × √252."`
	Observations int     `json:"observations" doc:"Daily returns used."`
	// The risk-free rate, annual and per day.
	RiskFreeRate     float64           `json:"risk_free_rate" doc:"The configured annual risk-free rate, a decimal."`
	RiskFreeDaily    float64           `json:"risk_free_daily" doc:"The per-day rate, (1+risk_free_rate)^(1/252) − 1."`
	MeanExcessDaily  float64           `json:"mean_excess_daily" doc:"The mean daily excess return, mean(r − rf)."`
	AnnualizedReturn float64           `json:"annualized_return" doc:"The compound annual growth of the daily returns, Π(1+rᵢ)^(252/n) − 1."`
	Provenance       agents.Provenance `json:"provenance"`
}

const sharpeConvention = "daily TWR returns; 252 periods a year; rf per day (1+rf)^(1/252) − 1; Sharpe = mean(r − rf)/std(r − rf) × √252 " +
	"with the sample standard deviation (ddof 1); volatility = std(r) × √252"

// ComputeSharpe implements metrics.compute_sharpe.
func (a *Analyst) ComputeSharpe(ctx context.Context, c *agents.Call, in SharpeInput) (SharpeOutput, error) {
	out := SharpeOutput{PortfolioID: in.PortfolioID, RiskFreeRate: a.deps.RiskFreeRate}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	s, err := portfolioReturns(ctx, c.DB, in.PortfolioID, asOf, in.LookbackDays, minReturns(in.RequireFull, in.LookbackDays, 2))
	if err != nil {
		return out, err
	}
	out.LookbackWindow = windowOf(s, in.LookbackDays)
	r := s.Floats()
	out.Observations = len(r)
	what := fmt.Sprintf("sharpe ratio of portfolio %s from %s to %s", in.PortfolioID, out.StartDate, out.EndDate)
	if out.Sharpe, err = quant.Sharpe(r, a.deps.RiskFreeRate); err != nil {
		return out, fmt.Errorf("%s: %w", what, err)
	}
	if out.Volatility, err = quant.AnnualVolatility(r); err != nil {
		return out, fmt.Errorf("%s: %w", what, err)
	}
	if out.AnnualizedReturn, err = quant.AnnualReturn(r); err != nil {
		return out, fmt.Errorf("%s: %w", what, err)
	}
	out.RiskFreeDaily = math.Pow(1+a.deps.RiskFreeRate, 1.0/quant.PeriodsPerYear) - 1
	sum := 0.0
	for _, x := range r {
		sum += x - out.RiskFreeDaily
	}
	out.MeanExcessDaily = sum / float64(len(r))
	out.Provenance = c.ProvenanceAt("", asOf, "quant.Sharpe and quant.AnnualVolatility over the daily TWR series of portfolio_daily_values", sharpeConvention)
	return out, nil
}
