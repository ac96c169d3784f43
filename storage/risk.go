package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Queries of the risk capabilities and the position deep dive: factor
// exposures and position betas, cycle phases, fundamentals, splits and the
// closes of a pack for securities that need not be held.

// FactorLoading is one factor's line of a factor_exposures row (the JSON
// of its factors column, by factor name).
type FactorLoading struct {
	Beta     float64 `json:"beta"`
	StdError float64 `json:"std_error"`
	TStat    float64 `json:"t_stat"`
	// FactorMean is the factor's mean daily value over the sample.
	FactorMean float64 `json:"factor_mean"`
	// Contribution is Beta × FactorMean, per day; ContributionAnnual is
	// that × 252.
	Contribution       float64 `json:"contribution"`
	ContributionAnnual float64 `json:"contribution_annual"`
}

// FactorExposure is one row of factor_exposures. Alpha is annualised,
// ResidualVol annualised; both as the capability that wrote them says.
type FactorExposure struct {
	PortfolioID  uuid.UUID
	AsOfDate     time.Time
	PackID       string
	LookbackDays int
	Observations int
	Factors      map[string]FactorLoading
	// Alpha, RSquared and ResidualVol are nil when the row holds NULL.
	Alpha       *float64
	RSquared    *float64
	ResidualVol *float64
	UpdatedAt   time.Time
}

// UpsertFactorExposure writes e on its key (portfolio, as-of date, pack).
// A row with the same content is left alone, updated_at included, so
// writing the same figures again changes nothing.
func UpsertFactorExposure(ctx context.Context, q Querier, e FactorExposure) error {
	_, err := q.Exec(ctx, `INSERT INTO factor_exposures (portfolio_id, as_of_date, pack_id, lookback_days, observations,
			factors, alpha, r_squared, residual_vol)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (portfolio_id, as_of_date, pack_id) DO UPDATE SET
			lookback_days = EXCLUDED.lookback_days, observations = EXCLUDED.observations, factors = EXCLUDED.factors,
			alpha = EXCLUDED.alpha, r_squared = EXCLUDED.r_squared, residual_vol = EXCLUDED.residual_vol, updated_at = now()
		WHERE (factor_exposures.lookback_days, factor_exposures.observations, factor_exposures.factors,
		       factor_exposures.alpha, factor_exposures.r_squared, factor_exposures.residual_vol)
		      IS DISTINCT FROM (EXCLUDED.lookback_days, EXCLUDED.observations, EXCLUDED.factors,
		       EXCLUDED.alpha, EXCLUDED.r_squared, EXCLUDED.residual_vol)`,
		e.PortfolioID, civilDate(e.AsOfDate), e.PackID, e.LookbackDays, e.Observations, e.Factors, e.Alpha, e.RSquared, e.ResidualVol)
	if err != nil {
		return fmt.Errorf("upsert factor exposures of portfolio %s on %s: %w", e.PortfolioID, e.AsOfDate.Format(time.DateOnly), err)
	}
	return nil
}

// FactorExposureFilter selects stored factor exposures of a portfolio:
// dated From..To (zero bounds are open), and of those the Last newest when
// Last > 0.
type FactorExposureFilter struct {
	From, To time.Time
	Last     int
}

// ListFactorExposures returns a portfolio's stored factor exposures, oldest
// first (by as-of date, then pack).
func ListFactorExposures(ctx context.Context, q Querier, portfolioID uuid.UUID, f FactorExposureFilter) ([]FactorExposure, error) {
	var last any
	if f.Last > 0 {
		last = f.Last
	}
	rows, err := q.Query(ctx, `SELECT portfolio_id, as_of_date, pack_id, lookback_days, observations, factors,
			alpha, r_squared, residual_vol, updated_at
		FROM (SELECT * FROM factor_exposures
		      WHERE portfolio_id = $1 AND ($2::date IS NULL OR as_of_date >= $2) AND ($3::date IS NULL OR as_of_date <= $3)
		      ORDER BY as_of_date DESC, pack_id DESC LIMIT $4) e
		ORDER BY as_of_date, pack_id`, portfolioID, optDate(f.From), optDate(f.To), last)
	if err != nil {
		return nil, fmt.Errorf("list factor exposures of portfolio %s: %w", portfolioID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[FactorExposure])
	if err != nil {
		return nil, fmt.Errorf("list factor exposures of portfolio %s: %w", portfolioID, err)
	}
	return out, nil
}

// Position-beta methods (position_factor_betas.method).
const (
	BetaMethodRegression = "regression"
	BetaMethodHeuristic  = "heuristic"
)

// PositionFactorBetas is one row of position_factor_betas: a security's
// betas to the seven factors, in Factors' order.
type PositionFactorBetas struct {
	PortfolioID uuid.UUID
	SecurityID  uuid.UUID
	AsOfDate    time.Time
	Betas       [7]float64
	Method      string
	// RSquared and Observations are those of the regression; Observations
	// is 0 for a heuristic row (stored as NULL).
	RSquared     float64
	Observations int
}

// UpsertPositionFactorBetas writes the rows on their key (portfolio,
// security, as-of date) in one batch; rows with the same content are left
// alone, updated_at included.
func UpsertPositionFactorBetas(ctx context.Context, q Querier, rows []PositionFactorBetas) error {
	if len(rows) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, r := range rows {
		var obs any
		if r.Method == BetaMethodRegression {
			obs = r.Observations
		}
		b.Queue(`INSERT INTO position_factor_betas (portfolio_id, security_id, as_of_date, beta_real_rates, beta_inflation,
				beta_credit, beta_usd, beta_equity, beta_commodity, beta_volatility, method, r_squared, observations)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (portfolio_id, security_id, as_of_date) DO UPDATE SET
				beta_real_rates = EXCLUDED.beta_real_rates, beta_inflation = EXCLUDED.beta_inflation,
				beta_credit = EXCLUDED.beta_credit, beta_usd = EXCLUDED.beta_usd, beta_equity = EXCLUDED.beta_equity,
				beta_commodity = EXCLUDED.beta_commodity, beta_volatility = EXCLUDED.beta_volatility,
				method = EXCLUDED.method, r_squared = EXCLUDED.r_squared, observations = EXCLUDED.observations, updated_at = now()
			WHERE (position_factor_betas.beta_real_rates, position_factor_betas.beta_inflation, position_factor_betas.beta_credit,
			       position_factor_betas.beta_usd, position_factor_betas.beta_equity, position_factor_betas.beta_commodity,
			       position_factor_betas.beta_volatility, position_factor_betas.method, position_factor_betas.r_squared,
			       position_factor_betas.observations)
			      IS DISTINCT FROM (EXCLUDED.beta_real_rates, EXCLUDED.beta_inflation, EXCLUDED.beta_credit, EXCLUDED.beta_usd,
			       EXCLUDED.beta_equity, EXCLUDED.beta_commodity, EXCLUDED.beta_volatility, EXCLUDED.method,
			       EXCLUDED.r_squared, EXCLUDED.observations)`,
			r.PortfolioID, r.SecurityID, civilDate(r.AsOfDate), r.Betas[0], r.Betas[1], r.Betas[2], r.Betas[3], r.Betas[4],
			r.Betas[5], r.Betas[6], r.Method, r.RSquared, obs)
	}
	br := q.SendBatch(ctx, b)
	for _, r := range rows {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return fmt.Errorf("upsert factor betas of security %s in portfolio %s: %w", r.SecurityID, r.PortfolioID, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("upsert position factor betas: %w", err)
	}
	return nil
}

// Debt-cycle names of cycle_phases.cycle.
const (
	CycleShortTermDebt = "STDC"
	CycleLongTermDebt  = "LTDC"
	CycleEmpire        = "EMPIRE"
	CycleCivil         = "CIVIL"
)

// CyclePhase is one row of cycle_phases.
type CyclePhase struct {
	Cycle    string
	AsOfDate time.Time
	Phase    string
	Score    float64
}

// LatestCyclePhase returns the newest phase of a cycle dated on or before
// asOf; false when there is none.
func LatestCyclePhase(ctx context.Context, q Querier, cycle string, asOf time.Time) (CyclePhase, bool, error) {
	var p CyclePhase
	err := q.QueryRow(ctx, `SELECT cycle, as_of_date, phase, score FROM cycle_phases
		WHERE cycle = $1 AND as_of_date <= $2 ORDER BY as_of_date DESC LIMIT 1`, cycle, civilDate(asOf)).
		Scan(&p.Cycle, &p.AsOfDate, &p.Phase, &p.Score)
	if errors.Is(err, pgx.ErrNoRows) {
		return CyclePhase{}, false, nil
	}
	if err != nil {
		return CyclePhase{}, false, fmt.Errorf("read %s phase on or before %s: %w", cycle, asOf.Format(time.DateOnly), err)
	}
	return p, true, nil
}

// Fundamentals is one annual statement row of a security, in Currency. An
// invalid NullDecimal is a line not reported, never zero.
type Fundamentals struct {
	SecurityID         uuid.UUID
	FiscalYear         int
	PeriodEnd          time.Time
	Currency           string
	Revenue            decimal.NullDecimal
	GrossProfit        decimal.NullDecimal
	OperatingIncome    decimal.NullDecimal
	NetIncome          decimal.NullDecimal
	InterestExpense    decimal.NullDecimal
	TotalAssets        decimal.NullDecimal
	IntangibleAssets   decimal.NullDecimal
	TotalDebt          decimal.NullDecimal
	TotalEquity        decimal.NullDecimal
	CurrentAssets      decimal.NullDecimal
	CurrentLiabilities decimal.NullDecimal
	OperatingCashFlow  decimal.NullDecimal
	CapitalExpenditure decimal.NullDecimal
	DividendsPaid      decimal.NullDecimal
	SharesOutstanding  decimal.NullDecimal
	DividendPerShare   decimal.NullDecimal
	CashAndEquivalents decimal.NullDecimal
	Source             string
}

const fundamentalsColumns = `security_id, fiscal_year, period_end, currency, revenue, gross_profit, operating_income,
	net_income, interest_expense, total_assets, intangible_assets, total_debt, total_equity, current_assets,
	current_liabilities, operating_cash_flow, capital_expenditure, dividends_paid, shares_outstanding,
	dividend_per_share, cash_and_equivalents, source`

// ListFundamentals returns a security's annual statements, newest fiscal
// year first.
func ListFundamentals(ctx context.Context, q Querier, securityID uuid.UUID) ([]Fundamentals, error) {
	rows, err := q.Query(ctx, `SELECT `+fundamentalsColumns+` FROM fundamentals WHERE security_id = $1
		ORDER BY fiscal_year DESC`, securityID)
	if err != nil {
		return nil, fmt.Errorf("read fundamentals of security %s: %w", securityID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Fundamentals])
	if err != nil {
		return nil, fmt.Errorf("read fundamentals of security %s: %w", securityID, err)
	}
	return out, nil
}

// LatestFundamentals returns the newest fiscal year's statement of each
// security that has one, by security.
func LatestFundamentals(ctx context.Context, q Querier, securityIDs []uuid.UUID) (map[uuid.UUID]Fundamentals, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (security_id) `+fundamentalsColumns+` FROM fundamentals
		WHERE security_id = ANY($1) ORDER BY security_id, fiscal_year DESC`, securityIDs)
	if err != nil {
		return nil, fmt.Errorf("read latest fundamentals of %d securities: %w", len(securityIDs), err)
	}
	fs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Fundamentals])
	if err != nil {
		return nil, fmt.Errorf("read latest fundamentals of %d securities: %w", len(securityIDs), err)
	}
	out := make(map[uuid.UUID]Fundamentals, len(fs))
	for _, f := range fs {
		out[f.SecurityID] = f
	}
	return out, nil
}

// PackCloses returns the closes a pack has for the given securities, by
// security; unlike PricesInPack a security without a close is simply
// absent, for lists (comparables) where a missing close is reported per
// line rather than failing the whole list.
func PackCloses(ctx context.Context, q Querier, packID string, securityIDs []uuid.UUID) (map[uuid.UUID]Price, error) {
	if _, err := GetPack(ctx, q, packID); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT security_id, close, open, high, low, volume, currency
		FROM prices WHERE pack_id = $1 AND security_id = ANY($2)`, packID, securityIDs)
	if err != nil {
		return nil, fmt.Errorf("read closes of pack %s: %w", packID, err)
	}
	out := map[uuid.UUID]Price{}
	var p Price
	_, err = pgx.ForEachRow(rows, []any{&p.SecurityID, &p.Close, &p.Open, &p.High, &p.Low, &p.Volume, &p.Currency}, func() error {
		out[p.SecurityID] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read closes of pack %s: %w", packID, err)
	}
	return out, nil
}

// Split is a stock split: Ratio new shares per old share, effective on
// Date (the ex-date: closes from Date on are post-split).
type Split struct {
	Date  time.Time
	Ratio decimal.Decimal
}

// Splits returns the splits of the securities dated after from up to and
// including to, oldest first, by security: the corporate_actions SPLIT rows
// of a security, or, for a security that has none in the range, the SPLIT
// transactions of the portfolio (uuid.Nil: none) in it. One source per
// security, so a split recorded in both is never applied twice.
func Splits(ctx context.Context, q Querier, portfolioID uuid.UUID, securityIDs []uuid.UUID, from, to time.Time) (map[uuid.UUID][]Split, error) {
	rows, err := q.Query(ctx, `WITH ca AS (
			SELECT security_id, event_date AS d, ratio FROM corporate_actions
			WHERE action_type = 'SPLIT' AND security_id = ANY($1) AND event_date > $2 AND event_date <= $3)
		SELECT security_id, d, ratio FROM ca
		UNION ALL
		SELECT security_id, trade_date, split_ratio FROM transactions
		WHERE portfolio_id = $4 AND type = 'SPLIT' AND security_id = ANY($1) AND trade_date > $2 AND trade_date <= $3
		  AND security_id NOT IN (SELECT security_id FROM ca)
		ORDER BY 1, 2`, securityIDs, civilDate(from), civilDate(to), portfolioID)
	if err != nil {
		return nil, fmt.Errorf("read splits of %d securities: %w", len(securityIDs), err)
	}
	out := map[uuid.UUID][]Split{}
	var id uuid.UUID
	var s Split
	_, err = pgx.ForEachRow(rows, []any{&id, &s.Date, &s.Ratio}, func() error {
		out[id] = append(out[id], s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read splits of %d securities: %w", len(securityIDs), err)
	}
	return out, nil
}
