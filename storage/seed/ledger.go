package seed

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/storage"
)

// holdSpec is one target holding: its share of the starting capital.
type holdSpec struct {
	Symbol string
	Weight float64
}

// portSpec is one demo portfolio.
type portSpec struct {
	Key, Name, OwnerRole, Base, Benchmark, Method string
	Capital                                       float64
	Holdings                                      []holdSpec
	// SpanSells are sold across several lots; Trim loses 30 %; Exit is
	// sold out; WashSale looks for a loss sale bought back within 30 days.
	SpanSells []string
	Trim      string
	Exit      string
	WashSale  bool
}

var portfolios = []portSpec{
	{
		Key: "cad-demo", Name: "CAD Demo Portfolio", OwnerRole: RoleManager, Base: "CAD", Benchmark: "XIU",
		Method: storage.CostBasisFIFO, Capital: 500000,
		Holdings: []holdSpec{{"CNR", 0.14}, {"BAM", 0.10}, {"BBUC", 0.06}, {"BRK.B", 0.14}, {"BTI", 0.08},
			{"EVO", 0.08}, {"NKE", 0.10}, {"PYPL", 0.08}, {"HHC", 0.07}, {"PSA", 0.05}},
		SpanSells: []string{"CNR", "NKE"}, Trim: "BRK.B",
	},
	{
		Key: "usd-growth", Name: "USD Growth", OwnerRole: RoleManager, Base: "USD", Benchmark: "SPY",
		Method: storage.CostBasisHIFO, Capital: 400000,
		Holdings: []holdSpec{{"AAPL", 0.14}, {"MSFT", 0.14}, {"NVDA", 0.12}, {"JPM", 0.10}, {"XOM", 0.08},
			{"7203.T", 0.08}, {"SHOP", 0.06}, {"IEF", 0.10}, {"GLD", 0.08}},
		SpanSells: []string{"AAPL", "MSFT"}, Trim: "JPM", Exit: "XOM", WashSale: true,
	},
	{
		Key: "eur-income", Name: "EUR Income", OwnerRole: RoleAdmin, Base: "EUR", Benchmark: "EXW1",
		Method: storage.CostBasisAverageCost, Capital: 300000,
		Holdings: []holdSpec{{"SAP", 0.12}, {"ASML", 0.10}, {"SHEL", 0.12}, {"AZN", 0.10}, {"ULVR", 0.10},
			{"ENB", 0.10}, {"JNJ", 0.10}, {"6758.T", 0.06}, {"IEF", 0.10}},
		SpanSells: []string{"SHEL", "ULVR"}, Trim: "SAP", Exit: "6758.T",
	},
}

// divEvent is one dividend of a security: ex, record and pay dates and the
// amount per share in its currency.
type divEvent struct {
	ex, record, pay time.Time
	dps             decimal.Decimal
}

// nextBusinessDay returns d or the first business day after it.
func nextBusinessDay(d time.Time) time.Time {
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// moneyPlaces is the number of decimals of cash amounts in a currency.
func moneyPlaces(ccy string) int32 {
	if ccy == "JPY" {
		return 0
	}
	return 2
}

// splitsOf lists the splits of security i (past and upcoming) as ex-date
// and ratio.
func (m *market) splitsOf(i int, upcoming []upcomingSplit) []struct {
	ex    time.Time
	ratio float64
} {
	var out []struct {
		ex    time.Time
		ratio float64
	}
	if i == m.split.sec {
		out = append(out, struct {
			ex    time.Time
			ratio float64
		}{m.days[m.split.day], m.split.ratio})
	}
	for _, u := range upcoming {
		if u.sec == i {
			out = append(out, struct {
				ex    time.Time
				ratio float64
			}{u.ex, u.ratio})
		}
	}
	return out
}

// dividends lists the dividends of security i with an ex-date from..to:
// DivFreq a year, ex on the first business day from the 10th of the
// paying months, record one business day later, paid two weeks after ex;
// the amount is DivYield x the starting price / DivFreq, divided by the
// ratio of any split before the ex-date.
func (m *market) dividends(i int, from, to time.Time, upcoming []upcomingSplit) []divEvent {
	s := universe[i]
	if s.DivFreq == 0 {
		return nil
	}
	interval := 12 / s.DivFreq
	phase := i % interval
	base := s.DivYield * s.Price / float64(s.DivFreq)
	splits := m.splitsOf(i, upcoming)
	var out []divEvent
	for mo := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); !mo.After(to); mo = mo.AddDate(0, 1, 0) {
		if (int(mo.Month())-1)%interval != phase {
			continue
		}
		ex := nextBusinessDay(mo.AddDate(0, 0, 9))
		if ex.Before(from) || ex.After(to) {
			continue
		}
		amt := base
		for _, sp := range splits {
			if !ex.Before(sp.ex) {
				amt /= sp.ratio
			}
		}
		out = append(out, divEvent{ex: ex, record: nextBusinessDay(ex.AddDate(0, 0, 1)),
			pay: nextBusinessDay(ex.AddDate(0, 0, 14)), dps: decimal.NewFromFloat(round(amt, 4))})
	}
	return out
}

// planner builds one portfolio's transactions day by day, keeping the
// holdings and cash it needs to make every sale covered and every buy
// funded.
type planner struct {
	m       *market
	spec    portSpec
	secIDs  []uuid.UUID
	ns      uuid.UUID
	txs     []storage.Transaction
	qty     map[int]int64   // shares held by universe index
	lots    map[int][]int64 // open quantity bought per buy, for span sells
	cost    map[int]float64 // total cost (local) of the open shares
	cash    map[string]decimal.Decimal
	history []map[int]int64 // holdings at the end of each pack day
}

func (p *planner) add(t storage.Transaction) {
	t.PortfolioID = uuid.Nil // set when applied
	t.Source = "seed"
	sym := ""
	if t.SecurityID != uuid.Nil {
		for i, id := range p.secIDs {
			if id == t.SecurityID {
				sym = universe[i].Symbol
			}
		}
	}
	t.SourceRef = fmt.Sprintf("%04d:%s:%s:%s", len(p.txs), t.TradeDate.Format(time.DateOnly), t.Type, sym)
	t.ID = uuid.NewSHA1(p.ns, []byte("tx:"+p.spec.Key+":"+t.SourceRef))
	p.txs = append(p.txs, t)
}

func (p *planner) fee(ccy string) decimal.Decimal {
	if ccy == "JPY" {
		return decimal.NewFromInt(500)
	}
	return decimal.RequireFromString("4.95")
}

func (p *planner) price(i, k int) decimal.Decimal {
	return decimal.NewFromFloat(p.m.bars[i][k].close)
}

// fund deposits into ccy what a payment of need lacks, in thousands, with
// a buffer of about 1000 base units.
func (p *planner) fund(k int, ccy string, need decimal.Decimal) {
	have := p.cash[ccy]
	if have.GreaterThanOrEqual(need) {
		return
	}
	buffer := 1000 * p.m.fxRate(p.spec.Base, ccy, k)
	short := need.Sub(have).InexactFloat64() + buffer
	amt := decimal.NewFromFloat(math.Ceil(short/1000) * 1000)
	p.add(storage.Transaction{Type: storage.TxDeposit, TradeDate: p.m.days[p.m.first+k], Amount: amt, Currency: ccy})
	p.cash[ccy] = have.Add(amt)
}

func (p *planner) buy(i, k int, qty int64) {
	if qty <= 0 {
		return
	}
	s := universe[i]
	px := p.price(i, k)
	amt := px.Mul(decimal.NewFromInt(qty))
	fee := p.fee(s.Currency)
	p.fund(k, s.Currency, amt.Add(fee))
	p.add(storage.Transaction{Type: storage.TxBuy, SecurityID: p.secIDs[i], TradeDate: p.m.days[p.m.first+k],
		Quantity: decimal.NewFromInt(qty), Price: px, Amount: amt, Currency: s.Currency, Fees: fee})
	p.cash[s.Currency] = p.cash[s.Currency].Sub(amt.Add(fee))
	p.qty[i] += qty
	p.lots[i] = append(p.lots[i], qty)
	p.cost[i] += amt.Add(fee).InexactFloat64()
}

func (p *planner) sell(i, k int, qty int64) {
	qty = min(qty, p.qty[i])
	if qty <= 0 {
		return
	}
	s := universe[i]
	px := p.price(i, k)
	amt := px.Mul(decimal.NewFromInt(qty))
	fee := p.fee(s.Currency)
	p.add(storage.Transaction{Type: storage.TxSell, SecurityID: p.secIDs[i], TradeDate: p.m.days[p.m.first+k],
		Quantity: decimal.NewFromInt(qty), Price: px, Amount: amt, Currency: s.Currency, Fees: fee})
	p.cash[s.Currency] = p.cash[s.Currency].Add(amt.Sub(fee))
	p.cost[i] *= float64(p.qty[i]-qty) / float64(p.qty[i])
	p.qty[i] -= qty
	// The plan's lot list only sizes later span sells; relieve oldest
	// first whatever the portfolio's method.
	left := qty
	for j := range p.lots[i] {
		take := min(left, p.lots[i][j])
		p.lots[i][j] -= take
		left -= take
	}
}

// buyQty is how many shares amountBase buys on day k (whole shares;
// round lots of 100 in Tokyo).
func (p *planner) buyQty(i, k int, amountBase float64) int64 {
	s := universe[i]
	local := amountBase * p.m.fxRate(p.spec.Base, s.Currency, k)
	q := int64(math.Floor(local / p.m.bars[i][k].close))
	if s.Exchange == "TSE" {
		q = max(100, q/100*100)
	}
	return max(q, 1)
}

// plan builds the portfolio's transactions over the pack days.
func (m *market) plan(spec portSpec, secIDs []uuid.UUID, ns uuid.UUID, upcoming []upcomingSplit) ([]storage.Transaction, error) {
	n := len(m.days) - m.first
	p := &planner{m: m, spec: spec, secIDs: secIDs, ns: ns, qty: map[int]int64{}, lots: map[int][]int64{},
		cost: map[int]float64{}, cash: map[string]decimal.Decimal{}}
	type buyAt struct {
		sec    int
		weight float64
	}
	buys := map[int][]buyAt{}
	jit := max(1, n/20)
	for h, hs := range spec.Holdings {
		i := secIndex(hs.Symbol)
		buys[h%5] = append(buys[h%5], buyAt{i, 0.5 * hs.Weight})
		buys[n/4+(h*3)%jit] = append(buys[n/4+(h*3)%jit], buyAt{i, 0.25 * hs.Weight})
		buys[(n*11)/20+(h*2)%jit] = append(buys[(n*11)/20+(h*2)%jit], buyAt{i, 0.25 * hs.Weight})
	}
	// Dividends of the held payers, paid on pack days.
	pays := map[time.Time][]struct {
		sec int
		ev  divEvent
	}{}
	first, last := m.days[m.first], m.days[len(m.days)-1]
	for _, hs := range spec.Holdings {
		i := secIndex(hs.Symbol)
		for _, ev := range m.dividends(i, first.AddDate(0, 0, 1), last, upcoming) {
			if !ev.pay.After(last) {
				pays[ev.pay] = append(pays[ev.pay], struct {
					sec int
					ev  divEvent
				}{i, ev})
			}
		}
	}
	dayIndex := map[time.Time]int{}
	for k := range n {
		dayIndex[m.days[m.first+k]] = k
	}
	washBack := map[int][]struct {
		sec int
		qty int64
	}{}
	washDone := !spec.WashSale
	for k := range n {
		d := m.days[m.first+k]
		// A split applies before the day's trades.
		if m.first+k == m.split.day && p.qty[m.split.sec] > 0 {
			i := m.split.sec
			p.add(storage.Transaction{Type: storage.TxSplit, SecurityID: secIDs[i], TradeDate: d,
				SplitRatio: decimal.NewFromFloat(m.split.ratio)})
			r := int64(m.split.ratio)
			p.qty[i] *= r
			for j := range p.lots[i] {
				p.lots[i][j] *= r
			}
		}
		for _, pe := range pays[d] {
			exK, ok := dayIndex[pe.ev.ex]
			if !ok || exK == 0 {
				continue
			}
			held := p.history[exK-1][pe.sec]
			if held <= 0 {
				continue
			}
			ccy := universe[pe.sec].Currency
			amt := pe.ev.dps.Mul(decimal.NewFromInt(held)).Round(moneyPlaces(ccy))
			if !amt.IsPositive() {
				continue
			}
			var wht decimal.Decimal
			if ccy != spec.Base {
				wht = amt.Mul(decimal.RequireFromString("0.15")).Round(moneyPlaces(ccy))
			}
			p.add(storage.Transaction{Type: storage.TxDividend, SecurityID: secIDs[pe.sec], TradeDate: d, SettleDate: d,
				Quantity: decimal.NewFromInt(held), Amount: amt, Currency: ccy, Fees: wht,
				Notes: "ex-date " + pe.ev.ex.Format(time.DateOnly) + ", withholding in fees"})
			rate := decimal.NewFromFloat(m.fxRate(ccy, spec.Base, k))
			p.cash[spec.Base] = p.cash[spec.Base].Add(amt.Sub(wht).Mul(rate))
		}
		// Sales.
		if k == (n*3)/5 {
			for _, sym := range spec.SpanSells {
				i := secIndex(sym)
				ls := append([]int64(nil), p.lots[i]...)
				sort.Slice(ls, func(a, b int) bool { return ls[a] > ls[b] })
				if len(ls) >= 2 {
					// More than the largest lot: every method relieves two lots or more.
					p.sell(i, k, ls[0]+max(1, ls[1]/2))
				}
			}
		}
		if k == (n*4)/5 && spec.Trim != "" {
			i := secIndex(spec.Trim)
			p.sell(i, k, p.qty[i]*3/10)
		}
		if k == (n*17)/20 && spec.Exit != "" {
			i := secIndex(spec.Exit)
			p.sell(i, k, p.qty[i])
		}
		if !washDone && k >= (n*3)/10 && k < (n*3)/4 && k+10 < n {
			for _, hs := range spec.Holdings {
				i := secIndex(hs.Symbol)
				if universe[i].Type != "EQUITY" || p.qty[i] < 3 {
					continue
				}
				avg := p.cost[i] / float64(p.qty[i])
				if m.bars[i][k].close < 0.95*avg {
					q := p.qty[i] / 3
					p.sell(i, k, q)
					washBack[k+10] = append(washBack[k+10], struct {
						sec int
						qty int64
					}{i, q})
					washDone = true
					break
				}
			}
		}
		for _, wb := range washBack[k] {
			p.buy(wb.sec, k, wb.qty)
		}
		for _, ba := range buys[k] {
			p.buy(ba.sec, k, p.buyQty(ba.sec, k, ba.weight*spec.Capital))
		}
		// Quarterly account fee on the last business day of a quarter.
		if k+1 < n && (int(m.days[m.first+k+1].Month())-1)/3 != (int(d.Month())-1)/3 {
			fee := decimal.NewFromInt(25)
			p.fund(k, spec.Base, fee)
			p.add(storage.Transaction{Type: storage.TxFee, TradeDate: d, Amount: fee, Currency: spec.Base, Notes: "quarterly account fee"})
			p.cash[spec.Base] = p.cash[spec.Base].Sub(fee)
		}
		if k == (n*7)/10 || k == (n*19)/20 {
			w := decimal.NewFromFloat(0.02 * spec.Capital)
			if p.cash[spec.Base].GreaterThan(w.Add(decimal.NewFromInt(1000))) {
				p.add(storage.Transaction{Type: storage.TxWithdrawal, TradeDate: d, Amount: w, Currency: spec.Base})
				p.cash[spec.Base] = p.cash[spec.Base].Sub(w)
			}
		}
		snap := make(map[int]int64, len(p.qty))
		for i, q := range p.qty {
			snap[i] = q
		}
		p.history = append(p.history, snap)
	}
	for i, q := range p.qty {
		if q < 0 {
			return nil, fmt.Errorf("plan of %s sells more %s than it holds", spec.Name, universe[i].Symbol)
		}
	}
	return p.txs, nil
}

// applyPlan applies one portfolio's transactions in one database
// transaction, in plan order (which is date order, so nothing is
// back-dated). It returns how many were new.
func applyPlan(ctx context.Context, db *storage.DB, portfolioID uuid.UUID, txs []storage.Transaction, progress func()) (int, error) {
	applied := 0
	err := db.Tx(ctx, func(tx pgx.Tx) error {
		applied = 0
		for _, t := range txs {
			t.PortfolioID = portfolioID
			a, err := storage.ApplyTransaction(ctx, tx, t)
			if err != nil {
				return fmt.Errorf("apply %s %s: %w", t.Source, t.SourceRef, err)
			}
			if !a.Duplicate {
				applied++
			}
			progress()
		}
		return nil
	})
	return applied, err
}
