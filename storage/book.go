package storage

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/storage/lots"
)

// lotState is a lot in the in-memory book: the open part that package lots
// works on, and what the lots table keeps besides.
type lotState struct {
	lots.Lot
	securityID                uuid.UUID
	seq                       int64
	qtyOriginal, costOriginal decimal.Decimal
	currency                  string
	closed                    time.Time
	dirty                     bool
}

// book is the lot state of one portfolio, per security in opening order,
// changed by transactions through package lots (the one relief engine). It
// is pure: the same transactions give the same lots, which is what lets a
// replay, an as-of query and ApplyTransaction agree.
type book struct {
	method lots.Method
	bySec  map[uuid.UUID][]*lotState
	order  []*lotState
	// named overrides the lots a transaction relieves, by transaction id
	// (a replay's lot selection); the ledger's own book has none.
	named map[uuid.UUID][]uuid.UUID
}

func newBook(method string) *book {
	return &book{method: lots.Method(method), bySec: map[uuid.UUID][]*lotState{}}
}

func (b *book) add(l *lotState) {
	b.bySec[l.securityID] = append(b.bySec[l.securityID], l)
	b.order = append(b.order, l)
}

// takeDirty returns the lots changed since the last call.
func (b *book) takeDirty() []*lotState {
	var out []*lotState
	for _, l := range b.order {
		if l.dirty {
			out = append(out, l)
			l.dirty = false
		}
	}
	return out
}

func (b *book) all() []*lotState { return b.order }

// open returns the open lots of a security in opening order, which is
// acquisition order: lots open in (trade date, seq) order.
func (b *book) open(sec uuid.UUID) []*lotState {
	var out []*lotState
	for _, l := range b.bySec[sec] {
		if l.Quantity.IsPositive() {
			out = append(out, l)
		}
	}
	return out
}

// applied is what a transaction did to the book: the lot it opened, the
// lots it relieved, and for a sale what it realised.
type applied struct {
	opened   *lotState
	reliefs  []LotRelief
	realized decimal.NullDecimal
	// sale is the sale line by line (SELL only); named, the lots it was
	// told to take.
	sale  lots.Sale
	named []uuid.UUID
}

// apply changes the lots for t.
func (b *book) apply(t *Transaction, symbol string) (applied, error) {
	inKind := t.SecurityID != uuid.Nil
	switch {
	case t.Type == TxBuy || (t.Type == TxTransferIn && inKind):
		cost := t.Amount.Add(t.Fees)
		l := &lotState{Lot: lots.Open(t.ID, t.TradeDate, t.Quantity, cost), securityID: t.SecurityID, seq: t.Seq,
			qtyOriginal: t.Quantity, costOriginal: cost, currency: t.Currency, dirty: true}
		b.add(l)
		return applied{opened: l}, nil
	case t.Type == TxSell || (t.Type == TxTransferOut && inKind):
		named := b.lotsNamed(t)
		relieved, err := b.relieve(t, symbol, named)
		if err != nil {
			return applied{}, err
		}
		reliefs := make([]LotRelief, len(relieved))
		for i, r := range relieved {
			reliefs[i] = LotRelief{TransactionID: t.ID, LotID: r.LotID, SecurityID: t.SecurityID, Date: t.TradeDate,
				AcquiredDate: r.Acquired, Quantity: r.Quantity, CostRelieved: r.Cost}
		}
		if t.Type != TxSell {
			return applied{reliefs: reliefs, named: named}, nil
		}
		sale, err := lots.RealizedGains(relieved, t.TradeDate, t.Amount.Sub(t.Fees))
		if err != nil {
			return applied{}, fmt.Errorf("sale of %s %s: %w", t.Quantity, symbol, err)
		}
		for i, line := range sale.Lines {
			reliefs[i].Proceeds = decimal.NewNullDecimal(line.Proceeds)
			reliefs[i].RealizedPL = decimal.NewNullDecimal(line.Gain)
		}
		return applied{reliefs: reliefs, realized: decimal.NewNullDecimal(sale.Total), sale: sale, named: named}, nil
	case t.Type == TxSplit:
		for _, l := range b.open(t.SecurityID) {
			l.Lot = l.Split(t.SplitRatio)
			l.qtyOriginal = l.qtyOriginal.Mul(t.SplitRatio)
			l.dirty = true
		}
	}
	return applied{}, nil
}

// lotsNamed returns the lots t is told to relieve: the book's override
// for it, else the lot t names itself, else none (the method chooses).
func (b *book) lotsNamed(t *Transaction) []uuid.UUID {
	if n, ok := b.named[t.ID]; ok {
		return n
	}
	if t.LotID != uuid.Nil {
		return []uuid.UUID{t.LotID}
	}
	return nil
}

// relieve takes t.Quantity from the open lots of t's security by the
// book's method (or from the named lots) and updates the lots: a lot
// emptied is closed on the trade date.
func (b *book) relieve(t *Transaction, symbol string, named []uuid.UUID) ([]lots.Relief, error) {
	open := b.open(t.SecurityID)
	in := make([]lots.Lot, len(open))
	for i, l := range open {
		in[i] = l.Lot
	}
	reliefs, after, err := lots.Relieve(in, t.Quantity, b.method, named...)
	var short *lots.InsufficientError
	switch {
	case errors.As(err, &short):
		return nil, &InsufficientQuantityError{SecurityID: t.SecurityID, Symbol: symbol, LotID: t.LotID, Held: short.Held, Requested: short.Requested}
	case err != nil:
		return nil, invalid(t, "%v", err)
	}
	for i, l := range open {
		a := after[i]
		if a.Quantity.Equal(l.Quantity) && a.Cost.Equal(l.Cost) && a.CostPerShare.Equal(l.CostPerShare) {
			continue
		}
		if !a.Quantity.IsPositive() {
			l.closed = t.TradeDate
		}
		l.Lot, l.dirty = a, true
	}
	return reliefs, nil
}

// ReplayedSale is one sale of a replay and what it realised, line by line
// in the order the relief took the lots.
type ReplayedSale struct {
	Transaction Transaction
	// Named are the lots the relief was told to take; nil when the method
	// chose.
	Named []uuid.UUID
	Gains lots.Sale
}

// ReplaySales applies txs (one portfolio's, in ledger order) to lots kept
// in memory under method, by the very rules ApplyTransaction records, and
// returns every SELL with what it realised. named overrides, by
// transaction id, the lots a sale or in-kind transfer out takes (a
// broker's lot selection); others take the lot they name themselves, if
// any. Nothing is written: this is how a report asks "what if the
// portfolio had used another method". symbols name securities in errors.
func ReplaySales(txs []Transaction, symbols map[uuid.UUID]string, method lots.Method, named map[uuid.UUID][]uuid.UUID) ([]ReplayedSale, error) {
	b := newBook(string(method))
	b.named = named
	var out []ReplayedSale
	for i := range txs {
		t := &txs[i]
		a, err := b.apply(t, symbols[t.SecurityID])
		if err != nil {
			return nil, &ReplayError{Transaction: *t, Method: method, Err: err}
		}
		if t.Type == TxSell {
			out = append(out, ReplayedSale{Transaction: *t, Named: a.named, Gains: a.sale})
		}
	}
	return out, nil
}

// ReplayError is a transaction a replay could not apply.
type ReplayError struct {
	Transaction Transaction
	Method      lots.Method
	Err         error
}

func (e *ReplayError) Error() string {
	return fmt.Sprintf("replay by %s: transaction %s: %v", e.Method, e.Transaction.ID, e.Err)
}

func (e *ReplayError) Unwrap() error { return e.Err }
