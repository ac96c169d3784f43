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

// apply changes the lots for t and returns the lot it opened, the reliefs and
// the realised P&L of a sale.
func (b *book) apply(t *Transaction, symbol string) (*lotState, []LotRelief, decimal.NullDecimal, error) {
	inKind := t.SecurityID != uuid.Nil
	switch {
	case t.Type == TxBuy || (t.Type == TxTransferIn && inKind):
		cost := t.Amount.Add(t.Fees)
		l := &lotState{Lot: lots.Open(t.ID, t.TradeDate, t.Quantity, cost), securityID: t.SecurityID, seq: t.Seq,
			qtyOriginal: t.Quantity, costOriginal: cost, currency: t.Currency, dirty: true}
		b.add(l)
		return l, nil, decimal.NullDecimal{}, nil
	case t.Type == TxSell || (t.Type == TxTransferOut && inKind):
		relieved, err := b.relieve(t, symbol)
		if err != nil {
			return nil, nil, decimal.NullDecimal{}, err
		}
		reliefs := make([]LotRelief, len(relieved))
		for i, r := range relieved {
			reliefs[i] = LotRelief{TransactionID: t.ID, LotID: r.LotID, SecurityID: t.SecurityID, Date: t.TradeDate,
				AcquiredDate: r.Acquired, Quantity: r.Quantity, CostRelieved: r.Cost}
		}
		if t.Type != TxSell {
			return nil, reliefs, decimal.NullDecimal{}, nil
		}
		sale, err := lots.RealizedGains(relieved, t.TradeDate, t.Amount.Sub(t.Fees))
		if err != nil {
			return nil, nil, decimal.NullDecimal{}, fmt.Errorf("sale of %s %s: %w", t.Quantity, symbol, err)
		}
		for i, line := range sale.Lines {
			reliefs[i].Proceeds = decimal.NewNullDecimal(line.Proceeds)
			reliefs[i].RealizedPL = decimal.NewNullDecimal(line.Gain)
		}
		return nil, reliefs, decimal.NewNullDecimal(sale.Total), nil
	case t.Type == TxSplit:
		for _, l := range b.open(t.SecurityID) {
			l.Lot = l.Split(t.SplitRatio)
			l.qtyOriginal = l.qtyOriginal.Mul(t.SplitRatio)
			l.dirty = true
		}
	}
	return nil, nil, decimal.NullDecimal{}, nil
}

// relieve takes t.Quantity from the open lots of t's security by the
// book's method (or from the lot t names) and updates the lots: a lot
// emptied is closed on the trade date.
func (b *book) relieve(t *Transaction, symbol string) ([]lots.Relief, error) {
	open := b.open(t.SecurityID)
	in := make([]lots.Lot, len(open))
	for i, l := range open {
		in[i] = l.Lot
	}
	var named []uuid.UUID
	if t.LotID != uuid.Nil {
		named = []uuid.UUID{t.LotID}
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
