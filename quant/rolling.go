package quant

import "fmt"

// Rolling applies fn to every window of window consecutive observations:
// out[i] = fn(series[i : i+window]), so n observations give n−window+1
// figures, the i-th ending at observation i+window−1. An error in any
// window (a flat window for a ratio) is returned with the window's
// position rather than replaced by NaN.
func Rolling(series []float64, window int, fn func([]float64) (float64, error)) ([]float64, error) {
	if window < 1 {
		return nil, fmt.Errorf("rolling window of %d: %w", window, ErrInvalid)
	}
	if len(series) < window {
		return nil, fmt.Errorf("rolling window of %d over %d observations: %w", window, len(series), ErrEmpty)
	}
	out := make([]float64, len(series)-window+1)
	for i := range out {
		v, err := fn(series[i : i+window])
		if err != nil {
			return nil, fmt.Errorf("rolling window %d..%d: %w", i, i+window-1, err)
		}
		out[i] = v
	}
	return out, nil
}

// RollingPair is Rolling for functions of two aligned series (beta,
// tracking error): out[i] = fn(p[i:i+window], b[i:i+window]).
func RollingPair(p, b []float64, window int, fn func(p, b []float64) (float64, error)) ([]float64, error) {
	if len(p) != len(b) {
		return nil, fmt.Errorf("rolling pair of %d and %d observations: %w", len(p), len(b), ErrLength)
	}
	if window < 1 {
		return nil, fmt.Errorf("rolling window of %d: %w", window, ErrInvalid)
	}
	if len(p) < window {
		return nil, fmt.Errorf("rolling window of %d over %d observations: %w", window, len(p), ErrEmpty)
	}
	out := make([]float64, len(p)-window+1)
	for i := range out {
		v, err := fn(p[i:i+window], b[i:i+window])
		if err != nil {
			return nil, fmt.Errorf("rolling window %d..%d: %w", i, i+window-1, err)
		}
		out[i] = v
	}
	return out, nil
}

// RollingVolatility is AnnualVolatility over each window (30/60/90-day
// volatility in portfolio_metrics).
func RollingVolatility(r []float64, window int) ([]float64, error) {
	return Rolling(r, window, AnnualVolatility)
}

// RollingSharpe is Sharpe over each window with the annual risk-free rate
// rfAnnual.
func RollingSharpe(r []float64, window int, rfAnnual float64) ([]float64, error) {
	return Rolling(r, window, func(w []float64) (float64, error) { return Sharpe(w, rfAnnual) })
}

// RollingBeta is Beta of p on b over each window.
func RollingBeta(p, b []float64, window int) ([]float64, error) {
	return RollingPair(p, b, window, Beta)
}
