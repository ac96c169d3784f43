package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// longleyData is the NIST StRD "Longley" linear-regression dataset
// (https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml): columns
// y (total employment), x1 GNP deflator, x2 GNP, x3 unemployed,
// x4 armed forces, x5 population, x6 year; 1947–1962.
var longleyData = [16][7]float64{
	{60323, 83.0, 234289, 2356, 1590, 107608, 1947},
	{61122, 88.5, 259426, 2325, 1456, 108632, 1948},
	{60171, 88.2, 258054, 3682, 1616, 109773, 1949},
	{61187, 89.5, 284599, 3351, 1650, 110929, 1950},
	{63221, 96.2, 328975, 2099, 3099, 112075, 1951},
	{63639, 98.1, 346999, 1932, 3594, 113270, 1952},
	{64989, 99.0, 365385, 1870, 3547, 115094, 1953},
	{63761, 100.0, 363112, 3578, 3350, 116219, 1954},
	{66019, 101.2, 397469, 2904, 3048, 117388, 1955},
	{67857, 104.6, 419180, 2822, 2857, 118734, 1956},
	{68169, 108.4, 442769, 2936, 2798, 120445, 1957},
	{66513, 110.8, 444546, 4681, 2637, 121950, 1958},
	{68655, 112.6, 482704, 3813, 2552, 123366, 1959},
	{69564, 114.2, 502601, 3931, 2514, 125368, 1960},
	{69331, 115.7, 518173, 4806, 2572, 127852, 1961},
	{70551, 116.9, 554894, 4007, 2827, 130081, 1962},
}

// NIST StRD certified values for Longley (same page): B0..B6, their
// standard deviations, the residual standard deviation and R².
var (
	longleyCertCoef = []float64{-3482258.63459582, 15.0618722713733, -0.358191792925910e-01,
		-2.02022980381683, -1.03322686717359, -0.511041056535807e-01, 1829.15146461355}
	longleyCertSE = []float64{890420.383607373, 84.9149257747669, 0.334910077722432e-01,
		0.488399681651699, 0.214274163161675, 0.226073200069370, 455.478499142212}
	longleyCertResidSD = 304.854073561965
	longleyCertR2      = 0.995479004577296
)

func regRelErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

func TestOLSLongleyNIST(t *testing.T) {
	t.Parallel()
	y := make([]float64, len(longleyData))
	x := make([][]float64, 6)
	for j := range x {
		x[j] = make([]float64, len(longleyData))
	}
	for i, row := range longleyData {
		y[i] = row[0]
		for j := range x {
			x[j][i] = row[j+1]
		}
	}
	res, err := OLS(y, x)
	if err != nil {
		t.Fatalf("OLS(Longley): %v", err)
	}
	// Longley is NIST's ill-conditioned "higher difficulty" case. QR on
	// scaled columns agrees to about 1e-11 relative here (observed); 1e-8
	// leaves room for other platforms' rounding yet fails on any wrong digit
	// among the first eight.
	const tol = 1e-8
	for j := range longleyCertCoef {
		if e := regRelErr(res.Coefficients[j], longleyCertCoef[j]); e > tol {
			t.Errorf("B%d = %.15g, want %.15g (NIST certified), rel err %.2g", j, res.Coefficients[j], longleyCertCoef[j], e)
		}
		if e := regRelErr(res.StdErrors[j], longleyCertSE[j]); e > tol {
			t.Errorf("SE(B%d) = %.15g, want %.15g (NIST certified), rel err %.2g", j, res.StdErrors[j], longleyCertSE[j], e)
		}
		if want := longleyCertCoef[j] / longleyCertSE[j]; regRelErr(res.TStats[j], want) > tol {
			t.Errorf("t(B%d) = %.15g, want %.15g (certified B/SE)", j, res.TStats[j], want)
		}
	}
	if e := regRelErr(res.ResidualVol, longleyCertResidSD); e > tol {
		t.Errorf("residual SD = %.15g, want %.15g (NIST certified)", res.ResidualVol, longleyCertResidSD)
	}
	if e := regRelErr(res.R2, longleyCertR2); e > tol {
		t.Errorf("R² = %.15g, want %.15g (NIST certified)", res.R2, longleyCertR2)
	}
	// Adjusted R² from the certified R²: 1 − (1 − R²)(16 − 1)/(16 − 7).
	if want := 1 - (1-longleyCertR2)*15/9; regRelErr(res.AdjR2, want) > tol {
		t.Errorf("adjusted R² = %.15g, want %.15g", res.AdjR2, want)
	}
	if want := longleyCertResidSD * math.Sqrt(252); regRelErr(res.ResidualVolAnnual, want) > tol {
		t.Errorf("annual residual vol = %g, want %g", res.ResidualVolAnnual, want)
	}
	if res.N != 16 || res.K != 6 {
		t.Errorf("N, K = %d, %d, want 16, 6", res.N, res.K)
	}
}

// TestOLSHandComputed checks a fit small enough to do by hand.
// y = 1, 3, 2, 5 on x = 0, 1, 2, 3: x̄ = 1.5, ȳ = 2.75,
// Sxx = 2.25+0.25+0.25+2.25 = 5, Sxy = (−1.5)(−1.75)+(−0.5)(0.25)+(0.5)(−0.75)+(1.5)(2.25)
// = 2.625 − 0.125 − 0.375 + 3.375 = 5.5, so β = 1.1, a = 2.75 − 1.65 = 1.1.
// Fitted 1.1, 2.2, 3.3, 4.4; residuals −0.1, 0.8, −1.3, 0.6; RSS = 0.01+0.64+1.69+0.36 = 2.7;
// TSS = 3.0625+0.0625+0.5625+5.0625 = 8.75; R² = 1 − 2.7/8.75 = 0.691428571…;
// σ̂² = 2.7/2 = 1.35; SE(β) = √(1.35/5) = √0.27; SE(a) = √(1.35·(1/4 + 2.25/5)) = √0.945;
// adjusted R² = 1 − (2.7/8.75)·3/2 = 0.537142857….
func TestOLSHandComputed(t *testing.T) {
	t.Parallel()
	res, err := OLS([]float64{1, 3, 2, 5}, [][]float64{{0, 1, 2, 3}})
	if err != nil {
		t.Fatalf("OLS: %v", err)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"a", res.Coefficients[0], 1.1},
		{"beta", res.Coefficients[1], 1.1},
		{"SE(a)", res.StdErrors[0], math.Sqrt(0.945)},
		{"SE(beta)", res.StdErrors[1], math.Sqrt(0.27)},
		{"t(beta)", res.TStats[1], 1.1 / math.Sqrt(0.27)},
		{"R2", res.R2, 1 - 2.7/8.75},
		{"AdjR2", res.AdjR2, 1 - (2.7/8.75)*1.5},
		{"resid vol", res.ResidualVol, math.Sqrt(1.35)},
		{"resid[2]", res.Residuals[2], -1.3},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s = %.15g, want %.15g (hand computation)", c.name, c.got, c.want)
		}
	}
}

// TestOLSRecoversBetas fits synthetic daily returns built from known
// exposures: y = 0.0002 + 1.2·f1 − 0.5·f2 + 0.3·f3 + ε with factor vol 1 %
// and noise vol 0.1 %, 1,260 days. The standard error of each β is about
// 0.001/(0.01·√1260) ≈ 0.0028, so 0.015 (> 5 SE) cannot fail by chance
// yet fails if an exposure is mis-assigned or mis-scaled.
func TestOLSRecoversBetas(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(42, 7))
	const n = 1260
	betas := []float64{1.2, -0.5, 0.3}
	x := make([][]float64, len(betas))
	for j := range x {
		x[j] = make([]float64, n)
	}
	y := make([]float64, n)
	for i := range n {
		y[i] = 0.0002 + 0.001*rng.NormFloat64()
		for j, b := range betas {
			x[j][i] = 0.01 * rng.NormFloat64()
			y[i] += b * x[j][i]
		}
	}
	res, err := OLS(y, x)
	if err != nil {
		t.Fatalf("OLS: %v", err)
	}
	for j, b := range betas {
		if got := res.Coefficients[j+1]; math.Abs(got-b) > 0.015 {
			t.Errorf("beta %d = %g, want %g ± 0.015", j, got, b)
		}
		if res.StdErrors[j+1] > 0.005 {
			t.Errorf("SE(beta %d) = %g, want ≈ 0.0028", j, res.StdErrors[j+1])
		}
	}
	if got := res.Coefficients[0]; math.Abs(got-0.0002) > 0.0001 {
		t.Errorf("alpha = %g, want 0.0002 ± 0.0001", got)
	}
	if math.Abs(res.ResidualVol-0.001)/0.001 > 0.1 {
		t.Errorf("residual vol = %g, want 0.001 ± 10%%", res.ResidualVol)
	}
	if res.R2 < 0.98 {
		t.Errorf("R² = %g, want > 0.98", res.R2)
	}
}

func TestOLSErrors(t *testing.T) {
	t.Parallel()
	x1 := []float64{1, 2, 3, 4, 5, 6}
	cases := []struct {
		name string
		y    []float64
		x    [][]float64
		want error
	}{
		{"collinear regressors", []float64{1, 3, 2, 5, 4, 6}, [][]float64{x1, {2, 4, 6, 8, 10, 12}}, ErrSingular},
		{"regressor collinear with intercept", []float64{1, 3, 2, 5, 4, 6}, [][]float64{x1, {3, 3, 3, 3, 3, 3}}, ErrSingular},
		{"zero regressor", []float64{1, 3, 2, 5, 4, 6}, [][]float64{{0, 0, 0, 0, 0, 0}}, ErrSingular},
		{"too few observations", []float64{1, 2}, [][]float64{{1, 2}}, ErrEmpty},
		{"length mismatch", []float64{1, 3, 2, 5}, [][]float64{{1, 2, 3}}, ErrLength},
		{"constant y", []float64{2, 2, 2, 2}, [][]float64{{1, 2, 3, 5}}, ErrZeroVariance},
		{"exact fit", []float64{1, 3, 5, 7}, [][]float64{{0, 1, 2, 3}}, ErrZeroVariance},
		{"NaN", []float64{1, math.NaN(), 2, 5}, [][]float64{{0, 1, 2, 3}}, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := OLS(c.y, c.x)
			if !errors.Is(err, c.want) {
				t.Errorf("OLS(y=%v, x=%v) error = %v, want %v", c.y, c.x, err, c.want)
			}
		})
	}
}

func BenchmarkOLS1260x5(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, k = 1260, 5
	x := make([][]float64, k)
	for j := range x {
		x[j] = make([]float64, n)
		for i := range x[j] {
			x[j][i] = 0.01 * rng.NormFloat64()
		}
	}
	y := make([]float64, n)
	for i := range y {
		y[i] = 0.001 * rng.NormFloat64()
		for j := range x {
			y[i] += 0.5 * x[j][i]
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := OLS(y, x); err != nil {
			b.Fatal(err)
		}
	}
}
