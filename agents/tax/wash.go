package tax

import (
	"math"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/lots"
)

// The wash-sale rule of IRS Publication 550 (chapter 4, "Wash Sales")
// applied to a sequence of sales: storage/lots.WashSales treats one sale,
// and this engine feeds it the purchases of the same security still
// available as replacements. A purchase (a BUY; a transfer in is not a
// purchase) whose shares replaced an earlier loss sale is not used again,
// so sales are applied in ledger order, and the matched part of each
// purchase is consumed.

// laterSeq orders planned and proposed events after every recorded one of
// their day.
const laterSeq = math.MaxInt64

// purchase is one purchase with what is left of it as a replacement, in
// its own shares (before any later split).
type purchase struct {
	ID         uuid.UUID
	SecurityID uuid.UUID
	Date       time.Time
	Seq        int64
	Quantity   decimal.Decimal
	Cost       decimal.Decimal
	Planned    bool
	left       decimal.Decimal
	leftCost   decimal.Decimal
}

type split struct {
	at    saleKey
	ratio decimal.Decimal
}

// washEngine holds the purchases and splits of a portfolio.
type washEngine struct {
	buys   map[uuid.UUID][]*purchase
	splits map[uuid.UUID][]split
}

// newWashEngine takes the BUY and SPLIT transactions of txs (ledger order).
func newWashEngine(txs []storage.Transaction) *washEngine {
	w := &washEngine{buys: map[uuid.UUID][]*purchase{}, splits: map[uuid.UUID][]split{}}
	for _, t := range txs {
		switch t.Type {
		case storage.TxBuy:
			w.add(&purchase{ID: t.ID, SecurityID: t.SecurityID, Date: t.TradeDate, Seq: t.Seq, Quantity: t.Quantity, Cost: t.Amount.Add(t.Fees)})
		case storage.TxSplit:
			w.splits[t.SecurityID] = append(w.splits[t.SecurityID], split{saleKey{t.TradeDate, t.Seq}, t.SplitRatio})
		}
	}
	return w
}

func (w *washEngine) add(p *purchase) {
	p.left, p.leftCost = p.Quantity, p.Cost
	w.buys[p.SecurityID] = append(w.buys[p.SecurityID], p)
}

// factor converts shares of a purchase at b into shares at s: the splits
// between them multiply (or, for a purchase after the sale, divide).
func (w *washEngine) factor(sec uuid.UUID, b, s saleKey) decimal.Decimal {
	f := decimal.NewFromInt(1)
	for _, sp := range w.splits[sec] {
		switch {
		case sp.at.compare(b) > 0 && sp.at.compare(s) <= 0:
			f = f.Mul(sp.ratio)
		case sp.at.compare(s) > 0 && sp.at.compare(b) <= 0:
			f = f.Div(sp.ratio)
		}
	}
	return f
}

// washOutcome is the wash-sale treatment of one sale.
type washOutcome struct {
	Sale   saleRec
	Result lots.WashSaleResult
	// Considered are the purchases within the window that could replace
	// the sold shares, with the shares still available (at sale-date
	// shares).
	Considered []considered
}

type considered struct {
	Purchase  *purchase
	Available decimal.Decimal
	Days      int
}

// apply treats one sale (after every earlier one) and consumes the
// replacement shares it matched.
func (w *washEngine) apply(s saleRec) (washOutcome, error) {
	out := washOutcome{Sale: s}
	hasLoss := slices.ContainsFunc(s.Gains.Lines, func(l lots.SaleLine) bool { return l.Gain.IsNegative() })
	at := saleKey{s.Date, s.Seq}
	sold := map[uuid.UUID]bool{}
	for _, l := range s.Gains.Lines {
		sold[l.LotID] = true
	}
	var cands []lots.Lot
	var from []*purchase
	var factors []decimal.Decimal
	for _, p := range w.buys[s.SecurityID] {
		d := lots.CalendarDays(s.Date, p.Date)
		if d < -lots.WashSaleWindowDays || d > lots.WashSaleWindowDays || sold[p.ID] || !p.left.IsPositive() {
			continue
		}
		f := w.factor(s.SecurityID, saleKey{p.Date, p.Seq}, at)
		q := p.left.Mul(f)
		out.Considered = append(out.Considered, considered{Purchase: p, Available: q, Days: d})
		cands = append(cands, lots.Lot{ID: p.ID, Acquired: p.Date, Quantity: q, Cost: p.leftCost, CostPerShare: p.leftCost.DivRound(q, lots.Scale)})
		from = append(from, p)
		factors = append(factors, f)
	}
	if !hasLoss {
		return out, nil
	}
	res, err := lots.WashSales(s.Gains, cands)
	if err != nil {
		return out, err
	}
	out.Result = res
	for i, p := range from {
		rest := slices.IndexFunc(res.Replacements, func(r lots.Replacement) bool { return r.ID == p.ID && !r.Adjusted })
		if rest < 0 {
			p.left, p.leftCost = decimal.Zero, decimal.Zero
			continue
		}
		r := res.Replacements[rest]
		p.left, p.leftCost = r.Quantity, r.Cost
		if !factors[i].Equal(decimal.NewFromInt(1)) {
			p.left = r.Quantity.DivRound(factors[i], lots.Scale)
		}
	}
	return out, nil
}
