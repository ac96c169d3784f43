package quant

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// OLSResult is an ordinary-least-squares fit of y = a + Σ_j β_j·x_j + ε.
//
// Conventions: index 0 of Coefficients, StdErrors and TStats is the
// intercept (per period: daily alpha when y and x are daily returns);
// indices 1..K follow the order of the regressors given to OLS. Standard
// errors are the classical (homoskedastic) ones, σ̂²·(XᵀX)⁻¹ with
// σ̂² = RSS / (N − K − 1). R² is 1 − RSS/TSS with TSS about the mean of y;
// adjusted R² is 1 − (1 − R²)(N − 1)/(N − K − 1).
type OLSResult struct {
	Coefficients []float64
	StdErrors    []float64
	TStats       []float64
	R2           float64
	AdjR2        float64
	// ResidualVol is the standard error of the regression,
	// √(RSS / (N − K − 1)), in the units of y (daily for daily returns).
	ResidualVol float64
	// ResidualVolAnnual is ResidualVol × √252 (DOMAIN.md §1), meaningful
	// when y is a daily series.
	ResidualVolAnnual float64
	Residuals         []float64
	// N is the number of observations, K the number of regressors
	// excluding the intercept.
	N, K int
}

// olsSingularTol is the smallest diagonal of R, after every design column
// is scaled to unit length, that still counts as an independent regressor:
// below it a column is a linear combination of the others to within about
// 1e-10 of its length, and the coefficients would be noise.
const olsSingularTol = 1e-10

// OLS regresses y on the regressors x (column series, x[j] the j-th factor,
// each as long as y) with an intercept. It is used for factor exposures of
// daily portfolio returns on factor return series.
//
// The fit uses a Householder QR factorisation of the design matrix with its
// columns scaled to unit norm, which keeps ill-conditioned designs (such as
// NIST's Longley data) accurate where normal equations would lose half the
// digits. A design whose columns are collinear is an error wrapping
// ErrSingular; fewer than K+2 observations wrap ErrEmpty; a constant y or an
// exact fit (no residual variance, so no standard errors) wraps
// ErrZeroVariance.
func OLS(y []float64, x [][]float64) (OLSResult, error) {
	n, k := len(y), len(x)
	p := k + 1
	if n < p+1 {
		return OLSResult{}, fmt.Errorf("ols with %d observations and %d regressors plus intercept: %w", n, k, ErrEmpty)
	}
	if !finite(y...) {
		return OLSResult{}, fmt.Errorf("ols: y has a non-finite value: %w", ErrInvalid)
	}
	for j, c := range x {
		if len(c) != n {
			return OLSResult{}, fmt.Errorf("ols: regressor %d has %d observations, y has %d: %w", j, len(c), n, ErrLength)
		}
		if !finite(c...) {
			return OLSResult{}, fmt.Errorf("ols: regressor %d has a non-finite value: %w", j, ErrInvalid)
		}
	}

	// Design matrix with unit-norm columns; scale[j] undoes it afterwards.
	design := mat.NewDense(n, p, nil)
	scale := make([]float64, p)
	scale[0] = math.Sqrt(float64(n))
	for i := range n {
		design.Set(i, 0, 1/scale[0])
	}
	for j, c := range x {
		norm := 0.0
		for _, v := range c {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			return OLSResult{}, fmt.Errorf("ols: regressor %d is all zeros: %w", j, ErrSingular)
		}
		scale[j+1] = norm
		for i, v := range c {
			design.Set(i, j+1, v/norm)
		}
	}

	var qr mat.QR
	qr.Factorize(design)
	var r mat.Dense
	qr.RTo(&r)
	for j := range p {
		if math.Abs(r.At(j, j)) < olsSingularTol {
			return OLSResult{}, fmt.Errorf("ols: design column %d (0 is the intercept) is collinear with earlier columns: %w", j, ErrSingular)
		}
	}

	var gamma mat.Dense
	if err := qr.SolveTo(&gamma, false, mat.NewVecDense(n, append([]float64(nil), y...))); err != nil {
		return OLSResult{}, fmt.Errorf("ols: solve least squares: %w", ErrSingular)
	}
	coef := make([]float64, p)
	for j := range p {
		coef[j] = gamma.At(j, 0) / scale[j]
	}

	// Residuals from the unscaled data, so they carry no scaling round-off.
	resid := make([]float64, n)
	rss, ybar := 0.0, 0.0
	for _, v := range y {
		ybar += v
	}
	ybar /= float64(n)
	tss := 0.0
	for i := range n {
		fit := coef[0]
		for j, c := range x {
			fit += coef[j+1] * c[i]
		}
		resid[i] = y[i] - fit
		rss += resid[i] * resid[i]
		d := y[i] - ybar
		tss += d * d
	}
	if tss == 0 {
		return OLSResult{}, fmt.Errorf("ols: y is constant, R² undefined: %w", ErrZeroVariance)
	}
	df := float64(n - p)
	sigma2 := rss / df
	// Residuals at rounding level (R² = 1 to about 20 digits) mean an exact
	// fit: standard errors would be rounding noise, so refuse them.
	if rss <= 1e-20*tss {
		return OLSResult{}, fmt.Errorf("ols: exact fit, no residual variance for standard errors: %w", ErrZeroVariance)
	}

	// (XᵀX)⁻¹ = R⁻¹R⁻ᵀ in scaled coordinates; only its diagonal is needed.
	rt := mat.NewTriDense(p, mat.Upper, nil)
	for i := range p {
		for j := i; j < p; j++ {
			rt.SetTri(i, j, r.At(i, j))
		}
	}
	var rinv mat.TriDense
	if err := rinv.InverseTri(rt); err != nil {
		return OLSResult{}, fmt.Errorf("ols: invert R: %v: %w", err, ErrSingular)
	}
	se := make([]float64, p)
	tstat := make([]float64, p)
	for j := range p {
		v := 0.0
		for c := j; c < p; c++ {
			e := rinv.At(j, c)
			v += e * e
		}
		se[j] = math.Sqrt(sigma2*v) / scale[j]
		tstat[j] = coef[j] / se[j]
	}

	r2 := 1 - rss/tss
	resVol := math.Sqrt(sigma2)
	return OLSResult{
		Coefficients:      coef,
		StdErrors:         se,
		TStats:            tstat,
		R2:                r2,
		AdjR2:             1 - (1-r2)*float64(n-1)/df,
		ResidualVol:       resVol,
		ResidualVolAnnual: resVol * math.Sqrt(PeriodsPerYear),
		Residuals:         resid,
		N:                 n,
		K:                 k,
	}, nil
}
