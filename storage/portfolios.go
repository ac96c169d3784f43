package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
)

// ErrNotFound means the row looked up does not exist; it is wrapped with what
// was looked up, and the HTTP layer maps it to 404.
var ErrNotFound = errors.New("not found")

// ErrAlreadyExists means an insert met a unique key that is already taken
// (a portfolio name of the same owner, say); the HTTP layer maps it to 409.
var ErrAlreadyExists = errors.New("already exists")

// Cost-basis methods of a portfolio: which lots a sale relieves.
const (
	CostBasisFIFO        = "FIFO"
	CostBasisLIFO        = "LIFO"
	CostBasisHIFO        = "HIFO"
	CostBasisSpecificLot = "SPECIFIC_LOT"
	CostBasisAverageCost = "AVERAGE_COST"
)

// Portfolio is one account whose ledger the engine keeps.
type Portfolio struct {
	ID      uuid.UUID
	OwnerID uuid.UUID
	Name    string
	// BaseCurrency is what every value of the portfolio is reported in.
	BaseCurrency string
	// BenchmarkSecurityID is uuid.Nil when the portfolio has no benchmark.
	BenchmarkSecurityID uuid.UUID
	// CostBasisMethod is one of the CostBasis* constants; FIFO when empty
	// on create.
	CostBasisMethod string
	Active          bool
	CreatedAt       time.Time
}

// PortfolioFilter narrows ListPortfolios; zero fields do not filter.
type PortfolioFilter struct {
	OwnerID    uuid.UUID
	ActiveOnly bool
}

const portfolioColumns = `id, owner_id, name, base_currency, benchmark_security_id, cost_basis_method, active, created_at`

func scanPortfolio(row pgx.Row) (Portfolio, error) {
	var p Portfolio
	var bench uuid.NullUUID
	err := row.Scan(&p.ID, &p.OwnerID, &p.Name, &p.BaseCurrency, &bench, &p.CostBasisMethod, &p.Active, &p.CreatedAt)
	p.BenchmarkSecurityID = bench.UUID
	return p, err
}

// CreatePortfolio inserts p (with a new id when p.ID is nil) and returns it
// as stored. A second portfolio of the same owner and name is
// ErrAlreadyExists.
func CreatePortfolio(ctx context.Context, q Querier, p Portfolio) (Portfolio, error) {
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	if p.CostBasisMethod == "" {
		p.CostBasisMethod = CostBasisFIFO
	}
	p.BaseCurrency = strings.ToUpper(p.BaseCurrency)
	row := q.QueryRow(ctx, `
		INSERT INTO portfolios (id, owner_id, name, base_currency, benchmark_security_id, cost_basis_method, active)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING `+portfolioColumns,
		p.ID, p.OwnerID, p.Name, p.BaseCurrency, optUUID(p.BenchmarkSecurityID), p.CostBasisMethod, p.Active)
	out, err := scanPortfolio(row)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return Portfolio{}, fmt.Errorf("create portfolio %q of owner %s: %w", p.Name, p.OwnerID, ErrAlreadyExists)
		}
		return Portfolio{}, fmt.Errorf("create portfolio %q: %w", p.Name, err)
	}
	return out, nil
}

// GetPortfolio loads one portfolio; ErrNotFound when there is none.
func GetPortfolio(ctx context.Context, q Querier, id uuid.UUID) (Portfolio, error) {
	p, err := scanPortfolio(q.QueryRow(ctx, `SELECT `+portfolioColumns+` FROM portfolios WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Portfolio{}, fmt.Errorf("portfolio %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Portfolio{}, fmt.Errorf("load portfolio %s: %w", id, err)
	}
	return p, nil
}

// lockPortfolio loads a portfolio and locks its row until the end of the
// caller's transaction, which serialises ledger writes and daily-value
// computations per portfolio. NO KEY UPDATE excludes other lockers but not
// inserts whose foreign key points at the portfolio (a run's metrics, say),
// which need only KEY SHARE.
func lockPortfolio(ctx context.Context, q Querier, id uuid.UUID) (Portfolio, error) {
	p, err := scanPortfolio(q.QueryRow(ctx, `SELECT `+portfolioColumns+` FROM portfolios WHERE id = $1 FOR NO KEY UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Portfolio{}, fmt.Errorf("portfolio %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Portfolio{}, fmt.Errorf("lock portfolio %s: %w", id, err)
	}
	return p, nil
}

// LockPortfolios locks every portfolio's row, in id order, until the end of
// the caller's transaction and returns their ids. A change that revalues
// every portfolio (a price import) takes the locks before it writes
// anything: a trade holds its portfolio's lock and may then wait on the
// pack rows the import writes, so an import that locked portfolios only
// afterwards could deadlock with it.
func LockPortfolios(ctx context.Context, tx pgx.Tx) ([]uuid.UUID, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM portfolios ORDER BY id FOR NO KEY UPDATE`)
	if err != nil {
		return nil, fmt.Errorf("lock portfolios: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("lock portfolios: %w", err)
	}
	return ids, nil
}

// ListPortfolios returns the portfolios that match f, by name.
func ListPortfolios(ctx context.Context, q Querier, f PortfolioFilter) ([]Portfolio, error) {
	rows, err := q.Query(ctx, `SELECT `+portfolioColumns+` FROM portfolios
		WHERE ($1::uuid IS NULL OR owner_id = $1) AND (NOT $2 OR active)
		ORDER BY name, id`, optUUID(f.OwnerID), f.ActiveOnly)
	if err != nil {
		return nil, fmt.Errorf("list portfolios: %w", err)
	}
	out, err := collect(rows, scanPortfolio)
	if err != nil {
		return nil, fmt.Errorf("list portfolios: %w", err)
	}
	return out, nil
}

// optUUID maps uuid.Nil to SQL NULL.
func optUUID(u uuid.UUID) any {
	if u == uuid.Nil {
		return nil
	}
	return u
}

// optText maps "" to SQL NULL.
func optText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// civilDate keeps the calendar date of t (in t's location) at midnight UTC,
// which is how pgx reads DATE columns, so dates compare with ==.
func civilDate(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// optDate maps the zero time to SQL NULL and any other to its civil date.
func optDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return civilDate(t)
}

// optDecimal maps an invalid NullDecimal to SQL NULL and a valid one to its
// exact text, which PostgreSQL reads as NUMERIC without loss.
func optDecimal(d decimal.NullDecimal) any {
	if !d.Valid {
		return nil
	}
	return d.Decimal.String()
}

// textOf maps a scanned nullable text to "" when NULL.
func textOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
