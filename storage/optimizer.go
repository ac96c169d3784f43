package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Queries of the optimizer: the factor betas hedges are chosen by.

// SecurityBetas is a security's newest regression betas (from any
// portfolio's position_factor_betas rows) with the security's own row.
type SecurityBetas struct {
	Security Security
	// PortfolioID is the portfolio whose regression the row came from.
	PortfolioID uuid.UUID
	AsOfDate    time.Time
	// Betas are in Factors' order.
	Betas        [7]float64
	RSquared     float64
	Observations int
}

// LatestRegressionBetas returns, for every security with a regression row
// in position_factor_betas dated on or before asOf (any date when asOf is
// zero), its newest such row (ties: the most recently written), by
// symbol. With securityIDs nil every security is considered, else only
// those.
func LatestRegressionBetas(ctx context.Context, q Querier, asOf time.Time, securityIDs []uuid.UUID) ([]SecurityBetas, error) {
	rows, err := q.Query(ctx, `SELECT s.id, s.symbol, s.name, s.type, s.exchange, s.currency, s.sector, s.industry, s.country,
			s.active, s.created_at, b.portfolio_id, b.as_of_date, b.beta_real_rates, b.beta_inflation, b.beta_credit, b.beta_usd,
			b.beta_equity, b.beta_commodity, b.beta_volatility, coalesce(b.r_squared, 0), coalesce(b.observations, 0)
		FROM (SELECT DISTINCT ON (security_id) * FROM position_factor_betas
		      WHERE method = $1 AND ($2::date IS NULL OR as_of_date <= $2) AND ($3::uuid[] IS NULL OR security_id = ANY($3))
		      ORDER BY security_id, as_of_date DESC, updated_at DESC, portfolio_id) b
		JOIN securities s ON s.id = b.security_id
		ORDER BY s.symbol`, BetaMethodRegression, optDate(asOf), securityIDs)
	if err != nil {
		return nil, fmt.Errorf("read the newest regression betas per security: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SecurityBetas, error) {
		var b SecurityBetas
		var exchange, sector, industry, country *string
		s := &b.Security
		err := r.Scan(&s.ID, &s.Symbol, &s.Name, &s.Type, &exchange, &s.Currency, &sector, &industry, &country, &s.Active,
			&s.CreatedAt, &b.PortfolioID, &b.AsOfDate, &b.Betas[0], &b.Betas[1], &b.Betas[2], &b.Betas[3], &b.Betas[4],
			&b.Betas[5], &b.Betas[6], &b.RSquared, &b.Observations)
		s.Exchange, s.Sector, s.Industry, s.Country = textOf(exchange), textOf(sector), textOf(industry), textOf(country)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the newest regression betas per security: %w", err)
	}
	return out, nil
}
