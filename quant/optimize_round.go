package quant

import (
	"fmt"
	"math"
)

// ShareTrade is one whole-share order of a rebalance.
type ShareTrade struct {
	// Asset is the index into the inputs of RoundToShares.
	Asset int
	// Shares is the signed quantity: positive buys, negative sells.
	Shares int64
	// Side is "buy" or "sell".
	Side string
	// Notional is |Shares| × price.
	Notional float64
	// Commission is the flat fee charged for this order.
	Commission float64
	// Impact is Notional × impactBps / 10 000.
	Impact float64
}

// RoundedPortfolio is the outcome of turning target weights into whole-share
// trades.
type RoundedPortfolio struct {
	// Trades lists the non-zero orders in asset order.
	Trades []ShareTrade
	// Shares holds the position of each asset after the trades.
	Shares []float64
	// BuyNotional and SellNotional total the orders on each side.
	BuyNotional, SellNotional float64
	// Commission and Impact total the costs of all orders.
	Commission, Impact float64
	// Cash is what is left uninvested after the trades and their costs.
	Cash float64
	// Weights are the positions' shares of the value after costs
	// (portfolioValue − Commission − Impact); with Cash they sum to 1.
	Weights []float64
	// Drift is Weights − targets per asset, and MaxAbsDrift its largest size.
	Drift       []float64
	MaxAbsDrift float64
}

// RoundToShares converts target weights into whole-share trades from the
// current holdings. portfolioValue is the current total value, cash included
// (it must cover the current holdings at these prices); each order pays
// commissionPerTrade plus impactBps basis points of its notional.
//
// Each asset first trades to the nearest whole number of target shares,
// target shares = wᵢ × portfolioValue / priceᵢ. If the buys and all costs then
// exceed the cash available, single shares are removed from the buy that most
// overshoots its target weight until the cash is non-negative; sells are
// never enlarged, so no position is sold that the targets keep.
func RoundToShares(targetWeights, prices, currentShares []float64, portfolioValue, commissionPerTrade, impactBps float64) (RoundedPortfolio, error) {
	n := len(targetWeights)
	if n == 0 {
		return RoundedPortfolio{}, fmt.Errorf("round to shares: no assets: %w", ErrEmpty)
	}
	if len(prices) != n || len(currentShares) != n {
		return RoundedPortfolio{}, fmt.Errorf("round to shares: %d weights, %d prices, %d holdings: %w", n, len(prices), len(currentShares), ErrLength)
	}
	if !finite(portfolioValue, commissionPerTrade, impactBps) || portfolioValue <= 0 || commissionPerTrade < 0 || impactBps < 0 {
		return RoundedPortfolio{}, fmt.Errorf("round to shares: value %g, commission %g, impact %g bps must be finite, value positive and costs non-negative: %w", portfolioValue, commissionPerTrade, impactBps, ErrInvalid)
	}
	held := 0.0
	for i := 0; i < n; i++ {
		if !finite(targetWeights[i], prices[i], currentShares[i]) || prices[i] <= 0 || targetWeights[i] < 0 || currentShares[i] < 0 {
			return RoundedPortfolio{}, fmt.Errorf("round to shares: asset %d weight %g, price %g, shares %g must be finite, price positive, others non-negative: %w", i, targetWeights[i], prices[i], currentShares[i], ErrInvalid)
		}
		held += currentShares[i] * prices[i]
	}
	if held > portfolioValue*(1+1e-12) {
		return RoundedPortfolio{}, fmt.Errorf("round to shares: holdings worth %g exceed the portfolio value %g: %w", held, portfolioValue, ErrInvalid)
	}
	trade := make([]int64, n)
	for i := range trade {
		want := targetWeights[i] * portfolioValue / prices[i]
		trade[i] = int64(math.Round(want - currentShares[i]))
		if float64(trade[i]) < -currentShares[i] { // never sell more than held
			trade[i] = int64(math.Ceil(-currentShares[i]))
		}
	}
	cost := func(i int) (notional, commission, impact float64) {
		if trade[i] == 0 {
			return 0, 0, 0
		}
		notional = math.Abs(float64(trade[i])) * prices[i]
		return notional, commissionPerTrade, notional * impactBps / 1e4
	}
	cash := func() float64 {
		c := portfolioValue - held
		for i := range trade {
			nt, cm, im := cost(i)
			if trade[i] > 0 {
				c -= nt
			} else {
				c += nt
			}
			c -= cm + im
		}
		return c
	}
	for cash() < -1e-9 {
		// Remove one share from the buy whose resulting weight most exceeds
		// its target (ties: the lower index).
		best, bestOver := -1, math.Inf(-1)
		for i := range trade {
			if trade[i] <= 0 {
				continue
			}
			over := (currentShares[i]+float64(trade[i]))*prices[i]/portfolioValue - targetWeights[i]
			if over > bestOver {
				best, bestOver = i, over
			}
		}
		if best < 0 {
			return RoundedPortfolio{}, fmt.Errorf("round to shares: the sells and cash (%g) cannot pay their own costs: %w", cash(), ErrInfeasible)
		}
		trade[best]--
	}
	out := RoundedPortfolio{Shares: make([]float64, n), Weights: make([]float64, n), Drift: make([]float64, n)}
	for i := range trade {
		out.Shares[i] = currentShares[i] + float64(trade[i])
		nt, cm, im := cost(i)
		if trade[i] == 0 {
			continue
		}
		side := "buy"
		if trade[i] > 0 {
			out.BuyNotional += nt
		} else {
			side = "sell"
			out.SellNotional += nt
		}
		out.Commission += cm
		out.Impact += im
		out.Trades = append(out.Trades, ShareTrade{Asset: i, Shares: trade[i], Side: side, Notional: nt, Commission: cm, Impact: im})
	}
	out.Cash = cash()
	after := portfolioValue - out.Commission - out.Impact
	for i := range out.Weights {
		out.Weights[i] = out.Shares[i] * prices[i] / after
		out.Drift[i] = out.Weights[i] - targetWeights[i]
		out.MaxAbsDrift = math.Max(out.MaxAbsDrift, math.Abs(out.Drift[i]))
	}
	return out, nil
}
