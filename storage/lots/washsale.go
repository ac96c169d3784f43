package lots

import (
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Wash sales, following IRS Publication 550 ("Investment Income and
// Expenses", chapter 4, "Wash Sales"): a loss on a sale of stock is
// disallowed when substantially identical stock is bought within 30 days
// before or after the sale; the disallowed loss is added to the basis of
// the new stock, and the holding period of the new stock includes that of
// the stock sold. When the number of replacement shares differs from the
// number sold, shares bought are matched with shares sold in the order
// they were bought, so only the matched part of the loss is disallowed.
//
// Scope: the caller passes purchases of the same (or a substantially
// identical) security, which is a judgement this package does not make.
// Each call handles one sale; a replacement share already used by an
// earlier wash sale must not be passed again.

// WashSaleWindowDays is the number of calendar days before and after a
// loss sale in which a purchase makes it a wash sale (Pub. 550).
const WashSaleWindowDays = 30

// WashSaleMatch pairs sold shares with replacement shares.
type WashSaleMatch struct {
	SoldLotID        uuid.UUID
	ReplacementLotID uuid.UUID
	// Part is the Part of the adjusted replacement in
	// WashSaleResult.Replacements.
	Part     int
	Quantity decimal.Decimal
	// DisallowedLoss is positive: the line's loss x matched / sold shares
	// (rounded to Scale; the match that completes a line takes the rest
	// of its loss).
	DisallowedLoss decimal.Decimal
	// TackedDays is the sold lot's holding period added to the replacement.
	TackedDays int
}

// Replacement is a purchase, or part of one, after the wash-sale
// adjustment.
type Replacement struct {
	Lot
	// Part is 0 for the purchase itself: unadjusted, adjusted in full by one
	// match, or the unmatched rest of a purchase matched in part. A purchase
	// matched in part, or by several matches, has each matched part split
	// out as Part 1, 2, ... under the purchase's ID.
	Part int
	// Adjusted: the basis was raised by a disallowed loss and Acquired moved
	// back by the sold lot's holding period.
	Adjusted bool
}

// WashSaleResult is the wash-sale treatment of one sale.
type WashSaleResult struct {
	Matches []WashSaleMatch
	// Loss is the total loss on the sale's loss lines, as a positive number.
	Loss decimal.Decimal
	// Disallowed = Σ DisallowedLoss; Allowed = Loss − Disallowed, the loss
	// still deductible now.
	Disallowed decimal.Decimal
	Allowed    decimal.Decimal
	// Replacements are the purchases after adjustment, in input order, each
	// purchase's matched parts before its unmatched rest. An adjusted part
	// carries its share of the purchase's cost (pro rata to quantity,
	// rounded to Scale; the rest keeps the remainder and the cost per
	// share) plus the disallowed loss.
	Replacements []Replacement
}

// WashSales applies the wash-sale rule to a sale (from RealizedGains)
// given the purchases of the same security. Only lines with a loss are
// considered; purchases whose ID is one of the sold lots are the sold
// shares themselves and are ignored as replacements. A purchase counts when
// its date is within WashSaleWindowDays calendar days of the sale date,
// either side (day 30 counts, day 31 does not). Replacement shares are
// matched in acquisition order with sold shares in the sale's line order.
// Errors wrap ErrInvalid (a negative purchase, a purchase given twice).
func WashSales(sale Sale, purchases []Lot) (WashSaleResult, error) {
	sold := make(map[uuid.UUID]bool, len(sale.Lines))
	for _, l := range sale.Lines {
		sold[l.LotID] = true
	}
	seen := make(map[uuid.UUID]bool, len(purchases))
	var candidates []int
	for i, p := range purchases {
		if p.Quantity.IsNegative() || p.Cost.IsNegative() {
			return WashSaleResult{}, fmt.Errorf("wash sales: purchase %s has quantity %s, cost %s: %w", p.ID, p.Quantity, p.Cost, ErrInvalid)
		}
		if seen[p.ID] {
			return WashSaleResult{}, fmt.Errorf("wash sales: purchase %s given twice: %w", p.ID, ErrInvalid)
		}
		seen[p.ID] = true
		d := CalendarDays(sale.Date, p.Acquired)
		if sold[p.ID] || !p.Quantity.IsPositive() || d < -WashSaleWindowDays || d > WashSaleWindowDays {
			continue
		}
		candidates = append(candidates, i)
	}
	slices.SortStableFunc(candidates, func(a, b int) int { return purchases[a].Acquired.Compare(purchases[b].Acquired) })

	res := WashSaleResult{}
	// parts[i] collects the adjusted pieces split out of purchase i, with
	// the index of their match.
	type part struct {
		r     Replacement
		match int
	}
	parts := make([][]part, len(purchases))
	used := make([]decimal.Decimal, len(purchases))
	baseUsed := make([]decimal.Decimal, len(purchases))
	ci := 0
	for _, line := range sale.Lines {
		if !line.Gain.IsNegative() {
			continue
		}
		loss := line.Gain.Neg()
		res.Loss = res.Loss.Add(loss)
		left, lineDisallowed := line.Quantity, decimal.Zero
		for left.IsPositive() && ci < len(candidates) {
			pi := candidates[ci]
			p := purchases[pi]
			m := decimal.Min(left, p.Quantity.Sub(used[pi]))
			left = left.Sub(m)
			disallowed := loss.Sub(lineDisallowed)
			if left.IsPositive() {
				disallowed = loss.Mul(m).DivRound(line.Quantity, Scale)
			}
			lineDisallowed = lineDisallowed.Add(disallowed)
			used[pi] = used[pi].Add(m)
			base := p.Cost.Sub(baseUsed[pi])
			if used[pi].LessThan(p.Quantity) {
				base = p.Cost.Mul(m).DivRound(p.Quantity, Scale)
			}
			baseUsed[pi] = baseUsed[pi].Add(base)
			cost := base.Add(disallowed)
			adjusted := Lot{ID: p.ID, Acquired: p.Acquired.AddDate(0, 0, -line.HoldingDays), Quantity: m,
				Cost: cost, CostPerShare: cost.DivRound(m, Scale)}
			parts[pi] = append(parts[pi], part{Replacement{Lot: adjusted, Adjusted: true}, len(res.Matches)})
			res.Matches = append(res.Matches, WashSaleMatch{
				SoldLotID: line.LotID, ReplacementLotID: p.ID, Quantity: m,
				DisallowedLoss: disallowed, TackedDays: line.HoldingDays,
			})
			res.Disallowed = res.Disallowed.Add(disallowed)
			if used[pi].Equal(p.Quantity) {
				ci++
			}
		}
	}
	res.Allowed = res.Loss.Sub(res.Disallowed)

	for i, p := range purchases {
		ps := parts[i]
		whole := len(ps) == 1 && used[i].Equal(p.Quantity)
		for n, pt := range ps {
			if !whole {
				pt.r.Part = n + 1
			}
			res.Matches[pt.match].Part = pt.r.Part
			res.Replacements = append(res.Replacements, pt.r)
		}
		if rest := p.Quantity.Sub(used[i]); rest.IsPositive() || len(ps) == 0 {
			p.Quantity, p.Cost = rest, p.Cost.Sub(baseUsed[i])
			res.Replacements = append(res.Replacements, Replacement{Lot: p})
		}
	}
	return res, nil
}
