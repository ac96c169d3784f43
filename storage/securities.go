package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Security types.
const (
	SecurityEquity = "EQUITY"
	SecurityETF    = "ETF"
	SecurityBond   = "BOND"
	SecurityFund   = "FUND"
	SecurityCash   = "CASH"
)

// Security is an instrument a portfolio can hold; its symbol is unique.
type Security struct {
	ID     uuid.UUID
	Symbol string
	Name   string
	// Type is one of the Security* constants.
	Type     string
	Exchange string
	// Currency is the trading currency: lots, trades and closes are in it.
	Currency string
	// Sector, Industry and Country are "" when unknown; sector allocation
	// reads Sector, never a hard-coded map.
	Sector    string
	Industry  string
	Country   string
	Active    bool
	CreatedAt time.Time
}

// SecurityFilter narrows ListSecurities; zero fields do not filter.
type SecurityFilter struct {
	Type    string
	Sector  string
	Symbols []string
	IDs     []uuid.UUID
}

const securityColumns = `id, symbol, name, type, exchange, currency, sector, industry, country, active, created_at`

func scanSecurity(row pgx.Row) (Security, error) {
	var s Security
	var exchange, sector, industry, country *string
	err := row.Scan(&s.ID, &s.Symbol, &s.Name, &s.Type, &exchange, &s.Currency, &sector, &industry, &country, &s.Active, &s.CreatedAt)
	s.Exchange, s.Sector, s.Industry, s.Country = textOf(exchange), textOf(sector), textOf(industry), textOf(country)
	return s, err
}

// UpsertSecurity inserts s or, when its symbol exists, updates that row's
// descriptive fields and keeps its id; it returns the stored row. Symbols
// are stored in upper case. s.ID is used only for a new row (a new id when
// nil), so a seed may choose deterministic ids.
func UpsertSecurity(ctx context.Context, q Querier, s Security) (Security, error) {
	if s.ID == uuid.Nil {
		s.ID = uuid.New()
	}
	s.Symbol = strings.ToUpper(strings.TrimSpace(s.Symbol))
	s.Currency = strings.ToUpper(s.Currency)
	out, err := scanSecurity(q.QueryRow(ctx, `
		INSERT INTO securities (id, symbol, name, type, exchange, currency, sector, industry, country, active)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (symbol) DO UPDATE SET
			name = EXCLUDED.name, type = EXCLUDED.type, exchange = EXCLUDED.exchange,
			currency = EXCLUDED.currency, sector = EXCLUDED.sector, industry = EXCLUDED.industry,
			country = EXCLUDED.country, active = EXCLUDED.active, updated_at = now()
		RETURNING `+securityColumns,
		s.ID, s.Symbol, s.Name, s.Type, optText(s.Exchange), s.Currency,
		optText(s.Sector), optText(s.Industry), optText(s.Country), s.Active))
	if err != nil {
		return Security{}, fmt.Errorf("upsert security %s: %w", s.Symbol, err)
	}
	return out, nil
}

// GetSecurity loads one security; ErrNotFound when there is none.
func GetSecurity(ctx context.Context, q Querier, id uuid.UUID) (Security, error) {
	s, err := scanSecurity(q.QueryRow(ctx, `SELECT `+securityColumns+` FROM securities WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Security{}, fmt.Errorf("security %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Security{}, fmt.Errorf("load security %s: %w", id, err)
	}
	return s, nil
}

// GetSecurityBySymbol loads one security by symbol (case-insensitive);
// ErrNotFound when there is none.
func GetSecurityBySymbol(ctx context.Context, q Querier, symbol string) (Security, error) {
	sym := strings.ToUpper(strings.TrimSpace(symbol))
	s, err := scanSecurity(q.QueryRow(ctx, `SELECT `+securityColumns+` FROM securities WHERE symbol = $1`, sym))
	if errors.Is(err, pgx.ErrNoRows) {
		return Security{}, fmt.Errorf("security %s: %w", sym, ErrNotFound)
	}
	if err != nil {
		return Security{}, fmt.Errorf("load security %s: %w", sym, err)
	}
	return s, nil
}

// ListSecurities returns the securities that match f, by symbol.
func ListSecurities(ctx context.Context, q Querier, f SecurityFilter) ([]Security, error) {
	var symbols []string
	for _, s := range f.Symbols {
		symbols = append(symbols, strings.ToUpper(strings.TrimSpace(s)))
	}
	rows, err := q.Query(ctx, `SELECT `+securityColumns+` FROM securities
		WHERE ($1::text IS NULL OR type = $1)
		  AND ($2::text IS NULL OR sector = $2)
		  AND ($3::text[] IS NULL OR symbol = ANY($3))
		  AND ($4::uuid[] IS NULL OR id = ANY($4))
		ORDER BY symbol`, optText(f.Type), optText(f.Sector), symbols, f.IDs)
	if err != nil {
		return nil, fmt.Errorf("list securities: %w", err)
	}
	out, err := collect(rows, scanSecurity)
	if err != nil {
		return nil, fmt.Errorf("list securities: %w", err)
	}
	return out, nil
}
