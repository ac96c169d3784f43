package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Queries of the macro hound's scenarios, drawdown-at-risk and alerts: the
// scenario library, the betas and regimes they are applied with, and the
// rows they write (scenario_results, dar_history, alerts, notifications).

// ScenarioShock is one scenario_shocks row. Shocks are in Factors' order
// and in the units of the position_factor_betas columns.
type ScenarioShock struct {
	ID          string
	Name        string
	Category    string
	Description string
	Shocks      [7]float64
	// Probability is the scenario's annual prior; nil when the row has
	// none.
	Probability *float64
	Historical  bool
	// PeriodStart and PeriodEnd bound a historical episode; nil otherwise.
	PeriodStart *time.Time
	PeriodEnd   *time.Time
	Source      string
}

const scenarioShockColumns = `id, name, category, coalesce(description, ''), shock_real_rates, shock_inflation, shock_credit,
	shock_usd, shock_equity, shock_commodity, shock_volatility, probability, historical, period_start, period_end, source`

func scanScenarioShock(row pgx.Row) (ScenarioShock, error) {
	var s ScenarioShock
	err := row.Scan(&s.ID, &s.Name, &s.Category, &s.Description, &s.Shocks[0], &s.Shocks[1], &s.Shocks[2], &s.Shocks[3],
		&s.Shocks[4], &s.Shocks[5], &s.Shocks[6], &s.Probability, &s.Historical, &s.PeriodStart, &s.PeriodEnd, &s.Source)
	return s, err
}

// ListScenarioShocks returns the whole scenario library, by id.
func ListScenarioShocks(ctx context.Context, q Querier) ([]ScenarioShock, error) {
	rows, err := q.Query(ctx, `SELECT `+scenarioShockColumns+` FROM scenario_shocks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read the scenario library: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ScenarioShock, error) { return scanScenarioShock(r) })
	if err != nil {
		return nil, fmt.Errorf("read the scenario library: %w", err)
	}
	return out, nil
}

// GetScenarioShock returns one scenario of the library; an unknown id
// wraps ErrNotFound.
func GetScenarioShock(ctx context.Context, q Querier, id string) (ScenarioShock, error) {
	s, err := scanScenarioShock(q.QueryRow(ctx, `SELECT `+scenarioShockColumns+` FROM scenario_shocks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return ScenarioShock{}, fmt.Errorf("scenario %q is not in scenario_shocks: %w", id, ErrNotFound)
	}
	if err != nil {
		return ScenarioShock{}, fmt.Errorf("read scenario %q: %w", id, err)
	}
	return s, nil
}

// PortfolioRegressionBetas returns, for each of the securities, the newest
// position_factor_betas row of the portfolio with method regression dated
// on or before asOf; a security without one is absent from the map.
// Heuristic rows are never returned.
func PortfolioRegressionBetas(ctx context.Context, q Querier, portfolioID uuid.UUID, asOf time.Time, securityIDs []uuid.UUID) (map[uuid.UUID]PositionFactorBetas, error) {
	out := map[uuid.UUID]PositionFactorBetas{}
	if len(securityIDs) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (security_id) portfolio_id, security_id, as_of_date, beta_real_rates,
			beta_inflation, beta_credit, beta_usd, beta_equity, beta_commodity, beta_volatility, method,
			coalesce(r_squared, 0), coalesce(observations, 0)
		FROM position_factor_betas
		WHERE portfolio_id = $1 AND security_id = ANY($2) AND method = $3 AND as_of_date <= $4
		ORDER BY security_id, as_of_date DESC`, portfolioID, securityIDs, BetaMethodRegression, civilDate(asOf))
	if err != nil {
		return nil, fmt.Errorf("read regression betas of portfolio %s on or before %s: %w", portfolioID, asOf.Format(time.DateOnly), err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PositionFactorBetas, error) {
		var b PositionFactorBetas
		err := r.Scan(&b.PortfolioID, &b.SecurityID, &b.AsOfDate, &b.Betas[0], &b.Betas[1], &b.Betas[2], &b.Betas[3],
			&b.Betas[4], &b.Betas[5], &b.Betas[6], &b.Method, &b.RSquared, &b.Observations)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("read regression betas of portfolio %s on or before %s: %w", portfolioID, asOf.Format(time.DateOnly), err)
	}
	for _, b := range list {
		out[b.SecurityID] = b
	}
	return out, nil
}

// RegimeRecord is the part of a regime_history row the scenarios read.
type RegimeRecord struct {
	AsOfDate   time.Time
	Regime     string
	Confidence float64
}

// RegimeOnOrBefore returns the newest regime_history row dated on or
// before asOf; false when there is none.
func RegimeOnOrBefore(ctx context.Context, q Querier, asOf time.Time) (RegimeRecord, bool, error) {
	var r RegimeRecord
	err := q.QueryRow(ctx, `SELECT as_of_date, regime, confidence FROM regime_history WHERE as_of_date <= $1
		ORDER BY as_of_date DESC LIMIT 1`, civilDate(asOf)).Scan(&r.AsOfDate, &r.Regime, &r.Confidence)
	if errors.Is(err, pgx.ErrNoRows) {
		return RegimeRecord{}, false, nil
	}
	if err != nil {
		return RegimeRecord{}, false, fmt.Errorf("read the regime on or before %s: %w", asOf.Format(time.DateOnly), err)
	}
	return r, true, nil
}

// RegimesCovering returns the regime_history rows that say the regime of
// every day from..to: the rows dated in the range and the newest one
// before from (which governs the first days), oldest first.
func RegimesCovering(ctx context.Context, q Querier, from, to time.Time) ([]RegimeRecord, error) {
	rows, err := q.Query(ctx, `SELECT as_of_date, regime, confidence FROM regime_history
		WHERE as_of_date <= $2 AND as_of_date >= coalesce((SELECT max(as_of_date) FROM regime_history WHERE as_of_date < $1), $1)
		ORDER BY as_of_date`, civilDate(from), civilDate(to))
	if err != nil {
		return nil, fmt.Errorf("read regimes from %s to %s: %w", from.Format(time.DateOnly), to.Format(time.DateOnly), err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[RegimeRecord])
	if err != nil {
		return nil, fmt.Errorf("read regimes from %s to %s: %w", from.Format(time.DateOnly), to.Format(time.DateOnly), err)
	}
	return out, nil
}

// ScenarioResult is one scenario_results row. Shocks, Positions and
// FactorContributions are JSON documents the capability encodes.
type ScenarioResult struct {
	PortfolioID uuid.UUID
	// ScenarioID names a library scenario; empty for custom shocks and
	// for scenarios defined outside scenario_shocks.
	ScenarioID          string
	AsOfDate            time.Time
	PackID              string
	ShockHash           string
	Shocks              json.RawMessage
	ValueBefore         decimal.Decimal
	DeltaValue          decimal.Decimal
	DeltaPct            float64
	Positions           json.RawMessage
	FactorContributions json.RawMessage
}

// UpsertScenarioResult writes r on its key (portfolio, as-of date, pack,
// shock hash) and returns the row's id. A row with the same content is
// left alone, updated_at included, so a replay changes nothing.
func UpsertScenarioResult(ctx context.Context, q Querier, r ScenarioResult) (uuid.UUID, error) {
	var scenario any
	if r.ScenarioID != "" {
		scenario = r.ScenarioID
	}
	_, err := q.Exec(ctx, `INSERT INTO scenario_results (portfolio_id, scenario_id, as_of_date, pack_id, shock_hash, shocks,
			value_before, delta_value, delta_pct, positions, factor_contributions)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (portfolio_id, as_of_date, pack_id, shock_hash) DO UPDATE SET
			scenario_id = EXCLUDED.scenario_id, shocks = EXCLUDED.shocks, value_before = EXCLUDED.value_before,
			delta_value = EXCLUDED.delta_value, delta_pct = EXCLUDED.delta_pct, positions = EXCLUDED.positions,
			factor_contributions = EXCLUDED.factor_contributions, updated_at = now()
		WHERE (scenario_results.scenario_id, scenario_results.shocks, scenario_results.value_before,
		       scenario_results.delta_value, scenario_results.delta_pct, scenario_results.positions,
		       scenario_results.factor_contributions)
		      IS DISTINCT FROM (EXCLUDED.scenario_id, EXCLUDED.shocks, EXCLUDED.value_before, EXCLUDED.delta_value,
		       EXCLUDED.delta_pct, EXCLUDED.positions, EXCLUDED.factor_contributions)`,
		r.PortfolioID, scenario, civilDate(r.AsOfDate), r.PackID, r.ShockHash, r.Shocks, r.ValueBefore, r.DeltaValue,
		r.DeltaPct, r.Positions, r.FactorContributions)
	if err != nil {
		return uuid.Nil, fmt.Errorf("upsert scenario result %s of portfolio %s: %w", r.ShockHash, r.PortfolioID, err)
	}
	var id uuid.UUID
	if err := q.QueryRow(ctx, `SELECT id FROM scenario_results WHERE portfolio_id = $1 AND as_of_date = $2 AND pack_id = $3
		AND shock_hash = $4`, r.PortfolioID, civilDate(r.AsOfDate), r.PackID, r.ShockHash).Scan(&id); err != nil {
		return uuid.Nil, fmt.Errorf("read back scenario result %s of portfolio %s: %w", r.ShockHash, r.PortfolioID, err)
	}
	return id, nil
}

// DaRRecord is one dar_history row.
type DaRRecord struct {
	PortfolioID uuid.UUID
	AsOfDate    time.Time
	PackID      string
	Method      string
	Confidence  float64
	HorizonDays int
	Regime      string
	Simulations int
	// Seed is nil for the scenarios method.
	Seed           *int64
	DaRFraction    float64
	DaRAmount      decimal.Decimal
	PortfolioValue decimal.Decimal
	BaseCurrency   string
	Details        json.RawMessage
}

// UpsertDaR writes r on its key (portfolio, as-of date, pack, method,
// confidence, horizon). A row with the same content is left alone,
// updated_at included.
func UpsertDaR(ctx context.Context, q Querier, r DaRRecord) error {
	_, err := q.Exec(ctx, `INSERT INTO dar_history (portfolio_id, as_of_date, pack_id, method, confidence, horizon_days, regime,
			simulations, seed, dar_fraction, dar_amount, portfolio_value, base_currency, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (portfolio_id, as_of_date, pack_id, method, confidence, horizon_days) DO UPDATE SET
			regime = EXCLUDED.regime, simulations = EXCLUDED.simulations, seed = EXCLUDED.seed,
			dar_fraction = EXCLUDED.dar_fraction, dar_amount = EXCLUDED.dar_amount, portfolio_value = EXCLUDED.portfolio_value,
			base_currency = EXCLUDED.base_currency, details = EXCLUDED.details, updated_at = now()
		WHERE (dar_history.regime, dar_history.simulations, dar_history.seed, dar_history.dar_fraction, dar_history.dar_amount,
		       dar_history.portfolio_value, dar_history.base_currency, dar_history.details)
		      IS DISTINCT FROM (EXCLUDED.regime, EXCLUDED.simulations, EXCLUDED.seed, EXCLUDED.dar_fraction,
		       EXCLUDED.dar_amount, EXCLUDED.portfolio_value, EXCLUDED.base_currency, EXCLUDED.details)`,
		r.PortfolioID, civilDate(r.AsOfDate), r.PackID, r.Method, r.Confidence, r.HorizonDays, r.Regime, r.Simulations, r.Seed,
		r.DaRFraction, r.DaRAmount, r.PortfolioValue, r.BaseCurrency, r.Details)
	if err != nil {
		return fmt.Errorf("upsert %s drawdown-at-risk of portfolio %s on %s: %w", r.Method, r.PortfolioID, r.AsOfDate.Format(time.DateOnly), err)
	}
	return nil
}

// Alert is one alerts row.
type Alert struct {
	ID     uuid.UUID
	UserID uuid.UUID
	// PortfolioID is nil for an alert on no portfolio.
	PortfolioID     *uuid.UUID
	Name            string
	Condition       json.RawMessage
	Channels        []string
	CooldownSeconds int
	Active          bool
	LastFiredAt     *time.Time
}

// UpsertAlert writes the alert on its id (the caller derives the id from
// what identifies the alert, so the same alert is the same row) and
// returns the stored row, locked for update so that two firings of one
// alert are serialised. A row with the same definition is left alone;
// last_fired_at and active are never changed here.
func UpsertAlert(ctx context.Context, q Querier, a Alert) (Alert, error) {
	_, err := q.Exec(ctx, `INSERT INTO alerts (id, user_id, portfolio_id, name, condition, channels, cooldown_seconds)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, condition = EXCLUDED.condition, channels = EXCLUDED.channels,
			cooldown_seconds = EXCLUDED.cooldown_seconds, updated_at = now()
		WHERE (alerts.name, alerts.condition, alerts.channels, alerts.cooldown_seconds)
		      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.condition, EXCLUDED.channels, EXCLUDED.cooldown_seconds)`,
		a.ID, a.UserID, a.PortfolioID, a.Name, a.Condition, a.Channels, a.CooldownSeconds)
	if err != nil {
		return Alert{}, fmt.Errorf("upsert alert %q of user %s: %w", a.Name, a.UserID, err)
	}
	var s Alert
	err = q.QueryRow(ctx, `SELECT id, user_id, portfolio_id, name, condition, channels, cooldown_seconds, active, last_fired_at
		FROM alerts WHERE id = $1 FOR UPDATE`, a.ID).
		Scan(&s.ID, &s.UserID, &s.PortfolioID, &s.Name, &s.Condition, &s.Channels, &s.CooldownSeconds, &s.Active, &s.LastFiredAt)
	if err != nil {
		return Alert{}, fmt.Errorf("read back alert %q of user %s: %w", a.Name, a.UserID, err)
	}
	return s, nil
}

// MarkAlertFired sets an alert's last_fired_at.
func MarkAlertFired(ctx context.Context, q Querier, alertID uuid.UUID, at time.Time) error {
	if _, err := q.Exec(ctx, `UPDATE alerts SET last_fired_at = $2, updated_at = now() WHERE id = $1`, alertID, at); err != nil {
		return fmt.Errorf("mark alert %s fired: %w", alertID, err)
	}
	return nil
}

// AlertNotification is one notifications row of an alert.
type AlertNotification struct {
	ID          uuid.UUID
	UserID      uuid.UUID
	AlertID     uuid.UUID
	Kind        string
	Payload     json.RawMessage
	DedupeKey   string
	DeliveredAt time.Time
}

// NotificationByDedupeKey returns the user's notification with the key;
// false when there is none.
func NotificationByDedupeKey(ctx context.Context, q Querier, userID uuid.UUID, key string) (AlertNotification, bool, error) {
	var n AlertNotification
	var alertID *uuid.UUID
	err := q.QueryRow(ctx, `SELECT id, user_id, alert_id, kind, payload, coalesce(dedupe_key, ''), delivered_at FROM notifications
		WHERE user_id = $1 AND dedupe_key = $2`, userID, key).
		Scan(&n.ID, &n.UserID, &alertID, &n.Kind, &n.Payload, &n.DedupeKey, &n.DeliveredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return AlertNotification{}, false, nil
	}
	if err != nil {
		return AlertNotification{}, false, fmt.Errorf("read notification %q of user %s: %w", key, userID, err)
	}
	if alertID != nil {
		n.AlertID = *alertID
	}
	return n, true, nil
}

// NotificationOnDay returns the notification of the user and alert
// delivered on the UTC day of day; false when there is none.
func NotificationOnDay(ctx context.Context, q Querier, userID, alertID uuid.UUID, day time.Time) (AlertNotification, bool, error) {
	var n AlertNotification
	err := q.QueryRow(ctx, `SELECT id, user_id, alert_id, kind, payload, coalesce(dedupe_key, ''), delivered_at FROM notifications
		WHERE user_id = $1 AND alert_id = $2 AND (delivered_at AT TIME ZONE 'UTC')::date = $3::date`,
		userID, alertID, day.UTC().Format(time.DateOnly)).
		Scan(&n.ID, &n.UserID, &n.AlertID, &n.Kind, &n.Payload, &n.DedupeKey, &n.DeliveredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return AlertNotification{}, false, nil
	}
	if err != nil {
		return AlertNotification{}, false, fmt.Errorf("read notification of alert %s on %s: %w", alertID, day.UTC().Format(time.DateOnly), err)
	}
	return n, true, nil
}

// InsertAlertNotification inserts n unless the user already has one of the
// alert on n's UTC day (notifications_user_alert_day) or one with the same
// dedupe key (notifications_user_dedupe); it reports whether a row was
// inserted, with its id.
func InsertAlertNotification(ctx context.Context, q Querier, n AlertNotification) (uuid.UUID, bool, error) {
	var id uuid.UUID
	err := q.QueryRow(ctx, `INSERT INTO notifications (user_id, alert_id, kind, payload, dedupe_key, delivered_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id`,
		n.UserID, n.AlertID, n.Kind, n.Payload, n.DedupeKey, n.DeliveredAt).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("insert notification of alert %s for user %s: %w", n.AlertID, n.UserID, err)
	}
	return id, true, nil
}
