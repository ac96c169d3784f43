package quant

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestPositionCurrencyAttribution(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name           string
		p0, p1, x0, x1 float64
		want           CurrencyAttribution
	}{
		// Hand computation: 100→110 is 10 %, FX 1.20→1.26 is 5 %, interaction
		// 0.1·0.05 = 0.005, total 1.1·1.05 − 1 = 0.155.
		{"foreign", 100, 110, 1.2, 1.26, CurrencyAttribution{Local: 0.1, FX: 0.05, Interaction: 0.005, Total: 0.155}},
		// Hand computation: base currency, 50→45 is −10 %, no FX part.
		{"base currency", 50, 45, 1, 1, CurrencyAttribution{Local: -0.1, Total: -0.1}},
		// Hand computation: flat price, FX 0.008→0.0072 is −10 %.
		{"currency only", 1.5, 1.5, 0.008, 0.0072, CurrencyAttribution{FX: -0.1, Total: -0.1}},
	}
	for _, c := range cases {
		got, err := PositionCurrencyAttribution(c.p0, c.p1, c.x0, c.x1)
		if err != nil || !metricClose(got.Local, c.want.Local, 1e-15) || !metricClose(got.FX, c.want.FX, 1e-15) ||
			!metricClose(got.Interaction, c.want.Interaction, 1e-15) || !metricClose(got.Total, c.want.Total, 1e-15) ||
			math.Abs(got.ResidualBP) > 1e-9 {
			t.Errorf("%s: PositionCurrencyAttribution(%v, %v, %v, %v) = %+v, %v; want %+v", c.name, c.p0, c.p1, c.x0, c.x1, got, err, c.want)
		}
	}
}

func TestAttributeCurrencyPortfolio(t *testing.T) {
	t.Parallel()
	// Hand computation. Start base values: A 10·100·1.2 = 1 200, B 20·50·1 =
	// 1 000, C 100 000·1.5·0.008 = 1 200; total 3 400. End: 1 386 + 900 + 1 080
	// = 3 366, total return −34/3 400 = −0.01.
	// Local = (1 200·0.1 − 1 000·0.1)/3 400 = 20/3 400; FX = (1 200·0.05 −
	// 1 200·0.1)/3 400 = −60/3 400; interaction = 1 200·0.005/3 400 = 6/3 400;
	// (20 − 60 + 6)/3 400 = −34/3 400.
	h := []FXHolding{
		{ID: "A", Currency: "EUR", Quantity: 10, P0: 100, P1: 110, X0: 1.2, X1: 1.26},
		{ID: "B", Currency: "USD", Quantity: 20, P0: 50, P1: 45, X0: 1, X1: 1},
		{ID: "C", Currency: "JPY", Quantity: 100000, P0: 1.5, P1: 1.5, X0: 0.008, X1: 0.0072},
	}
	got, err := AttributeCurrency(h)
	if err != nil {
		t.Fatalf("AttributeCurrency: %v", err)
	}
	want := CurrencyAttribution{Local: 20.0 / 3400, FX: -60.0 / 3400, Interaction: 6.0 / 3400, Total: -0.01}
	p := got.Portfolio
	if !metricClose(p.Local, want.Local, 1e-15) || !metricClose(p.FX, want.FX, 1e-15) ||
		!metricClose(p.Interaction, want.Interaction, 1e-15) || !metricClose(p.Total, want.Total, 1e-15) {
		t.Errorf("portfolio attribution %+v, want %+v", p, want)
	}
	if !metricClose(got.Positions[0].Weight, 1200.0/3400, 1e-15) || !metricClose(got.Positions[1].Weight, 1000.0/3400, 1e-15) {
		t.Errorf("weights %v %v, want %v %v", got.Positions[0].Weight, got.Positions[1].Weight, 1200.0/3400, 1000.0/3400)
	}
	// Hand computation: EUR contributes 120, 60 and 6 of 3 400, 186 in total.
	eur := got.ByCurrency["EUR"]
	if !metricClose(eur.Local, 120.0/3400, 1e-15) || !metricClose(eur.FX, 60.0/3400, 1e-15) || !metricClose(eur.Total, 186.0/3400, 1e-15) {
		t.Errorf("EUR contribution %+v, want local 120/3400 fx 60/3400 total 186/3400", eur)
	}
}

// TestAttributionAddsUp: on seeded random portfolios (test inputs, not
// data) the parts add to the total within 0.1 bp, the residual is reported,
// and the per-currency contributions add to the portfolio figures.
func TestAttributionAddsUp(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	ccys := []string{"USD", "EUR", "JPY", "GBP", "CHF"}
	for trial := range 200 {
		h := make([]FXHolding, 1+rng.IntN(40))
		for i := range h {
			x0 := 0.005 + 2*rng.Float64()
			c := ccys[rng.IntN(len(ccys))]
			x1 := x0 * (1 + 0.2*(rng.Float64()-0.5))
			if c == "USD" {
				x0, x1 = 1, 1
			}
			p0 := 1 + 500*rng.Float64()
			h[i] = FXHolding{ID: fmt.Sprint(i), Currency: c, Quantity: 1 + rng.Float64()*1e4, P0: p0, P1: p0 * (0.3 + 1.4*rng.Float64()), X0: x0, X1: x1}
		}
		got, err := AttributeCurrency(h)
		if err != nil {
			t.Fatalf("trial %d: AttributeCurrency: %v", trial, err)
		}
		p := got.Portfolio
		if res := p.Total - (p.Local + p.FX + p.Interaction); math.Abs(res) > AttributionTolerance || !metricClose(res*1e4, p.ResidualBP, 1e-12) {
			t.Errorf("trial %d: residual %v, reported %v bp", trial, res, p.ResidualBP)
		}
		var sum CurrencyAttribution
		for _, c := range got.ByCurrency {
			sum.Local += c.Local
			sum.FX += c.FX
			sum.Interaction += c.Interaction
			sum.Total += c.Total
		}
		if !metricClose(sum.Local, p.Local, 1e-12) || !metricClose(sum.FX, p.FX, 1e-12) ||
			!metricClose(sum.Interaction, p.Interaction, 1e-12) || !metricClose(sum.Total, p.Total, 1e-12) {
			t.Errorf("trial %d: currencies sum to %+v, portfolio %+v", trial, sum, p)
		}
		for _, pos := range got.Positions {
			if pos.FX != 0 && pos.Currency == "USD" {
				t.Errorf("trial %d: base-currency position %s has fx %v", trial, pos.ID, pos.FX)
			}
		}
	}
}

func TestContribution(t *testing.T) {
	t.Parallel()
	// Hand computation: 0.5·0.10 + 0.3·(−0.05) + 0.2·0.02 = 0.05 − 0.015 + 0.004 = 0.039.
	c, err := ContributionToReturn([]float64{0.5, 0.3, 0.2}, []float64{0.10, -0.05, 0.02})
	if err != nil || !metricClose(c.Total, 0.039, 1e-15) || !metricClose(c.PerPosition[1], -0.015, 1e-15) {
		t.Errorf("ContributionToReturn = %+v, %v; want total 0.039, position 2 -0.015", c, err)
	}
	// Property on seeded inputs: contributions sum to ΣEnd/ΣStart − 1.
	rng := rand.New(rand.NewPCG(4, 4))
	for trial := range 100 {
		n := 1 + rng.IntN(30)
		s, e := make([]float64, n), make([]float64, n)
		ts, te := 0.0, 0.0
		for i := range s {
			s[i] = 1 + 1000*rng.Float64()
			e[i] = s[i] * (0.5 + rng.Float64())
			ts += s[i]
			te += e[i]
		}
		c, err := ContributionFromValues(s, e)
		if err != nil || !metricClose(c.Total, te/ts-1, 1e-12) {
			t.Errorf("trial %d: ContributionFromValues total %v, %v; want %v", trial, c.Total, err, te/ts-1)
		}
	}
}

func TestAttributionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"zero start price", metricErr(PositionCurrencyAttribution(0, 1, 1, 1)), ErrInvalid},
		{"zero fx", metricErr(PositionCurrencyAttribution(1, 1, 0, 1)), ErrInvalid},
		{"NaN price", metricErr(PositionCurrencyAttribution(1, math.NaN(), 1, 1)), ErrInvalid},
		{"no holdings", metricErr(AttributeCurrency(nil)), ErrEmpty},
		{"negative quantity", metricErr(AttributeCurrency([]FXHolding{{ID: "x", Quantity: -1, P0: 1, P1: 1, X0: 1, X1: 1}})), ErrInvalid},
		{"zero portfolio", metricErr(AttributeCurrency([]FXHolding{{ID: "x", Quantity: 0, P0: 1, P1: 1, X0: 1, X1: 1}})), ErrInvalid},
		{"contribution mismatched", metricErr(ContributionToReturn([]float64{1}, []float64{0.1, 0.2})), ErrLength},
		{"contribution empty", metricErr(ContributionToReturn(nil, nil)), ErrEmpty},
		{"contribution from zero value", metricErr(ContributionFromValues([]float64{0}, []float64{1})), ErrInvalid},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
