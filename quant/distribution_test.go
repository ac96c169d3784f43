package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDistributionReference uses the examples of Microsoft's Excel
// documentation (SKEW, KURT and AVEDEV function pages, results printed to
// 6–9 digits) and PerformanceAnalytics' kurtosis.Rd example on Bacon's
// portfolio (kurtosis(method = "sample_excess"), expected −0.41).
func TestDistributionReference(t *testing.T) {
	t.Parallel()
	excel := []float64{3, 4, 5, 2, 3, 4, 5, 6, 4, 7}
	cases := []struct {
		name string
		fn   func() (float64, error)
		want float64
		tol  float64
	}{
		{"Excel SKEW(3,4,5,2,3,4,5,6,4,7) = 0.359543", func() (float64, error) { return Skewness(excel) }, 0.359543, 5e-7},
		{"Excel KURT(3,4,5,2,3,4,5,6,4,7) = -0.151799637", func() (float64, error) { return ExcessKurtosis(excel) }, -0.151799637, 5e-10},
		{"Excel AVEDEV(4,5,6,7,5,4,3) = 1.020408", func() (float64, error) { return MeanAbsoluteDeviation([]float64{4, 5, 6, 7, 5, 4, 3}) }, 1.020408, 5e-7},
		// Hand computation for AVEDEV: mean 34/7; |deviations| sum to 50/7; /7 = 50/49.
		{"AVEDEV, hand computation 50/49", func() (float64, error) { return MeanAbsoluteDeviation([]float64{4, 5, 6, 7, 5, 4, 3}) }, 50.0 / 49, 1e-15},
		{"PerformanceAnalytics kurtosis(portfolio_bacon, sample_excess) = -0.41", func() (float64, error) { return ExcessKurtosis(baconPortfolio) }, -0.41, 5e-3},
	}
	for _, c := range cases {
		got, err := c.fn()
		if err != nil || !metricClose(got, c.want, c.tol) {
			t.Errorf("%s: got %v, %v", c.name, got, err)
		}
	}
}

func TestSkewnessKurtosisHand(t *testing.T) {
	t.Parallel()
	// Hand computation on [0, 0, 3]: mean 1, deviations −1, −1, 2, s² = 6/2 = 3.
	// G1 = 3/(2·1) · (−1 − 1 + 8)/3^{3/2} = 1.5 · 6/5.196152422706632 = 1.7320508075688772 (√3).
	got, err := Skewness([]float64{0, 0, 3})
	if err != nil || !metricClose(got, math.Sqrt(3), 1e-15) {
		t.Errorf("Skewness([0 0 3]) = %v, %v; want √3", got, err)
	}
	// Hand computation on [0, 0, 0, 4]: mean 1, deviations −1, −1, −1, 3,
	// s² = 12/3 = 4; Σ z⁴ = (1 + 1 + 1 + 81)/16 = 5.25;
	// G2 = 4·5/(3·2·1) · 5.25 − 3·9/(2·1) = 17.5 − 13.5 = 4.
	got, err = ExcessKurtosis([]float64{0, 0, 0, 4})
	if err != nil || !metricClose(got, 4, 1e-14) {
		t.Errorf("ExcessKurtosis([0 0 0 4]) = %v, %v; want 4", got, err)
	}
}

func TestTailRatio(t *testing.T) {
	t.Parallel()
	// Hand computation on empyrical's mixed_returns (NaN dropped), sorted
	// −0.10, −0.04, 0.01, 0.01, 0.02, 0.02, 0.03, 0.10: the 95th percentile
	// sits at 7·0.95 = 6.65, 0.03 + 0.65·0.07 = 0.0755; the 5th at 0.35,
	// −0.10 + 0.35·0.06 = −0.079; 0.0755/0.079 = 0.9556962025316456.
	// empyrical's test asserts 0.9473684210526313 to one decimal only.
	got, err := TailRatio(empyricalMixed8)
	if err != nil || !metricClose(got, 0.0755/0.079, 1e-14) || !metricClose(got, 0.9473684210526313, 0.15) {
		t.Errorf("TailRatio(%v) = %v, %v; want %v", empyricalMixed8, got, err, 0.0755/0.079)
	}
	// All losses: the ratio keeps q95's sign, unlike empyrical's |q95|.
	// Sorted −0.05, −0.04, −0.03, −0.02, −0.01: q95 at 3.8 = −0.012, q05 at 0.2 = −0.048.
	got, err = TailRatio([]float64{-0.03, -0.01, -0.05, -0.02, -0.04})
	if err != nil || !metricClose(got, -0.25, 1e-13) {
		t.Errorf("TailRatio of losses = %v, %v; want −0.012/0.048 = −0.25", got, err)
	}
}

// TestDistributionProperties: on seeded random samples (test inputs), a
// symmetric sample has skewness 0 and tail ratio 1; negation flips the
// skewness and keeps the kurtosis; a positive affine map keeps both.
func TestDistributionProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, 19))
	for trial := range 50 {
		half := 2 + rng.IntN(60)
		sym := make([]float64, 0, 2*half)
		for range half {
			x := 0.02 * rng.ExpFloat64()
			sym = append(sym, 0.001+x, 0.001-x)
		}
		if s, err := Skewness(sym); err != nil || math.Abs(s) > 1e-12 {
			t.Errorf("trial %d: skewness of a symmetric sample = %v, %v", trial, s, err)
		}
		zero := make([]float64, len(sym))
		for i, v := range sym {
			zero[i] = v - 0.001 // symmetric about 0
		}
		if tr, err := TailRatio(zero); err != nil || !metricClose(tr, 1, 1e-9) {
			t.Errorf("trial %d: tail ratio of a sample symmetric about 0 = %v, %v", trial, tr, err)
		}
		x := make([]float64, 4+rng.IntN(100))
		neg, aff := make([]float64, len(x)), make([]float64, len(x))
		for i := range x {
			x[i] = 0.03 * rng.NormFloat64() * (1 + rng.ExpFloat64())
			neg[i] = -x[i]
			aff[i] = 3*x[i] + 0.5
		}
		s, _ := Skewness(x)
		sn, _ := Skewness(neg)
		sa, _ := Skewness(aff)
		k, _ := ExcessKurtosis(x)
		kn, _ := ExcessKurtosis(neg)
		ka, _ := ExcessKurtosis(aff)
		if !metricClose(sn, -s, 1e-12) || !metricClose(sa, s, 1e-10) || !metricClose(kn, k, 1e-12) || !metricClose(ka, k, 1e-10) {
			t.Errorf("trial %d: skew %v, of −x %v, of 3x+½ %v; kurtosis %v, %v, %v", trial, s, sn, sa, k, kn, ka)
		}
	}
}

func TestDistributionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"skewness of a constant", metricErr(Skewness([]float64{0.1, 0.1, 0.1})), ErrZeroVariance},
		{"kurtosis of a constant", metricErr(ExcessKurtosis([]float64{0.01, 0.01, 0.01, 0.01})), ErrZeroVariance},
		{"skewness with NaN", metricErr(Skewness([]float64{0.1, math.NaN(), 0.2})), ErrInvalid},
		{"mad of nothing", metricErr(MeanAbsoluteDeviation(nil)), ErrEmpty},
		{"tail ratio with 5th percentile 0", metricErr(TailRatio([]float64{0, 0, 0.01})), ErrZeroVariance},
		{"tail ratio with Inf", metricErr(TailRatio([]float64{math.Inf(-1)})), ErrInvalid},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
