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

// Queries of the ratings: the active rubric versions, the statements a
// rating reads and the ratings it writes.

// Rubric is one rating_rubrics row: the weights and thresholds of one
// rating, as JSON whose shape the ratings agent reads.
type Rubric struct {
	Name        string
	Version     int
	Rubric      json.RawMessage
	Description string
}

// ActiveRubrics returns the active version of each named rubric, by name.
// A name without an active row is an error wrapping ErrNotFound that names
// it.
func ActiveRubrics(ctx context.Context, q Querier, names []string) (map[string]Rubric, error) {
	rows, err := q.Query(ctx, `SELECT name, version, rubric, coalesce(description, '') FROM rating_rubrics
		WHERE active AND name = ANY($1) ORDER BY name`, names)
	if err != nil {
		return nil, fmt.Errorf("read active rubrics %v: %w", names, err)
	}
	rs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Rubric])
	if err != nil {
		return nil, fmt.Errorf("read active rubrics %v: %w", names, err)
	}
	out := make(map[string]Rubric, len(rs))
	for _, r := range rs {
		out[r.Name] = r
	}
	var missing []string
	for _, n := range names {
		if _, ok := out[n]; !ok && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no active version of rating rubric %s: %w", strings.Join(missing, ", "), ErrNotFound)
	}
	return out, nil
}

// FundamentalsUpTo returns the annual statements of the securities whose
// period ended on or before asOf (every one when asOf is zero), newest
// fiscal year first, by security. A security without any is absent.
func FundamentalsUpTo(ctx context.Context, q Querier, securityIDs []uuid.UUID, asOf time.Time) (map[uuid.UUID][]Fundamentals, error) {
	rows, err := q.Query(ctx, `SELECT `+fundamentalsColumns+` FROM fundamentals
		WHERE security_id = ANY($1) AND ($2::date IS NULL OR period_end <= $2)
		ORDER BY security_id, fiscal_year DESC`, securityIDs, optDate(asOf))
	if err != nil {
		return nil, fmt.Errorf("read fundamentals of %d securities: %w", len(securityIDs), err)
	}
	fs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Fundamentals])
	if err != nil {
		return nil, fmt.Errorf("read fundamentals of %d securities: %w", len(securityIDs), err)
	}
	out := map[uuid.UUID][]Fundamentals{}
	for _, f := range fs {
		out[f.SecurityID] = append(out[f.SecurityID], f)
	}
	return out, nil
}

// Rating types (security_ratings.rating_type), which are also the names
// of their rubrics.
const (
	RatingDividendSafety = "dividend_safety"
	RatingMoatStrength   = "moat_strength"
	RatingResilience     = "resilience"
	RatingAggregate      = "aggregate"
)

// SecurityRating is one security_ratings row. Grade is "" for a component
// rating (stored NULL) and FiscalYear 0 when no single year applies.
type SecurityRating struct {
	SecurityID    uuid.UUID
	RatingType    string
	AsOfDate      time.Time
	RubricName    string
	RubricVersion int
	Score         float64
	Grade         string
	Components    json.RawMessage
	FiscalYear    int
}

// UpsertSecurityRatings writes the rows on their key (security, rating
// type, as-of date) in one batch; a row with the same content is left
// alone, updated_at included, so a replayed step changes nothing.
func UpsertSecurityRatings(ctx context.Context, q Querier, rows []SecurityRating) error {
	if len(rows) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, r := range rows {
		comps := r.Components
		if len(comps) == 0 {
			comps = json.RawMessage(`{}`)
		}
		var fy any
		if r.FiscalYear != 0 {
			fy = r.FiscalYear
		}
		b.Queue(`INSERT INTO security_ratings (security_id, rating_type, as_of_date, rubric_name, rubric_version, score, grade,
				components, fiscal_year)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (security_id, rating_type, as_of_date) DO UPDATE SET rubric_name = EXCLUDED.rubric_name,
				rubric_version = EXCLUDED.rubric_version, score = EXCLUDED.score, grade = EXCLUDED.grade,
				components = EXCLUDED.components, fiscal_year = EXCLUDED.fiscal_year, updated_at = now()
			WHERE (security_ratings.rubric_name, security_ratings.rubric_version, security_ratings.score, security_ratings.grade,
			       security_ratings.components, security_ratings.fiscal_year)
			      IS DISTINCT FROM (EXCLUDED.rubric_name, EXCLUDED.rubric_version, EXCLUDED.score, EXCLUDED.grade,
			       EXCLUDED.components, EXCLUDED.fiscal_year)`,
			r.SecurityID, r.RatingType, civilDate(r.AsOfDate), r.RubricName, r.RubricVersion, r.Score, optText(r.Grade),
			string(comps), fy)
	}
	br := q.SendBatch(ctx, b)
	for _, r := range rows {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return fmt.Errorf("upsert %s rating of security %s as of %s: %w", r.RatingType, r.SecurityID, r.AsOfDate.Format(time.DateOnly), err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("upsert security ratings: %w", err)
	}
	return nil
}
