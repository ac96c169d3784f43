package analyst

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

// The series that several of the agent's capabilities compute on.

// returnSeries is a portfolio's daily values and the daily time-weighted
// returns between them (DOMAIN.md §1: inflows at the start of the day,
// outflows at the end). Returns[i] is the return of the day Values[i+1].
type returnSeries struct {
	Values  []storage.DailyValue
	Returns []quant.DatedReturn
}

// Floats returns the returns as plain numbers.
func (s returnSeries) Floats() []float64 {
	out := make([]float64, len(s.Returns))
	for i, r := range s.Returns {
		out[i] = r.Return
	}
	return out
}

// portfolioReturns reads the last lookback+1 daily values of a portfolio
// up to asOf and returns them with their lookback daily returns. Fewer
// than minReturns returns is insufficient_data naming how many were found.
func portfolioReturns(ctx context.Context, q storage.Querier, portfolioID uuid.UUID, asOf time.Time, lookback, minReturns int) (returnSeries, error) {
	if _, err := storage.GetPortfolio(ctx, q, portfolioID); err != nil {
		return returnSeries{}, err
	}
	vals, err := storage.LastDailyValues(ctx, q, portfolioID, asOf, lookback+1)
	if err != nil {
		return returnSeries{}, err
	}
	found := len(vals) - 1
	if found < minReturns {
		return returnSeries{}, agents.InsufficientData(fmt.Sprintf("daily returns of portfolio %s up to %s", portfolioID, asOf.Format(time.DateOnly)), max(found, 0), minReturns)
	}
	days := make([]quant.ValuationDay, len(vals))
	for i, v := range vals {
		total, _ := v.Total.Float64()
		flow, _ := v.NetExternalFlow.Float64()
		d := quant.ValuationDay{Date: v.Date, Value: total}
		if flow > 0 {
			d.Inflow = flow
		} else {
			d.Outflow = -flow
		}
		days[i] = d
	}
	rets, err := quant.DailyTWR(days)
	if err != nil {
		return returnSeries{}, fmt.Errorf("daily returns of portfolio %s: %w", portfolioID, err)
	}
	return returnSeries{Values: vals, Returns: rets}, nil
}
