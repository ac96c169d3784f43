package quant

import (
	"fmt"
	"math"
	"strconv"
)

// OptTolerance is the tolerance with which the optimisers' results are checked
// against their constraints and with which a constraint is reported as
// binding. The solvers converge well inside it (about 1e-9), so a violation
// larger than this is a solver failure, not rounding.
const OptTolerance = 1e-7

// Constraints describes the long-only portfolio that every optimiser in this
// package must return: weights in [MinWeight, MaxWeight] that sum to 1, sector
// sums at most their caps, and turnover Σ|w − w0| at most TurnoverCap. The zero
// value means long-only, fully invested, nothing else.
type Constraints struct {
	// MinWeight holds a lower bound per asset; nil means DefaultMinWeight for
	// every asset. Bounds below 0 are invalid (long-only).
	MinWeight []float64
	// MaxWeight holds an upper bound per asset; nil means DefaultMaxWeight.
	MaxWeight []float64
	// DefaultMinWeight applies to every asset when MinWeight is nil.
	DefaultMinWeight float64
	// DefaultMaxWeight applies to every asset when MaxWeight is nil; 0 means 1.
	DefaultMaxWeight float64

	// Sector gives each asset's sector as an index into SectorCaps, or -1 for
	// an asset that belongs to no capped sector. nil means no sector caps.
	Sector []int
	// SectorCaps holds the maximum total weight of each sector.
	SectorCaps []float64
	// SectorNames optionally names the sectors for the binding list
	// ("sector_cap[tech]"); without it the index is used.
	SectorNames []string

	// CurrentWeights are the weights held now (w0); required when TurnoverCap
	// is set. They need not sum to 1 (cash may be held).
	CurrentWeights []float64
	// TurnoverCap bounds Σ|w − w0|; 0 means no turnover constraint.
	TurnoverCap float64
}

// OptimizationResult is what every optimiser returns. All figures are
// recomputed from the final weights rather than taken from the solver, so the
// constraint check is a real check.
type OptimizationResult struct {
	// Method names the optimiser: min_variance, max_sharpe, risk_parity, min_cvar.
	Method string
	// Weights are the optimal weights (decimals, sum 1).
	Weights []float64
	// ExpectedReturn is wᵀμ (per period of μ); meaningful only when
	// HasExpectedReturn (MaxSharpe, MinCVaR: mean scenario return).
	ExpectedReturn    float64
	HasExpectedReturn bool
	// Volatility is √(wᵀΣw) in the units of the covariance; for MinCVaR the
	// sample standard deviation (ddof 1) of the portfolio scenario returns.
	Volatility float64
	// Sharpe is (wᵀμ − rf)/Volatility for MaxSharpe, 0 otherwise.
	Sharpe float64
	// RiskContributions are the fractions of risk each asset carries, summing
	// to 1: wᵢ(Σw)ᵢ / wᵀΣw for the covariance methods, and the Euler
	// decomposition of CVaR over the tail scenarios for MinCVaR.
	RiskContributions []float64
	// VaR and CVaR are the loss quantile and expected tail loss at the
	// requested confidence (MinCVaR only), as positive loss fractions.
	VaR, CVaR float64
	// Turnover is Σ|w − w0| when CurrentWeights were given.
	Turnover float64
	// Binding lists the constraints that hold with equality within
	// OptTolerance: "min_weight[i]", "max_weight[i]", "sector_cap[name]",
	// "turnover". The budget (Σw = 1) always binds and is not listed.
	Binding []string
	// AllConstraintsMet is the result of checking the final weights against
	// every constraint within OptTolerance; Violations says what failed.
	AllConstraintsMet bool
	Violations        []string
	// Iterations counts the solver iterations (ADMM, outer risk-parity steps
	// plus inner ADMM iterations, or simplex solve count).
	Iterations int
	// Note explains anything a caller must know about the answer, such as
	// risk parity being impossible under the constraints.
	Note string
}

// optSpec is Constraints resolved for n assets: every slice has its length.
type optSpec struct {
	n           int
	lo, hi      []float64
	sector      []int
	caps        []float64
	names       []string
	w0          []float64
	turnover    float64
	hasTurnover bool
}

// optResolve validates c for n assets and rejects the infeasibility that can
// be seen without solving anything.
func optResolve(n int, c Constraints) (*optSpec, error) {
	if n == 0 {
		return nil, fmt.Errorf("resolve constraints: no assets: %w", ErrEmpty)
	}
	s := &optSpec{n: n, lo: make([]float64, n), hi: make([]float64, n)}
	switch {
	case c.MinWeight == nil:
		for i := range s.lo {
			s.lo[i] = c.DefaultMinWeight
		}
	case len(c.MinWeight) != n:
		return nil, fmt.Errorf("resolve constraints: %d min weights for %d assets: %w", len(c.MinWeight), n, ErrLength)
	default:
		copy(s.lo, c.MinWeight)
	}
	switch {
	case c.MaxWeight == nil:
		d := c.DefaultMaxWeight
		if d == 0 {
			d = 1
		}
		for i := range s.hi {
			s.hi[i] = d
		}
	case len(c.MaxWeight) != n:
		return nil, fmt.Errorf("resolve constraints: %d max weights for %d assets: %w", len(c.MaxWeight), n, ErrLength)
	default:
		copy(s.hi, c.MaxWeight)
	}
	sumLo, sumHi := 0.0, 0.0
	for i := 0; i < n; i++ {
		if !finite(s.lo[i], s.hi[i]) || s.lo[i] < 0 || s.hi[i] < 0 {
			return nil, fmt.Errorf("resolve constraints: asset %d bounds [%g, %g] must be finite and non-negative (long-only): %w", i, s.lo[i], s.hi[i], ErrInvalid)
		}
		if s.lo[i] > s.hi[i] {
			return nil, fmt.Errorf("resolve constraints: asset %d min weight %g above max weight %g: %w", i, s.lo[i], s.hi[i], ErrInfeasible)
		}
		if s.hi[i] > 1 {
			s.hi[i] = 1
		}
		sumLo += s.lo[i]
		sumHi += s.hi[i]
	}
	if sumLo > 1+1e-12 {
		return nil, fmt.Errorf("resolve constraints: min weights sum to %g > 1: %w", sumLo, ErrInfeasible)
	}
	if sumHi < 1-1e-12 {
		return nil, fmt.Errorf("resolve constraints: max weights sum to %g < 1: %w", sumHi, ErrInfeasible)
	}

	if c.Sector != nil {
		if len(c.Sector) != n {
			return nil, fmt.Errorf("resolve constraints: %d sector labels for %d assets: %w", len(c.Sector), n, ErrLength)
		}
		if c.SectorNames != nil && len(c.SectorNames) != len(c.SectorCaps) {
			return nil, fmt.Errorf("resolve constraints: %d sector names for %d caps: %w", len(c.SectorNames), len(c.SectorCaps), ErrLength)
		}
		s.sector = append([]int(nil), c.Sector...)
		s.caps = append([]float64(nil), c.SectorCaps...)
		s.names = make([]string, len(s.caps))
		for g := range s.caps {
			if !finite(s.caps[g]) || s.caps[g] < 0 {
				return nil, fmt.Errorf("resolve constraints: sector %d cap %g: %w", g, s.caps[g], ErrInvalid)
			}
			if c.SectorNames != nil {
				s.names[g] = c.SectorNames[g]
			} else {
				s.names[g] = strconv.Itoa(g)
			}
		}
		secLo := make([]float64, len(s.caps))
		secHi := make([]float64, len(s.caps))
		reach := 0.0 // the largest total weight the sector caps and max weights allow
		for i, g := range s.sector {
			if g < -1 || g >= len(s.caps) {
				return nil, fmt.Errorf("resolve constraints: asset %d sector %d outside [-1, %d): %w", i, g, len(s.caps), ErrInvalid)
			}
			if g == -1 {
				reach += s.hi[i]
				continue
			}
			secLo[g] += s.lo[i]
			secHi[g] += s.hi[i]
		}
		for g := range s.caps {
			if secLo[g] > s.caps[g]+1e-12 {
				return nil, fmt.Errorf("resolve constraints: sector %s min weights sum to %g above its cap %g: %w", s.names[g], secLo[g], s.caps[g], ErrInfeasible)
			}
			reach += math.Min(secHi[g], s.caps[g])
		}
		if reach < 1-1e-12 {
			return nil, fmt.Errorf("resolve constraints: sector caps and max weights allow at most %g in total < 1: %w", reach, ErrInfeasible)
		}
	}

	if c.TurnoverCap != 0 {
		if !finite(c.TurnoverCap) || c.TurnoverCap < 0 {
			return nil, fmt.Errorf("resolve constraints: turnover cap %g: %w", c.TurnoverCap, ErrInvalid)
		}
		if len(c.CurrentWeights) != n {
			return nil, fmt.Errorf("resolve constraints: turnover cap needs %d current weights, got %d: %w", n, len(c.CurrentWeights), ErrLength)
		}
		s.w0 = append([]float64(nil), c.CurrentWeights...)
		s.turnover = c.TurnoverCap
		s.hasTurnover = true
	}
	if c.CurrentWeights != nil && s.w0 == nil {
		if len(c.CurrentWeights) != n {
			return nil, fmt.Errorf("resolve constraints: %d current weights for %d assets: %w", len(c.CurrentWeights), n, ErrLength)
		}
		s.w0 = append([]float64(nil), c.CurrentWeights...)
	}
	for i, v := range s.w0 {
		if !finite(v) {
			return nil, fmt.Errorf("resolve constraints: current weight %d is not finite: %w", i, ErrInvalid)
		}
	}
	if s.hasTurnover {
		// Every unit by which w0ᵢ lies outside its bounds must be traded, and
		// so must any gap between Σw0 and 1: both are lower bounds on turnover.
		need, sum0 := 0.0, 0.0
		for i, v := range s.w0 {
			need += math.Max(0, math.Max(s.lo[i]-v, v-s.hi[i]))
			sum0 += v
		}
		need = math.Max(need, math.Abs(1-sum0))
		if need > s.turnover+1e-12 {
			return nil, fmt.Errorf("resolve constraints: reaching the bounds needs turnover of at least %g above the cap %g: %w", need, s.turnover, ErrInfeasible)
		}
	}
	return s, nil
}

// optCheck verifies w against every constraint within OptTolerance and lists
// the binding ones; it is computed from the weights alone.
func (s *optSpec) optCheck(w []float64) (binding, violations []string, turnover float64) {
	const tol = OptTolerance
	sum := 0.0
	for i, v := range w {
		if !finite(v) {
			violations = append(violations, fmt.Sprintf("weight[%d] not finite", i))
			continue
		}
		sum += v
		if v < -tol {
			violations = append(violations, fmt.Sprintf("long_only[%d]: %g < 0", i, v))
		}
		if v < s.lo[i]-tol {
			violations = append(violations, fmt.Sprintf("min_weight[%d]: %g < %g", i, v, s.lo[i]))
		}
		if v > s.hi[i]+tol {
			violations = append(violations, fmt.Sprintf("max_weight[%d]: %g > %g", i, v, s.hi[i]))
		}
		if math.Abs(v-s.lo[i]) <= tol {
			binding = append(binding, fmt.Sprintf("min_weight[%d]", i))
		}
		// A max weight of 1 cannot bind without every other weight at 0; it
		// is still reported then, because it is then what stops the weight.
		if math.Abs(s.hi[i]-v) <= tol {
			binding = append(binding, fmt.Sprintf("max_weight[%d]", i))
		}
	}
	if math.Abs(sum-1) > tol {
		violations = append(violations, fmt.Sprintf("budget: weights sum to %.12g", sum))
	}
	if s.sector != nil {
		sec := make([]float64, len(s.caps))
		for i, g := range s.sector {
			if g >= 0 {
				sec[g] += w[i]
			}
		}
		for g, c := range s.caps {
			if sec[g] > c+tol {
				violations = append(violations, fmt.Sprintf("sector_cap[%s]: %g > %g", s.names[g], sec[g], c))
			}
			if math.Abs(c-sec[g]) <= tol {
				binding = append(binding, fmt.Sprintf("sector_cap[%s]", s.names[g]))
			}
		}
	}
	if s.w0 != nil {
		for i, v := range w {
			turnover += math.Abs(v - s.w0[i])
		}
	}
	if s.hasTurnover {
		if turnover > s.turnover+tol {
			violations = append(violations, fmt.Sprintf("turnover: %g > %g", turnover, s.turnover))
		}
		if math.Abs(s.turnover-turnover) <= tol {
			binding = append(binding, "turnover")
		}
	}
	return binding, violations, turnover
}

// optFinish fills the constraint part of r from its weights and turns a
// failed check into an error, so that a result that breaks a constraint is
// never returned as a success.
func (s *optSpec) optFinish(r *OptimizationResult) error {
	r.Binding, r.Violations, r.Turnover = s.optCheck(r.Weights)
	r.AllConstraintsMet = len(r.Violations) == 0
	if !r.AllConstraintsMet {
		return fmt.Errorf("%s: final weights break %v after %d iterations: %w", r.Method, r.Violations, r.Iterations, ErrNoConvergence)
	}
	return nil
}

// optCov validates a covariance matrix and returns it flattened row-major.
func optCov(cov [][]float64) ([]float64, error) {
	n := len(cov)
	if n == 0 {
		return nil, fmt.Errorf("validate covariance: no assets: %w", ErrEmpty)
	}
	flat := make([]float64, n*n)
	for i, row := range cov {
		if len(row) != n {
			return nil, fmt.Errorf("validate covariance: row %d has %d entries, want %d: %w", i, len(row), n, ErrLength)
		}
		for j, v := range row {
			if !finite(v) {
				return nil, fmt.Errorf("validate covariance: entry (%d,%d) not finite: %w", i, j, ErrInvalid)
			}
			flat[i*n+j] = v
		}
	}
	for i := 0; i < n; i++ {
		if flat[i*n+i] <= 0 {
			return nil, fmt.Errorf("validate covariance: variance of asset %d is %g: %w", i, flat[i*n+i], ErrZeroVariance)
		}
		for j := 0; j < i; j++ {
			a, b := flat[i*n+j], flat[j*n+i]
			if math.Abs(a-b) > 1e-10*math.Max(1, math.Sqrt(flat[i*n+i]*flat[j*n+j])) {
				return nil, fmt.Errorf("validate covariance: not symmetric at (%d,%d): %g vs %g: %w", i, j, a, b, ErrInvalid)
			}
		}
	}
	return flat, nil
}

// optRisk returns √(wᵀΣw) and the fractional risk contributions wᵢ(Σw)ᵢ/wᵀΣw.
func optRisk(cov []float64, w []float64) (vol float64, rc []float64, err error) {
	n := len(w)
	sw := make([]float64, n)
	variance := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			sw[i] += cov[i*n+j] * w[j]
		}
		variance += w[i] * sw[i]
	}
	if !(variance > 0) {
		return 0, nil, fmt.Errorf("portfolio variance %g: %w", variance, ErrZeroVariance)
	}
	rc = make([]float64, n)
	for i := range rc {
		rc[i] = w[i] * sw[i] / variance
	}
	return math.Sqrt(variance), rc, nil
}
