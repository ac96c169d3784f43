package tax

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/lots"
)

// The sales of a portfolio, line by line, under a relief method: the
// ledger's recorded reliefs for the portfolio's own method, or a replay of
// its transactions through storage/lots in memory for another one. Both
// tax.realized_gains and tax.summary (and the wash-sale capabilities) read
// sales through here, so they cannot disagree.

// saleRec is one sale and what it realised, line by line.
type saleRec struct {
	TxID       uuid.UUID
	Seq        int64
	SecurityID uuid.UUID
	Symbol     string
	Currency   string
	Date       time.Time
	Quantity   decimal.Decimal
	Price      decimal.Decimal
	Amount     decimal.Decimal
	Fees       decimal.Decimal
	// Named are the lots the relief was told to take (the sale's own lot
	// instruction or a selection), in order; nil when the method chose.
	Named []uuid.UUID
	// Gains has the lines in the order the relief took them.
	Gains lots.Sale
}

// LotSelection names the lots one sale relieves, for a replay under
// SPECIFIC_LOT (or to override FIFO, LIFO or HIFO as a broker's lot
// instruction does).
type LotSelection struct {
	TransactionID uuid.UUID   `json:"transaction_id" doc:"The SELL (or in-kind TRANSFER_OUT) transaction."`
	LotIDs        []uuid.UUID `json:"lot_ids" jsonschema:"minItems=1" doc:"The lots to relieve, in order (a lot's id is the id of the BUY that opened it)."`
}

// salesQuery says which sales to read and how.
type salesQuery struct {
	Portfolio  storage.Portfolio
	Method     lots.Method
	Selections []LotSelection
	// From..To bound the sales returned; the ledger is read up to To.
	From, To time.Time
}

// salesResult is the sales of a period under a method.
type salesResult struct {
	Method lots.Method
	Source string
	Sales  []saleRec
	// Notes say what the replay did that a reader should know.
	Notes []string
}

// recorded says whether q reads the ledger's own reliefs.
func (q salesQuery) recorded() bool {
	return string(q.Method) == q.Portfolio.CostBasisMethod && len(q.Selections) == 0
}

// checkSelections applies the rules the schema cannot state.
func (q salesQuery) checkSelections() error {
	if !q.Method.Valid() {
		return agents.FieldError("method", "relief method %q is not one of FIFO, LIFO, HIFO, SPECIFIC_LOT, AVERAGE_COST", q.Method)
	}
	if len(q.Selections) > 0 && q.Method == lots.AverageCost {
		return agents.FieldError("lot_selections", "lots cannot be selected under AVERAGE_COST: every sale relieves at the pooled average cost")
	}
	seen := map[uuid.UUID]bool{}
	for i, s := range q.Selections {
		if seen[s.TransactionID] {
			return agents.FieldError(fmt.Sprintf("lot_selections[%d].transaction_id", i), "transaction %s is selected twice", s.TransactionID)
		}
		seen[s.TransactionID] = true
	}
	return nil
}

// loadSales returns the sales dated q.From..q.To.
func loadSales(ctx context.Context, db storage.Querier, q salesQuery) (salesResult, error) {
	if err := q.checkSelections(); err != nil {
		return salesResult{}, err
	}
	if q.recorded() {
		ss, err := recordedSales(ctx, db, q.Portfolio, q.From, q.To)
		if err != nil {
			return salesResult{}, err
		}
		return salesResult{Method: q.Method, Source: SourceRecorded, Sales: ss}, nil
	}
	txs, err := storage.ListTransactions(ctx, db, q.Portfolio.ID, storage.TransactionFilter{To: q.To})
	if err != nil {
		return salesResult{}, err
	}
	syms, err := symbols(ctx, db, txs)
	if err != nil {
		return salesResult{}, err
	}
	all, notes, err := replaySales(txs, syms, q.Method, q.Selections)
	if err != nil {
		return salesResult{}, err
	}
	out := salesResult{Method: q.Method, Source: SourceReplayed, Sales: []saleRec{}, Notes: notes}
	for _, s := range all {
		if !s.Date.Before(q.From) && !s.Date.After(q.To) {
			out.Sales = append(out.Sales, s)
		}
	}
	return out, nil
}

// recordedSales reads the ledger's reliefs of the sales dated from..to.
// Lines are put in the order the portfolio's method took them, which the
// wash-sale matching follows.
func recordedSales(ctx context.Context, db storage.Querier, p storage.Portfolio, from, to time.Time) ([]saleRec, error) {
	rows, err := storage.ListSales(ctx, db, p.ID, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]saleRec, 0, len(rows))
	for _, r := range rows {
		s := saleRec{TxID: r.TransactionID, Seq: r.Seq, SecurityID: r.SecurityID, Symbol: r.Symbol, Currency: r.Currency,
			Date: r.Date, Quantity: r.Quantity, Price: r.Price, Amount: r.Amount, Fees: r.Fees}
		if r.LotID != uuid.Nil {
			s.Named = []uuid.UUID{r.LotID}
		}
		reliefs := slices.Clone(r.Reliefs)
		switch lots.Method(p.CostBasisMethod) {
		case lots.LIFO:
			slices.Reverse(reliefs)
		case lots.HIFO:
			slices.SortStableFunc(reliefs, func(a, b storage.TaxRelief) int {
				return b.Cost.DivRound(b.Quantity, lots.Scale).Cmp(a.Cost.DivRound(a.Quantity, lots.Scale))
			})
		}
		s.Gains = lots.Sale{Date: r.Date}
		for _, rl := range reliefs {
			days := lots.CalendarDays(rl.Acquired, r.Date)
			line := lots.SaleLine{LotID: rl.LotID, Acquired: rl.Acquired, Quantity: rl.Quantity, Proceeds: rl.Proceeds, Cost: rl.Cost,
				Gain: rl.RealizedPL, HoldingDays: days, LongTerm: days > lots.LongTermHoldingDays}
			addLine(&s.Gains, line)
		}
		out = append(out, s)
	}
	return out, nil
}

func addLine(s *lots.Sale, line lots.SaleLine) {
	s.Lines = append(s.Lines, line)
	s.Proceeds = s.Proceeds.Add(line.Proceeds)
	s.Cost = s.Cost.Add(line.Cost)
	s.Total = s.Total.Add(line.Gain)
	if line.LongTerm {
		s.LongTerm = s.LongTerm.Add(line.Gain)
	} else {
		s.ShortTerm = s.ShortTerm.Add(line.Gain)
	}
}

// symbols maps the securities of txs to their symbols.
func symbols(ctx context.Context, db storage.Querier, txs []storage.Transaction) (map[uuid.UUID]string, error) {
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, t := range txs {
		if t.SecurityID != uuid.Nil && !seen[t.SecurityID] {
			seen[t.SecurityID] = true
			ids = append(ids, t.SecurityID)
		}
	}
	out := map[uuid.UUID]string{}
	if len(ids) == 0 {
		return out, nil
	}
	secs, err := storage.ListSecurities(ctx, db, storage.SecurityFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	for _, s := range secs {
		out[s.ID] = s.Symbol
	}
	return out, nil
}

// replaySales relieves every sale and in-kind transfer out of txs (ledger
// order) by method through storage.ReplaySales, the ledger's own rules
// kept in memory, and returns every sale with its gains. A selection names
// the lots a sale takes under FIFO, LIFO, HIFO and SPECIFIC_LOT, as a
// sale's own lot instruction does; under AVERAGE_COST a named lot is
// ignored (and a note says so), since the pooled average makes the lot
// immaterial to the cost.
func replaySales(txs []storage.Transaction, syms map[uuid.UUID]string, method lots.Method, selections []LotSelection) ([]saleRec, []string, error) {
	sel := map[uuid.UUID]int{}
	for i, s := range selections {
		sel[s.TransactionID] = i
	}
	named := map[uuid.UUID][]uuid.UUID{}
	ignored := 0
	for _, t := range txs {
		if !(t.Type == storage.TxSell || (t.Type == storage.TxTransferOut && t.SecurityID != uuid.Nil)) {
			continue
		}
		i, selected := sel[t.ID]
		names := t.LotID != uuid.Nil
		switch {
		case method == lots.AverageCost && (selected || names):
			named[t.ID] = []uuid.UUID{} // the method chooses
			ignored++
		case selected:
			named[t.ID] = selections[i].LotIDs
		}
		delete(sel, t.ID)
	}
	replayed, err := storage.ReplaySales(txs, syms, method, named)
	var re *storage.ReplayError
	if errors.As(err, &re) {
		field := "method"
		for i, s := range selections {
			if s.TransactionID == re.Transaction.ID && method != lots.AverageCost {
				field = fmt.Sprintf("lot_selections[%d].lot_ids", i)
			}
		}
		what := describe(re.Transaction, syms)
		if _, selected := named[re.Transaction.ID]; method == lots.SpecificLot && !selected && re.Transaction.LotID == uuid.Nil {
			return nil, nil, agents.FieldError("lot_selections", "%s names no lot, and SPECIFIC_LOT needs one: select its lots in lot_selections", what)
		}
		var short *storage.InsufficientQuantityError
		if errors.As(err, &short) {
			return nil, nil, agents.FieldError(field, "replay by %s: %s: the lots it may take hold %s, it sells %s", method, what, short.Held, short.Requested)
		}
		return nil, nil, agents.FieldError(field, "replay by %s: %s: %v", method, what, re.Err)
	}
	if err != nil {
		return nil, nil, err
	}
	if len(sel) > 0 {
		i := slices.Min(slices.Collect(maps.Values(sel)))
		return nil, nil, agents.FieldError(fmt.Sprintf("lot_selections[%d].transaction_id", i),
			"transaction %s is not a sale or transfer out of the portfolio up to the end of the period", selections[i].TransactionID)
	}
	out := make([]saleRec, 0, len(replayed))
	for _, r := range replayed {
		t := r.Transaction
		out = append(out, saleRec{TxID: t.ID, Seq: t.Seq, SecurityID: t.SecurityID, Symbol: syms[t.SecurityID], Currency: t.Currency,
			Date: t.TradeDate, Quantity: t.Quantity, Price: t.Price, Amount: t.Amount, Fees: t.Fees, Named: nonEmpty(r.Named), Gains: r.Gains})
	}
	var notes []string
	if ignored > 0 {
		notes = append(notes, fmt.Sprintf("%d sale(s) named a lot; under AVERAGE_COST the replay ignores the lot and relieves at the pooled average", ignored))
	}
	return out, notes, nil
}

func describe(t storage.Transaction, syms map[uuid.UUID]string) string {
	return fmt.Sprintf("%s of %s %s on %s (transaction %s)", t.Type, t.Quantity, syms[t.SecurityID], day(t.TradeDate), t.ID)
}

func nonEmpty(ids []uuid.UUID) []uuid.UUID {
	if len(ids) == 0 {
		return nil
	}
	return ids
}

// saleKey orders events of one day: (date, seq).
type saleKey struct {
	Date time.Time
	Seq  int64
}

func (k saleKey) compare(o saleKey) int {
	if c := k.Date.Compare(o.Date); c != 0 {
		return c
	}
	return cmp.Compare(k.Seq, o.Seq)
}
