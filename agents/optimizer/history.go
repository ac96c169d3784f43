package optimizer

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

// The return history the optimiser and the impact analysis compute on:
// daily returns in the portfolio's base currency, from the closes of the
// fresh packs (storage.PriceHistory) converted with the packs' rates
// (storage.FXHistory), split-adjusted (storage.Splits).

// minReturnRows is the fewest aligned daily return rows an optimisation
// or a risk figure is computed from; fewer is insufficient_data, never a
// fallback to equal weights.
const minReturnRows = 60

// returnWindow holds aligned daily returns: Assets[i][t] is asset i's
// return on Dates[t], from the previous pack's date to Dates[t].
type returnWindow struct {
	Dates  []time.Time
	Assets [][]float64
	// Bench is the benchmark's returns on the same dates; nil without one.
	Bench []float64
}

// returnsConvention states how the returns are built.
const returnsConvention = "daily returns in the base currency: (close × split ratio × rate(price currency → base)) on a pack date over the same " +
	"on the previous pack date, minus 1; rows kept only where every security (and the benchmark) has a close and a rate on both dates"

// loadReturns builds the window of the last lookback+1 fresh packs up to
// end for secs and the benchmark (nil: none). Fewer than minReturnRows
// aligned rows is insufficient_data with found and needed, naming the
// securities whose closes are missing.
func loadReturns(ctx context.Context, q storage.Querier, portfolioID uuid.UUID, secs []storage.Security, bench *storage.Security,
	base string, end time.Time, lookback int) (returnWindow, error) {
	packs, err := storage.ListFreshPacks(ctx, q, end.AddDate(0, 0, -(2*lookback+31)), end)
	if err != nil {
		return returnWindow{}, err
	}
	if len(packs) > lookback+1 {
		packs = packs[len(packs)-lookback-1:]
	}
	all := append([]storage.Security(nil), secs...)
	if bench != nil {
		all = append(all, *bench)
	}
	what := func() string {
		syms := make([]string, len(secs))
		for i, s := range secs {
			syms[i] = s.Symbol
		}
		w := fmt.Sprintf("daily return rows in %s of %s", base, strings.Join(syms, ", "))
		if bench != nil {
			w += " and the benchmark " + bench.Symbol
		}
		return w + fmt.Sprintf(" over the %d fresh pricing packs up to %s", len(packs), end.Format(time.DateOnly))
	}
	if len(packs) < 2 {
		return returnWindow{}, agents.InsufficientData(what(), 0, minReturnRows)
	}
	first, last := packs[0].Date, packs[len(packs)-1].Date
	ids := make([]uuid.UUID, len(all))
	for i, s := range all {
		ids[i] = s.ID
	}
	hist, err := storage.PriceHistory(ctx, q, ids, first, last)
	if err != nil {
		return returnWindow{}, err
	}
	splits, err := storage.Splits(ctx, q, portfolioID, ids, first, last)
	if err != nil {
		return returnWindow{}, err
	}
	closes := make([]map[time.Time]storage.DatedPrice, len(all))
	rates := map[string]map[time.Time]decimal.Decimal{}
	for i, s := range all {
		closes[i] = map[time.Time]storage.DatedPrice{}
		for _, p := range hist[s.ID] {
			closes[i][p.Date] = p
			if _, ok := rates[p.Currency]; !ok {
				h, err := storage.FXHistory(ctx, q, p.Currency, base, first, last)
				if err != nil {
					return returnWindow{}, err
				}
				m := make(map[time.Time]decimal.Decimal, len(h))
				for _, x := range h {
					m[x.Date] = x.Rate
				}
				rates[p.Currency] = m
			}
		}
	}
	value := func(i int, d time.Time) (decimal.Decimal, bool) {
		p, ok := closes[i][d]
		if !ok {
			return decimal.Zero, false
		}
		r, ok := rates[p.Currency][d]
		if !ok {
			return decimal.Zero, false
		}
		return p.Close.Mul(r), true
	}
	w := returnWindow{Assets: make([][]float64, len(secs))}
	missing := make([]int, len(all))
	row := make([]float64, len(all))
	for t := 1; t < len(packs); t++ {
		d0, d1 := packs[t-1].Date, packs[t].Date
		ok := true
		for i, s := range all {
			v0, ok0 := value(i, d0)
			v1, ok1 := value(i, d1)
			if !ok0 || !ok1 || !v0.IsPositive() {
				missing[i]++
				ok = false
				continue
			}
			ratio := decimal.NewFromInt(1)
			for _, sp := range splits[s.ID] {
				if sp.Date.After(d0) && !sp.Date.After(d1) {
					ratio = ratio.Mul(sp.Ratio)
				}
			}
			row[i] = v1.Mul(ratio).DivRound(v0, 20).InexactFloat64() - 1
		}
		if !ok {
			continue
		}
		w.Dates = append(w.Dates, d1)
		for i := range secs {
			w.Assets[i] = append(w.Assets[i], row[i])
		}
		if bench != nil {
			w.Bench = append(w.Bench, row[len(secs)])
		}
	}
	if len(w.Dates) < minReturnRows {
		e := agents.InsufficientData(what(), len(w.Dates), minReturnRows)
		var short []string
		for i, s := range all {
			if missing[i] > 0 {
				short = append(short, fmt.Sprintf("%s lacks a close or rate on %d of the %d days", s.Symbol, missing[i], len(packs)-1))
			}
		}
		if len(short) > 0 {
			e.Message += " (" + strings.Join(short, "; ") + ")"
		}
		return returnWindow{}, e
	}
	return w, nil
}

// portfolioSeries is Σ wᵢ rᵢ on each date: the daily return of a
// portfolio that holds the weights (what they do not sum to is cash,
// which earns nothing).
func (w returnWindow) portfolioSeries(weights []float64) []float64 {
	out := make([]float64, len(w.Dates))
	for i, col := range w.Assets {
		for t, r := range col {
			out[t] += weights[i] * r
		}
	}
	return out
}

// volatility is the annualised volatility of the weights' portfolio.
func (w returnWindow) volatility(weights []float64) (float64, error) {
	v, err := quant.AnnualVolatility(w.portfolioSeries(weights))
	if err != nil {
		return 0, fmt.Errorf("volatility over %d days: %w", len(w.Dates), err)
	}
	return v, nil
}

// trackingError is the annualised tracking error of the weights'
// portfolio against the benchmark; nil without a benchmark.
func (w returnWindow) trackingError(weights []float64) (*float64, error) {
	if w.Bench == nil {
		return nil, nil
	}
	te, err := quant.TrackingError(w.portfolioSeries(weights), w.Bench)
	if err != nil {
		return nil, fmt.Errorf("tracking error over %d days: %w", len(w.Dates), err)
	}
	return &te, nil
}

// covariance is the sample covariance matrix (ddof 1) of the assets'
// daily returns.
func (w returnWindow) covariance() ([][]float64, error) {
	m, err := quant.CovarianceMatrix(w.Assets)
	if err != nil {
		return nil, fmt.Errorf("covariance of %d assets over %d days: %w", len(w.Assets), len(w.Dates), err)
	}
	n := len(w.Assets)
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, n)
		for j := range out[i] {
			out[i][j] = m.At(i, j)
		}
	}
	return out, nil
}

// means are the assets' mean daily returns.
func (w returnWindow) means() []float64 {
	out := make([]float64, len(w.Assets))
	for i, col := range w.Assets {
		out[i], _ = quant.Mean(col)
	}
	return out
}

// scenarios are the rows of the window: scenarios[t][i] = Assets[i][t].
func (w returnWindow) scenarios() [][]float64 {
	out := make([][]float64, len(w.Dates))
	for t := range out {
		out[t] = make([]float64, len(w.Assets))
		for i := range w.Assets {
			out[t][i] = w.Assets[i][t]
		}
	}
	return out
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// finiteOrNil turns a non-finite figure into nil.
func finiteOrNil(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}
