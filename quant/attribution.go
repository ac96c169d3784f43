package quant

import (
	"fmt"
	"math"
)

// AttributionTolerance is the largest residual, in return units, allowed
// between a currency attribution's total and the sum of its parts: 0.1 bp
// (DOMAIN.md §1).
const AttributionTolerance = 1e-5

// CurrencyAttribution splits a base-currency return into the local price
// return, the currency return and their interaction (DOMAIN.md §1):
// Local = P₁/P₀ − 1, FX = X₁/X₀ − 1 (0 for a base-currency holding),
// Interaction = Local·FX and Total = (1+Local)(1+FX) − 1, so
// Local + FX + Interaction = Total exactly in real arithmetic. ResidualBP is
// Total − (Local + FX + Interaction) in basis points as computed; it is
// checked to be within 0.1 bp. Some sources (Karnosky–Singer, Brinson with
// currency) fold the interaction into the currency effect or use forward
// rates; they split the same total differently.
type CurrencyAttribution struct {
	Local, FX, Interaction, Total float64
	ResidualBP                    float64
}

// attributionResidual fills ResidualBP and enforces the tolerance.
func attributionResidual(what string, a *CurrencyAttribution) error {
	res := a.Total - (a.Local + a.FX + a.Interaction)
	a.ResidualBP = res * 1e4
	if !finite(res) || math.Abs(res) > AttributionTolerance {
		return fmt.Errorf("%s: parts miss the total by %g bp: %w", what, a.ResidualBP, ErrInvalid)
	}
	return nil
}

// PositionCurrencyAttribution attributes one holding's return from its
// local prices p0, p1 and FX rates x0, x1 (1 local unit = x base units;
// pass 1, 1 for a base-currency holding).
func PositionCurrencyAttribution(p0, p1, x0, x1 float64) (CurrencyAttribution, error) {
	if !finite(p0, p1, x0, x1) || p0 <= 0 || x0 <= 0 || p1 < 0 || x1 <= 0 {
		return CurrencyAttribution{}, fmt.Errorf("currency attribution of prices %g→%g and fx %g→%g: %w", p0, p1, x0, x1, ErrInvalid)
	}
	l, f := p1/p0-1, x1/x0-1
	a := CurrencyAttribution{Local: l, FX: f, Interaction: l * f, Total: (1+l)*(1+f) - 1}
	if err := attributionResidual("currency attribution", &a); err != nil {
		return CurrencyAttribution{}, err
	}
	return a, nil
}

// FXHolding is one position for portfolio currency attribution: a quantity
// held through the period, its local prices and the local→base FX rates
// at the start and end.
type FXHolding struct {
	ID       string
	Currency string
	Quantity float64
	P0, P1   float64
	X0, X1   float64
}

// PortfolioCurrencyAttribution is the portfolio-level split with the
// per-position and per-currency detail.
type PortfolioCurrencyAttribution struct {
	// Portfolio weights each position's parts by its start-of-period base
	// value Q·P₀·X₀; its Total is checked against the directly computed
	// ΣQ·P₁·X₁ / ΣQ·P₀·X₀ − 1.
	Portfolio CurrencyAttribution
	// Positions holds each position's own (unweighted) attribution, in
	// input order, with its start weight.
	Positions []HoldingAttribution
	// ByCurrency holds each currency's contribution to the portfolio
	// figures (weighted), so they sum over currencies to Portfolio.
	ByCurrency map[string]CurrencyAttribution
}

// HoldingAttribution is one position's attribution and weight.
type HoldingAttribution struct {
	ID       string
	Currency string
	Weight   float64
	CurrencyAttribution
}

// AttributeCurrency attributes a portfolio's base-currency return over a
// period to local, FX and interaction effects, weighting positions by
// start-of-period base value (DOMAIN.md §1). Quantities are constant over
// the period; trades split it. The residual between the weighted total and
// the directly computed portfolio return is checked within 0.1 bp and
// reported in ResidualBP.
func AttributeCurrency(holdings []FXHolding) (PortfolioCurrencyAttribution, error) {
	if len(holdings) == 0 {
		return PortfolioCurrencyAttribution{}, fmt.Errorf("portfolio currency attribution: %w", ErrEmpty)
	}
	v0, v1 := 0.0, 0.0
	pos := make([]HoldingAttribution, len(holdings))
	for i, h := range holdings {
		a, err := PositionCurrencyAttribution(h.P0, h.P1, h.X0, h.X1)
		if err != nil {
			return PortfolioCurrencyAttribution{}, fmt.Errorf("portfolio currency attribution, position %q: %w", h.ID, err)
		}
		if !finite(h.Quantity) || h.Quantity < 0 {
			return PortfolioCurrencyAttribution{}, fmt.Errorf("portfolio currency attribution, position %q: quantity %g: %w", h.ID, h.Quantity, ErrInvalid)
		}
		pos[i] = HoldingAttribution{ID: h.ID, Currency: h.Currency, CurrencyAttribution: a}
		v0 += h.Quantity * h.P0 * h.X0
		v1 += h.Quantity * h.P1 * h.X1
	}
	if v0 <= 0 {
		return PortfolioCurrencyAttribution{}, fmt.Errorf("portfolio currency attribution: start value %g: %w", v0, ErrInvalid)
	}
	out := PortfolioCurrencyAttribution{Positions: pos, ByCurrency: map[string]CurrencyAttribution{}}
	for i, h := range holdings {
		w := h.Quantity * h.P0 * h.X0 / v0
		out.Positions[i].Weight = w
		a := pos[i].CurrencyAttribution
		c := out.ByCurrency[h.Currency]
		c.Local += w * a.Local
		c.FX += w * a.FX
		c.Interaction += w * a.Interaction
		c.Total += w * a.Total
		out.ByCurrency[h.Currency] = c
		out.Portfolio.Local += w * a.Local
		out.Portfolio.FX += w * a.FX
		out.Portfolio.Interaction += w * a.Interaction
	}
	for k, c := range out.ByCurrency {
		if err := attributionResidual("currency attribution of "+k, &c); err != nil {
			return PortfolioCurrencyAttribution{}, err
		}
		out.ByCurrency[k] = c
	}
	out.Portfolio.Total = v1/v0 - 1
	if err := attributionResidual("portfolio currency attribution", &out.Portfolio); err != nil {
		return PortfolioCurrencyAttribution{}, err
	}
	return out, nil
}

// Contribution is each position's contribution to a portfolio return,
// weight × return, and their sum.
type Contribution struct {
	PerPosition []float64
	Total       float64
}

// ContributionToReturn multiplies start-of-period weights by period
// returns. The total equals the portfolio return when the weights are
// start-of-period base-value weights of every holding, cash included (they
// then sum to 1); weights are not renormalised here.
func ContributionToReturn(weights, returns []float64) (Contribution, error) {
	if len(weights) != len(returns) {
		return Contribution{}, fmt.Errorf("contribution of %d weights and %d returns: %w", len(weights), len(returns), ErrLength)
	}
	if len(weights) == 0 {
		return Contribution{}, fmt.Errorf("contribution: %w", ErrEmpty)
	}
	c := Contribution{PerPosition: make([]float64, len(weights))}
	for i := range weights {
		if !finite(weights[i], returns[i]) {
			return Contribution{}, fmt.Errorf("contribution: position %d is not finite: %w", i, ErrInvalid)
		}
		c.PerPosition[i] = weights[i] * returns[i]
		c.Total += c.PerPosition[i]
	}
	return c, nil
}

// ContributionFromValues derives weights (start value over the total start
// value) and returns (end / start − 1) from each position's base values at
// the start and end of a period without flows; the contributions then sum
// to ΣEnd / ΣStart − 1.
func ContributionFromValues(start, end []float64) (Contribution, error) {
	if len(start) != len(end) {
		return Contribution{}, fmt.Errorf("contribution of %d start and %d end values: %w", len(start), len(end), ErrLength)
	}
	if len(start) == 0 {
		return Contribution{}, fmt.Errorf("contribution: %w", ErrEmpty)
	}
	total := 0.0
	for i, s := range start {
		if !finite(s, end[i]) || s <= 0 || end[i] < 0 {
			return Contribution{}, fmt.Errorf("contribution: position %d values %g→%g: %w", i, s, end[i], ErrInvalid)
		}
		total += s
	}
	w := make([]float64, len(start))
	r := make([]float64, len(start))
	for i, s := range start {
		w[i] = s / total
		r[i] = end[i]/s - 1
	}
	return ContributionToReturn(w, r)
}
