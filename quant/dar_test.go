package quant

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// oneFactorDaR is a single position with β = 1 on one factor with daily
// mean mu and daily volatility sigma.
func oneFactorDaR(mu, sigma float64, h int, c float64, seed uint64) MonteCarloDaRInput {
	return MonteCarloDaRInput{
		Weights:        []float64{1},
		Betas:          mat.NewDense(1, 1, []float64{1}),
		FactorCov:      mat.NewSymDense(1, []float64{sigma * sigma}),
		FactorMean:     []float64{mu},
		HorizonDays:    h,
		Confidence:     c,
		Seed:           seed,
		PortfolioValue: 1_000_000,
	}
}

// normalDaR is the closed form for normal horizon returns with mean μh and
// volatility σ√h: DaR = −(μh − z_c·σ√h), z_c the standard normal quantile.
func normalDaR(mu, sigma float64, h int, c float64) float64 {
	z := distuv.UnitNormal.Quantile(c)
	return -(mu*float64(h) - z*sigma*math.Sqrt(float64(h)))
}

// The standard error of the 5 % quantile of n normal draws is
// √(p(1−p)/n)/φ(z)·σ ≈ 0.021σ at n = 10,000, about 1.3–1.5 % of DaR in
// these cases; 5 % relative is more than three standard errors.
const darRelTol = 0.05

func TestMonteCarloDaRClosedForm(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		mu, sigma     float64
		h             int
		c             float64
		wantLossAbove float64 // DaR must be positive (a loss) and above this
	}{
		{"zero drift 1 day", 0, 0.01, 1, 0.95, 0},
		{"small drift 10 days", 0.0005, 0.01, 10, 0.95, 0},
		// Strongly positive expected move: μh = +0.04, σ√h ≈ 0.0447.
		// The loss side is −(0.04 − 1.645·0.0447) ≈ 0.0336; the wrong
		// (right) tail would give 0.04 + 0.0736 ≈ 0.114 as a "gain".
		{"strong positive drift 20 days", 0.002, 0.01, 20, 0.95, 0.02},
		{"99% 5 days", 0.0003, 0.015, 5, 0.99, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, err := MonteCarloDaR(oneFactorDaR(c.mu, c.sigma, c.h, c.c, 2026))
			if err != nil {
				t.Fatalf("MonteCarloDaR: %v", err)
			}
			want := normalDaR(c.mu, c.sigma, c.h, c.c)
			if regRelErr(res.DaR, want) > darRelTol {
				t.Errorf("mu=%g sigma=%g h=%d c=%g: DaR = %g, want closed form %g ± %g%%", c.mu, c.sigma, c.h, c.c, res.DaR, want, darRelTol*100)
			}
			if res.DaR <= c.wantLossAbove {
				t.Errorf("DaR = %g, want a loss above %g (left tail)", res.DaR, c.wantLossAbove)
			}
			if res.QuantileReturn != -res.DaR || res.QuantileReturn >= res.MeanReturn {
				t.Errorf("quantile return %g must equal −DaR (%g) and lie below the mean %g", res.QuantileReturn, -res.DaR, res.MeanReturn)
			}
			if math.Abs(res.Amount-res.DaR*1_000_000) > 1e-6 {
				t.Errorf("amount = %g, want DaR × value = %g", res.Amount, res.DaR*1_000_000)
			}
			wantMean := c.mu * float64(c.h)
			if sd := c.sigma * math.Sqrt(float64(c.h)); math.Abs(res.MeanReturn-wantMean) > 4*sd/100 {
				t.Errorf("mean return = %g, want %g", res.MeanReturn, wantMean)
			}
		})
	}
}

// TestMonteCarloDaRMultiFactor checks the aggregation Σ_i w_i Σ_f β_if
// against the closed form with σ_p² = eᵀΣe, e_f = Σ_i w_i β_if:
// e = (0.5·1.0 + 0.3·0.8 + 0.2·0.1, 0.5·0.2 + 0.3·(−0.5) + 0.2·1.5)
// = (0.76, 0.25); eᵀΣe with Σ = [[1e-4, 2e-5],[2e-5, 4e-5]]
// = 0.5776e-4 + 2·0.76·0.25·2e-5 + 0.0625·4e-5 = 6.786e-5.
func TestMonteCarloDaRMultiFactor(t *testing.T) {
	t.Parallel()
	in := MonteCarloDaRInput{
		Weights:     []float64{0.5, 0.3, 0.2},
		Betas:       mat.NewDense(3, 2, []float64{1.0, 0.2, 0.8, -0.5, 0.1, 1.5}),
		FactorCov:   mat.NewSymDense(2, []float64{1e-4, 2e-5, 2e-5, 4e-5}),
		HorizonDays: 10,
		Confidence:  0.95,
		Seed:        7,
	}
	res, err := MonteCarloDaR(in)
	if err != nil {
		t.Fatalf("MonteCarloDaR: %v", err)
	}
	want := normalDaR(0, math.Sqrt(6.786e-5), 10, 0.95)
	if regRelErr(res.DaR, want) > darRelTol {
		t.Errorf("DaR = %g, want closed form %g ± %g%%", res.DaR, want, darRelTol*100)
	}
	if sd := math.Sqrt(6.786e-5 * 10); regRelErr(res.StdReturn, sd) > 0.03 {
		t.Errorf("std of horizon returns = %g, want %g ± 3%%", res.StdReturn, sd)
	}
	if res.Draws != DefaultDaRDraws || res.Method != DaRMonteCarlo || res.Seed != 7 || res.QuantileMethod != DaRQuantileMethod {
		t.Errorf("metadata = %+v, want %d draws, method %s, seed 7", res, DefaultDaRDraws, DaRMonteCarlo)
	}
}

func TestMonteCarloDaRDeterministicAndStable(t *testing.T) {
	t.Parallel()
	in := oneFactorDaR(0.0003, 0.012, 10, 0.95, 11)
	a, err := MonteCarloDaR(in)
	if err != nil {
		t.Fatalf("MonteCarloDaR: %v", err)
	}
	b, _ := MonteCarloDaR(in)
	if a != b {
		t.Errorf("same seed, different results:\n%+v\n%+v", a, b)
	}
	// Five seeds: max−min spread relative to their mean under 5 %
	// (expected range of 5 draws ≈ 2.3 standard errors ≈ 3.4 %).
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		in.Seed = seed
		r, err := MonteCarloDaR(in)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		lo, hi, sum = math.Min(lo, r.DaR), math.Max(hi, r.DaR), sum+r.DaR
	}
	if lo == hi {
		t.Fatalf("five seeds gave the same DaR %g: seed is not used", lo)
	}
	if spread := (hi - lo) / (sum / 5); spread > 0.05 {
		t.Errorf("DaR across seeds 1..5 in [%g, %g], relative spread %.3f, want < 0.05", lo, hi, spread)
	}
}

func TestMonteCarloDaRMonotone(t *testing.T) {
	t.Parallel()
	prev := math.Inf(-1)
	for _, c := range []float64{0.80, 0.90, 0.95, 0.99} {
		r, err := MonteCarloDaR(oneFactorDaR(0.0004, 0.01, 10, c, 99))
		if err != nil {
			t.Fatalf("c=%g: %v", c, err)
		}
		if r.DaR <= prev {
			t.Errorf("DaR at c=%g is %g, not above %g at the lower confidence", c, r.DaR, prev)
		}
		prev = r.DaR
	}
	prev = math.Inf(-1)
	for _, h := range []int{1, 5, 20, 60} {
		r, err := MonteCarloDaR(oneFactorDaR(0.0001, 0.01, h, 0.95, 99))
		if err != nil {
			t.Fatalf("h=%d: %v", h, err)
		}
		if r.DaR <= prev {
			t.Errorf("DaR at h=%d is %g, not above %g at the shorter horizon", h, r.DaR, prev)
		}
		prev = r.DaR
	}
}

func TestMonteCarloDaRErrors(t *testing.T) {
	t.Parallel()
	base := oneFactorDaR(0, 0.01, 1, 0.95, 1)
	cases := []struct {
		name   string
		modify func(*MonteCarloDaRInput)
		want   error
	}{
		{"confidence 1", func(in *MonteCarloDaRInput) { in.Confidence = 1 }, ErrInvalid},
		{"confidence 0", func(in *MonteCarloDaRInput) { in.Confidence = 0 }, ErrInvalid},
		{"horizon 0", func(in *MonteCarloDaRInput) { in.HorizonDays = 0 }, ErrInvalid},
		{"one draw", func(in *MonteCarloDaRInput) { in.Draws = 1 }, ErrInvalid},
		{"no positions", func(in *MonteCarloDaRInput) { in.Weights = nil }, ErrEmpty},
		{"weights vs betas", func(in *MonteCarloDaRInput) { in.Weights = []float64{0.5, 0.5} }, ErrLength},
		{"betas vs covariance", func(in *MonteCarloDaRInput) { in.Betas = mat.NewDense(1, 2, []float64{1, 1}) }, ErrLength},
		{"singular covariance", func(in *MonteCarloDaRInput) {
			in.Betas = mat.NewDense(1, 2, []float64{1, 1})
			in.FactorCov = mat.NewSymDense(2, []float64{1e-4, 1e-4, 1e-4, 1e-4})
			in.FactorMean = nil
		}, ErrSingular},
		{"NaN weight", func(in *MonteCarloDaRInput) { in.Weights = []float64{math.NaN()} }, ErrInvalid},
		{"negative value", func(in *MonteCarloDaRInput) { in.PortfolioValue = -1 }, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := base
			c.modify(&in)
			if _, err := MonteCarloDaR(in); !errors.Is(err, c.want) {
				t.Errorf("error = %v, want %v", err, c.want)
			}
		})
	}
}

// TestScenarioDaR uses hand-computed type 7 quantiles (the definition of
// numpy.quantile's default "linear" method and R's type 7): for sorted
// outcomes x₀..x₉ = −0.10, −0.05, 0, 0.02, 0.03, 0.05, 0.08, 0.10, 0.12, 0.15
// and p = 1 − c, h = 9p; c = 0.95 → h = 0.45, q = −0.10 + 0.45·0.05 = −0.0775;
// c = 0.90 → h = 0.9, q = −0.10 + 0.9·0.05 = −0.055; c = 0.80 → h = 1.8,
// q = −0.05 + 0.8·0.05 = −0.01.
func TestScenarioDaR(t *testing.T) {
	t.Parallel()
	// Deliberately unsorted, with more upside than downside.
	outcomes := []float64{0.10, -0.05, 0.15, 0.02, -0.10, 0.08, 0, 0.12, 0.03, 0.05}
	cases := []struct {
		c, want float64
	}{
		{0.95, 0.0775},
		{0.90, 0.055},
		{0.80, 0.01},
	}
	for _, tc := range cases {
		res, err := ScenarioDaR(outcomes, tc.c, 2_000_000)
		if err != nil {
			t.Fatalf("ScenarioDaR(c=%g): %v", tc.c, err)
		}
		if math.Abs(res.DaR-tc.want) > 1e-12 || math.Abs(res.Amount-tc.want*2_000_000) > 1e-6 {
			t.Errorf("ScenarioDaR(%v, c=%g) = DaR %g amount %g, want %g and %g", outcomes, tc.c, res.DaR, res.Amount, tc.want, tc.want*2_000_000)
		}
		if res.Method != DaRScenarios || res.Draws != 10 {
			t.Errorf("method %s draws %d, want scenarios and 10", res.Method, res.Draws)
		}
	}
	if outcomes[0] != 0.10 {
		t.Errorf("ScenarioDaR reordered its input: %v", outcomes)
	}
	if _, err := ScenarioDaR([]float64{-0.1}, 0.95, 1); !errors.Is(err, ErrEmpty) {
		t.Errorf("one outcome: error = %v, want ErrEmpty", err)
	}
	if _, err := ScenarioDaR(outcomes, 1.5, 1); !errors.Is(err, ErrInvalid) {
		t.Errorf("confidence 1.5: error = %v, want ErrInvalid", err)
	}
}

// TestDaRQuantileType7 checks the interpolation against numpy.quantile's
// documented example: numpy.quantile([[10, 7, 4], [3, 2, 1]], 0.5) = 3.5
// (numpy.quantile reference page); by hand sorted 1,2,3,4,7,10, h = 2.5,
// 3 + 0.5·1 = 3.5. End points return the extremes.
func TestDaRQuantileType7(t *testing.T) {
	t.Parallel()
	xs := []float64{1, 2, 3, 4, 7, 10}
	for _, c := range []struct{ p, want float64 }{{0.5, 3.5}, {0, 1}, {1, 10}, {0.9, 8.5}} {
		if got := darQuantileType7(xs, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("quantile(%v, %g) = %g, want %g", xs, c.p, got, c.want)
		}
	}
}

func TestWeightsFromValues(t *testing.T) {
	t.Parallel()
	w, total, err := WeightsFromValues([]float64{600, 300, 100})
	if err != nil || total != 1000 || w[0] != 0.6 || w[1] != 0.3 || w[2] != 0.1 {
		t.Errorf("WeightsFromValues(600,300,100) = %v, %g, %v; want [0.6 0.3 0.1], 1000", w, total, err)
	}
	if _, _, err := WeightsFromValues([]float64{100, -100}); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero total: error = %v, want ErrInvalid", err)
	}
}
