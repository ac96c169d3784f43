package macro

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"gonum.org/v1/gonum/mat"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) computeDaR() agents.Def {
	return agents.Write(agents.Meta{
		Name: "macro.compute_dar",
		Description: "Drawdown-at-risk of the portfolio's market value (the run's pack) at confidence c and horizon h: the loss " +
			"at the (1 − c) quantile of horizon returns. monte_carlo (default): 10,000 zero-mean normal draws of the factor " +
			"moves from the daily factor covariance of the current regime (storage.FactorSeries over the lookback, only days " +
			"in that regime when there are enough, else all days; said in the output) scaled by h, portfolio return = Σ weight " +
			"× β × move, the seed recorded; scenarios: the same quantile over the scenario library's outcomes. Betas as " +
			"macro.run_scenario finds them. Upserts dar_history.",
		Reads: []string{"portfolios", "lots", "transactions", "securities", "prices", "fx_rates", "pricing_packs",
			"position_factor_betas", "scenario_shocks", "regime_history", "macro_indicators"},
		Writes: []string{"dar_history"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodeMissingPrice, agents.CodeMissingFX,
			agents.CodePricingPackWarming},
	}, a.ComputeDaR)
}

const (
	// darMinRegimeDays is the fewest days in the current regime for the
	// covariance to use only them.
	darMinRegimeDays = 126
	// darMaxSeed keeps seeds exact in JSON numbers (2^53 − 1).
	darMaxSeed = 1<<53 - 1
)

// Covariance bases.
const (
	darBasisRegime = "regime_days"
	darBasisAll    = "all_days"
)

// DaRInput selects the portfolio, the figure's parameters and, optionally,
// the regime and regression of the same run.
type DaRInput struct {
	PortfolioID  uuid.UUID `json:"portfolio_id" doc:"The portfolio, valued at market with the run's pack."`
	Confidence   float64   `json:"confidence,omitempty" jsonschema:"exclusiveMinimum=0,exclusiveMaximum=1,default=0.95" doc:"c in (0, 1); the loss is read at the 1 − c quantile."`
	HorizonDays  int       `json:"horizon_days,omitempty" jsonschema:"minimum=1,maximum=252,default=21" doc:"h in trading days (> 0); the daily covariance is scaled by h. The scenarios method records it but does not scale the library's shocks."`
	Method       string    `json:"method,omitempty" jsonschema:"enum=monte_carlo|scenarios,default=monte_carlo" doc:"monte_carlo or scenarios."`
	Simulations  int       `json:"simulations,omitempty" jsonschema:"minimum=1000,maximum=200000,default=10000" doc:"Monte Carlo draws."`
	Seed         *int64    `json:"seed,omitempty" jsonschema:"minimum=0,maximum=9007199254740991" doc:"Seed of the draws; absent: derived from the run id (sha256), and recorded either way."`
	LookbackDays int       `json:"lookback_days,omitempty" jsonschema:"minimum=60,maximum=2520,default=756" doc:"Factor days (every factor series observed) up to the as-of date the covariance is estimated on; fewer in the history is insufficient_data."`

	FactorExposures *DaRExposuresInput `json:"factor_exposures,omitempty" doc:"The output of risk.compute_factor_exposures of this run: its positions' betas are used (regression) before the stored rows."`
	Regime          *DaRRegimeInput    `json:"regime,omitempty" doc:"The output of macro.detect_regime of this run; absent: the newest regime_history row on or before the as-of date."`
}

// DaRExposuresInput is what the DaR reads of factor exposures.
type DaRExposuresInput struct {
	PortfolioID uuid.UUID             `json:"portfolio_id,omitempty"`
	AsOfDate    string                `json:"asof_date,omitempty"`
	Positions   []DaRExposurePosition `json:"positions"`
}

// DaRExposurePosition is one position's regression.
type DaRExposurePosition struct {
	SecurityID   uuid.UUID           `json:"security_id"`
	Symbol       string              `json:"symbol,omitempty"`
	Factors      []DaRExposureFactor `json:"factors"`
	Observations int                 `json:"observations,omitempty"`
}

// DaRExposureFactor is one beta.
type DaRExposureFactor struct {
	Factor string  `json:"factor"`
	Beta   float64 `json:"beta"`
}

// DaRRegimeInput is what the DaR reads of a detected regime.
type DaRRegimeInput struct {
	AsOfDate   string  `json:"asof_date,omitempty"`
	Regime     string  `json:"regime" jsonschema:"enum=EARLY_EXPANSION|MID_EXPANSION|LATE_EXPANSION|EARLY_CONTRACTION|DEEP_CONTRACTION"`
	Confidence float64 `json:"confidence,omitempty"`
}

// Validate checks what the schema cannot: the exposures are of the same
// portfolio and give every factor.
func (in DaRInput) Validate() error {
	if e := in.FactorExposures; e != nil {
		if e.PortfolioID != uuid.Nil && e.PortfolioID != in.PortfolioID {
			return agents.FieldError("factor_exposures.portfolio_id", "exposures of portfolio %s, not %s", e.PortfolioID, in.PortfolioID)
		}
		for i, p := range e.Positions {
			if _, err := p.betas(); err != nil {
				return agents.FieldError(fmt.Sprintf("factor_exposures.positions[%d].factors", i), "%v", err)
			}
		}
	}
	return nil
}

// betas turns the factor list into a vector; every factor is needed once.
func (p DaRExposurePosition) betas() (scenShocks, error) {
	var out scenShocks
	seen := [scenNFactors]bool{}
	for _, f := range p.Factors {
		i, ok := scenFactorIndex(f.Factor)
		if !ok {
			return out, fmt.Errorf("%q is not a factor", f.Factor)
		}
		if seen[i] {
			return out, fmt.Errorf("factor %s given twice", f.Factor)
		}
		if !scenFinite(f.Beta) {
			return out, fmt.Errorf("beta of %s is not finite", f.Factor)
		}
		seen[i], out[i] = true, f.Beta
	}
	for i, s := range seen {
		if !s {
			return out, fmt.Errorf("no beta for factor %s", storage.Factors[i].Name)
		}
	}
	return out, nil
}

// DaRRegimeUsed is the regime of the figure.
type DaRRegimeUsed struct {
	Regime     string  `json:"regime"`
	AsOfDate   string  `json:"asof_date"`
	Confidence float64 `json:"confidence"`
	Source     string  `json:"source" doc:"input (macro.detect_regime of this run) or regime_history."`
}

// DaRCovariance says what the Monte Carlo covariance was estimated on.
type DaRCovariance struct {
	Basis          string             `json:"basis" doc:"regime_days (only days whose regime, the newest regime_history row on or before the day, is the current one) or all_days."`
	LookbackDays   int                `json:"lookback_days"`
	DaysAvailable  int                `json:"days_available" doc:"Factor days in the lookback."`
	RegimeDays     int                `json:"regime_days" doc:"Of those, days in the current regime."`
	MinRegimeDays  int                `json:"min_regime_days" doc:"Regime days needed to use only them."`
	DaysUsed       int                `json:"days_used"`
	StartDate      string             `json:"start_date"`
	EndDate        string             `json:"end_date"`
	DailyVol       map[string]float64 `json:"daily_vol" doc:"√ of the diagonal, per factor."`
	Note           string             `json:"note"`
	HorizonScaling string             `json:"horizon_scaling"`
}

// DaRExposure is the portfolio's net exposure to one factor.
type DaRExposure struct {
	Factor   string  `json:"factor"`
	Exposure float64 `json:"exposure" doc:"Σ weight × β."`
}

// DaRPosition is one position's weight and betas.
type DaRPosition struct {
	SecurityID     uuid.UUID       `json:"security_id"`
	Symbol         string          `json:"symbol"`
	MarketValue    decimal.Decimal `json:"market_value"`
	Weight         float64         `json:"weight" doc:"market_value / portfolio_value."`
	BetaSource     string          `json:"beta_source" doc:"regression or heuristic."`
	BetasAsOfDate  string          `json:"betas_asof_date,omitempty"`
	HeuristicClass string          `json:"heuristic_class,omitempty"`
}

// DaROutcome is one library scenario's portfolio return.
type DaROutcome struct {
	ScenarioID string  `json:"scenario_id"`
	Name       string  `json:"name"`
	Return     float64 `json:"return" doc:"Σ weight × β × shock."`
}

// DaROutput is the drawdown-at-risk figure and what it rests on.
type DaROutput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id"`
	BaseCurrency  string    `json:"base_currency"`
	AsOfDate      string    `json:"asof_date"`
	PricingPackID string    `json:"pricing_pack_id"`
	Method        string    `json:"method"`
	Confidence    float64   `json:"confidence"`
	HorizonDays   int       `json:"horizon_days"`

	DaRFraction    float64         `json:"dar_fraction" doc:"The loss at the (1 − c) quantile as a fraction of market value (positive = loss)."`
	DaRAmount      decimal.Decimal `json:"dar_amount" doc:"dar_fraction × portfolio_value, base currency."`
	PortfolioValue decimal.Decimal `json:"portfolio_value" doc:"Market value (positions and cash) with the run's pack; never cost."`
	QuantileProb   float64         `json:"quantile_prob" doc:"1 − c."`
	QuantileReturn float64         `json:"quantile_return" doc:"The signed (1 − c) quantile of the horizon returns = −dar_fraction."`
	QuantileMethod string          `json:"quantile_method"`
	MeanReturn     float64         `json:"mean_return"`
	StdReturn      float64         `json:"std_return" doc:"Sample standard deviation (ddof 1) of the simulated or scenario returns."`
	Simulations    int             `json:"simulations" doc:"Monte Carlo draws, or the number of library scenarios."`
	Seed           *int64          `json:"seed" doc:"The Monte Carlo seed; null for scenarios."`
	SeedSource     string          `json:"seed_source,omitempty" doc:"input or run_id (the first 53 bits of sha256 of \"dawsos.compute_dar/\" + run id)."`

	Regime      DaRRegimeUsed       `json:"regime"`
	Covariance  *DaRCovariance      `json:"covariance,omitempty" doc:"Monte Carlo only."`
	Exposures   []DaRExposure       `json:"exposures"`
	Positions   []DaRPosition       `json:"positions"`
	Outcomes    []DaROutcome        `json:"outcomes" doc:"Scenarios only, worst first."`
	BetaSources ScenarioBetaSources `json:"beta_sources"`
	Provenance  agents.Provenance   `json:"provenance"`
}

// darSeedFromRun derives the default seed from the run id.
func darSeedFromRun(runID string) int64 {
	sum := sha256.Sum256([]byte("dawsos.compute_dar/" + runID))
	return int64(binary.BigEndian.Uint64(sum[:8]) & darMaxSeed)
}

// ComputeDaR implements macro.compute_dar.
func (a *Macro) ComputeDaR(ctx context.Context, c *agents.Call, in DaRInput) (DaROutput, error) {
	var inline *scenInlineBetas
	if e := in.FactorExposures; e != nil {
		inline = &scenInlineBetas{AsOfDate: e.AsOfDate, Betas: map[uuid.UUID]scenShocks{}, Obs: map[uuid.UUID]int{}}
		for _, p := range e.Positions {
			b, err := p.betas()
			if err != nil {
				return DaROutput{}, agents.FieldError("factor_exposures", "%s: %v", p.Symbol, err)
			}
			inline.Betas[p.SecurityID], inline.Obs[p.SecurityID] = b, p.Observations
		}
	}
	book, err := loadScenBook(ctx, c, in.PortfolioID, inline)
	if err != nil {
		return DaROutput{}, fmt.Errorf("drawdown-at-risk of portfolio %s: %w", in.PortfolioID, err)
	}
	regime, err := darRegime(ctx, c, book.AsOf, in.Regime)
	if err != nil {
		return DaROutput{}, err
	}
	v := book.Valuation
	total := v.Total.InexactFloat64()
	weights := make([]float64, len(book.Holdings))
	betas := mat.NewDense(len(book.Holdings), scenNFactors, nil)
	out := DaROutput{PortfolioID: in.PortfolioID, BaseCurrency: v.BaseCurrency, AsOfDate: book.AsOf.Format(time.DateOnly),
		PricingPackID: v.PackID, Method: in.Method, Confidence: in.Confidence, HorizonDays: in.HorizonDays, PortfolioValue: v.Total,
		Regime: regime, Exposures: []DaRExposure{}, Positions: []DaRPosition{}, Outcomes: []DaROutcome{}}
	var exposure scenShocks
	for i, h := range book.Holdings {
		w := h.Pos.MarketValue.Div(v.Total).InexactFloat64()
		weights[i] = w
		for f := range scenNFactors {
			betas.Set(i, f, h.Betas[f])
			exposure[f] += w * h.Betas[f]
		}
		out.Positions = append(out.Positions, DaRPosition{SecurityID: h.Pos.SecurityID, Symbol: h.Pos.Symbol, MarketValue: h.Pos.MarketValue,
			Weight: w, BetaSource: h.Source, BetasAsOfDate: h.BetasAsOf, HeuristicClass: h.HeuristicClass})
		if h.Source == betaSourceRegression {
			out.BetaSources.Regression++
		} else {
			out.BetaSources.Heuristic++
		}
	}
	for f, fd := range storage.Factors {
		out.Exposures = append(out.Exposures, DaRExposure{Factor: fd.Name, Exposure: exposure[f]})
	}

	var res quant.DaRResult
	var method string
	switch in.Method {
	case string(quant.DaRScenarios):
		lib, err := storage.ListScenarioShocks(ctx, c.DB)
		if err != nil {
			return DaROutput{}, err
		}
		if len(lib) < 2 {
			return DaROutput{}, agents.InsufficientData("scenarios in scenario_shocks", len(lib), 2)
		}
		outcomes := make([]float64, len(lib))
		for i, s := range lib {
			outcomes[i] = book.portfolioReturn(s.Shocks)
			out.Outcomes = append(out.Outcomes, DaROutcome{ScenarioID: s.ID, Name: s.Name, Return: outcomes[i]})
		}
		sort.SliceStable(out.Outcomes, func(i, j int) bool {
			if out.Outcomes[i].Return != out.Outcomes[j].Return {
				return out.Outcomes[i].Return < out.Outcomes[j].Return
			}
			return out.Outcomes[i].ScenarioID < out.Outcomes[j].ScenarioID
		})
		res, err = quant.ScenarioDaR(outcomes, in.Confidence, total)
		if err != nil {
			return DaROutput{}, fmt.Errorf("scenario drawdown-at-risk of portfolio %s: %w", in.PortfolioID, err)
		}
		method = fmt.Sprintf("quantile of the %d scenario_shocks outcomes, outcome = Σ weight × β × shock (each scenario at its own "+
			"horizon; horizon_days is recorded, not applied)", len(lib))
	default:
		cov, cv, err := darCovariance(ctx, c, book.AsOf, in.LookbackDays, regime.Regime)
		if err != nil {
			return DaROutput{}, err
		}
		seed := darSeedFromRun(c.Run.RunID)
		out.SeedSource = "run_id"
		if in.Seed != nil {
			seed, out.SeedSource = *in.Seed, "input"
		}
		out.Seed, out.Covariance = &seed, cv
		res, err = quant.MonteCarloDaR(quant.MonteCarloDaRInput{Weights: weights, Betas: betas, FactorCov: cov,
			HorizonDays: in.HorizonDays, Confidence: in.Confidence, Draws: in.Simulations, Seed: uint64(seed), PortfolioValue: total})
		if err != nil {
			return DaROutput{}, fmt.Errorf("monte carlo drawdown-at-risk of portfolio %s: %w", in.PortfolioID, err)
		}
		method = fmt.Sprintf("%d zero-mean multivariate normal draws of %d-day factor moves (daily sample covariance, ddof 1, of %d days, "+
			"%s, × %d), portfolio return = Σ weight × β × move, PCG seed %d", res.Draws, in.HorizonDays, cv.DaysUsed, cv.Basis,
			in.HorizonDays, seed)
	}
	out.DaRFraction, out.QuantileProb, out.QuantileReturn, out.QuantileMethod = res.DaR, res.QuantileProb, res.QuantileReturn, res.QuantileMethod
	out.MeanReturn, out.StdReturn, out.Simulations = res.MeanReturn, res.StdReturn, res.Draws
	out.DaRAmount = v.Total.Mul(scenDec(res.DaR)).Round(scenMoneyPlaces)
	out.Provenance = c.Provenance(method+fmt.Sprintf("; regime %s (%s); weights = market value / portfolio value with pack %s; "+
		"betas: %d regression, %d heuristic", regime.Regime, regime.Source, v.PackID, out.BetaSources.Regression, out.BetaSources.Heuristic),
		"drawdown-at-risk = −(the (1 − c) quantile of horizon returns), Hyndman-Fan type 7; a positive fraction is a loss; on market "+
			"value, never cost; cash has no factor betas; amounts in the base currency")
	out.Provenance.PricingPackID = v.PackID

	details, err := json.Marshal(map[string]any{"quantile_prob": out.QuantileProb, "quantile_return": out.QuantileReturn,
		"quantile_method": out.QuantileMethod, "mean_return": out.MeanReturn, "std_return": out.StdReturn, "regime": out.Regime,
		"covariance": out.Covariance, "exposures": out.Exposures, "beta_sources": out.BetaSources, "seed_source": out.SeedSource})
	if err != nil {
		return DaROutput{}, agents.Wrap(agents.CodeInternal, err, "encode drawdown-at-risk details")
	}
	if err := storage.UpsertDaR(ctx, c.DB, storage.DaRRecord{PortfolioID: in.PortfolioID, AsOfDate: book.AsOf, PackID: v.PackID,
		Method: in.Method, Confidence: in.Confidence, HorizonDays: in.HorizonDays, Regime: regime.Regime, Simulations: res.Draws,
		Seed: out.Seed, DaRFraction: res.DaR, DaRAmount: out.DaRAmount, PortfolioValue: v.Total, BaseCurrency: v.BaseCurrency,
		Details: details}); err != nil {
		return DaROutput{}, err
	}
	return out, nil
}

// darRegime is the regime passed in, else the newest stored one.
func darRegime(ctx context.Context, c *agents.Call, asOf time.Time, in *DaRRegimeInput) (DaRRegimeUsed, error) {
	if in != nil {
		d := in.AsOfDate
		if d == "" {
			d = asOf.Format(time.DateOnly)
		}
		return DaRRegimeUsed{Regime: in.Regime, AsOfDate: d, Confidence: in.Confidence, Source: "input"}, nil
	}
	r, ok, err := storage.RegimeOnOrBefore(ctx, c.DB, asOf)
	if err != nil {
		return DaRRegimeUsed{}, err
	}
	if !ok {
		return DaRRegimeUsed{}, agents.Errorf(agents.CodeInsufficientData,
			"no regime in regime_history on or before %s (run macro.detect_regime, or pass its output as regime)", asOf.Format(time.DateOnly))
	}
	return DaRRegimeUsed{Regime: r.Regime, AsOfDate: r.AsOfDate.Format(time.DateOnly), Confidence: r.Confidence, Source: "regime_history"}, nil
}

// darCovariance estimates the daily factor covariance on the last
// lookback factor days up to asOf: only the days in the current regime
// when there are at least darMinRegimeDays of them, else all days.
func darCovariance(ctx context.Context, c *agents.Call, asOf time.Time, lookback int, regime string) (*mat.SymDense, *DaRCovariance, error) {
	// Calendar days enough for lookback trading days and holidays.
	from := asOf.AddDate(0, 0, -(lookback*3/2 + 30))
	days, err := storage.FactorSeries(ctx, c.DB, from, asOf)
	if err != nil {
		return nil, nil, err
	}
	if len(days) > lookback {
		days = days[len(days)-lookback:]
	}
	if len(days) < lookback {
		return nil, nil, agents.InsufficientData(fmt.Sprintf("factor days (every factor series observed) in the lookback up to %s",
			asOf.Format(time.DateOnly)), len(days), lookback)
	}
	regimes, err := storage.RegimesCovering(ctx, c.DB, days[0].Date, asOf)
	if err != nil {
		return nil, nil, err
	}
	var inRegime []storage.FactorDay
	j := -1
	for _, d := range days {
		for j+1 < len(regimes) && !regimes[j+1].AsOfDate.After(d.Date) {
			j++
		}
		if j >= 0 && regimes[j].Regime == regime {
			inRegime = append(inRegime, d)
		}
	}
	cv := &DaRCovariance{Basis: darBasisAll, LookbackDays: lookback, DaysAvailable: len(days), RegimeDays: len(inRegime),
		MinRegimeDays: darMinRegimeDays, DailyVol: map[string]float64{},
		HorizonScaling: "daily covariance × horizon_days (independent daily moves, square root of time)"}
	used := days
	if len(inRegime) >= darMinRegimeDays {
		used, cv.Basis = inRegime, darBasisRegime
		cv.Note = fmt.Sprintf("only the %d of %d days in regime %s (the regime of a day is the newest regime_history row on or before it)",
			len(inRegime), len(days), regime)
	} else {
		cv.Note = fmt.Sprintf("all %d days: %d in regime %s, fewer than the %d needed to estimate its covariance alone (the regime of a "+
			"day is the newest regime_history row on or before it)", len(days), len(inRegime), regime, darMinRegimeDays)
	}
	cv.DaysUsed, cv.StartDate, cv.EndDate = len(used), used[0].Date.Format(time.DateOnly), used[len(used)-1].Date.Format(time.DateOnly)
	cols := make([][]float64, scenNFactors)
	for f := range cols {
		cols[f] = make([]float64, len(used))
		for i, d := range used {
			cols[f][i] = d.Values[f]
		}
	}
	cov, err := quant.CovarianceMatrix(cols)
	if err != nil {
		return nil, nil, fmt.Errorf("factor covariance over %d days: %w", len(used), err)
	}
	for f, fd := range storage.Factors {
		cv.DailyVol[fd.Name] = sqrtNonNeg(cov.At(f, f))
	}
	return cov, cv, nil
}

// sqrtNonNeg is √x, 0 for the rounding noise of a zero variance.
func sqrtNonNeg(x float64) float64 { return math.Sqrt(math.Max(0, x)) }
