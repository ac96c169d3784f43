package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// DefaultDaRDraws is the number of Monte Carlo draws when the caller gives
// none (DOMAIN.md, macro.compute_dar).
const DefaultDaRDraws = 10000

// DaRQuantileMethod names the quantile definition used by both DaR methods:
// Hyndman & Fan (1996) type 7, linear interpolation between order
// statistics at position (n−1)·p — the default of numpy.quantile and R's
// quantile(). It is reported in every result.
const DaRQuantileMethod = "type7_linear"

// darSeedStream is the fixed second PCG word, so that the single recorded
// seed is enough to reproduce a Monte Carlo run.
const darSeedStream = 0x6461727374726d31

// DaRMethod says how the horizon returns behind a DaR figure were produced.
type DaRMethod string

// DaR methods, as stored in dar_history.method.
const (
	DaRMonteCarlo DaRMethod = "monte_carlo"
	DaRScenarios  DaRMethod = "scenarios"
)

// MonteCarloDaRInput describes a portfolio in factor space for
// MonteCarloDaR.
type MonteCarloDaRInput struct {
	// Weights are position weights as decimals of portfolio market value
	// (0.05 = 5 %); WeightsFromValues converts market values. They need not
	// sum to 1 (cash, leverage).
	Weights []float64
	// Betas is positions × factors: β_if, the return of position i per unit
	// move of factor f.
	Betas mat.Matrix
	// FactorCov is the daily factor covariance; it is scaled by HorizonDays.
	FactorCov mat.Symmetric
	// FactorMean is the expected daily factor move; nil means zero. It is
	// scaled by HorizonDays.
	FactorMean []float64
	// HorizonDays is the horizon h in trading days (≥ 1).
	HorizonDays int
	// Confidence c in (0, 1), e.g. 0.95; the loss is read at the 1 − c
	// quantile.
	Confidence float64
	// Draws is the number of simulations; 0 means DefaultDaRDraws.
	Draws int
	// Seed seeds the PCG source (with a fixed stream word); the same seed
	// and inputs give the same result.
	Seed uint64
	// PortfolioValue is the portfolio's market value (not cost), used for
	// the amount.
	PortfolioValue float64
}

// DaRResult is a drawdown-at-risk figure and what it was computed from.
//
// Sign convention: QuantileReturn is the signed (1 − c) quantile of horizon
// returns (the left tail); DaR = −QuantileReturn is the loss as a positive
// fraction of portfolio value, and Amount = DaR × PortfolioValue. DaR is
// negative only when even the left tail is a gain, and is reported as such
// rather than hidden.
type DaRResult struct {
	Method         DaRMethod
	Confidence     float64
	HorizonDays    int // 0 for scenarios
	Draws          int // simulations, or number of scenario outcomes
	Seed           uint64
	QuantileProb   float64 // 1 − Confidence
	QuantileMethod string  // DaRQuantileMethod
	QuantileReturn float64
	DaR            float64
	Amount         float64
	// MeanReturn and StdReturn (ddof 1) describe the horizon returns.
	MeanReturn float64
	StdReturn  float64
}

// WeightsFromValues turns position market values into weights and returns
// their total. Negative values (short positions) are allowed; a total that
// is not positive is an error wrapping ErrInvalid, because weights of a
// zero or net-short book have no meaningful denominator.
func WeightsFromValues(values []float64) ([]float64, float64, error) {
	if len(values) == 0 {
		return nil, 0, fmt.Errorf("weights from values: %w", ErrEmpty)
	}
	if !finite(values...) {
		return nil, 0, fmt.Errorf("weights from values: non-finite value: %w", ErrInvalid)
	}
	total := 0.0
	for _, v := range values {
		total += v
	}
	if total <= 0 {
		return nil, 0, fmt.Errorf("weights from values: total %g is not positive: %w", total, ErrInvalid)
	}
	w := make([]float64, len(values))
	for i, v := range values {
		w[i] = v / total
	}
	return w, total, nil
}

// MonteCarloDaR simulates horizon factor moves from N(h·μ, h·Σ) and reads
// the loss at the (1 − c) quantile of the portfolio returns
// r = Σ_i w_i Σ_f β_if · move_f. Scaling the daily covariance by h assumes
// independent daily moves (square-root-of-time). The result is
// deterministic for a given seed.
func MonteCarloDaR(in MonteCarloDaRInput) (DaRResult, error) {
	if err := darCheckConfidence(in.Confidence); err != nil {
		return DaRResult{}, fmt.Errorf("monte carlo dar: %w", err)
	}
	if in.HorizonDays < 1 {
		return DaRResult{}, fmt.Errorf("monte carlo dar: horizon %d days: %w", in.HorizonDays, ErrInvalid)
	}
	draws := in.Draws
	if draws == 0 {
		draws = DefaultDaRDraws
	}
	if draws < 2 {
		return DaRResult{}, fmt.Errorf("monte carlo dar: %d draws: %w", draws, ErrInvalid)
	}
	if !finite(in.PortfolioValue) || in.PortfolioValue < 0 {
		return DaRResult{}, fmt.Errorf("monte carlo dar: portfolio value %g: %w", in.PortfolioValue, ErrInvalid)
	}
	if len(in.Weights) == 0 {
		return DaRResult{}, fmt.Errorf("monte carlo dar: no positions: %w", ErrEmpty)
	}
	if !finite(in.Weights...) {
		return DaRResult{}, fmt.Errorf("monte carlo dar: non-finite weight: %w", ErrInvalid)
	}
	if in.Betas == nil || in.FactorCov == nil {
		return DaRResult{}, fmt.Errorf("monte carlo dar: betas and factor covariance are required: %w", ErrInvalid)
	}
	nPos, nFac := in.Betas.Dims()
	if nPos != len(in.Weights) {
		return DaRResult{}, fmt.Errorf("monte carlo dar: %d weights, betas have %d rows: %w", len(in.Weights), nPos, ErrLength)
	}
	if d := in.FactorCov.SymmetricDim(); d != nFac {
		return DaRResult{}, fmt.Errorf("monte carlo dar: betas have %d factors, covariance is %d×%d: %w", nFac, d, d, ErrLength)
	}
	if in.FactorMean != nil && len(in.FactorMean) != nFac {
		return DaRResult{}, fmt.Errorf("monte carlo dar: factor mean has %d elements, want %d: %w", len(in.FactorMean), nFac, ErrLength)
	}

	// Net factor exposure e_f = Σ_i w_i β_if; the portfolio return of a draw
	// is then e · move, the same sum regrouped.
	exposure := make([]float64, nFac)
	for i, w := range in.Weights {
		for f := range nFac {
			b := in.Betas.At(i, f)
			if !finite(b) {
				return DaRResult{}, fmt.Errorf("monte carlo dar: beta (%d,%d) is not finite: %w", i, f, ErrInvalid)
			}
			exposure[f] += w * b
		}
	}

	h := float64(in.HorizonDays)
	cov := mat.NewSymDense(nFac, nil)
	cov.ScaleSym(h, in.FactorCov)
	var mean []float64
	if in.FactorMean != nil {
		mean = make([]float64, nFac)
		for f, m := range in.FactorMean {
			mean[f] = m * h
		}
	}
	mvn, err := NewMultivariateNormal(mean, cov)
	if err != nil {
		return DaRResult{}, fmt.Errorf("monte carlo dar: factor covariance: %w", err)
	}

	rng := rand.New(rand.NewPCG(in.Seed, darSeedStream))
	returns := make([]float64, draws)
	move := make([]float64, nFac)
	scratch := make([]float64, nFac)
	for k := range returns {
		mvn.Draw(rng, move, scratch)
		r := 0.0
		for f, e := range exposure {
			r += e * move[f]
		}
		returns[k] = r
	}
	res, err := darFromReturns(returns, in.Confidence, in.PortfolioValue)
	if err != nil {
		return DaRResult{}, fmt.Errorf("monte carlo dar: %w", err)
	}
	res.Method = DaRMonteCarlo
	res.HorizonDays = in.HorizonDays
	res.Seed = in.Seed
	return res, nil
}

// ScenarioDaR reads the loss at the (1 − c) quantile of scenario outcome
// returns (one portfolio return per scenario, already at the scenario's
// horizon), with the same quantile definition as MonteCarloDaR. At least
// two outcomes are required.
func ScenarioDaR(outcomes []float64, confidence, portfolioValue float64) (DaRResult, error) {
	if err := darCheckConfidence(confidence); err != nil {
		return DaRResult{}, fmt.Errorf("scenario dar: %w", err)
	}
	if len(outcomes) < 2 {
		return DaRResult{}, fmt.Errorf("scenario dar: %d outcomes: %w", len(outcomes), ErrEmpty)
	}
	if !finite(outcomes...) {
		return DaRResult{}, fmt.Errorf("scenario dar: non-finite outcome: %w", ErrInvalid)
	}
	if !finite(portfolioValue) || portfolioValue < 0 {
		return DaRResult{}, fmt.Errorf("scenario dar: portfolio value %g: %w", portfolioValue, ErrInvalid)
	}
	res, err := darFromReturns(slices.Clone(outcomes), confidence, portfolioValue)
	if err != nil {
		return DaRResult{}, fmt.Errorf("scenario dar: %w", err)
	}
	res.Method = DaRScenarios
	return res, nil
}

func darCheckConfidence(c float64) error {
	if !finite(c) || c <= 0 || c >= 1 {
		return fmt.Errorf("confidence %g outside (0, 1): %w", c, ErrInvalid)
	}
	return nil
}

// darFromReturns sorts returns in place and fills the quantile fields.
func darFromReturns(returns []float64, confidence, value float64) (DaRResult, error) {
	mean, err := Mean(returns)
	if err != nil {
		return DaRResult{}, err
	}
	sd, err := StdDev(returns)
	if err != nil {
		return DaRResult{}, err
	}
	slices.Sort(returns)
	p := 1 - confidence
	q := darQuantileType7(returns, p)
	loss := -q
	return DaRResult{
		Confidence:     confidence,
		Draws:          len(returns),
		QuantileProb:   p,
		QuantileMethod: DaRQuantileMethod,
		QuantileReturn: q,
		DaR:            loss,
		Amount:         loss * value,
		MeanReturn:     mean,
		StdReturn:      sd,
	}, nil
}

// darQuantileType7 is the Hyndman–Fan type 7 quantile of ascending sorted
// (non-empty) xs at p in [0, 1]: h = (n−1)p, x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
func darQuantileType7(sorted []float64, p float64) float64 {
	n := len(sorted)
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}
