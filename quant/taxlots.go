package quant

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Tax-lot relief and realised gains. Quantities and money are exact
// decimals (DOMAIN.md §1); a division (average cost, pro-rata proceeds) is
// carried to decimal.DivisionPrecision (16) fractional digits, and callers
// round to cents only when they report.

// ErrOversold means a sale asks for more shares than the lots hold (or, for
// SPECIFIC_LOT, than the named lots hold). It wraps ErrInvalid.
var ErrOversold = fmt.Errorf("quant: sale quantity exceeds lots held: %w", ErrInvalid)

// LongTermHoldingDays is the holding period that must be exceeded for a
// gain to be long-term (DOMAIN.md §1: long-term when held more than 365
// days).
const LongTermHoldingDays = 365

// Lot is an open tax lot of one security.
type Lot struct {
	ID           string
	Acquired     time.Time
	Quantity     decimal.Decimal
	CostPerShare decimal.Decimal
}

// Cost is the lot's total cost basis, Quantity × CostPerShare.
func (l Lot) Cost() decimal.Decimal { return l.Quantity.Mul(l.CostPerShare) }

// ReliefMethod chooses which lots a sale relieves; the values are the wire
// names used by the tax capabilities.
type ReliefMethod string

// Lot-relief methods.
const (
	// ReliefFIFO relieves the earliest-acquired lots first.
	ReliefFIFO ReliefMethod = "FIFO"
	// ReliefLIFO relieves the latest-acquired lots first.
	ReliefLIFO ReliefMethod = "LIFO"
	// ReliefHIFO relieves the highest cost per share first (earlier
	// acquisition first on ties), which minimises the realised gain.
	ReliefHIFO ReliefMethod = "HIFO"
	// ReliefSpecificLot relieves the lots named by the caller, in the order
	// named.
	ReliefSpecificLot ReliefMethod = "SPECIFIC_LOT"
	// ReliefAverageCost prices every relieved share at the average cost of
	// all lots held (total cost / total shares); shares are taken in FIFO
	// order only to date the holding period, and the remaining lots carry
	// the average cost per share afterwards.
	ReliefAverageCost ReliefMethod = "AVERAGE_COST"
)

// RelievedPiece is the part of one lot consumed by a sale.
type RelievedPiece struct {
	LotID        string
	Acquired     time.Time
	Quantity     decimal.Decimal
	CostPerShare decimal.Decimal // the average cost under AVERAGE_COST
	Cost         decimal.Decimal // basis relieved
}

// Relieve takes quantity shares out of lots by method and returns the
// relieved pieces (in relief order) and the remaining lots (input order,
// emptied lots dropped). specificIDs is used only by SPECIFIC_LOT. Ties in
// the ordering keep the input order. The input slice is not modified.
//
// Errors wrap ErrInvalid (non-positive quantity, negative lot quantity or
// cost, duplicate lot IDs, unknown method, unknown or repeated specific ID)
// or ErrOversold (more shares than held or than the named lots hold).
func Relieve(lots []Lot, quantity decimal.Decimal, method ReliefMethod, specificIDs []string) ([]RelievedPiece, []Lot, error) {
	if !quantity.IsPositive() {
		return nil, nil, fmt.Errorf("relieve %s shares: quantity must be positive: %w", quantity, ErrInvalid)
	}
	held := decimal.Zero
	totalCost := decimal.Zero
	index := make(map[string]int, len(lots))
	for i, l := range lots {
		if l.Quantity.IsNegative() || l.CostPerShare.IsNegative() {
			return nil, nil, fmt.Errorf("relieve: lot %q has quantity %s, cost per share %s: %w", l.ID, l.Quantity, l.CostPerShare, ErrInvalid)
		}
		if _, dup := index[l.ID]; dup {
			return nil, nil, fmt.Errorf("relieve: duplicate lot id %q: %w", l.ID, ErrInvalid)
		}
		index[l.ID] = i
		held = held.Add(l.Quantity)
		totalCost = totalCost.Add(l.Cost())
	}
	if quantity.GreaterThan(held) {
		return nil, nil, fmt.Errorf("relieve %s shares from %s held: %w", quantity, held, ErrOversold)
	}

	// order lists lot indices in relief order.
	order := make([]int, len(lots))
	for i := range order {
		order[i] = i
	}
	byDate := func(a, b int) int { return lots[a].Acquired.Compare(lots[b].Acquired) }
	switch method {
	case ReliefFIFO, ReliefAverageCost:
		slices.SortStableFunc(order, byDate)
	case ReliefLIFO:
		slices.SortStableFunc(order, func(a, b int) int { return -byDate(a, b) })
	case ReliefHIFO:
		slices.SortStableFunc(order, func(a, b int) int {
			if c := lots[b].CostPerShare.Cmp(lots[a].CostPerShare); c != 0 {
				return c
			}
			return byDate(a, b)
		})
	case ReliefSpecificLot:
		if len(specificIDs) == 0 {
			return nil, nil, fmt.Errorf("relieve by specific lot: no lot ids given: %w", ErrInvalid)
		}
		order = order[:0]
		seen := make(map[string]bool, len(specificIDs))
		named := decimal.Zero
		for _, id := range specificIDs {
			i, ok := index[id]
			if !ok {
				return nil, nil, fmt.Errorf("relieve by specific lot: unknown lot id %q: %w", id, ErrInvalid)
			}
			if seen[id] {
				return nil, nil, fmt.Errorf("relieve by specific lot: lot id %q named twice: %w", id, ErrInvalid)
			}
			seen[id] = true
			order = append(order, i)
			named = named.Add(lots[i].Quantity)
		}
		if quantity.GreaterThan(named) {
			return nil, nil, fmt.Errorf("relieve %s shares from named lots holding %s: %w", quantity, named, ErrOversold)
		}
	default:
		return nil, nil, fmt.Errorf("relieve: unknown method %q: %w", method, ErrInvalid)
	}

	var avgCost decimal.Decimal
	if method == ReliefAverageCost {
		avgCost = totalCost.Div(held) // held > 0 because quantity > 0 and ≤ held
	}
	taken := make([]decimal.Decimal, len(lots))
	var pieces []RelievedPiece
	left := quantity
	for _, i := range order {
		if !left.IsPositive() {
			break
		}
		l := lots[i]
		q := decimal.Min(left, l.Quantity)
		if !q.IsPositive() {
			continue
		}
		piece := RelievedPiece{LotID: l.ID, Acquired: l.Acquired, Quantity: q, CostPerShare: l.CostPerShare, Cost: q.Mul(l.CostPerShare)}
		if method == ReliefAverageCost {
			piece.CostPerShare = avgCost
			// q × total / held keeps full precision for whole-position sales.
			piece.Cost = q.Mul(totalCost).Div(held)
		}
		pieces = append(pieces, piece)
		taken[i] = q
		left = left.Sub(q)
	}

	var remaining []Lot
	for i, l := range lots {
		rest := l.Quantity.Sub(taken[i])
		if !rest.IsPositive() {
			continue
		}
		l.Quantity = rest
		if method == ReliefAverageCost {
			l.CostPerShare = avgCost
		}
		remaining = append(remaining, l)
	}
	return pieces, remaining, nil
}

// RealizedLot is the gain or loss on one relieved piece of a sale.
type RealizedLot struct {
	LotID       string
	Acquired    time.Time
	Sold        time.Time
	Quantity    decimal.Decimal
	Proceeds    decimal.Decimal
	Cost        decimal.Decimal
	Gain        decimal.Decimal // Proceeds − Cost; negative is a loss
	HoldingDays int
	LongTerm    bool // HoldingDays > LongTermHoldingDays
}

// RealizedGainsReport is the outcome of one sale, split short and long
// term.
type RealizedGainsReport struct {
	SaleDate  time.Time
	Lines     []RealizedLot
	Proceeds  decimal.Decimal
	Cost      decimal.Decimal
	ShortTerm decimal.Decimal
	LongTerm  decimal.Decimal
	Total     decimal.Decimal
}

// RealizedGains computes the gain of a sale of the relieved pieces for
// total net proceeds (after commissions). Proceeds are allocated to pieces
// pro rata to quantity, the last piece taking the rounding remainder so
// that the lines add up exactly. Holding days are calendar days from the
// acquisition date to the sale date (each read in its own location);
// more than 365 is long-term (DOMAIN.md §1).
func RealizedGains(pieces []RelievedPiece, saleDate time.Time, proceeds decimal.Decimal) (RealizedGainsReport, error) {
	if len(pieces) == 0 {
		return RealizedGainsReport{}, fmt.Errorf("realized gains: no relieved pieces: %w", ErrEmpty)
	}
	if proceeds.IsNegative() {
		return RealizedGainsReport{}, fmt.Errorf("realized gains: proceeds %s: %w", proceeds, ErrInvalid)
	}
	qty := decimal.Zero
	for _, p := range pieces {
		if !p.Quantity.IsPositive() {
			return RealizedGainsReport{}, fmt.Errorf("realized gains: lot %q piece quantity %s: %w", p.LotID, p.Quantity, ErrInvalid)
		}
		qty = qty.Add(p.Quantity)
	}
	rep := RealizedGainsReport{SaleDate: saleDate, Proceeds: proceeds}
	allocated := decimal.Zero
	for i, p := range pieces {
		days := taxCalendarDays(p.Acquired, saleDate)
		if days < 0 {
			return RealizedGainsReport{}, fmt.Errorf("realized gains: lot %q acquired %s after the sale on %s: %w",
				p.LotID, p.Acquired.Format(time.DateOnly), saleDate.Format(time.DateOnly), ErrInvalid)
		}
		share := proceeds.Sub(allocated)
		if i < len(pieces)-1 {
			share = proceeds.Mul(p.Quantity).Div(qty)
		}
		allocated = allocated.Add(share)
		line := RealizedLot{
			LotID: p.LotID, Acquired: p.Acquired, Sold: saleDate, Quantity: p.Quantity,
			Proceeds: share, Cost: p.Cost, Gain: share.Sub(p.Cost),
			HoldingDays: days, LongTerm: days > LongTermHoldingDays,
		}
		rep.Lines = append(rep.Lines, line)
		rep.Cost = rep.Cost.Add(p.Cost)
		if line.LongTerm {
			rep.LongTerm = rep.LongTerm.Add(line.Gain)
		} else {
			rep.ShortTerm = rep.ShortTerm.Add(line.Gain)
		}
	}
	rep.Total = rep.ShortTerm.Add(rep.LongTerm)
	return rep, nil
}

// taxCalendarDays counts calendar days from a's date to b's date, each
// taken in its own location, so clock times and DST never shift a count.
func taxCalendarDays(a, b time.Time) int {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	da := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
	db := time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}
