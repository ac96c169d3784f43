package quant

import (
	"errors"
	"math"
	"testing"
)

func TestRoundToSharesHandExample(t *testing.T) {
	t.Parallel()
	// Hand computation. V = 10 000, prices (50, 20, 100), holdings
	// (100, 0, 20) worth 7 000, so cash 3 000. Targets (0.30, 0.45, 0.25)
	// give target shares 60, 225, 25: trades −40, +225, +5.
	// Notionals 2 000, 4 500, 500; commission 3 × 1 = 3; impact 10 bp of
	// 7 000 = 7. Cash 3 000 + 2 000 − 4 500 − 500 − 3 − 7 = −10 < 0, so one
	// share comes off the buy that most overshoots its target: both buys sit
	// exactly on target (4 500/10 000 = 0.45, 2 500/10 000 = 0.25), the tie
	// goes to the lower index, asset 1 → 224 shares, notional 4 480, impact
	// 6.98, cash 3 000 + 2 000 − 4 480 − 500 − 3 − 6.98 = 10.02.
	// Value after costs 10 000 − 3 − 6.98 = 9 990.02; weights 3 000, 4 480,
	// 2 500 over 9 990.02.
	got, err := RoundToShares([]float64{0.30, 0.45, 0.25}, []float64{50, 20, 100}, []float64{100, 0, 20}, 10000, 1, 10)
	if err != nil {
		t.Fatalf("RoundToShares: %v", err)
	}
	wantTrades := []ShareTrade{
		{Asset: 0, Shares: -40, Side: "sell", Notional: 2000, Commission: 1, Impact: 2},
		{Asset: 1, Shares: 224, Side: "buy", Notional: 4480, Commission: 1, Impact: 4.48},
		{Asset: 2, Shares: 5, Side: "buy", Notional: 500, Commission: 1, Impact: 0.5},
	}
	if len(got.Trades) != len(wantTrades) {
		t.Fatalf("trades %+v, want %+v", got.Trades, wantTrades)
	}
	for i, w := range wantTrades {
		g := got.Trades[i]
		if g.Asset != w.Asset || g.Shares != w.Shares || g.Side != w.Side || math.Abs(g.Notional-w.Notional) > 1e-9 ||
			g.Commission != w.Commission || math.Abs(g.Impact-w.Impact) > 1e-9 {
			t.Errorf("trade %d = %+v, want %+v", i, g, w)
		}
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"cash", got.Cash, 10.02},
		{"commission", got.Commission, 3},
		{"impact", got.Impact, 6.98},
		{"buy notional", got.BuyNotional, 4980},
		{"sell notional", got.SellNotional, 2000},
		{"weight 0", got.Weights[0], 3000 / 9990.02},
		{"weight 1", got.Weights[1], 4480 / 9990.02},
		{"weight 2", got.Weights[2], 2500 / 9990.02},
		{"drift 1", got.Drift[1], 4480/9990.02 - 0.45},
		{"shares 1", got.Shares[1], 224},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %.12g, want %.12g", c.name, c.got, c.want)
		}
	}
}

func TestRoundToSharesInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name             string
		w, p, sh         []float64
		value, comm, imp float64
		want             error
	}{
		{"length", []float64{1}, []float64{1, 2}, []float64{0}, 100, 0, 0, ErrLength},
		{"zero price", []float64{1}, []float64{0}, []float64{0}, 100, 0, 0, ErrInvalid},
		{"holdings above value", []float64{1}, []float64{10}, []float64{20}, 100, 0, 0, ErrInvalid},
		{"empty", nil, nil, nil, 100, 0, 0, ErrEmpty},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := RoundToShares(tc.w, tc.p, tc.sh, tc.value, tc.comm, tc.imp)
			if !errors.Is(err, tc.want) {
				t.Errorf("RoundToShares(%v, %v, %v, %g): err %v, want %v", tc.w, tc.p, tc.sh, tc.value, err, tc.want)
			}
		})
	}
}
