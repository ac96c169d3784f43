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

func (a *Analyst) computeFactorExposures() agents.Def {
	return agents.Write(agents.Meta{
		Name: "risk.compute_factor_exposures",
		Description: "OLS of the portfolio's daily TWR returns over the lookback on the seven factor series (storage.Factors): " +
			"per factor β, standard error, t-stat and contribution, α, R², residual volatility; also each held position's " +
			"daily local returns on the same factors. Upserts factor_exposures and position_factor_betas (method regression).",
		Reads:  []string{"portfolios", "portfolio_daily_values", "macro_indicators", "lots", "transactions", "securities", "prices", "pricing_packs", "corporate_actions"},
		Writes: []string{"factor_exposures", "position_factor_betas"},
		Codes:  []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodePricingPackWarming},
	}, a.ComputeFactorExposures)
}

// minFactorObservations is the fewest daily observations a factor
// regression of seven factors and an intercept is run on.
const minFactorObservations = 60

// FactorExposuresInput names a portfolio and a lookback.
type FactorExposuresInput struct {
	PortfolioID  uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	LookbackDays int       `json:"lookback_days,omitempty" jsonschema:"minimum=60,maximum=2520,default=252" doc:"At most this many daily returns up to the run's as-of date; the regression needs at least 60 with factor observations."`
}

// FactorBeta is one factor's line of a regression.
type FactorBeta struct {
	Factor   string  `json:"factor" doc:"real_rates, inflation, credit, usd, equity, commodity or volatility."`
	SeriesID string  `json:"series_id" doc:"The macro series the factor is derived from."`
	Beta     float64 `json:"beta" doc:"Sensitivity of the daily return to the factor's daily value (the factor's units: a change of a rate as a decimal, or a return)."`
	StdError float64 `json:"std_error" doc:"Classical OLS standard error."`
	TStat    float64 `json:"t_stat" doc:"beta / std_error."`
	// FactorMean and the contributions explain the mean return.
	FactorMean         float64 `json:"factor_mean" doc:"Mean daily value of the factor over the sample."`
	Contribution       float64 `json:"contribution" doc:"beta × factor_mean: the factor's part of the mean daily return."`
	ContributionAnnual float64 `json:"contribution_annual" doc:"contribution × 252 (arithmetic annualisation)."`
}

// PositionExposure is one held position's regression.
type PositionExposure struct {
	SecurityID   uuid.UUID    `json:"security_id"`
	Symbol       string       `json:"symbol"`
	Factors      []FactorBeta `json:"factors" doc:"In factor order; contributions use the position's own sample."`
	AlphaDaily   float64      `json:"alpha_daily" doc:"Intercept, per day."`
	RSquared     float64      `json:"r_squared"`
	Observations int          `json:"observations"`
}

// SkippedPosition is a held position without a regression, and why.
type SkippedPosition struct {
	SecurityID uuid.UUID `json:"security_id"`
	Symbol     string    `json:"symbol"`
	Reason     string    `json:"reason"`
}

// FactorExposuresOutput is a portfolio's factor regression and its
// positions'.
type FactorExposuresOutput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id"`
	AsOfDate      string    `json:"asof_date"`
	PricingPackID string    `json:"pricing_pack_id"`
	LookbackDays  int       `json:"lookback_days"`
	Observations  int       `json:"observations" doc:"Daily returns with factor observations that the regression used."`
	StartDate     string    `json:"start_date"`
	EndDate       string    `json:"end_date"`

	Factors          []FactorBeta `json:"factors" doc:"In storage.Factors order."`
	AlphaDaily       float64      `json:"alpha_daily" doc:"Intercept of the regression, per day."`
	Alpha            float64      `json:"alpha" doc:"Annualised: (1 + alpha_daily)^252 − 1."`
	RSquared         float64      `json:"r_squared"`
	AdjRSquared      float64      `json:"adj_r_squared"`
	ResidualVolDaily float64      `json:"residual_vol_daily" doc:"Standard error of the regression, per day."`
	ResidualVol      float64      `json:"residual_vol" doc:"Annualised: residual_vol_daily × √252."`
	MeanDailyReturn  float64      `json:"mean_daily_return" doc:"Mean of the sample's daily returns = alpha_daily + Σ contribution."`

	Positions []PositionExposure `json:"positions" doc:"Held positions (by symbol) regressed on the same factors; their betas are upserted into position_factor_betas."`
	Skipped   []SkippedPosition  `json:"skipped" doc:"Held positions not regressed (too few closes, no variation), with the reason; no row is written for them."`

	Provenance agents.Provenance `json:"provenance"`
}

// ComputeFactorExposures implements risk.compute_factor_exposures.
func (a *Analyst) ComputeFactorExposures(ctx context.Context, c *agents.Call, in FactorExposuresInput) (FactorExposuresOutput, error) {
	asOf, err := c.RequireAsOf()
	if err != nil {
		return FactorExposuresOutput{}, err
	}
	pack, err := runPack(ctx, c)
	if err != nil {
		return FactorExposuresOutput{}, err
	}
	rs, err := portfolioReturns(ctx, c.DB, in.PortfolioID, asOf, in.LookbackDays, minFactorObservations)
	if err != nil {
		return FactorExposuresOutput{}, err
	}
	rets := rs.Returns
	days, err := storage.FactorSeries(ctx, c.DB, rets[0].Date, rets[len(rets)-1].Date)
	if err != nil {
		return FactorExposuresOutput{}, err
	}
	factorOn := make(map[time.Time][]float64, len(days))
	for _, d := range days {
		factorOn[d.Date] = d.Values
	}
	// The sample: the portfolio's returns on dates with every factor, each
	// with the previous valued day (the start of the return's period).
	type obs struct {
		date, prev time.Time
		y          float64
		f          []float64
	}
	var sample []obs
	for i, r := range rets {
		if f, ok := factorOn[r.Date]; ok {
			sample = append(sample, obs{date: r.Date, prev: rs.Values[i].Date, y: r.Return, f: f})
		}
	}
	if len(sample) < minFactorObservations {
		return FactorExposuresOutput{}, agents.InsufficientData(fmt.Sprintf("daily returns of portfolio %s with factor observations up to %s", in.PortfolioID, asOf.Format(time.DateOnly)),
			len(sample), minFactorObservations)
	}
	y := make([]float64, len(sample))
	x := make([][]float64, len(storage.Factors))
	for j := range x {
		x[j] = make([]float64, len(sample))
	}
	for i, o := range sample {
		y[i] = o.y
		for j, v := range o.f {
			x[j][i] = v
		}
	}
	res, err := quant.OLS(y, x)
	if err != nil {
		return FactorExposuresOutput{}, fmt.Errorf("factor regression of portfolio %s over %d days: %w", in.PortfolioID, len(y), err)
	}
	out := FactorExposuresOutput{
		PortfolioID: in.PortfolioID, AsOfDate: asOf.Format(time.DateOnly), PricingPackID: pack.ID, LookbackDays: in.LookbackDays,
		Observations: len(y), StartDate: sample[0].date.Format(time.DateOnly), EndDate: sample[len(sample)-1].date.Format(time.DateOnly),
		Factors: factorBetas(res, x), AlphaDaily: res.Coefficients[0], Alpha: math.Pow(1+res.Coefficients[0], quant.PeriodsPerYear) - 1,
		RSquared: unitInterval(res.R2), AdjRSquared: res.AdjR2, ResidualVolDaily: res.ResidualVol, ResidualVol: res.ResidualVolAnnual,
		Positions: []PositionExposure{}, Skipped: []SkippedPosition{},
		Provenance: c.Provenance("OLS with intercept (QR) of daily TWR returns from the stored daily values on the seven factor series from macro_indicators; "+
			"positions: split-adjusted daily local (price-currency) close returns on the same days",
			"betas per unit of the factor's daily value; classical standard errors; contribution = β × mean daily factor value, annualised ×252 (arithmetic); "+
				"α annualised (1+α_daily)^252 − 1; residual volatility annualised ×√252; R² about the mean"),
	}
	out.MeanDailyReturn, _ = quant.Mean(y)

	// Positions held at the as-of date, on the same days.
	positions, err := storage.OpenPositions(ctx, c.DB, in.PortfolioID, asOf)
	if err != nil {
		return FactorExposuresOutput{}, err
	}
	rows := []storage.PositionFactorBetas{}
	if len(positions) > 0 {
		ids := make([]uuid.UUID, len(positions))
		for i, p := range positions {
			ids[i] = p.SecurityID
		}
		first, last := sample[0].prev, sample[len(sample)-1].date
		hist, err := storage.PriceHistory(ctx, c.DB, ids, first, last)
		if err != nil {
			return FactorExposuresOutput{}, err
		}
		splits, err := storage.Splits(ctx, c.DB, in.PortfolioID, ids, first, last)
		if err != nil {
			return FactorExposuresOutput{}, err
		}
		for _, p := range positions {
			closes := map[time.Time]decimal.Decimal{}
			for _, h := range hist[p.SecurityID] {
				closes[h.Date] = h.Close
			}
			var py []float64
			px := make([][]float64, len(storage.Factors))
			for _, o := range sample {
				c0, ok0 := closes[o.prev]
				c1, ok1 := closes[o.date]
				if !ok0 || !ok1 || !c0.IsPositive() {
					continue
				}
				ratio := decimal.NewFromInt(1)
				for _, s := range splits[p.SecurityID] {
					if s.Date.After(o.prev) && !s.Date.After(o.date) {
						ratio = ratio.Mul(s.Ratio)
					}
				}
				py = append(py, c1.Mul(ratio).InexactFloat64()/c0.InexactFloat64()-1)
				for j, v := range o.f {
					px[j] = append(px[j], v)
				}
			}
			if len(py) < minFactorObservations {
				out.Skipped = append(out.Skipped, SkippedPosition{SecurityID: p.SecurityID, Symbol: p.Symbol,
					Reason: fmt.Sprintf("%d daily closes-to-close returns on the sample's days, need at least %d", len(py), minFactorObservations)})
				continue
			}
			pr, err := quant.OLS(py, px)
			if err != nil {
				out.Skipped = append(out.Skipped, SkippedPosition{SecurityID: p.SecurityID, Symbol: p.Symbol, Reason: "regression: " + err.Error()})
				continue
			}
			pe := PositionExposure{SecurityID: p.SecurityID, Symbol: p.Symbol, Factors: factorBetas(pr, px), AlphaDaily: pr.Coefficients[0],
				RSquared: unitInterval(pr.R2), Observations: len(py)}
			out.Positions = append(out.Positions, pe)
			row := storage.PositionFactorBetas{PortfolioID: in.PortfolioID, SecurityID: p.SecurityID, AsOfDate: asOf,
				Method: storage.BetaMethodRegression, RSquared: pe.RSquared, Observations: pe.Observations}
			for j := range storage.Factors {
				row.Betas[j] = pr.Coefficients[j+1]
			}
			rows = append(rows, row)
		}
	}

	loadings := make(map[string]storage.FactorLoading, len(out.Factors))
	for _, f := range out.Factors {
		loadings[f.Factor] = storage.FactorLoading{Beta: f.Beta, StdError: f.StdError, TStat: f.TStat, FactorMean: f.FactorMean,
			Contribution: f.Contribution, ContributionAnnual: f.ContributionAnnual}
	}
	alpha, r2, rv := out.Alpha, out.RSquared, out.ResidualVol
	if err := storage.UpsertFactorExposure(ctx, c.DB, storage.FactorExposure{
		PortfolioID: in.PortfolioID, AsOfDate: asOf, PackID: pack.ID, LookbackDays: in.LookbackDays, Observations: out.Observations,
		Factors: loadings, Alpha: &alpha, RSquared: &r2, ResidualVol: &rv,
	}); err != nil {
		return FactorExposuresOutput{}, err
	}
	if err := storage.UpsertPositionFactorBetas(ctx, c.DB, rows); err != nil {
		return FactorExposuresOutput{}, err
	}
	return out, nil
}

// factorBetas turns a regression on the factor columns x into factor lines.
func factorBetas(res quant.OLSResult, x [][]float64) []FactorBeta {
	out := make([]FactorBeta, len(storage.Factors))
	for j, f := range storage.Factors {
		m, _ := quant.Mean(x[j])
		b := res.Coefficients[j+1]
		out[j] = FactorBeta{Factor: f.Name, SeriesID: f.SeriesID, Beta: b, StdError: res.StdErrors[j+1], TStat: res.TStats[j+1],
			FactorMean: m, Contribution: b * m, ContributionAnnual: b * m * quant.PeriodsPerYear}
	}
	return out
}

// unitInterval clamps an R² that rounding put a hair outside [0, 1] (the
// table checks the range; with an intercept the true value lies in it).
func unitInterval(r2 float64) float64 {
	return math.Min(1, math.Max(0, r2))
}
