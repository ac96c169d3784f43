package quant

import (
	"errors"
	"math"
	"testing"
)

// TestHistoricalVaRDecompositionHand: lines A = (0.01, −0.02, 0.03, −0.04,
// 0.05) and B = (−0.01, 0.01, −0.02, 0.02, 0) with weights 0.6 and 0.4 give
// the portfolio returns (0.002, −0.008, 0.010, −0.016, 0.030). Sorted:
// −0.016 (t3), −0.008 (t1), 0.002, 0.010, 0.030. At 80 % the quantile sits
// at (5−1)·0.2 = 0.8, between t3 and t1: −0.016 + 0.8·0.008 = −0.0096, so
// VaR 0.0096. Marginal A = −(0.2·(−0.04) + 0.8·(−0.02)) = 0.024, marginal
// B = −(0.2·0.02 + 0.8·0.01) = −0.012; components 0.0144 and −0.0048 add
// to 0.0096 (hand computation).
func TestHistoricalVaRDecompositionHand(t *testing.T) {
	t.Parallel()
	a := []float64{0.01, -0.02, 0.03, -0.04, 0.05}
	b := []float64{-0.01, 0.01, -0.02, 0.02, 0}
	w := []float64{0.6, 0.4}
	d, err := HistoricalVaRDecomposition([][]float64{a, b}, w, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-15 {
			t.Errorf("%s = %.17g, want %g", what, got, want)
		}
	}
	near("VaR", d.VaR, 0.0096)
	near("marginal A", d.Marginal[0], 0.024)
	near("marginal B", d.Marginal[1], -0.012)
	near("component A", d.Component[0], 0.0144)
	near("component B", d.Component[1], -0.0048)
	near("sum of components", d.Component[0]+d.Component[1], d.VaR)
	if d.Lower != 3 || d.Upper != 1 || math.Abs(d.Frac-0.8) > 1e-12 {
		t.Errorf("scenarios %d, %d frac %g; want 3, 1, 0.8", d.Lower, d.Upper, d.Frac)
	}
	p := make([]float64, len(a))
	for i := range a {
		p[i] = w[0]*a[i] + w[1]*b[i]
	}
	hv, _ := HistoricalVaR(p, 0.8)
	near("VaR against HistoricalVaR", d.VaR, hv)

	// The marginal is the derivative: a small change of A's weight moves the
	// VaR by the marginal times the change.
	const eps = 1e-7
	up, err := HistoricalVaRDecomposition([][]float64{a, b}, []float64{0.6 + eps, 0.4}, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	if fd := (up.VaR - d.VaR) / eps; math.Abs(fd-d.Marginal[0]) > 1e-6 {
		t.Errorf("finite difference %g, marginal %g", fd, d.Marginal[0])
	}

	if _, err := HistoricalVaRDecomposition([][]float64{a, b[:4]}, w, 0.8); !errors.Is(err, ErrLength) {
		t.Errorf("mismatched lines: %v, want ErrLength", err)
	}
	if _, err := HistoricalVaRDecomposition([][]float64{a}, []float64{1}, 1.2); !errors.Is(err, ErrInvalid) {
		t.Errorf("confidence 1.2: %v, want ErrInvalid", err)
	}
	if _, err := HistoricalVaRDecomposition(nil, nil, 0.9); !errors.Is(err, ErrEmpty) {
		t.Errorf("no lines: %v, want ErrEmpty", err)
	}
}
