package seed

import (
	"fmt"
	"math"
	"time"
)

// Daily factor volatilities (standard deviations of one business day, in
// factor units) and correlations: round figures of the order seen in
// liquid markets, chosen for the demo, not estimated from data.
var (
	factorVol = [nFactors]float64{
		0.0006, // real rates: 6 bp a day
		0.0004, // 10-year breakeven: 4 bp
		0.0003, // IG corporate spread: 3 bp
		0.004,  // broad dollar index: 0.4 %
		0.011,  // S&P 500: 1.1 %
		0.016,  // oil: 1.6 %
		0.065,  // VIX: 6.5 % relative change
	}
	factorCorr = [nFactors][nFactors]float64{
		{1, 0.1, -0.1, 0.3, -0.15, -0.1, 0.05},
		{0.1, 1, -0.2, -0.2, 0.25, 0.4, -0.15},
		{-0.1, -0.2, 1, 0.15, -0.45, -0.2, 0.45},
		{0.3, -0.2, 0.15, 1, -0.2, -0.35, 0.15},
		{-0.15, 0.25, -0.45, -0.2, 1, 0.25, -0.7},
		{-0.1, 0.4, -0.2, -0.35, 0.25, 1, -0.15},
		{0.05, -0.15, 0.45, 0.15, -0.7, -0.15, 1},
	}
)

// cholesky returns the lower-triangular L with L Lᵀ = a, or an error when a
// is not positive definite.
func cholesky(a [nFactors][nFactors]float64) ([nFactors][nFactors]float64, error) {
	var l [nFactors][nFactors]float64
	for i := range nFactors {
		for j := 0; j <= i; j++ {
			s := a[i][j]
			for k := range j {
				s -= l[i][k] * l[j][k]
			}
			if i == j {
				if s <= 0 {
					return l, fmt.Errorf("factor correlation matrix is not positive definite (pivot %d = %g)", i, s)
				}
				l[i][i] = math.Sqrt(s)
			} else {
				l[i][j] = s / l[j][j]
			}
		}
	}
	return l, nil
}

// split is the one stock split of the history.
type split struct {
	sec   int // index into universe
	day   int // index into market.days: the ex-date
	ratio float64
}

// bar is one simulated daily bar of a security.
type bar struct {
	open, high, low, close, volume float64
}

// market is the simulated world: factor levels and values per business
// day, and per pack day the bars of every security and the USD value of
// every currency.
type market struct {
	// days are all simulated business days; days[first:] are pack days.
	days  []time.Time
	first int
	// daily macro levels by series id, one per day.
	daily map[string][]float64
	// factors[d] are the factor values of day d (zero on day 0).
	factors [][nFactors]float64
	models  []model
	// bars[s][k] is security s on pack day k (days[first+k]).
	bars [][]bar
	// usdValue[c][k] is the USD value of one unit of currencies[c].
	usdValue [][]float64
	split    split
}

// packDays returns the pack days.
func (m *market) packDays() []time.Time { return m.days[m.first:] }

// businessDays lists Monday..Friday from..to inclusive.
func businessDays(from, to time.Time) []time.Time {
	var out []time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			out = append(out, d)
		}
	}
	return out
}

// simulate builds the market from seed: two years of burn-in for the
// macro series before start, then prices and FX from start to end.
func simulate(seed int64, start, end time.Time) (*market, error) {
	chol, err := cholesky(factorCorr)
	if err != nil {
		return nil, err
	}
	m := &market{daily: map[string][]float64{}}
	all := businessDays(start.AddDate(-2, 0, 0), end)
	for i, d := range all {
		if !d.Before(start) {
			m.first = i
			break
		}
	}
	m.days = all
	n := len(all)
	fr := newRand(seed, "factors")
	m.factors = make([][nFactors]float64, n)
	ids := []string{"DFII10", "T10YIE", "BAMLC0A0CM", "DTWEXBGS", "SP500", "DCOILWTICO", "VIXCLS", "T10Y2Y", "BAA10Y", "DGS10"}
	for _, id := range ids {
		m.daily[id] = make([]float64, n)
	}
	rr, inf, cr, usd, eq, oil, vix := m.daily["DFII10"], m.daily["T10YIE"], m.daily["BAMLC0A0CM"], m.daily["DTWEXBGS"], m.daily["SP500"], m.daily["DCOILWTICO"], m.daily["VIXCLS"]
	curve, baa, dgs10 := m.daily["T10Y2Y"], m.daily["BAA10Y"], m.daily["DGS10"]
	rr[0], inf[0], cr[0], usd[0], eq[0], oil[0], vix[0] = 1.8, 2.3, 1.2, 120, 4000, 75, 17
	curve[0], baa[0] = 0.3, 2.0
	dgs10[0] = round(rr[0]+inf[0], 2)
	baaNoise := 0.0
	for d := 1; d < n; d++ {
		var z, e [nFactors]float64
		for i := range nFactors {
			e[i] = fr.NormFloat64()
		}
		for i := range nFactors {
			for k := 0; k <= i; k++ {
				z[i] += chol[i][k] * e[k]
			}
		}
		// Calm and stressed spells: equity, credit and oil shocks scale
		// with the level of the VIX.
		s := math.Min(math.Max(vix[d-1]/18, 0.6), 2.5)
		rr[d] = round(rr[d-1]+0.005*(1.8-rr[d-1])+100*factorVol[0]*z[0], 2)
		inf[d] = round(inf[d-1]+0.005*(2.3-inf[d-1])+100*factorVol[1]*z[1], 2)
		cr[d] = math.Max(0.4, round(cr[d-1]+0.01*(1.2-cr[d-1])+100*factorVol[2]*s*z[2], 2))
		usd[d] = round(usd[d-1]*(1+0.002*math.Log(120/usd[d-1])+factorVol[3]*z[3]), 4)
		eq[d] = round(eq[d-1]*(1+0.07/252+factorVol[4]*s*z[4]), 2)
		oil[d] = round(oil[d-1]*(1+0.003*math.Log(75/oil[d-1])+factorVol[5]*s*z[5]), 2)
		vix[d] = math.Max(9, round(math.Exp(math.Log(vix[d-1])+0.03*(math.Log(18)-math.Log(vix[d-1]))+factorVol[6]*z[6]), 2))
		m.factors[d] = [nFactors]float64{
			(rr[d] - rr[d-1]) / 100, (inf[d] - inf[d-1]) / 100, (cr[d] - cr[d-1]) / 100,
			usd[d]/usd[d-1] - 1, eq[d]/eq[d-1] - 1, oil[d]/oil[d-1] - 1, vix[d]/vix[d-1] - 1,
		}
		dgs10[d] = round(rr[d]+inf[d], 2)
		// The 10y-2y slope moves with about 40 % of the 10-year yield's
		// change (a bear steepener) and reverts slowly to +0.3.
		curve[d] = round(curve[d-1]+0.004*(0.3-curve[d-1])+0.4*(dgs10[d]-dgs10[d-1])+0.02*fr.NormFloat64(), 2)
		// Baa minus 10y: 0.8 plus the IG spread plus a slow basis.
		baaNoise = 0.98*baaNoise + 0.015*fr.NormFloat64()
		baa[d] = round(0.8+cr[d]+baaNoise, 2)
	}
	m.models = drawModels(newRand(seed, "betas"))
	// Variance drag: a simple return with variance v compounds at about
	// its mean minus v/2, so half the model variance is added back and the
	// median path grows at the security's alpha plus its factor drift.
	for i := range m.models {
		v := m.models[i].spec.IdioVol * m.models[i].spec.IdioVol
		for a := range nFactors {
			for c := range nFactors {
				v += m.models[i].betas[a] * m.models[i].betas[c] * factorVol[a] * factorVol[c] * factorCorr[a][c]
			}
		}
		m.models[i].alpha += v / 2
	}
	if err := m.simulatePrices(seed); err != nil {
		return nil, err
	}
	m.simulateFX(seed)
	return m, nil
}

// splitSymbol is the security that splits 2-for-1 halfway through the
// history.
const splitSymbol = "NVDA"

func (m *market) simulatePrices(seed int64) error {
	pr := newRand(seed, "prices")
	k := len(m.days) - m.first
	m.split = split{sec: -1, day: m.first + k/2, ratio: 2}
	for i, s := range universe {
		if s.Symbol == splitSymbol {
			m.split.sec = i
		}
	}
	if m.split.sec < 0 {
		return fmt.Errorf("split security %s is not in the universe", splitSymbol)
	}
	m.bars = make([][]bar, len(m.models))
	for i, md := range m.models {
		bars := make([]bar, k)
		p := md.spec.Price
		baseVol := 2e6
		if md.spec.SharesM > 0 {
			baseVol = md.spec.SharesM * 1e6 * 0.004
		}
		for j := range k {
			d := m.first + j
			prev := p
			if j > 0 {
				r := md.alpha + md.spec.IdioVol*pr.NormFloat64()
				for f := range nFactors {
					r += md.betas[f] * m.factors[d][f]
				}
				p *= 1 + r
			}
			adj := 1.0
			if i == m.split.sec && d >= m.split.day {
				adj = m.split.ratio
			}
			c := round(p/adj, 4)
			o := round(prev/adj*(1+0.3*md.spec.IdioVol*pr.NormFloat64()), 4)
			rangeVol := md.spec.IdioVol + 0.004
			h := round(math.Max(o, c)*(1+math.Abs(pr.NormFloat64())*0.4*rangeVol), 4)
			l := round(math.Min(o, c)*(1-math.Abs(pr.NormFloat64())*0.4*rangeVol), 4)
			v := math.Round(baseVol * math.Exp(0.3*pr.NormFloat64()))
			if c <= 0 || l <= 0 {
				return fmt.Errorf("simulated close of %s on %s is not positive", md.spec.Symbol, m.days[d].Format(time.DateOnly))
			}
			bars[j] = bar{open: o, high: h, low: l, close: c, volume: v}
		}
		m.bars[i] = bars
	}
	return nil
}

func (m *market) simulateFX(seed int64) {
	xr := newRand(seed, "fx")
	k := len(m.days) - m.first
	m.usdValue = make([][]float64, len(currencies))
	for c, ccy := range currencies {
		vals := make([]float64, k)
		if ccy == "USD" {
			for j := range vals {
				vals[j] = 1
			}
			m.usdValue[c] = vals
			continue
		}
		var sp fxSpec
		for _, s := range fxSpecs {
			if s.Ccy == ccy {
				sp = s
			}
		}
		v := sp.USDValue
		for j := range k {
			if j > 0 {
				f := m.factors[m.first+j]
				v *= 1 - sp.USDBeta*f[3] + sp.CommodityBeta*f[5] + sp.Vol*xr.NormFloat64()
			}
			vals[j] = v
		}
		m.usdValue[c] = vals
	}
}

// fxRate is 1 from = rate to on pack day k.
func (m *market) fxRate(from, to string, k int) float64 {
	return m.usdValue[ccyIndex(from)][k] / m.usdValue[ccyIndex(to)][k]
}

func ccyIndex(c string) int {
	for i, x := range currencies {
		if x == c {
			return i
		}
	}
	panic("seed: unknown currency " + c)
}

// secIndex finds a security of the universe by symbol.
func secIndex(sym string) int {
	for i, s := range universe {
		if s.Symbol == sym {
			return i
		}
	}
	panic("seed: unknown symbol " + sym)
}
