package analyst

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) positionRisk() agents.Def {
	return agents.Read(agents.Meta{
		Name: "position.compute_risk",
		Description: "A held position's risk over the last lookback_days pricing packs, with today's holdings and cash held " +
			"through the window: volatility, β to the portfolio, one-day historical VaR and ES (fraction and base amount), " +
			"marginal and component VaR (historical delta) and the diversification benefit.",
		Reads: []string{"portfolios", "securities", "lots", "transactions", "pricing_packs", "prices", "fx_rates", "corporate_actions"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodeMissingPrice, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.PositionRisk)
}

// PositionRiskInput names a position, a lookback and a confidence.
type PositionRiskInput struct {
	PortfolioID  uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	SecurityID   uuid.UUID `json:"security_id" doc:"The security held."`
	LookbackDays int       `json:"lookback_days,omitempty" jsonschema:"minimum=10,maximum=2520,default=252" doc:"Daily returns in the window ending at the run's pack."`
	Confidence   float64   `json:"confidence,omitempty" jsonschema:"minimum=0.5,maximum=0.999,default=0.95" doc:"VaR and ES confidence, e.g. 0.95."`
}

// PositionRiskOutput is one position's risk within its portfolio.
type PositionRiskOutput struct {
	PortfolioID    uuid.UUID       `json:"portfolio_id"`
	SecurityID     uuid.UUID       `json:"security_id"`
	Symbol         string          `json:"symbol"`
	BaseCurrency   string          `json:"base_currency"`
	StartDate      string          `json:"start_date"`
	EndDate        string          `json:"end_date"`
	Days           int             `json:"days" doc:"Daily returns (scenarios) in the window."`
	Confidence     float64         `json:"confidence"`
	MarketValue    decimal.Decimal `json:"market_value" doc:"At the run's pack, base currency."`
	PortfolioValue decimal.Decimal `json:"portfolio_value" doc:"Positions and cash at the run's pack, base currency."`
	Weight         float64         `json:"weight" doc:"market_value / portfolio_value."`
	Lines          int             `json:"lines" doc:"Positions and cash currencies in the portfolio series."`

	Volatility      float64 `json:"volatility" doc:"Annualised: sample std (ddof 1) of the daily base returns × √252."`
	BetaToPortfolio float64 `json:"beta_to_portfolio" doc:"cov(position, portfolio) / var(portfolio), ddof 1."`
	VaR             float64 `json:"var" doc:"One-day historical VaR of the position's base returns, a loss as a positive fraction."`
	ES              float64 `json:"es" doc:"One-day historical expected shortfall, a positive fraction."`
	VaRAmount       float64 `json:"var_amount" doc:"var × market_value, base currency."`
	ESAmount        float64 `json:"es_amount" doc:"es × market_value, base currency."`

	PortfolioVaR       float64 `json:"portfolio_var" doc:"One-day historical VaR of the portfolio series (today's holdings and cash held through the window)."`
	PortfolioES        float64 `json:"portfolio_es"`
	PortfolioVaRAmount float64 `json:"portfolio_var_amount" doc:"portfolio_var × portfolio_value."`
	PortfolioESAmount  float64 `json:"portfolio_es_amount"`

	MarginalVaR        float64  `json:"marginal_var" doc:"∂portfolio_var/∂weight by historical delta: minus the position's return in the scenario(s) that set the portfolio's VaR quantile, interpolated as the quantile is."`
	ComponentVaR       float64  `json:"component_var" doc:"weight × marginal_var, a fraction of the portfolio; the components of all lines add to portfolio_var."`
	ComponentVaRAmount float64  `json:"component_var_amount" doc:"component_var × portfolio_value."`
	ComponentShare     *float64 `json:"component_share" doc:"component_var / portfolio_var; null when portfolio_var is 0."`
	MarginalVaRBeta    float64  `json:"marginal_var_beta" doc:"beta_to_portfolio × portfolio_var: the covariance (Gaussian Euler) estimate of the marginal VaR, smoother than the historical delta."`

	StandaloneVaRSum               float64  `json:"standalone_var_sum" doc:"Σ over lines of each line's own VaR amount (base cash is 0)."`
	DiversificationBenefit         float64  `json:"diversification_benefit" doc:"standalone_var_sum − portfolio_var_amount, base currency."`
	DiversificationBenefitFraction float64  `json:"diversification_benefit_fraction" doc:"diversification_benefit / portfolio_value."`
	DiversificationRatio           *float64 `json:"diversification_ratio" doc:"diversification_benefit / standalone_var_sum; null when that sum is not positive."`
	PositionDiversification        float64  `json:"position_diversification" doc:"var_amount − component_var_amount: the position's part of the benefit (these add to diversification_benefit over all lines)."`

	Provenance agents.Provenance `json:"provenance"`
}

// riskLine is one line of the portfolio series: a position or a currency's
// cash, its base value at the pack and its daily base returns.
type riskLine struct {
	name    string
	value   float64
	returns []float64
}

// PositionRisk implements position.compute_risk.
func (a *Analyst) PositionRisk(ctx context.Context, c *agents.Call, in PositionRiskInput) (PositionRiskOutput, error) {
	pack, err := runPack(ctx, c)
	if err != nil {
		return PositionRiskOutput{}, err
	}
	h, err := heldPosition(ctx, c.DB, in.PortfolioID, in.SecurityID, pack.Date)
	if err != nil {
		return PositionRiskOutput{}, err
	}
	v, err := storage.ValuePortfolio(ctx, c.DB, in.PortfolioID, pack.ID)
	if err != nil {
		return PositionRiskOutput{}, fmt.Errorf("value portfolio %s with pack %s: %w", in.PortfolioID, pack.ID, err)
	}
	total := v.Total.InexactFloat64()
	if total <= 0 {
		return PositionRiskOutput{}, agents.Errorf(agents.CodeInsufficientData, "portfolio %s is worth %s at pack %s, so it has no weights or VaR fraction",
			in.PortfolioID, v.Total, pack.ID)
	}
	dates, err := windowDates(ctx, c.DB, pack.Date, in.LookbackDays)
	if err != nil {
		return PositionRiskOutput{}, err
	}
	secs := make([]storage.Security, len(v.Positions))
	for i, p := range v.Positions {
		secs[i] = storage.Security{ID: p.SecurityID, Symbol: p.Symbol, Type: p.Type, Currency: p.Currency}
	}
	us, err := loadUnitSeries(ctx, c.DB, in.PortfolioID, secs, v.BaseCurrency, dates)
	if err != nil {
		return PositionRiskOutput{}, err
	}
	n := len(dates) - 1
	var lines []riskLine
	self := -1
	for _, p := range v.Positions {
		if p.SecurityID == in.SecurityID {
			self = len(lines)
		}
		lines = append(lines, riskLine{name: p.Symbol, value: p.MarketValue.InexactFloat64(), returns: us[p.SecurityID].Base})
	}
	if self < 0 {
		return PositionRiskOutput{}, agents.Errorf(agents.CodeNotFound, "position not held: the valuation of portfolio %s with pack %s has no %s",
			in.PortfolioID, pack.ID, h.Security.Symbol)
	}
	for _, cash := range v.Cash {
		r := make([]float64, n)
		if cash.Currency != v.BaseCurrency {
			hist, err := storage.FXHistory(ctx, c.DB, cash.Currency, v.BaseCurrency, dates[0], dates[n])
			if err != nil {
				return PositionRiskOutput{}, err
			}
			byDate := map[time.Time]float64{}
			for _, x := range hist {
				byDate[x.Date] = x.Rate.InexactFloat64()
			}
			for i, d := range dates {
				if _, ok := byDate[d]; !ok {
					return PositionRiskOutput{}, fmt.Errorf("no rate %s/%s on %s (for cash): %w", cash.Currency, v.BaseCurrency, d.Format(time.DateOnly), storage.ErrMissingFX)
				}
				if i > 0 {
					r[i-1] = byDate[d]/byDate[dates[i-1]] - 1
				}
			}
		}
		lines = append(lines, riskLine{name: cash.Currency + " cash", value: cash.BaseValue.InexactFloat64(), returns: r})
	}

	cols := make([][]float64, len(lines))
	weights := make([]float64, len(lines))
	port := make([]float64, n)
	standalone := 0.0
	for j, l := range lines {
		cols[j], weights[j] = l.returns, l.value/total
		for t, r := range l.returns {
			port[t] += weights[j] * r
		}
		sv, err := lineVaR(l, in.Confidence)
		if err != nil {
			return PositionRiskOutput{}, fmt.Errorf("stand-alone VaR of %s: %w", l.name, err)
		}
		standalone += sv
	}
	dec, err := quant.HistoricalVaRDecomposition(cols, weights, in.Confidence)
	if err != nil {
		return PositionRiskOutput{}, fmt.Errorf("portfolio VaR of %s: %w", in.PortfolioID, err)
	}
	portES, err := quant.HistoricalES(port, in.Confidence)
	if err != nil {
		return PositionRiskOutput{}, fmt.Errorf("portfolio ES of %s: %w", in.PortfolioID, err)
	}
	mine := lines[self]
	out := PositionRiskOutput{
		PortfolioID: in.PortfolioID, SecurityID: in.SecurityID, Symbol: h.Security.Symbol, BaseCurrency: v.BaseCurrency,
		StartDate: dates[0].Format(time.DateOnly), EndDate: dates[n].Format(time.DateOnly), Days: n, Confidence: in.Confidence,
		MarketValue: v.Positions[self].MarketValue, PortfolioValue: v.Total, Weight: weights[self], Lines: len(lines),
		PortfolioVaR: dec.VaR, PortfolioES: portES, PortfolioVaRAmount: dec.VaR * total, PortfolioESAmount: portES * total,
		MarginalVaR: dec.Marginal[self], ComponentVaR: dec.Component[self], ComponentVaRAmount: dec.Component[self] * total,
		StandaloneVaRSum: standalone,
		Provenance: c.Provenance("historical simulation over the window's pricing packs: today's positions (pack values) and cash held through the window; "+
			"daily split-adjusted base-currency returns; marginal VaR by historical delta (Euler allocation of the historical VaR), also β × portfolio VaR",
			"one-day VaR and ES as positive loss fractions, quantile interpolated at (n−1)(1−c); amounts = fraction × base value at the pack; "+
				"volatility annualised ×√252 (ddof 1); β = cov/var (ddof 1); diversification benefit = Σ stand-alone VaR amounts − portfolio VaR amount"),
	}
	if out.Volatility, err = quant.AnnualVolatility(mine.returns); err != nil {
		return PositionRiskOutput{}, fmt.Errorf("volatility of %s: %w", mine.name, err)
	}
	if out.BetaToPortfolio, err = quant.Beta(mine.returns, port); err != nil {
		return PositionRiskOutput{}, fmt.Errorf("beta of %s to the portfolio: %w", mine.name, err)
	}
	if out.VaR, err = quant.HistoricalVaR(mine.returns, in.Confidence); err != nil {
		return PositionRiskOutput{}, fmt.Errorf("VaR of %s: %w", mine.name, err)
	}
	if out.ES, err = quant.HistoricalES(mine.returns, in.Confidence); err != nil {
		return PositionRiskOutput{}, fmt.Errorf("ES of %s: %w", mine.name, err)
	}
	out.VaRAmount, out.ESAmount = out.VaR*mine.value, out.ES*mine.value
	out.MarginalVaRBeta = out.BetaToPortfolio * dec.VaR
	if dec.VaR != 0 {
		s := dec.Component[self] / dec.VaR
		out.ComponentShare = &s
	}
	out.DiversificationBenefit = standalone - out.PortfolioVaRAmount
	out.DiversificationBenefitFraction = out.DiversificationBenefit / total
	if standalone > 0 {
		r := out.DiversificationBenefit / standalone
		out.DiversificationRatio = &r
	}
	out.PositionDiversification = out.VaRAmount - out.ComponentVaRAmount
	return out, nil
}

// lineVaR is a line's stand-alone VaR amount: the VaR of its P&L value ×
// return, so a negative value (borrowed cash) loses when its returns rise.
func lineVaR(l riskLine, confidence float64) (float64, error) {
	if l.value == 0 {
		return 0, nil
	}
	r := l.returns
	if l.value < 0 {
		r = make([]float64, len(l.returns))
		for i, x := range l.returns {
			r[i] = -x
		}
	}
	v, err := quant.HistoricalVaR(r, confidence)
	if err != nil {
		return 0, err
	}
	return v * math.Abs(l.value), nil
}
