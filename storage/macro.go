package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Queries of the macro hound's indicators, regimes and cycles:
// macro_indicators observations, regime_history and cycle_phases rows.

// MacroObservation is one macro_indicators value.
type MacroObservation struct {
	Date  time.Time
	Value float64
}

// MacroSeries returns the observations of each series dated after from
// (exclusive; the zero time for no bound) and on or before to, oldest first,
// keyed by series id. A series without observations in the range has no
// key.
func MacroSeries(ctx context.Context, q Querier, ids []string, from, to time.Time) (map[string][]MacroObservation, error) {
	var lower any
	if !from.IsZero() {
		lower = civilDate(from)
	}
	rows, err := q.Query(ctx, `SELECT series_id, obs_date, value FROM macro_indicators
		WHERE series_id = ANY($1) AND obs_date <= $2 AND ($3::date IS NULL OR obs_date > $3::date)
		ORDER BY series_id, obs_date`, ids, civilDate(to), lower)
	if err != nil {
		return nil, fmt.Errorf("read macro series %v up to %s: %w", ids, to.Format(time.DateOnly), err)
	}
	type obs struct {
		Series string
		Date   time.Time
		Value  float64
	}
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[obs])
	if err != nil {
		return nil, fmt.Errorf("read macro series %v up to %s: %w", ids, to.Format(time.DateOnly), err)
	}
	out := map[string][]MacroObservation{}
	for _, o := range all {
		out[o.Series] = append(out[o.Series], MacroObservation{Date: o.Date, Value: o.Value})
	}
	return out, nil
}

// RegimeRow is one regime_history row. ZScores, Probabilities and Drivers
// are the JSON documents stored with it.
type RegimeRow struct {
	AsOfDate      time.Time
	Regime        string
	Confidence    float64
	ZScores       json.RawMessage
	Probabilities json.RawMessage
	Drivers       json.RawMessage
	UpdatedAt     time.Time
}

// UpsertRegime writes the regime of an as-of date. A row whose content is
// unchanged is left alone (updated_at included), so a replayed detection
// changes nothing; it reports whether the row was inserted or changed.
func UpsertRegime(ctx context.Context, q Querier, r RegimeRow) (bool, error) {
	tag, err := q.Exec(ctx, `INSERT INTO regime_history (as_of_date, regime, confidence, z_scores, probabilities, drivers)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (as_of_date) DO UPDATE SET regime = EXCLUDED.regime, confidence = EXCLUDED.confidence,
			z_scores = EXCLUDED.z_scores, probabilities = EXCLUDED.probabilities, drivers = EXCLUDED.drivers, updated_at = now()
		WHERE (regime_history.regime, regime_history.confidence, regime_history.z_scores, regime_history.probabilities, regime_history.drivers)
			IS DISTINCT FROM (EXCLUDED.regime, EXCLUDED.confidence, EXCLUDED.z_scores, EXCLUDED.probabilities, EXCLUDED.drivers)`,
		civilDate(r.AsOfDate), r.Regime, r.Confidence, string(r.ZScores), string(r.Probabilities), string(r.Drivers))
	if err != nil {
		return false, fmt.Errorf("upsert regime of %s: %w", r.AsOfDate.Format(time.DateOnly), err)
	}
	return tag.RowsAffected() > 0, nil
}

// RegimeHistory returns the regime_history rows dated from..to (inclusive;
// a zero from has no lower bound), oldest first.
func RegimeHistory(ctx context.Context, q Querier, from, to time.Time) ([]RegimeRow, error) {
	var lower any
	if !from.IsZero() {
		lower = civilDate(from)
	}
	rows, err := q.Query(ctx, `SELECT as_of_date, regime, confidence, z_scores, probabilities, drivers, updated_at
		FROM regime_history WHERE as_of_date <= $1 AND ($2::date IS NULL OR as_of_date >= $2::date) ORDER BY as_of_date`,
		civilDate(to), lower)
	if err != nil {
		return nil, fmt.Errorf("read regime history up to %s: %w", to.Format(time.DateOnly), err)
	}
	out, err := pgx.CollectRows(rows, scanRegime)
	if err != nil {
		return nil, fmt.Errorf("read regime history up to %s: %w", to.Format(time.DateOnly), err)
	}
	return out, nil
}

// RegimeBefore returns the newest regime_history row dated before date;
// false when there is none.
func RegimeBefore(ctx context.Context, q Querier, date time.Time) (RegimeRow, bool, error) {
	rows, err := q.Query(ctx, `SELECT as_of_date, regime, confidence, z_scores, probabilities, drivers, updated_at
		FROM regime_history WHERE as_of_date < $1 ORDER BY as_of_date DESC LIMIT 1`, civilDate(date))
	if err != nil {
		return RegimeRow{}, false, fmt.Errorf("read the regime before %s: %w", date.Format(time.DateOnly), err)
	}
	out, err := pgx.CollectRows(rows, scanRegime)
	if err != nil {
		return RegimeRow{}, false, fmt.Errorf("read the regime before %s: %w", date.Format(time.DateOnly), err)
	}
	if len(out) == 0 {
		return RegimeRow{}, false, nil
	}
	return out[0], true, nil
}

func scanRegime(row pgx.CollectableRow) (RegimeRow, error) {
	var r RegimeRow
	var z, p, d []byte
	if err := row.Scan(&r.AsOfDate, &r.Regime, &r.Confidence, &z, &p, &d, &r.UpdatedAt); err != nil {
		return RegimeRow{}, err
	}
	r.ZScores, r.Probabilities, r.Drivers = z, p, d
	return r, nil
}

// UpsertCyclePhase writes a cycle's phase on an as-of date with its
// details (a JSON document). A row whose content is unchanged is left
// alone, so a replayed computation changes nothing; it reports whether the
// row was inserted or changed.
func UpsertCyclePhase(ctx context.Context, q Querier, p CyclePhase, details json.RawMessage) (bool, error) {
	tag, err := q.Exec(ctx, `INSERT INTO cycle_phases (cycle, as_of_date, phase, score, details) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (cycle, as_of_date) DO UPDATE SET phase = EXCLUDED.phase, score = EXCLUDED.score, details = EXCLUDED.details,
			updated_at = now()
		WHERE (cycle_phases.phase, cycle_phases.score, cycle_phases.details)
			IS DISTINCT FROM (EXCLUDED.phase, EXCLUDED.score, EXCLUDED.details)`,
		p.Cycle, civilDate(p.AsOfDate), p.Phase, p.Score, string(details))
	if err != nil {
		return false, fmt.Errorf("upsert %s phase of %s: %w", p.Cycle, p.AsOfDate.Format(time.DateOnly), err)
	}
	return tag.RowsAffected() > 0, nil
}
