package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Queries of the performance and attribution analytics: the trading days
// a lookback counts, and the upserts of portfolio_metrics and
// currency_attribution.

// TradingPacks returns the last n fresh, current packs dated on or before
// onOrBefore on a weekday (the days ComputeDailyValues values), oldest
// first; fewer when the history is shorter.
func TradingPacks(ctx context.Context, q Querier, onOrBefore time.Time, n int) ([]Pack, error) {
	rows, err := q.Query(ctx, `SELECT `+packColumns+` FROM (
			SELECT * FROM pricing_packs
			WHERE status = 'fresh' AND superseded_by IS NULL AND pack_date <= $1 AND extract(isodow FROM pack_date) < 6
			ORDER BY pack_date DESC LIMIT $2) p
		ORDER BY pack_date`, civilDate(onOrBefore), n)
	if err != nil {
		return nil, fmt.Errorf("list the last %d trading packs up to %s: %w", n, onOrBefore.Format(time.DateOnly), err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Pack, error) { return scanPack(r) })
	if err != nil {
		return nil, fmt.Errorf("list the last %d trading packs up to %s: %w", n, onOrBefore.Format(time.DateOnly), err)
	}
	return out, nil
}

// MetricColumns are the figure columns of portfolio_metrics, in table
// order. PortfolioMetrics.Figures is keyed by them.
var MetricColumns = []string{
	"twr_1d", "twr_mtd", "twr_qtd", "twr_ytd", "twr_1y", "twr_3y_ann", "twr_5y_ann", "twr_inception_ann",
	"mwr_ytd", "mwr_1y", "mwr_inception",
	"volatility_30d", "volatility_60d", "volatility_90d", "volatility_1y",
	"sharpe_30d", "sharpe_60d", "sharpe_90d", "sharpe_1y", "sortino_1y",
	"max_drawdown_1y", "max_drawdown_3y", "current_drawdown",
	"alpha_1y", "beta_1y", "tracking_error_1y", "information_ratio_1y", "win_rate",
}

// PortfolioMetrics is one row of portfolio_metrics.
type PortfolioMetrics struct {
	PortfolioID uuid.UUID
	AsOf        time.Time
	PackID      string
	// BenchmarkSecurityID is uuid.Nil (NULL) when the figures have no
	// benchmark.
	BenchmarkSecurityID uuid.UUID
	// Figures by column (MetricColumns); a missing or nil entry is NULL.
	Figures map[string]*float64
	// Details is the JSON object of the details column.
	Details json.RawMessage
}

var upsertMetricsSQL = func() string {
	n := len(MetricColumns)
	params := make([]string, n)
	sets := make([]string, n)
	for i, c := range MetricColumns {
		params[i] = fmt.Sprintf("$%d", i+5)
		sets[i] = c + " = EXCLUDED." + c
	}
	return `INSERT INTO portfolio_metrics (portfolio_id, as_of_date, pack_id, benchmark_security_id, ` +
		strings.Join(MetricColumns, ", ") + `, details)
		VALUES ($1, $2, $3, $4, ` + strings.Join(params, ", ") + fmt.Sprintf(", $%d::jsonb)", n+5) + `
		ON CONFLICT (portfolio_id, as_of_date, pack_id) DO UPDATE SET benchmark_security_id = EXCLUDED.benchmark_security_id, ` +
		strings.Join(sets, ", ") + `, details = EXCLUDED.details, updated_at = now()`
}()

// UpsertPortfolioMetrics writes one portfolio_metrics row on its natural
// key (portfolio, as-of date, pack), so writing the same figures again
// changes nothing but updated_at.
func UpsertPortfolioMetrics(ctx context.Context, q Querier, m PortfolioMetrics) error {
	for k := range m.Figures {
		if !slices.Contains(MetricColumns, k) {
			return fmt.Errorf("upsert metrics of portfolio %s: %q is not a column of portfolio_metrics", m.PortfolioID, k)
		}
	}
	details := m.Details
	if len(details) == 0 {
		details = json.RawMessage(`{}`)
	}
	args := []any{m.PortfolioID, civilDate(m.AsOf), m.PackID, optUUID(m.BenchmarkSecurityID)}
	for _, c := range MetricColumns {
		args = append(args, m.Figures[c])
	}
	args = append(args, string(details))
	if _, err := q.Exec(ctx, upsertMetricsSQL, args...); err != nil {
		return fmt.Errorf("upsert metrics of portfolio %s as of %s, pack %s: %w", m.PortfolioID, m.AsOf.Format(time.DateOnly), m.PackID, err)
	}
	return nil
}

// CurrencyAttributionRow is one row of currency_attribution: the split of
// the portfolio's base-currency return from the close of Start to the
// close of the pack's date.
type CurrencyAttributionRow struct {
	PortfolioID                   uuid.UUID
	AsOf                          time.Time
	PackID                        string
	Start                         time.Time
	Local, FX, Interaction, Total float64
	ResidualBP                    float64
	// ByCurrency is the JSON object of the by_currency column.
	ByCurrency json.RawMessage
}

// UpsertCurrencyAttribution writes one currency_attribution row on its
// natural key (portfolio, as-of date, pack, start date).
func UpsertCurrencyAttribution(ctx context.Context, q Querier, r CurrencyAttributionRow) error {
	by := r.ByCurrency
	if len(by) == 0 {
		by = json.RawMessage(`{}`)
	}
	_, err := q.Exec(ctx, `INSERT INTO currency_attribution (portfolio_id, as_of_date, pack_id, start_date,
			local_return, fx_return, interaction_return, total_return, residual_bp, by_currency)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)
		ON CONFLICT (portfolio_id, as_of_date, pack_id, start_date) DO UPDATE SET
			local_return = EXCLUDED.local_return, fx_return = EXCLUDED.fx_return,
			interaction_return = EXCLUDED.interaction_return, total_return = EXCLUDED.total_return,
			residual_bp = EXCLUDED.residual_bp, by_currency = EXCLUDED.by_currency, updated_at = now()`,
		r.PortfolioID, civilDate(r.AsOf), r.PackID, civilDate(r.Start), r.Local, r.FX, r.Interaction, r.Total,
		r.ResidualBP, string(by))
	if err != nil {
		return fmt.Errorf("upsert currency attribution of portfolio %s as of %s, pack %s, from %s: %w", r.PortfolioID,
			r.AsOf.Format(time.DateOnly), r.PackID, r.Start.Format(time.DateOnly), err)
	}
	return nil
}
