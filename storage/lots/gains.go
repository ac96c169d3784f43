package lots

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// LongTermHoldingDays is the holding period that must be exceeded for a
// gain to be long-term (DOMAIN.md §1: long-term when held more than 365
// days).
const LongTermHoldingDays = 365

// SaleLine is the gain or loss on one relief of a sale.
type SaleLine struct {
	LotID    uuid.UUID
	Acquired time.Time
	Quantity decimal.Decimal
	// Proceeds is this line's share of the sale's net proceeds.
	Proceeds decimal.Decimal
	Cost     decimal.Decimal
	// Gain = Proceeds - Cost; negative is a loss.
	Gain        decimal.Decimal
	HoldingDays int
	// LongTerm: HoldingDays > LongTermHoldingDays.
	LongTerm bool
}

// Sale is what one sale realised, line by line and split short and long
// term.
type Sale struct {
	Date  time.Time
	Lines []SaleLine
	// Proceeds are net of fees; Cost is the basis relieved.
	Proceeds  decimal.Decimal
	Cost      decimal.Decimal
	ShortTerm decimal.Decimal
	LongTerm  decimal.Decimal
	// Total = Proceeds - Cost = ShortTerm + LongTerm.
	Total decimal.Decimal
}

// RealizedGains is the outcome of selling the relieved shares on date for
// proceeds net of fees. The proceeds are shared among the reliefs pro rata
// to quantity (rounded to Scale, the last relief taking the remainder, so
// the lines add up exactly). Net proceeds may be negative (fees above the
// gross amount): that is a loss, not an error. Holding days are calendar
// days from the acquisition date to the sale date, each read in its own
// location; more than LongTermHoldingDays is long-term.
//
// Errors wrap ErrInvalid: no reliefs, a relief of no shares, a lot acquired
// after the sale.
func RealizedGains(reliefs []Relief, date time.Time, proceeds decimal.Decimal) (Sale, error) {
	if len(reliefs) == 0 {
		return Sale{}, fmt.Errorf("realised gains of a sale on %s: no reliefs: %w", date.Format(time.DateOnly), ErrInvalid)
	}
	qty := decimal.Zero
	for _, r := range reliefs {
		if !r.Quantity.IsPositive() {
			return Sale{}, fmt.Errorf("realised gains: lot %s relieved %s shares: %w", r.LotID, r.Quantity, ErrInvalid)
		}
		qty = qty.Add(r.Quantity)
	}
	s := Sale{Date: date, Proceeds: proceeds, Total: proceeds}
	allocated := decimal.Zero
	for i, r := range reliefs {
		days := CalendarDays(r.Acquired, date)
		if days < 0 {
			return Sale{}, fmt.Errorf("realised gains: lot %s acquired %s after the sale on %s: %w",
				r.LotID, r.Acquired.Format(time.DateOnly), date.Format(time.DateOnly), ErrInvalid)
		}
		share := proceeds.Sub(allocated)
		if i < len(reliefs)-1 {
			share = proceeds.Mul(r.Quantity).DivRound(qty, Scale)
		}
		allocated = allocated.Add(share)
		line := SaleLine{LotID: r.LotID, Acquired: r.Acquired, Quantity: r.Quantity, Proceeds: share, Cost: r.Cost,
			Gain: share.Sub(r.Cost), HoldingDays: days, LongTerm: days > LongTermHoldingDays}
		s.Lines = append(s.Lines, line)
		s.Cost = s.Cost.Add(r.Cost)
		s.Total = s.Total.Sub(r.Cost)
		if line.LongTerm {
			s.LongTerm = s.LongTerm.Add(line.Gain)
		} else {
			s.ShortTerm = s.ShortTerm.Add(line.Gain)
		}
	}
	return s, nil
}

// CalendarDays counts calendar days from a's date to b's date, each taken in
// its own location, so clock times and daylight-saving changes never shift
// a count.
func CalendarDays(a, b time.Time) int {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	da := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
	db := time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}
