// Package lots is the one tax-lot engine of DawsOS: which open lots a sale
// or transfer out relieves under a cost-basis method and at what cost, how a
// split changes a lot, the gains a sale realises (short and long term) and
// the wash-sale adjustment of IRS Publication 550.
//
// The ledger (package storage) applies every transaction through it, and the
// tax capabilities call it for what-if reliefs and reports, so a figure the
// ledger stored and one a report recomputes cannot disagree. It is pure:
// lots in, reliefs out; no database, no context. It lives under storage
// because storage may import only storage (ARCHITECTURE.md §1), and agents
// may import storage.
//
// Arithmetic is exact decimal (DOMAIN.md §1). Where a division is
// unavoidable (part of a lot's cost, an average, a pro-rata share of
// proceeds) it is rounded half away from zero to Scale decimal places, and
// the last part of a split gets the remainder, so parts always add up to the
// whole exactly.
package lots

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Scale is the number of decimal places a division is rounded to. The
// ledger's stored lots and reliefs are computed with it, so it cannot change
// without changing stored figures.
const Scale = 10

// Method chooses which lots a relief takes; the values are the portfolio's
// cost_basis_method.
type Method string

// Cost-basis methods.
const (
	// FIFO relieves the earliest-acquired lots first.
	FIFO Method = "FIFO"
	// LIFO relieves the latest-acquired lots first.
	LIFO Method = "LIFO"
	// HIFO relieves the highest CostPerShare first; equal costs per share
	// go in acquisition order.
	HIFO Method = "HIFO"
	// SpecificLot relieves only the lots named, in the order named.
	SpecificLot Method = "SPECIFIC_LOT"
	// AverageCost relieves at the pooled average cost: quantity comes from
	// the earliest lots (which dates the holding periods), the cost is
	// quantity x pooled cost / pooled quantity, and the lots left share the
	// rest of the pooled cost in proportion to their quantities.
	AverageCost Method = "AVERAGE_COST"
)

// Valid reports whether m is one of the methods.
func (m Method) Valid() bool {
	switch m {
	case FIFO, LIFO, HIFO, SpecificLot, AverageCost:
		return true
	}
	return false
}

// ErrInvalid means the arguments cannot describe a relief (a quantity that
// is not positive, an unknown method, a lot named under AVERAGE_COST, no lot
// named under SPECIFIC_LOT, a lot named twice, duplicate or negative lots).
var ErrInvalid = errors.New("invalid lot relief")

// ErrInsufficient means a relief asks for more than the lots it may take
// from hold; an *InsufficientError carries the figures.
var ErrInsufficient = errors.New("insufficient quantity")

// InsufficientError reports a relief of more than is held; it matches
// ErrInsufficient with errors.Is.
type InsufficientError struct {
	// Named are the lots the relief was restricted to; nil when it could
	// take from every lot.
	Named []uuid.UUID
	// Held is what those lots hold: 0 when a named lot is not among the
	// open lots.
	Held      decimal.Decimal
	Requested decimal.Decimal
}

func (e *InsufficientError) Error() string {
	if len(e.Named) > 0 {
		return fmt.Sprintf("%s: the named lots %v hold %s, requested %s", ErrInsufficient, e.Named, e.Held, e.Requested)
	}
	return fmt.Sprintf("%s: the lots hold %s, requested %s", ErrInsufficient, e.Held, e.Requested)
}

// Unwrap makes errors.Is(err, ErrInsufficient) true.
func (e *InsufficientError) Unwrap() error { return ErrInsufficient }

// Lot is the open part of one tax lot of one security.
type Lot struct {
	ID       uuid.UUID
	Acquired time.Time
	// Quantity is the open quantity, after any splits.
	Quantity decimal.Decimal
	// Cost is the basis of the open quantity, fees included.
	Cost decimal.Decimal
	// CostPerShare is Cost / Quantity rounded to Scale places when the lot
	// was opened, split or re-costed by AVERAGE_COST; a partial relief
	// leaves it as it was. HIFO orders by it.
	CostPerShare decimal.Decimal
}

// Open is a new lot of quantity (> 0) shares costing cost in total.
func Open(id uuid.UUID, acquired time.Time, quantity, cost decimal.Decimal) Lot {
	return Lot{ID: id, Acquired: acquired, Quantity: quantity, Cost: cost, CostPerShare: cost.DivRound(quantity, Scale)}
}

// Split is l after a split of ratio new shares per old share (2 for
// 2-for-1, 0.1 for 1-for-10): the quantity is multiplied, the total cost
// kept, the cost per share recomputed.
func (l Lot) Split(ratio decimal.Decimal) Lot {
	l.Quantity = l.Quantity.Mul(ratio)
	l.CostPerShare = l.Cost.DivRound(l.Quantity, Scale)
	return l
}

// Relief is the part of one lot that a relief took.
type Relief struct {
	LotID    uuid.UUID
	Acquired time.Time
	Quantity decimal.Decimal
	// Cost is the basis relieved.
	Cost decimal.Decimal
}

// Relieve takes quantity shares out of the lots of one security by method
// and returns the reliefs, in the order taken, and the lots after the
// relief: the same length and order as lots, a lot taken in full left with
// zero quantity and cost. The input slice is not modified.
//
// Acquisition order is Acquired, then the order of lots, so a caller passes
// lots of the same date in the order they were opened. Named lots (a
// broker's lot instruction) override FIFO, LIFO and HIFO and are required by
// SPECIFIC_LOT; a named lot that is not among the lots with a positive
// quantity holds nothing. Errors wrap ErrInvalid or are an
// *InsufficientError.
//
// A partial relief of a lot takes cost x taken / quantity (rounded to
// Scale) and leaves the rest, so the lot's cost is always exact; its
// CostPerShare is unchanged. Under AVERAGE_COST the lots left are re-costed
// (see AverageCost), and a lot cannot be named.
func Relieve(lots []Lot, quantity decimal.Decimal, method Method, named ...uuid.UUID) ([]Relief, []Lot, error) {
	what := fmt.Sprintf("relieve %s shares by %s", quantity, method)
	if !quantity.IsPositive() {
		return nil, nil, fmt.Errorf("%s: quantity must be positive: %w", what, ErrInvalid)
	}
	if !method.Valid() {
		return nil, nil, fmt.Errorf("%s: unknown method: %w", what, ErrInvalid)
	}
	index := make(map[uuid.UUID]int, len(lots))
	held := decimal.Zero
	for i, l := range lots {
		if l.Quantity.IsNegative() || l.Cost.IsNegative() || l.CostPerShare.IsNegative() {
			return nil, nil, fmt.Errorf("%s: lot %s has quantity %s, cost %s, cost per share %s: %w", what, l.ID, l.Quantity, l.Cost, l.CostPerShare, ErrInvalid)
		}
		if _, dup := index[l.ID]; dup {
			return nil, nil, fmt.Errorf("%s: lot %s given twice: %w", what, l.ID, ErrInvalid)
		}
		index[l.ID] = i
		held = held.Add(l.Quantity)
	}
	order := make([]int, len(lots))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return lots[a].Acquired.Compare(lots[b].Acquired) })

	var take []int
	switch {
	case len(named) > 0:
		if method == AverageCost {
			return nil, nil, fmt.Errorf("%s: a lot cannot be named under AVERAGE_COST: %w", what, ErrInvalid)
		}
		held = decimal.Zero
		seen := make(map[uuid.UUID]bool, len(named))
		for _, id := range named {
			if seen[id] {
				return nil, nil, fmt.Errorf("%s: lot %s named twice: %w", what, id, ErrInvalid)
			}
			seen[id] = true
			i, ok := index[id]
			if !ok || !lots[i].Quantity.IsPositive() {
				return nil, nil, &InsufficientError{Named: []uuid.UUID{id}, Held: decimal.Zero, Requested: quantity}
			}
			take = append(take, i)
			held = held.Add(lots[i].Quantity)
		}
	case method == SpecificLot:
		return nil, nil, fmt.Errorf("%s: no lot is named: %w", what, ErrInvalid)
	default:
		take = slices.Clone(order)
		switch method {
		case LIFO:
			slices.Reverse(take)
		case HIFO:
			slices.SortStableFunc(take, func(a, b int) int { return lots[b].CostPerShare.Cmp(lots[a].CostPerShare) })
		}
	}
	if quantity.GreaterThan(held) {
		return nil, nil, &InsufficientError{Named: named, Held: held, Requested: quantity}
	}
	after := slices.Clone(lots)
	if method == AverageCost {
		return relieveAverage(after, order, quantity), after, nil
	}
	var reliefs []Relief
	remaining := quantity
	for _, i := range take {
		if !remaining.IsPositive() {
			break
		}
		l := &after[i]
		if !l.Quantity.IsPositive() {
			continue
		}
		q := decimal.Min(remaining, l.Quantity)
		cost := l.Cost
		if q.LessThan(l.Quantity) {
			cost = l.Cost.Mul(q).DivRound(l.Quantity, Scale)
		}
		reliefs = append(reliefs, Relief{LotID: l.ID, Acquired: l.Acquired, Quantity: q, Cost: cost})
		l.Quantity = l.Quantity.Sub(q)
		l.Cost = l.Cost.Sub(cost)
		remaining = remaining.Sub(q)
	}
	return reliefs, after, nil
}

// relieveAverage relieves quantity from lots (changed in place) in
// acquisition order at the pooled average cost and re-costs the lots left.
func relieveAverage(lots []Lot, order []int, quantity decimal.Decimal) []Relief {
	poolQ, poolC := decimal.Zero, decimal.Zero
	for _, i := range order {
		poolQ, poolC = poolQ.Add(lots[i].Quantity), poolC.Add(lots[i].Cost)
	}
	relieved := poolC
	if quantity.LessThan(poolQ) {
		relieved = poolC.Mul(quantity).DivRound(poolQ, Scale)
	}
	var reliefs []Relief
	remaining, allocated := quantity, decimal.Zero
	for _, i := range order {
		if !remaining.IsPositive() {
			break
		}
		l := &lots[i]
		if !l.Quantity.IsPositive() {
			continue
		}
		q := decimal.Min(remaining, l.Quantity)
		remaining = remaining.Sub(q)
		cost := relieved.Sub(allocated)
		if remaining.IsPositive() {
			cost = relieved.Mul(q).DivRound(quantity, Scale)
		}
		allocated = allocated.Add(cost)
		reliefs = append(reliefs, Relief{LotID: l.ID, Acquired: l.Acquired, Quantity: q, Cost: cost})
		l.Quantity = l.Quantity.Sub(q)
	}
	leftQ, leftC := poolQ.Sub(quantity), poolC.Sub(relieved)
	var left []int
	for _, i := range order {
		if lots[i].Quantity.IsPositive() {
			left = append(left, i)
		} else {
			lots[i].Cost = decimal.Zero
		}
	}
	spread := decimal.Zero
	for k, i := range left {
		c := leftC.Sub(spread)
		if k < len(left)-1 {
			c = leftC.Mul(lots[i].Quantity).DivRound(leftQ, Scale)
		}
		spread = spread.Add(c)
		lots[i].Cost = c
		lots[i].CostPerShare = leftC.DivRound(leftQ, Scale)
	}
	return reliefs
}
