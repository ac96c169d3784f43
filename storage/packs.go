package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Pricing-pack statuses.
const (
	PackWarming = "warming"
	PackFresh   = "fresh"
	PackError   = "error"
)

// ErrNoFreshPack means no fresh, current pricing pack exists on or before
// the date asked for; a run then answers 503 pricing_pack_warming.
var ErrNoFreshPack = errors.New("no fresh pricing pack")

// ErrMissingPrice means a pack has no close for a security that was asked
// for; the wrapping error names the securities. Never read as a price of 0.
var ErrMissingPrice = errors.New("missing price")

// ErrMissingFX means a pack has no rate for a currency pair (in either
// direction); the wrapping error names the pair. Never read as a rate of 1.
var ErrMissingFX = errors.New("missing fx rate")

// ErrPackNotWarming means prices or rates were written to a pack that is
// already finalised; packs are immutable once fresh or in error.
var ErrPackNotWarming = errors.New("pricing pack is not warming")

// Pack is one immutable set of closes and FX rates for a date.
//
// Lifecycle: BeginPack creates a warming pack (id PP_YYYY-MM-DD, or
// PP_YYYY-MM-DD_rN for the N-th restatement of a date that already has a
// finalised pack); UpsertPrices and UpsertFXRates stage its content;
// FinalizePack hashes the content and sets it fresh, or error when a
// security held on that date (an open lot of any portfolio) has no close or
// a pair needed to value it in a holder's base currency has no rate. A
// finalised restatement supersedes the date's previous pack; one with the
// same content hash is dropped and the previous pack kept.
type Pack struct {
	ID       string
	Date     time.Time
	Revision int
	// Policy labels how the closes were chosen ("close" by default: the
	// official close of the date); it is recorded, not interpreted.
	Policy string
	Status string
	// ContentHash is the hex sha256 of the date, closes and rates; "" while
	// warming.
	ContentHash string
	// SupersededBy is the id of the restatement that replaced this pack, or
	// "".
	SupersededBy string
	// MissingPrices (symbols) and MissingFX ("FROM/TO") say why a pack is
	// in error.
	MissingPrices []string
	MissingFX     []string
	CreatedAt     time.Time
	FinalizedAt   time.Time
}

// Price is one security's close in a pack; the optional fields are NULL
// when not known.
type Price struct {
	SecurityID uuid.UUID
	Close      decimal.Decimal
	Open       decimal.NullDecimal
	High       decimal.NullDecimal
	Low        decimal.NullDecimal
	Volume     decimal.NullDecimal
	// Currency of the close; the security's trading currency when empty.
	Currency string
}

// FXQuote is one rate in a pack: 1 From = Rate To.
type FXQuote struct {
	From string
	To   string
	Rate decimal.Decimal
}

// packErrorDetail is the JSON of pricing_packs.error_detail.
type packErrorDetail struct {
	MissingPrices []string `json:"missing_prices,omitempty"`
	MissingFX     []string `json:"missing_fx,omitempty"`
}

const packColumns = `id, pack_date, revision, policy, status, content_hash, superseded_by, error_detail, created_at, finalized_at`

func scanPack(row pgx.Row) (Pack, error) {
	var p Pack
	var hash, sup *string
	var detail []byte
	var fin *time.Time
	if err := row.Scan(&p.ID, &p.Date, &p.Revision, &p.Policy, &p.Status, &hash, &sup, &detail, &p.CreatedAt, &fin); err != nil {
		return Pack{}, err
	}
	p.ContentHash, p.SupersededBy = textOf(hash), textOf(sup)
	if fin != nil {
		p.FinalizedAt = *fin
	}
	if len(detail) > 0 {
		var d packErrorDetail
		if err := json.Unmarshal(detail, &d); err != nil {
			return Pack{}, fmt.Errorf("decode error detail of pack %s: %w", p.ID, err)
		}
		p.MissingPrices, p.MissingFX = d.MissingPrices, d.MissingFX
	}
	return p, nil
}

// PackID is the id of revision rev of the pack of date: PP_YYYY-MM-DD, with
// _rN appended for a restatement.
func PackID(date time.Time, rev int) string {
	id := "PP_" + civilDate(date).Format(time.DateOnly)
	if rev > 0 {
		id += fmt.Sprintf("_r%d", rev)
	}
	return id
}

// GetPack loads one pack; ErrNotFound when there is none.
func GetPack(ctx context.Context, q Querier, id string) (Pack, error) {
	p, err := scanPack(q.QueryRow(ctx, `SELECT `+packColumns+` FROM pricing_packs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Pack{}, fmt.Errorf("pricing pack %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Pack{}, fmt.Errorf("load pricing pack %s: %w", id, err)
	}
	return p, nil
}

// BeginPack returns the warming pack of date, creating it when there is
// none: the first pack of a date, or the next restatement when the date
// already has a finalised pack. An existing warming pack is returned as is,
// so an interrupted build resumes.
func BeginPack(ctx context.Context, q Querier, date time.Time, policy string) (Pack, error) {
	d := civilDate(date)
	if policy == "" {
		policy = "close"
	}
	var rev int
	var status string
	err := q.QueryRow(ctx, `SELECT revision, status FROM pricing_packs WHERE pack_date = $1
		ORDER BY revision DESC LIMIT 1 FOR UPDATE`, d).Scan(&rev, &status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		rev = 0
	case err != nil:
		return Pack{}, fmt.Errorf("begin pricing pack %s: %w", d.Format(time.DateOnly), err)
	case status == PackWarming:
		return GetPack(ctx, q, PackID(d, rev))
	default:
		rev++
	}
	p, err := scanPack(q.QueryRow(ctx, `INSERT INTO pricing_packs (id, pack_date, revision, policy)
		VALUES ($1, $2, $3, $4) RETURNING `+packColumns, PackID(d, rev), d, rev, policy))
	if err != nil {
		return Pack{}, fmt.Errorf("begin pricing pack %s: %w", PackID(d, rev), err)
	}
	return p, nil
}

// lockWarmingPack locks a pack row and checks that it is still warming.
func lockWarmingPack(ctx context.Context, q Querier, packID string) (time.Time, error) {
	var d time.Time
	var status string
	err := q.QueryRow(ctx, `SELECT pack_date, status FROM pricing_packs WHERE id = $1 FOR UPDATE`, packID).Scan(&d, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("pricing pack %s: %w", packID, ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("lock pricing pack %s: %w", packID, err)
	}
	if status != PackWarming {
		return time.Time{}, fmt.Errorf("pricing pack %s is %s: %w", packID, status, ErrPackNotWarming)
	}
	return d, nil
}

// UpsertPrices stages closes in a warming pack (one per security; a second
// write for a security replaces the first). A price without a currency takes
// its security's trading currency.
func UpsertPrices(ctx context.Context, q Querier, packID string, prices []Price) error {
	d, err := lockWarmingPack(ctx, q, packID)
	if err != nil {
		return err
	}
	if len(prices) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(prices))
	closes := make([]string, len(prices))
	opens, highs, lows, vols := make([]*string, len(prices)), make([]*string, len(prices)), make([]*string, len(prices)), make([]*string, len(prices))
	ccys := make([]*string, len(prices))
	for i, p := range prices {
		ids[i] = p.SecurityID
		closes[i] = p.Close.String()
		opens[i], highs[i], lows[i], vols[i] = nullDecimalText(p.Open), nullDecimalText(p.High), nullDecimalText(p.Low), nullDecimalText(p.Volume)
		if p.Currency != "" {
			c := strings.ToUpper(p.Currency)
			ccys[i] = &c
		}
	}
	_, err = q.Exec(ctx, `
		INSERT INTO prices (pack_id, security_id, pack_date, close, open, high, low, volume, currency)
		SELECT $1, u.sid, $2, u.c::numeric, u.o::numeric, u.h::numeric, u.l::numeric, u.v::numeric, coalesce(u.ccy, s.currency)
		FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
		     AS u(sid, c, o, h, l, v, ccy)
		JOIN securities s ON s.id = u.sid
		ON CONFLICT (pack_id, security_id) DO UPDATE SET
			close = EXCLUDED.close, open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
			volume = EXCLUDED.volume, currency = EXCLUDED.currency,
			-- The pack builder's close replaces a provider's: it is no
			-- longer what that provider answered, nor when.
			source = NULL, fetched_at = NULL`,
		packID, d, ids, closes, opens, highs, lows, vols, ccys)
	if err != nil {
		return fmt.Errorf("stage %d prices in pack %s: %w", len(prices), packID, err)
	}
	return nil
}

func nullDecimalText(d decimal.NullDecimal) *string {
	if !d.Valid {
		return nil
	}
	s := d.Decimal.String()
	return &s
}

// UpsertFXRates stages rates in a warming pack (one per ordered pair; a
// second write replaces the first).
func UpsertFXRates(ctx context.Context, q Querier, packID string, rates []FXQuote) error {
	d, err := lockWarmingPack(ctx, q, packID)
	if err != nil {
		return err
	}
	if len(rates) == 0 {
		return nil
	}
	froms, tos, vals := make([]string, len(rates)), make([]string, len(rates)), make([]string, len(rates))
	for i, r := range rates {
		froms[i], tos[i], vals[i] = strings.ToUpper(r.From), strings.ToUpper(r.To), r.Rate.String()
	}
	_, err = q.Exec(ctx, `
		INSERT INTO fx_rates (pack_id, from_ccy, to_ccy, pack_date, rate)
		SELECT $1, f, t, $2, r::numeric FROM unnest($3::text[], $4::text[], $5::text[]) AS u(f, t, r)
		ON CONFLICT (pack_id, from_ccy, to_ccy) DO UPDATE SET rate = EXCLUDED.rate`,
		packID, d, froms, tos, vals)
	if err != nil {
		return fmt.Errorf("stage %d fx rates in pack %s: %w", len(rates), packID, err)
	}
	return nil
}

// packContentHash is the hex sha256 of a pack's date, closes (by symbol) and
// rates (by pair), each number in its shortest exact decimal form so that
// 1.50 and 1.5 hash alike.
func packContentHash(ctx context.Context, q Querier, packID string, date time.Time) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "date|%s\n", date.Format(time.DateOnly))
	rows, err := q.Query(ctx, `SELECT s.symbol, p.close, p.open, p.high, p.low, p.volume, p.currency
		FROM prices p JOIN securities s ON s.id = p.security_id WHERE p.pack_id = $1 ORDER BY s.symbol`, packID)
	if err != nil {
		return "", fmt.Errorf("hash prices of pack %s: %w", packID, err)
	}
	var sym, ccy string
	var c decimal.Decimal
	var o, hi, lo, v decimal.NullDecimal
	if _, err := pgx.ForEachRow(rows, []any{&sym, &c, &o, &hi, &lo, &v, &ccy}, func() error {
		_, err := fmt.Fprintf(h, "P|%s|%s|%s|%s|%s|%s|%s\n", sym, c, nullText(o), nullText(hi), nullText(lo), nullText(v), ccy)
		return err
	}); err != nil {
		return "", fmt.Errorf("hash prices of pack %s: %w", packID, err)
	}
	rows, err = q.Query(ctx, `SELECT from_ccy, to_ccy, rate FROM fx_rates WHERE pack_id = $1 ORDER BY from_ccy, to_ccy`, packID)
	if err != nil {
		return "", fmt.Errorf("hash fx rates of pack %s: %w", packID, err)
	}
	var from, to string
	var rate decimal.Decimal
	if _, err := pgx.ForEachRow(rows, []any{&from, &to, &rate}, func() error {
		_, err := fmt.Fprintf(h, "X|%s|%s|%s\n", from, to, rate)
		return err
	}); err != nil {
		return "", fmt.Errorf("hash fx rates of pack %s: %w", packID, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func nullText(d decimal.NullDecimal) string {
	if !d.Valid {
		return ""
	}
	return d.Decimal.String()
}

// FinalizePack computes the content hash of a warming pack and sets it
// fresh or error (see Pack). Holdings are taken from the lots: a security is
// held on the pack date when one of its lots was acquired on or before it and
// not closed by then. Finalising a pack that is already final returns it
// unchanged.
func FinalizePack(ctx context.Context, tx pgx.Tx, packID string) (Pack, error) {
	cur, err := GetPack(ctx, tx, packID)
	if err != nil {
		return Pack{}, err
	}
	if cur.Status != PackWarming {
		return cur, nil
	}
	date, err := lockWarmingPack(ctx, tx, packID)
	if err != nil {
		return Pack{}, err
	}
	hash, err := packContentHash(ctx, tx, packID, date)
	if err != nil {
		return Pack{}, err
	}
	var prevID, prevHash string
	err = tx.QueryRow(ctx, `SELECT id, content_hash FROM pricing_packs
		WHERE pack_date = $1 AND superseded_by IS NULL AND status <> 'warming' AND id <> $2 FOR UPDATE`,
		date, packID).Scan(&prevID, &prevHash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Pack{}, fmt.Errorf("find pack superseded by %s: %w", packID, err)
	}
	if prevID != "" && prevHash == hash {
		// Same content: nothing was restated.
		if _, err := tx.Exec(ctx, `DELETE FROM pricing_packs WHERE id = $1`, packID); err != nil {
			return Pack{}, fmt.Errorf("drop unchanged restatement %s: %w", packID, err)
		}
		return GetPack(ctx, tx, prevID)
	}

	var detail packErrorDetail
	rows, err := tx.Query(ctx, `
		WITH held AS (
			SELECT DISTINCT l.security_id, p.base_currency
			FROM lots l JOIN portfolios p ON p.id = l.portfolio_id
			WHERE l.acquired_date <= $2 AND (l.closed_date IS NULL OR l.closed_date > $2)
		)
		SELECT s.symbol, pr.currency, h.base_currency
		FROM held h JOIN securities s ON s.id = h.security_id
		LEFT JOIN prices pr ON pr.pack_id = $1 AND pr.security_id = h.security_id
		WHERE pr.security_id IS NULL OR (pr.currency <> h.base_currency AND NOT EXISTS (
			SELECT 1 FROM fx_rates x WHERE x.pack_id = $1 AND
				((x.from_ccy = pr.currency AND x.to_ccy = h.base_currency) OR
				 (x.from_ccy = h.base_currency AND x.to_ccy = pr.currency))))
		ORDER BY s.symbol`, packID, date)
	if err != nil {
		return Pack{}, fmt.Errorf("check coverage of pack %s: %w", packID, err)
	}
	var sym, base string
	var ccy *string
	if _, err := pgx.ForEachRow(rows, []any{&sym, &ccy, &base}, func() error {
		if ccy == nil {
			if !slices.Contains(detail.MissingPrices, sym) {
				detail.MissingPrices = append(detail.MissingPrices, sym)
			}
		} else if pair := *ccy + "/" + base; !slices.Contains(detail.MissingFX, pair) {
			detail.MissingFX = append(detail.MissingFX, pair)
		}
		return nil
	}); err != nil {
		return Pack{}, fmt.Errorf("check coverage of pack %s: %w", packID, err)
	}
	slices.Sort(detail.MissingFX)
	status := PackFresh
	var detailJSON []byte
	if len(detail.MissingPrices) > 0 || len(detail.MissingFX) > 0 {
		status = PackError
		if detailJSON, err = json.Marshal(detail); err != nil {
			return Pack{}, fmt.Errorf("encode error detail of pack %s: %w", packID, err)
		}
	}
	// The old pack stops being current before the new one becomes final:
	// at most one current pack per date.
	if prevID != "" {
		if _, err := tx.Exec(ctx, `UPDATE pricing_packs SET superseded_by = $1 WHERE id = $2`, packID, prevID); err != nil {
			return Pack{}, fmt.Errorf("supersede pack %s by %s: %w", prevID, packID, err)
		}
	}
	p, err := scanPack(tx.QueryRow(ctx, `UPDATE pricing_packs
		SET status = $2, content_hash = $3, error_detail = $4, finalized_at = now()
		WHERE id = $1 RETURNING `+packColumns, packID, status, hash, detailJSON))
	if err != nil {
		return Pack{}, fmt.Errorf("finalize pack %s: %w", packID, err)
	}
	return p, nil
}

// BuildPricingPack builds and finalises the pack of date from the given
// closes and rates in one call: BeginPack, UpsertPrices, UpsertFXRates,
// FinalizePack. Building a date again with different content restates it.
func BuildPricingPack(ctx context.Context, tx pgx.Tx, date time.Time, policy string, prices []Price, rates []FXQuote) (Pack, error) {
	p, err := BeginPack(ctx, tx, date, policy)
	if err != nil {
		return Pack{}, err
	}
	if err := UpsertPrices(ctx, tx, p.ID, prices); err != nil {
		return Pack{}, err
	}
	if err := UpsertFXRates(ctx, tx, p.ID, rates); err != nil {
		return Pack{}, err
	}
	return FinalizePack(ctx, tx, p.ID)
}

// PackForDate returns the newest fresh, current (not superseded) pack dated
// on or before asOf, or ErrNoFreshPack.
func PackForDate(ctx context.Context, q Querier, asOf time.Time) (Pack, error) {
	d := civilDate(asOf)
	p, err := scanPack(q.QueryRow(ctx, `SELECT `+packColumns+` FROM pricing_packs
		WHERE status = 'fresh' AND superseded_by IS NULL AND pack_date <= $1
		ORDER BY pack_date DESC LIMIT 1`, d))
	if errors.Is(err, pgx.ErrNoRows) {
		return Pack{}, fmt.Errorf("pricing pack on or before %s: %w", d.Format(time.DateOnly), ErrNoFreshPack)
	}
	if err != nil {
		return Pack{}, fmt.Errorf("find pricing pack on or before %s: %w", d.Format(time.DateOnly), err)
	}
	return p, nil
}

// ListFreshPacks returns the fresh, current packs dated from..to inclusive,
// oldest first: the days a daily series has.
func ListFreshPacks(ctx context.Context, q Querier, from, to time.Time) ([]Pack, error) {
	rows, err := q.Query(ctx, `SELECT `+packColumns+` FROM pricing_packs
		WHERE status = 'fresh' AND superseded_by IS NULL AND pack_date BETWEEN $1 AND $2
		ORDER BY pack_date`, civilDate(from), civilDate(to))
	if err != nil {
		return nil, fmt.Errorf("list fresh packs: %w", err)
	}
	out, err := collect(rows, scanPack)
	if err != nil {
		return nil, fmt.Errorf("list fresh packs: %w", err)
	}
	return out, nil
}

// PricesInPack returns the closes of securityIDs in a pack, by security. A
// security without a close is an error wrapping ErrMissingPrice that names
// every missing symbol.
func PricesInPack(ctx context.Context, q Querier, packID string, securityIDs []uuid.UUID) (map[uuid.UUID]Price, error) {
	out := make(map[uuid.UUID]Price, len(securityIDs))
	if len(securityIDs) == 0 {
		return out, nil
	}
	if _, err := GetPack(ctx, q, packID); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT security_id, close, open, high, low, volume, currency
		FROM prices WHERE pack_id = $1 AND security_id = ANY($2)`, packID, securityIDs)
	if err != nil {
		return nil, fmt.Errorf("load prices of pack %s: %w", packID, err)
	}
	prices, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Price])
	if err != nil {
		return nil, fmt.Errorf("load prices of pack %s: %w", packID, err)
	}
	for _, p := range prices {
		out[p.SecurityID] = p
	}
	var missing []uuid.UUID
	for _, id := range securityIDs {
		if _, ok := out[id]; !ok && !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("pack %s has no close for %s: %w", packID, securityNames(ctx, q, missing), ErrMissingPrice)
	}
	return out, nil
}

// securityNames names securities by symbol (by id when the lookup fails),
// for error messages.
func securityNames(ctx context.Context, q Querier, ids []uuid.UUID) string {
	names := make([]string, 0, len(ids))
	syms := map[uuid.UUID]string{}
	if rows, err := q.Query(ctx, `SELECT id, symbol FROM securities WHERE id = ANY($1)`, ids); err == nil {
		var id uuid.UUID
		var sym string
		// A failed lookup leaves ids unnamed; the message is still built.
		_, _ = pgx.ForEachRow(rows, []any{&id, &sym}, func() error { syms[id] = sym; return nil })
	}
	for _, id := range ids {
		if s, ok := syms[id]; ok {
			names = append(names, fmt.Sprintf("%s (%s)", s, id))
		} else {
			names = append(names, id.String())
		}
	}
	return strings.Join(names, ", ")
}

// FXRate returns how many units of to one unit of from buys in a pack.
// The same currency is exactly 1. A pair stored only the other way round is
// inverted (rounded to 16 decimal places). A missing pair is an error
// wrapping ErrMissingFX that names the pair and the pack.
func FXRate(ctx context.Context, q Querier, packID, from, to string) (decimal.Decimal, error) {
	from, to = strings.ToUpper(from), strings.ToUpper(to)
	if from == to {
		return decimal.NewFromInt(1), nil
	}
	var r decimal.Decimal
	var inverse bool
	err := q.QueryRow(ctx, `SELECT rate, from_ccy <> $2 FROM fx_rates WHERE pack_id = $1 AND
		((from_ccy = $2 AND to_ccy = $3) OR (from_ccy = $3 AND to_ccy = $2))
		ORDER BY from_ccy = $2 DESC LIMIT 1`, packID, from, to).Scan(&r, &inverse)
	if errors.Is(err, pgx.ErrNoRows) {
		return decimal.Decimal{}, fmt.Errorf("pack %s has no rate %s/%s: %w", packID, from, to, ErrMissingFX)
	}
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("load rate %s/%s of pack %s: %w", from, to, packID, err)
	}
	if inverse {
		return decimal.NewFromInt(1).DivRound(r, 16), nil
	}
	return r, nil
}

// packRates holds every rate of one pack for repeated lookups in memory.
type packRates map[[2]string]decimal.Decimal

// rate mirrors FXRate over the loaded rates.
func (pr packRates) rate(packID, from, to string) (decimal.Decimal, error) {
	if from == to {
		return decimal.NewFromInt(1), nil
	}
	if r, ok := pr[[2]string{from, to}]; ok {
		return r, nil
	}
	if r, ok := pr[[2]string{to, from}]; ok {
		return decimal.NewFromInt(1).DivRound(r, 16), nil
	}
	return decimal.Decimal{}, fmt.Errorf("pack %s has no rate %s/%s: %w", packID, from, to, ErrMissingFX)
}
