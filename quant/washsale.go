package quant

import (
	"fmt"
	"slices"

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
	SoldLotID        string
	ReplacementLotID string // the replacement's ID before any split
	AdjustedLotID    string // the ID of the adjusted lot in Replacements
	Quantity         decimal.Decimal
	// DisallowedLoss is positive: loss × matched / sold shares of the line.
	DisallowedLoss decimal.Decimal
	// TackedDays is the sold lot's holding period added to the replacement.
	TackedDays int
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
	// Replacements are the purchases after adjustment, in input order. A
	// lot matched in full by one match keeps its ID; otherwise each matched
	// part is split out as ID + "/washN" (N from 1) and the unmatched rest
	// keeps the original ID. Adjusted parts carry CostPerShare raised by
	// the disallowed loss per share and Acquired moved back by the sold
	// lot's holding period.
	Replacements []Lot
}

// WashSales applies the wash-sale rule to a sale (from RealizedGains)
// given the purchases of the same security. Only lines with a loss are
// considered; purchases whose ID is one of the sold lots are the sold
// shares themselves and are ignored as replacements. A purchase counts when
// its date is within WashSaleWindowDays calendar days of the sale date,
// either side (day 30 counts, day 31 does not). Replacement shares are
// matched in acquisition order with sold shares in the report's line order.
func WashSales(sale RealizedGainsReport, purchases []Lot) (WashSaleResult, error) {
	sold := make(map[string]bool, len(sale.Lines))
	for _, l := range sale.Lines {
		sold[l.LotID] = true
	}
	seen := make(map[string]bool, len(purchases))
	var candidates []int
	for i, p := range purchases {
		if p.Quantity.IsNegative() || p.CostPerShare.IsNegative() {
			return WashSaleResult{}, fmt.Errorf("wash sales: purchase %q has quantity %s, cost per share %s: %w", p.ID, p.Quantity, p.CostPerShare, ErrInvalid)
		}
		if seen[p.ID] {
			return WashSaleResult{}, fmt.Errorf("wash sales: duplicate purchase id %q: %w", p.ID, ErrInvalid)
		}
		seen[p.ID] = true
		d := taxCalendarDays(sale.SaleDate, p.Acquired)
		if sold[p.ID] || !p.Quantity.IsPositive() || d < -WashSaleWindowDays || d > WashSaleWindowDays {
			continue
		}
		candidates = append(candidates, i)
	}
	slices.SortStableFunc(candidates, func(a, b int) int { return purchases[a].Acquired.Compare(purchases[b].Acquired) })

	res := WashSaleResult{}
	// parts[i] collects the adjusted pieces split out of purchase i.
	parts := make([][]Lot, len(purchases))
	used := make([]decimal.Decimal, len(purchases))
	ci := 0
	for _, line := range sale.Lines {
		if !line.Gain.IsNegative() {
			continue
		}
		loss := line.Gain.Neg()
		res.Loss = res.Loss.Add(loss)
		left := line.Quantity
		for left.IsPositive() && ci < len(candidates) {
			pi := candidates[ci]
			p := purchases[pi]
			avail := p.Quantity.Sub(used[pi])
			m := decimal.Min(left, avail)
			disallowed := loss.Mul(m).Div(line.Quantity)
			adjusted := Lot{
				ID:           p.ID,
				Acquired:     p.Acquired.AddDate(0, 0, -line.HoldingDays),
				Quantity:     m,
				CostPerShare: p.CostPerShare.Add(disallowed.Div(m)),
			}
			parts[pi] = append(parts[pi], adjusted)
			res.Matches = append(res.Matches, WashSaleMatch{
				SoldLotID: line.LotID, ReplacementLotID: p.ID, Quantity: m,
				DisallowedLoss: disallowed, TackedDays: line.HoldingDays,
			})
			res.Disallowed = res.Disallowed.Add(disallowed)
			used[pi] = used[pi].Add(m)
			left = left.Sub(m)
			if used[pi].Equal(p.Quantity) {
				ci++
			}
		}
	}
	res.Allowed = res.Loss.Sub(res.Disallowed)

	// Name the parts and assemble the replacement lots in input order.
	adjustedID := make(map[string][]string, len(purchases))
	for i, p := range purchases {
		ps := parts[i]
		if len(ps) == 0 {
			res.Replacements = append(res.Replacements, p)
			continue
		}
		whole := len(ps) == 1 && used[i].Equal(p.Quantity)
		for n := range ps {
			if !whole {
				ps[n].ID = fmt.Sprintf("%s/wash%d", p.ID, n+1)
			}
			adjustedID[p.ID] = append(adjustedID[p.ID], ps[n].ID)
			res.Replacements = append(res.Replacements, ps[n])
		}
		if rest := p.Quantity.Sub(used[i]); rest.IsPositive() {
			p.Quantity = rest
			res.Replacements = append(res.Replacements, p)
		}
	}
	// Matches were appended per purchase in the same order as the parts.
	next := make(map[string]int, len(adjustedID))
	for k := range res.Matches {
		id := res.Matches[k].ReplacementLotID
		res.Matches[k].AdjustedLotID = adjustedID[id][next[id]]
		next[id]++
	}
	return res, nil
}
