package storage

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Time series the analytics read: closes and FX rates across the fresh,
// current packs (one per business day), and the factor series derived from
// the macro indicators.

// Factor names, in the order of the position_factor_betas columns and of
// every factor vector.
const (
	FactorRealRates  = "real_rates"
	FactorInflation  = "inflation"
	FactorCredit     = "credit"
	FactorUSD        = "usd"
	FactorEquity     = "equity"
	FactorCommodity  = "commodity"
	FactorVolatility = "volatility"
)

// FactorDef says how a factor's daily value is derived from a macro series.
type FactorDef struct {
	Name string `json:"name"`
	// SeriesID is the macro_indicators series the factor is read from.
	SeriesID string `json:"series_id"`
	// Transform is TransformDiffPct (factor = (v_t − v_t−1) / 100: the
	// change of a rate quoted in percent, as a decimal) or TransformReturn
	// (factor = v_t / v_t−1 − 1).
	Transform string `json:"transform"`
}

// Factor transforms.
const (
	TransformDiffPct = "diff_pct"
	TransformReturn  = "return"
)

// Factors is the factor model of the analytics and of the demo data: the
// seven factors in column order, each with its series. The scenario
// library's shocks are in the same units.
var Factors = []FactorDef{
	{FactorRealRates, "DFII10", TransformDiffPct},
	{FactorInflation, "T10YIE", TransformDiffPct},
	{FactorCredit, "BAMLC0A0CM", TransformDiffPct},
	{FactorUSD, "DTWEXBGS", TransformReturn},
	{FactorEquity, "SP500", TransformReturn},
	{FactorCommodity, "DCOILWTICO", TransformReturn},
	{FactorVolatility, "VIXCLS", TransformReturn},
}

// FactorDay is the value of every factor on one date, in Factors' order.
type FactorDay struct {
	Date   time.Time
	Values []float64
}

// FactorSeries returns the factors on every date from..to on which all
// their series have an observation and so does the previous observation
// date of each series: the dates of a regression's rows. Oldest first.
func FactorSeries(ctx context.Context, q Querier, from, to time.Time) ([]FactorDay, error) {
	ids := make([]string, len(Factors))
	for i, f := range Factors {
		ids[i] = f.SeriesID
	}
	// One observation before from, so the first date has its change.
	rows, err := q.Query(ctx, `SELECT series_id, obs_date, value FROM macro_indicators
		WHERE series_id = ANY($1) AND obs_date <= $3 AND obs_date >= (
			SELECT coalesce(max(obs_date), $2) FROM macro_indicators WHERE series_id = $4 AND obs_date < $2)
		ORDER BY series_id, obs_date`, ids, civilDate(from), civilDate(to), ids[0])
	if err != nil {
		return nil, fmt.Errorf("read factor series: %w", err)
	}
	type obs struct {
		Series string
		Date   time.Time
		Value  float64
	}
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[obs])
	if err != nil {
		return nil, fmt.Errorf("read factor series: %w", err)
	}
	bySeries := map[string][]obs{}
	for _, o := range all {
		bySeries[o.Series] = append(bySeries[o.Series], o)
	}
	// Each factor's value by date.
	values := make([]map[time.Time]float64, len(Factors))
	for i, f := range Factors {
		values[i] = map[time.Time]float64{}
		s := bySeries[f.SeriesID]
		for j := 1; j < len(s); j++ {
			prev, cur := s[j-1].Value, s[j].Value
			switch f.Transform {
			case TransformDiffPct:
				values[i][s[j].Date] = (cur - prev) / 100
			default:
				if prev == 0 {
					continue
				}
				values[i][s[j].Date] = cur/prev - 1
			}
		}
	}
	var dates []time.Time
	for d := range values[0] {
		if !d.Before(civilDate(from)) {
			dates = append(dates, d)
		}
	}
	sort.Slice(dates, func(i, j int) bool { return dates[i].Before(dates[j]) })
	out := make([]FactorDay, 0, len(dates))
	for _, d := range dates {
		day := FactorDay{Date: d, Values: make([]float64, len(Factors))}
		ok := true
		for i := range Factors {
			v, has := values[i][d]
			if !has {
				ok = false
				break
			}
			day.Values[i] = v
		}
		if ok {
			out = append(out, day)
		}
	}
	return out, nil
}

// DatedPrice is a close on a pack's date, in its currency.
type DatedPrice struct {
	Date     time.Time
	PackID   string
	Close    decimal.Decimal
	Currency string
}

// PriceHistory returns the closes of the securities from..to, one per fresh
// current pack, oldest first, by security. A security without any close in
// the range is absent from the map.
func PriceHistory(ctx context.Context, q Querier, securityIDs []uuid.UUID, from, to time.Time) (map[uuid.UUID][]DatedPrice, error) {
	out := map[uuid.UUID][]DatedPrice{}
	rows, err := q.Query(ctx, `SELECT pr.security_id, p.pack_date, p.id, pr.close, pr.currency
		FROM prices pr JOIN pricing_packs p ON p.id = pr.pack_id
		WHERE pr.security_id = ANY($1) AND p.status = 'fresh' AND p.superseded_by IS NULL
		  AND p.pack_date BETWEEN $2 AND $3
		ORDER BY pr.security_id, p.pack_date`, securityIDs, civilDate(from), civilDate(to))
	if err != nil {
		return nil, fmt.Errorf("read price history: %w", err)
	}
	var r struct {
		SecurityID uuid.UUID
		DatedPrice
	}
	_, err = pgx.ForEachRow(rows, []any{&r.SecurityID, &r.Date, &r.PackID, &r.Close, &r.Currency}, func() error {
		out[r.SecurityID] = append(out[r.SecurityID], r.DatedPrice)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read price history: %w", err)
	}
	return out, nil
}

// DatedRate is an FX rate on a pack's date: 1 From = Rate To.
type DatedRate struct {
	Date time.Time
	Rate decimal.Decimal
}

// FXHistory returns the rate from→to on every fresh current pack from..to,
// oldest first: the stored pair, or the inverse of the stored reverse pair
// (rounded to 16 decimal places, as FXRate does); 1 on every pack's date
// when from and to are the same currency. A date whose pack has neither
// direction is left out; callers that need every date compare with
// ListFreshPacks.
func FXHistory(ctx context.Context, q Querier, from, to string, start, end time.Time) ([]DatedRate, error) {
	if from == to {
		packs, err := ListFreshPacks(ctx, q, start, end)
		if err != nil {
			return nil, err
		}
		out := make([]DatedRate, len(packs))
		for i, p := range packs {
			out[i] = DatedRate{Date: p.Date, Rate: decimal.NewFromInt(1)}
		}
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT p.pack_date, fx.rate, fx.from_ccy <> $1
		FROM fx_rates fx JOIN pricing_packs p ON p.id = fx.pack_id
		WHERE p.status = 'fresh' AND p.superseded_by IS NULL AND p.pack_date BETWEEN $3 AND $4
		  AND ((fx.from_ccy = $1 AND fx.to_ccy = $2) OR (fx.from_ccy = $2 AND fx.to_ccy = $1))
		ORDER BY p.pack_date, fx.from_ccy <> $1`, from, to, civilDate(start), civilDate(end))
	if err != nil {
		return nil, fmt.Errorf("read %s/%s history: %w", from, to, err)
	}
	var out []DatedRate
	var d time.Time
	var r decimal.Decimal
	var inverse bool
	_, err = pgx.ForEachRow(rows, []any{&d, &r, &inverse}, func() error {
		if len(out) > 0 && out[len(out)-1].Date.Equal(d) {
			return nil // the direct pair came first
		}
		if inverse {
			r = decimal.NewFromInt(1).DivRound(r, 16)
		}
		out = append(out, DatedRate{Date: d, Rate: r})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s/%s history: %w", from, to, err)
	}
	return out, nil
}

// LastDailyValues returns the portfolio's last n daily values dated on or
// before asOf, oldest first (fewer when the history is shorter).
func LastDailyValues(ctx context.Context, q Querier, portfolioID uuid.UUID, asOf time.Time, n int) ([]DailyValue, error) {
	rows, err := q.Query(ctx, `SELECT portfolio_id, value_date, pack_id, base_currency, total_value, cash_value,
			positions_value, net_external_flow, ledger_hash
		FROM (SELECT * FROM portfolio_daily_values WHERE portfolio_id = $1 AND value_date <= $2
		      ORDER BY value_date DESC LIMIT $3) v
		ORDER BY value_date`, portfolioID, civilDate(asOf), n)
	if err != nil {
		return nil, fmt.Errorf("read the last %d daily values of portfolio %s: %w", n, portfolioID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DailyValue])
	if err != nil {
		return nil, fmt.Errorf("read the last %d daily values of portfolio %s: %w", n, portfolioID, err)
	}
	return out, nil
}

// FirstFreshPackDate returns the date of the oldest fresh, current pack;
// ok is false when there is none.
func FirstFreshPackDate(ctx context.Context, q Querier) (time.Time, bool, error) {
	var d *time.Time
	if err := q.QueryRow(ctx, `SELECT min(pack_date) FROM pricing_packs WHERE status = 'fresh' AND superseded_by IS NULL`).Scan(&d); err != nil {
		return time.Time{}, false, fmt.Errorf("find the first pricing pack: %w", err)
	}
	if d == nil {
		return time.Time{}, false, nil
	}
	return *d, true, nil
}
