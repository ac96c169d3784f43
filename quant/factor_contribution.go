package quant

import "fmt"

// FactorContribution is one period's return split by a factor model:
// each factor's exposure × that factor's return, and the specific return
// the factors leave unexplained.
type FactorContribution struct {
	// Factors holds exposure × factor return per factor, in input order.
	Factors []float64
	// Common is the sum of Factors, the return the factors explain.
	Common float64
	// Specific is Total − Common, the rest (any intercept α included).
	Specific float64
	Total    float64
}

// ContributionFromFactors splits a period return total by factor
// exposures (β per factor, e.g. from OLS) and the factor returns of the
// same period: contributionₖ = exposureₖ × factorReturnₖ, Common = Σ and
// Specific = total − Common, so the parts add to total by construction.
// This is empyrical's perf_attrib for one period (its common_returns and
// specific_returns; it builds the exposures from positions × loadings
// first); PerformanceAnalytics and Portfolio Performance have no factor
// attribution. The split is per period: over a window, split each period
// and sum the parts (arithmetic, leaving compounding cross-terms
// unattributed) rather than multiplying a window's β by its compounded
// factor returns. No factors at all is defined: everything is specific.
func ContributionFromFactors(total float64, exposures, factorReturns []float64) (FactorContribution, error) {
	if len(exposures) != len(factorReturns) {
		return FactorContribution{}, fmt.Errorf("factor contribution of %d exposures and %d factor returns: %w", len(exposures), len(factorReturns), ErrLength)
	}
	if !finite(total) {
		return FactorContribution{}, fmt.Errorf("factor contribution: total return %g: %w", total, ErrInvalid)
	}
	c := FactorContribution{Factors: make([]float64, len(exposures)), Total: total}
	for k := range exposures {
		if !finite(exposures[k], factorReturns[k]) {
			return FactorContribution{}, fmt.Errorf("factor contribution: factor %d exposure %g, return %g: %w", k, exposures[k], factorReturns[k], ErrInvalid)
		}
		c.Factors[k] = exposures[k] * factorReturns[k]
		c.Common += c.Factors[k]
	}
	c.Specific = total - c.Common
	return c, nil
}
