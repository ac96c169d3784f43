package tax

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/lots"
)

// Holding-period terms (DOMAIN.md §1: long term when held more than 365
// days).
const (
	TermShort = "short"
	TermLong  = "long"
	// TermMixed is a candidate whose lots are some short and some long
	// term.
	TermMixed = "mixed"
)

// Where realised figures come from.
const (
	// SourceRecorded: the ledger's lot_reliefs rows (the portfolio's own
	// method).
	SourceRecorded = "recorded"
	// SourceReplayed: the portfolio's transactions replayed in memory
	// through storage/lots under another method; nothing is written.
	SourceReplayed = "replayed"
)

// methodOf maps a method argument (either case) to a lots.Method; "" is the
// portfolio's own.
func methodOf(arg string, p storage.Portfolio) lots.Method {
	if arg == "" {
		return lots.Method(p.CostBasisMethod)
	}
	return lots.Method(strings.ToUpper(arg))
}

// termOf is the holding-period term of a holding of days calendar days.
func termOf(days int) string {
	if days > lots.LongTermHoldingDays {
		return TermLong
	}
	return TermShort
}

// day formats a date as YYYY-MM-DD.
func day(t time.Time) string { return t.Format(time.DateOnly) }

// taxYear is the calendar year asked for (the as-of date's when nil) and
// the dates it covers up to the as-of date.
type taxYear struct {
	Year     int
	From, To time.Time
	// Partial: the year runs past the as-of date, so To is the as-of date.
	Partial bool
}

func yearOf(arg *int, asOf time.Time) (taxYear, error) {
	y := asOf.Year()
	if arg != nil {
		y = *arg
	}
	if y > asOf.Year() {
		return taxYear{}, agents.FieldError("tax_year", "tax year %d is after the run's as-of date %s", y, day(asOf))
	}
	ty := taxYear{Year: y, From: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC)}
	if ty.To.After(asOf) {
		ty.To, ty.Partial = asOf, true
	}
	return ty, nil
}

// notHeld is the error for a security that exists but is not held.
func notHeld(ctx context.Context, q storage.Querier, p storage.Portfolio, securityID uuid.UUID, date time.Time) error {
	s, err := storage.GetSecurity(ctx, q, securityID)
	if err != nil {
		return fmt.Errorf("unknown security: %w", err)
	}
	return agents.Errorf(agents.CodeNotFound, "position not held: portfolio %q (%s) holds no %s (%s) at the end of %s; the security exists",
		p.Name, p.ID, s.Symbol, s.ID, day(date))
}

// toLots turns the ledger's open lots of one security into the lot
// engine's form, in the order given (acquisition order).
func toLots(ls []storage.Lot) []lots.Lot {
	out := make([]lots.Lot, len(ls))
	for i, l := range ls {
		out[i] = lots.Lot{ID: l.ID, Acquired: l.AcquiredDate, Quantity: l.QuantityOpen, Cost: l.CostBasisOpen, CostPerShare: l.CostPerShare}
	}
	return out
}

// bySecurity groups lots per security, keeping their order.
func bySecurity(ls []storage.Lot) (map[uuid.UUID][]storage.Lot, []uuid.UUID) {
	out := map[uuid.UUID][]storage.Lot{}
	var ids []uuid.UUID
	for _, l := range ls {
		if _, ok := out[l.SecurityID]; !ok {
			ids = append(ids, l.SecurityID)
		}
		out[l.SecurityID] = append(out[l.SecurityID], l)
	}
	return out, ids
}

// packRates reads the rates of currencies into base from one pack, once
// each.
type packRates struct {
	q      storage.Querier
	packID string
	base   string
	rates  map[string]decimal.Decimal
}

func newPackRates(q storage.Querier, packID, base string) *packRates {
	return &packRates{q: q, packID: packID, base: base, rates: map[string]decimal.Decimal{}}
}

func (r *packRates) rate(ctx context.Context, ccy string) (decimal.Decimal, error) {
	if v, ok := r.rates[ccy]; ok {
		return v, nil
	}
	v, err := storage.FXRate(ctx, r.q, r.packID, ccy, r.base)
	if err != nil {
		return decimal.Decimal{}, err
	}
	r.rates[ccy] = v
	return v, nil
}

// simulateSale is what selling quantity of a security's open lots (in
// acquisition order) on date for proceeds would realise, relieved by
// method or from the named lots, as the ledger would relieve it. Nothing
// is written.
func simulateSale(open []lots.Lot, quantity decimal.Decimal, method lots.Method, named []uuid.UUID, date time.Time, proceeds decimal.Decimal) (lots.Sale, error) {
	reliefs, _, err := lots.Relieve(open, quantity, method, named...)
	if err != nil {
		return lots.Sale{}, err
	}
	return lots.RealizedGains(reliefs, date, proceeds)
}
