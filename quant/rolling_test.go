package quant

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// TestRollingMatchesWindows: each rolling figure equals the non-rolling
// function applied to its window, on seeded random inputs (test inputs,
// not data).
func TestRollingMatchesWindows(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	n, w := 200, 30
	p, b := make([]float64, n), make([]float64, n)
	for i := range p {
		b[i] = 0.0004 + 0.01*rng.NormFloat64()
		p[i] = 0.0002 + 1.1*b[i] + 0.005*rng.NormFloat64()
	}
	vol, err := RollingVolatility(p, w)
	if err != nil {
		t.Fatalf("RollingVolatility: %v", err)
	}
	sh, err := RollingSharpe(p, w, 0.04)
	if err != nil {
		t.Fatalf("RollingSharpe: %v", err)
	}
	be, err := RollingBeta(p, b, w)
	if err != nil {
		t.Fatalf("RollingBeta: %v", err)
	}
	te, err := RollingPair(p, b, w, TrackingError)
	if err != nil {
		t.Fatalf("RollingPair(TrackingError): %v", err)
	}
	if len(vol) != n-w+1 || len(sh) != n-w+1 || len(be) != n-w+1 || len(te) != n-w+1 {
		t.Fatalf("lengths %d %d %d %d, want %d", len(vol), len(sh), len(be), len(te), n-w+1)
	}
	for i := range vol {
		wv, _ := AnnualVolatility(p[i : i+w])
		ws, _ := Sharpe(p[i:i+w], 0.04)
		wb, _ := Beta(p[i:i+w], b[i:i+w])
		wt, _ := TrackingError(p[i:i+w], b[i:i+w])
		if vol[i] != wv || sh[i] != ws || be[i] != wb || te[i] != wt {
			t.Errorf("window %d: rolling vol %v sharpe %v beta %v te %v; direct %v %v %v %v", i, vol[i], sh[i], be[i], te[i], wv, ws, wb, wt)
		}
	}
	// Hand computation: windows [0.1, −0.1] (1.1 → 0.99, −10 % from the peak)
	// and [−0.1, 0.2] (−10 % from the start value).
	got, err := Rolling([]float64{0.1, -0.1, 0.2}, 2, func(r []float64) (float64, error) {
		d, err := MaxDrawdownOfReturns(r)
		return d.Depth, err
	})
	if err != nil || len(got) != 2 || !metricClose(got[0], -0.1, 1e-15) || !metricClose(got[1], -0.1, 1e-15) {
		t.Errorf("rolling max drawdown = %v, %v; want [-0.1 -0.1]", got, err)
	}
}

func TestRollingErrors(t *testing.T) {
	t.Parallel()
	r := []float64{0.01, 0.02, 0.01, 0.01, 0.01}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"window 0", metricErr(RollingVolatility(r, 0)), ErrInvalid},
		{"window longer than series", metricErr(RollingVolatility(r, 6)), ErrEmpty},
		{"window of one", metricErr(RollingVolatility(r, 1)), ErrEmpty},
		{"flat window", metricErr(RollingSharpe(r, 3, 0)), ErrZeroVariance},
		{"mismatched", metricErr(RollingBeta(r, r[:4], 2)), ErrLength},
		{"pair window 0", metricErr(RollingBeta(r, r, 0)), ErrInvalid},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
