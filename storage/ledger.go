package storage

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/storage/lots"
)

// The ledger keeps transactions and derives everything else from them.
//
// Lots: a BUY or an in-kind TRANSFER_IN (one with a security) opens one lot
// whose id is the transaction's id. A SELL or in-kind TRANSFER_OUT relieves
// open lots by the portfolio's cost-basis method (FIFO: oldest first; LIFO:
// newest first; HIFO: highest cost per share first; SPECIFIC_LOT: the lot
// named by the transaction; AVERAGE_COST: quantity from the oldest lots,
// cost at the pooled average, after which the remaining lots share the
// average cost per share). Each relieved lot is a lot_reliefs row. A SPLIT
// multiplies the open and original quantities of the open lots by its ratio
// and divides their cost per share; total cost is unchanged. The relief,
// split and realised-gain arithmetic is package storage/lots, which the tax
// capabilities call too; book.go keeps the ledger's lots in memory for it.
//
// Cash: each transaction stores its signed effect on cash (cash_amount in
// cash_currency). The cash of a portfolio in a currency is the sum of those
// effects, so cash is per currency and derived, never stored as a balance
// that could drift; a negative balance is borrowed cash. BUY: -(amount +
// fees); SELL: +(amount - fees); DIVIDEND: +(amount - fees) converted into
// the base currency at the pay-date rate; DEPOSIT, INTEREST and cash
// TRANSFER_IN: +(amount - fees); WITHDRAWAL, FEE and cash TRANSFER_OUT:
// -(amount + fees); an in-kind transfer: -fees; SPLIT: 0.
//
// External flows: DEPOSIT, WITHDRAWAL, TRANSFER_IN and TRANSFER_OUT (cash, or
// in kind at quantity x price) are also portfolio_cash_flows rows, signed,
// positive into the portfolio; they split TWR periods. Buys, sells,
// dividends, fees and interest are not external flows.
//
// Order: transactions apply in (trade_date, seq) order, seq being the order
// of insertion. A transaction dated before the newest one of its portfolio
// triggers a replay of the whole ledger, so the lots are always those of
// that order.

// Transaction types.
const (
	TxBuy         = "BUY"
	TxSell        = "SELL"
	TxDividend    = "DIVIDEND"
	TxSplit       = "SPLIT"
	TxDeposit     = "DEPOSIT"
	TxWithdrawal  = "WITHDRAWAL"
	TxTransferIn  = "TRANSFER_IN"
	TxTransferOut = "TRANSFER_OUT"
	TxFee         = "FEE"
	TxInterest    = "INTEREST"
)

// ledgerScale is the number of decimal places kept when a division is
// unavoidable (a share of a lot's cost, an average); sums are kept exact by
// giving the last part the remainder. It is the lot engine's, so that
// averages and weights here round like the lots do.
const ledgerScale = lots.Scale

// ErrInsufficientQuantity means a sale or transfer out asked for more than
// the open lots hold; an *InsufficientQuantityError carries the figures.
var ErrInsufficientQuantity = errors.New("insufficient quantity")

// ErrInvalidTransaction means a transaction is malformed for its type (a
// BUY without quantity, a SPLIT without ratio, ...); the wrapping error says
// what. The HTTP layer maps it to 400 invalid_input.
var ErrInvalidTransaction = errors.New("invalid transaction")

// InsufficientQuantityError reports a relief of more than is held; it
// matches ErrInsufficientQuantity with errors.Is.
type InsufficientQuantityError struct {
	SecurityID uuid.UUID
	Symbol     string
	// LotID is set when a specific lot was named.
	LotID     uuid.UUID
	Held      decimal.Decimal
	Requested decimal.Decimal
}

func (e *InsufficientQuantityError) Error() string {
	where := ""
	if e.LotID != uuid.Nil {
		where = " in lot " + e.LotID.String()
	}
	return fmt.Sprintf("%s: %s holds %s%s, requested %s", ErrInsufficientQuantity, e.Symbol, e.Held, where, e.Requested)
}

// Unwrap makes errors.Is(err, ErrInsufficientQuantity) true.
func (e *InsufficientQuantityError) Unwrap() error { return ErrInsufficientQuantity }

// Transaction is one ledger entry. Zero values mean "not given": uuid.Nil,
// the zero time, a zero decimal, "".
type Transaction struct {
	// ID is chosen by ApplyTransaction when nil.
	ID          uuid.UUID
	PortfolioID uuid.UUID
	// SecurityID is required for BUY, SELL, DIVIDEND, SPLIT and in-kind
	// transfers, optional for FEE, absent otherwise.
	SecurityID uuid.UUID
	// Type is one of the Tx* constants.
	Type      string
	TradeDate time.Time
	// SettleDate is the pay date of a dividend (the FX date); TradeDate
	// when zero.
	SettleDate time.Time
	// Quantity (> 0) of BUY, SELL and in-kind transfers; informative on a
	// DIVIDEND.
	Quantity decimal.Decimal
	// Price per share in Currency (BUY, SELL, in-kind transfer value).
	Price decimal.Decimal
	// Amount is the gross cash amount: the trade value of a BUY or SELL
	// (Quantity x Price when zero; a broker's rounded figure when given),
	// the payment of any other type. Always positive; the type says the
	// direction.
	Amount decimal.Decimal
	// Currency of Price, Amount and Fees: the security's trading currency
	// for trades and dividends (the default), the portfolio's base currency
	// by default for cash types.
	Currency string
	// Fees (>= 0): commission on trades (added to cost, deducted from
	// proceeds), withholding tax on dividends.
	Fees decimal.Decimal
	// SplitRatio is new shares per old share (2 for 2-for-1, 0.1 for a
	// 1-for-10 reverse split); SPLIT only.
	SplitRatio decimal.Decimal
	// LotID names the lot a SELL or in-kind TRANSFER_OUT relieves; required
	// under SPECIFIC_LOT, allowed under FIFO, LIFO and HIFO (a broker's lot
	// instruction overrides the method), invalid under AVERAGE_COST.
	LotID uuid.UUID
	// Source and SourceRef identify where an imported transaction came from
	// (say the file's sha256 and its line); a second transaction with the
	// same pair in the same portfolio is a duplicate and changes nothing.
	Source    string
	SourceRef string
	Notes     string

	// Derived by the ledger.

	// Seq is the insertion order, the tie-break within a trade date.
	Seq int64
	// RealizedPL of a SELL, in Currency: net proceeds minus cost relieved.
	RealizedPL decimal.NullDecimal
	// CashAmount is the signed effect on cash in CashCurrency.
	CashAmount   decimal.Decimal
	CashCurrency string
	// FXRate and FXPackID record the rate (Currency -> base) a dividend was
	// converted at and the pack it came from.
	FXRate    decimal.NullDecimal
	FXPackID  string
	CreatedAt time.Time
}

// LotRelief is the part of one lot that a SELL or in-kind TRANSFER_OUT took.
type LotRelief struct {
	TransactionID uuid.UUID
	LotID         uuid.UUID
	SecurityID    uuid.UUID
	Date          time.Time
	AcquiredDate  time.Time
	Quantity      decimal.Decimal
	CostRelieved  decimal.Decimal
	// Proceeds (net of fees) and RealizedPL in the lot's currency; invalid
	// for a transfer out, which realises nothing.
	Proceeds   decimal.NullDecimal
	RealizedPL decimal.NullDecimal
}

// CashFlow is one external flow, signed: positive into the portfolio.
type CashFlow struct {
	TransactionID uuid.UUID
	Date          time.Time
	Type          string
	Amount        decimal.Decimal
	Currency      string
}

// Applied is what ApplyTransaction did.
type Applied struct {
	// Transaction as stored, derived fields included.
	Transaction Transaction
	// Duplicate: a transaction with the same Source and SourceRef existed;
	// nothing was written and Transaction is the stored one.
	Duplicate bool
	// Replayed: the transaction was back-dated and the whole ledger was
	// replayed; OpenedLot, Reliefs and CashFlow still describe this one.
	Replayed bool
	// OpenedLot is the lot a BUY or in-kind TRANSFER_IN opened (its id is
	// the transaction's), uuid.Nil otherwise.
	OpenedLot uuid.UUID
	Reliefs   []LotRelief
	CashFlow  *CashFlow
}

// ApplyTransaction records t in the caller's transaction and derives its
// effects: lots opened, relieved or split, realised P&L, cash and external
// flows. It runs inside a savepoint, so on any error (an
// *InsufficientQuantityError, ErrInvalidTransaction, a missing dividend FX
// rate, ...) nothing of t is written and the caller may go on with other
// work. Writes to one portfolio are serialised by a row lock on it.
func ApplyTransaction(ctx context.Context, tx pgx.Tx, t Transaction) (Applied, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return Applied{}, fmt.Errorf("apply %s transaction: %w", t.Type, err)
	}
	defer sp.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	a, err := applyTransaction(ctx, sp, t)
	if err != nil {
		return Applied{}, err
	}
	if err := sp.Commit(ctx); err != nil {
		return Applied{}, fmt.Errorf("apply %s transaction %s: %w", t.Type, a.Transaction.ID, err)
	}
	return a, nil
}

func applyTransaction(ctx context.Context, q Querier, t Transaction) (Applied, error) {
	p, err := lockPortfolio(ctx, q, t.PortfolioID)
	if err != nil {
		return Applied{}, fmt.Errorf("apply %s transaction: %w", t.Type, err)
	}
	lr := newLedgerRun(q, p)
	if err := lr.normalise(ctx, &t); err != nil {
		return Applied{}, err
	}
	if t.Source != "" {
		existing, err := loadTransactions(ctx, q, `portfolio_id = $1 AND source = $2 AND source_ref = $3`, p.ID, t.Source, t.SourceRef)
		if err != nil {
			return Applied{}, fmt.Errorf("check duplicate of %s %s: %w", t.Source, t.SourceRef, err)
		}
		if len(existing) > 0 {
			return Applied{Transaction: existing[0], Duplicate: true}, nil
		}
	}
	var backdated bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM transactions WHERE portfolio_id = $1 AND trade_date > $2)`,
		p.ID, t.TradeDate).Scan(&backdated); err != nil {
		return Applied{}, fmt.Errorf("apply %s transaction %s: %w", t.Type, t.ID, err)
	}
	if backdated {
		return applyBackdated(ctx, q, lr, t)
	}
	if t.SecurityID != uuid.Nil && touchesLots(t) {
		if err := lr.loadOpenLots(ctx, t.SecurityID); err != nil {
			return Applied{}, err
		}
	}
	eff, err := lr.effects(ctx, &t)
	if err != nil {
		return Applied{}, err
	}
	if err := insertTransaction(ctx, q, &t); err != nil {
		return Applied{}, err
	}
	if eff.opened != nil {
		eff.opened.seq = t.Seq
	}
	if err := writeEffects(ctx, q, p.ID, lr.book.takeDirty(), eff.reliefs, flowsOf(eff)); err != nil {
		return Applied{}, fmt.Errorf("apply %s transaction %s: %w", t.Type, t.ID, err)
	}
	return eff.applied(t), nil
}

// applyBackdated inserts t with provisional derived fields and replays the
// ledger, which recomputes them in the right order.
func applyBackdated(ctx context.Context, q Querier, lr *ledgerRun, t Transaction) (Applied, error) {
	t.CashAmount, t.CashCurrency = decimal.Zero, t.Currency
	if t.Type == TxSell {
		t.RealizedPL = decimal.NewNullDecimal(decimal.Zero)
	}
	if err := insertTransaction(ctx, q, &t); err != nil {
		return Applied{}, err
	}
	res, err := replayPortfolio(ctx, q, lr.p)
	if err != nil {
		return Applied{}, fmt.Errorf("apply back-dated %s transaction %s: %w", t.Type, t.ID, err)
	}
	a := res[t.ID]
	a.Replayed = true
	return a, nil
}

// ReplayLedger rebuilds a portfolio's lots, lot reliefs, cash flows and the
// derived fields of its transactions from its transactions alone, applied in
// (trade_date, seq) order. Lot ids are the ids of the transactions that
// opened them, so a replay of a consistent ledger reproduces it exactly.
func ReplayLedger(ctx context.Context, tx pgx.Tx, portfolioID uuid.UUID) error {
	p, err := lockPortfolio(ctx, tx, portfolioID)
	if err != nil {
		return fmt.Errorf("replay ledger: %w", err)
	}
	if _, err := replayPortfolio(ctx, tx, p); err != nil {
		return fmt.Errorf("replay ledger of portfolio %s: %w", portfolioID, err)
	}
	return nil
}

func replayPortfolio(ctx context.Context, q Querier, p Portfolio) (map[uuid.UUID]Applied, error) {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM lot_reliefs WHERE portfolio_id = $1`, p.ID)
	b.Queue(`DELETE FROM portfolio_cash_flows WHERE portfolio_id = $1`, p.ID)
	b.Queue(`DELETE FROM lots WHERE portfolio_id = $1`, p.ID)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("clear derived rows: %w", err)
	}
	txs, err := loadTransactions(ctx, q, `portfolio_id = $1`, p.ID)
	if err != nil {
		return nil, err
	}
	lr := newLedgerRun(q, p)
	out := make(map[uuid.UUID]Applied, len(txs))
	var reliefs []LotRelief
	var flows []CashFlow
	upd := &pgx.Batch{}
	for i := range txs {
		t := &txs[i]
		eff, err := lr.effects(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("transaction %s (%s on %s): %w", t.ID, t.Type, t.TradeDate.Format(time.DateOnly), err)
		}
		if eff.opened != nil {
			eff.opened.seq = t.Seq
		}
		reliefs = append(reliefs, eff.reliefs...)
		flows = append(flows, flowsOf(eff)...)
		out[t.ID] = eff.applied(*t)
		upd.Queue(`UPDATE transactions SET realized_pl = $2, cash_amount = $3, cash_currency = $4, fx_rate = $5, fx_pack_id = $6
			WHERE id = $1`, t.ID, optDecimal(t.RealizedPL), t.CashAmount.String(), t.CashCurrency, optDecimal(t.FXRate), optText(t.FXPackID))
	}
	if err := q.SendBatch(ctx, upd).Close(); err != nil {
		return nil, fmt.Errorf("update derived fields: %w", err)
	}
	if err := writeEffects(ctx, q, p.ID, lr.book.all(), reliefs, flows); err != nil {
		return nil, err
	}
	return out, nil
}

// touchesLots says whether applying t reads the open lots of its security.
func touchesLots(t Transaction) bool {
	switch t.Type {
	case TxSell, TxSplit, TxTransferOut:
		return true
	}
	return false
}

// ledgerRun applies transactions of one portfolio to an in-memory book.
type ledgerRun struct {
	q    Querier
	p    Portfolio
	book *book
	secs map[uuid.UUID]Security
}

func newLedgerRun(q Querier, p Portfolio) *ledgerRun {
	return &ledgerRun{q: q, p: p, book: newBook(p.CostBasisMethod), secs: map[uuid.UUID]Security{}}
}

func (lr *ledgerRun) security(ctx context.Context, id uuid.UUID) (Security, error) {
	if s, ok := lr.secs[id]; ok {
		return s, nil
	}
	s, err := GetSecurity(ctx, lr.q, id)
	if err != nil {
		return Security{}, err
	}
	lr.secs[id] = s
	return s, nil
}

func invalid(t *Transaction, format string, args ...any) error {
	return fmt.Errorf("%s transaction on %s: %s: %w", t.Type, t.TradeDate.Format(time.DateOnly), fmt.Sprintf(format, args...), ErrInvalidTransaction)
}

// normalise checks t against its type, fills the defaults (id, currency,
// trade value) and truncates dates to calendar dates.
func (lr *ledgerRun) normalise(ctx context.Context, t *Transaction) error {
	if t.ID == uuid.Nil {
		t.ID = uuid.New()
	}
	t.TradeDate, t.SettleDate = civilDate(t.TradeDate), civilDate(t.SettleDate)
	t.Currency = strings.ToUpper(t.Currency)
	if t.TradeDate.IsZero() {
		return invalid(t, "trade date is required")
	}
	if !t.SettleDate.IsZero() && t.SettleDate.Before(t.TradeDate) {
		return invalid(t, "settle date %s before trade date", t.SettleDate.Format(time.DateOnly))
	}
	if (t.Source == "") != (t.SourceRef == "") {
		return invalid(t, "source and source_ref go together")
	}
	for name, d := range map[string]decimal.Decimal{"quantity": t.Quantity, "price": t.Price, "amount": t.Amount, "fees": t.Fees, "split ratio": t.SplitRatio} {
		if d.IsNegative() {
			return invalid(t, "%s %s is negative", name, d)
		}
	}
	inKind := t.SecurityID != uuid.Nil && (t.Type == TxTransferIn || t.Type == TxTransferOut)
	switch t.Type {
	case TxBuy, TxSell, TxDividend, TxSplit:
		if t.SecurityID == uuid.Nil {
			return invalid(t, "security is required")
		}
	case TxDeposit, TxWithdrawal, TxInterest:
		if t.SecurityID != uuid.Nil {
			return invalid(t, "no security allowed")
		}
	case TxTransferIn, TxTransferOut, TxFee:
	default:
		return invalid(t, "unknown type %q", t.Type)
	}
	if t.SecurityID != uuid.Nil {
		s, err := lr.security(ctx, t.SecurityID)
		if err != nil {
			return fmt.Errorf("%s transaction: %w", t.Type, err)
		}
		if t.Currency == "" {
			t.Currency = s.Currency
		}
		if (t.Type == TxBuy || t.Type == TxSell || inKind) && t.Currency != s.Currency {
			return invalid(t, "currency %s differs from %s's trading currency %s", t.Currency, s.Symbol, s.Currency)
		}
	}
	if t.Currency == "" {
		t.Currency = lr.p.BaseCurrency
	}
	if t.Type != TxSplit && !t.SplitRatio.IsZero() {
		return invalid(t, "split ratio is for SPLIT only")
	}
	if t.LotID != uuid.Nil && t.Type != TxSell && !(t.Type == TxTransferOut && inKind) {
		return invalid(t, "a lot can be named only by a sale or transfer out")
	}
	switch {
	case t.Type == TxBuy || t.Type == TxSell || inKind:
		if !t.Quantity.IsPositive() {
			return invalid(t, "quantity must be positive")
		}
		if t.Amount.IsZero() {
			t.Amount = t.Quantity.Mul(t.Price)
		}
	case t.Type == TxSplit:
		if !t.SplitRatio.IsPositive() {
			return invalid(t, "split ratio must be positive")
		}
	default:
		if !t.Amount.IsPositive() {
			return invalid(t, "amount must be positive")
		}
	}
	return nil
}

// txEffect is what applying one transaction changed.
type txEffect struct {
	opened  *lotState
	reliefs []LotRelief
	flow    *CashFlow
}

func (e txEffect) applied(t Transaction) Applied {
	a := Applied{Transaction: t, Reliefs: e.reliefs, CashFlow: e.flow}
	if e.opened != nil {
		a.OpenedLot = e.opened.ID
	}
	return a
}

func flowsOf(e txEffect) []CashFlow {
	if e.flow == nil {
		return nil
	}
	return []CashFlow{*e.flow}
}

// effects applies t to the book and fills its derived fields.
func (lr *ledgerRun) effects(ctx context.Context, t *Transaction) (txEffect, error) {
	var eff txEffect
	symbol := ""
	if t.SecurityID != uuid.Nil {
		s, err := lr.security(ctx, t.SecurityID)
		if err != nil {
			return eff, err
		}
		symbol = s.Symbol
	}
	a, err := lr.book.apply(t, symbol)
	if err != nil {
		return eff, err
	}
	eff.opened, eff.reliefs = a.opened, a.reliefs
	t.RealizedPL = a.realized
	t.FXRate, t.FXPackID = decimal.NullDecimal{}, ""
	t.CashCurrency = t.Currency
	inKind := t.SecurityID != uuid.Nil
	switch t.Type {
	case TxBuy:
		t.CashAmount = t.Amount.Add(t.Fees).Neg()
	case TxSell:
		t.CashAmount = t.Amount.Sub(t.Fees)
	case TxDividend:
		rate, packID, err := dividendRate(ctx, lr.q, t.Currency, lr.p.BaseCurrency, payDate(*t))
		if err != nil {
			return eff, err
		}
		t.CashAmount = t.Amount.Sub(t.Fees).Mul(rate)
		t.CashCurrency = lr.p.BaseCurrency
		if packID != "" {
			t.FXRate, t.FXPackID = decimal.NewNullDecimal(rate), packID
		}
	case TxSplit:
		t.CashAmount = decimal.Zero
	case TxDeposit, TxInterest:
		t.CashAmount = t.Amount.Sub(t.Fees)
	case TxWithdrawal, TxFee:
		t.CashAmount = t.Amount.Add(t.Fees).Neg()
	case TxTransferIn:
		if inKind {
			t.CashAmount = t.Fees.Neg()
		} else {
			t.CashAmount = t.Amount.Sub(t.Fees)
		}
	case TxTransferOut:
		if inKind {
			t.CashAmount = t.Fees.Neg()
		} else {
			t.CashAmount = t.Amount.Add(t.Fees).Neg()
		}
	}
	switch t.Type {
	case TxDeposit, TxTransferIn:
		eff.flow = &CashFlow{TransactionID: t.ID, Date: t.TradeDate, Type: t.Type, Amount: t.Amount, Currency: t.Currency}
	case TxWithdrawal, TxTransferOut:
		eff.flow = &CashFlow{TransactionID: t.ID, Date: t.TradeDate, Type: t.Type, Amount: t.Amount.Neg(), Currency: t.Currency}
	}
	if eff.flow != nil && eff.flow.Amount.IsZero() {
		eff.flow = nil // an in-kind transfer at no value moves no value
	}
	return eff, nil
}

func payDate(t Transaction) time.Time {
	if !t.SettleDate.IsZero() {
		return t.SettleDate
	}
	return t.TradeDate
}

// dividendRate is the rate from -> base of the newest fresh pack on or
// before the pay date; exactly 1 without a pack when the currencies agree.
func dividendRate(ctx context.Context, q Querier, from, base string, pay time.Time) (decimal.Decimal, string, error) {
	if from == base {
		return decimal.NewFromInt(1), "", nil
	}
	p, err := PackForDate(ctx, q, pay)
	if err != nil {
		return decimal.Decimal{}, "", fmt.Errorf("dividend fx %s/%s on %s: %w", from, base, pay.Format(time.DateOnly), err)
	}
	r, err := FXRate(ctx, q, p.ID, from, base)
	if err != nil {
		return decimal.Decimal{}, "", fmt.Errorf("dividend fx %s/%s on %s: %w", from, base, pay.Format(time.DateOnly), err)
	}
	return r, p.ID, nil
}

// loadOpenLots puts the open lots of one security into the book.
func (lr *ledgerRun) loadOpenLots(ctx context.Context, securityID uuid.UUID) error {
	rows, err := lr.q.Query(ctx, `SELECT l.id, l.security_id, l.acquired_date, t.seq, l.quantity_original, l.quantity_open,
			l.cost_basis_original, l.cost_basis_open, l.cost_per_share, l.currency
		FROM lots l JOIN transactions t ON t.id = l.id
		WHERE l.portfolio_id = $1 AND l.security_id = $2 AND l.is_open
		ORDER BY l.acquired_date, t.seq`, lr.p.ID, securityID)
	if err != nil {
		return fmt.Errorf("load open lots of %s: %w", securityID, err)
	}
	open, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*lotState, error) {
		l := &lotState{}
		err := r.Scan(&l.ID, &l.securityID, &l.Acquired, &l.seq, &l.qtyOriginal, &l.Quantity,
			&l.costOriginal, &l.Cost, &l.CostPerShare, &l.currency)
		return l, err
	})
	if err != nil {
		return fmt.Errorf("load open lots of %s: %w", securityID, err)
	}
	for _, l := range open {
		lr.book.add(l)
	}
	return nil
}

const transactionColumns = `t.id, t.seq, t.portfolio_id, t.security_id, t.type, t.trade_date, t.settle_date, t.quantity, t.price,
	t.amount, t.currency, t.fees, t.split_ratio, t.lot_id, t.source, t.source_ref, t.notes, t.realized_pl,
	t.cash_amount, t.cash_currency, t.fx_rate, t.fx_pack_id, t.created_at`

// loadTransactions loads transactions matching where (over alias t) in
// ledger order.
func loadTransactions(ctx context.Context, q Querier, where string, args ...any) ([]Transaction, error) {
	rows, err := q.Query(ctx, `SELECT `+transactionColumns+` FROM transactions t WHERE `+where+` ORDER BY t.trade_date, t.seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("load transactions: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanTransaction)
	if err != nil {
		return nil, fmt.Errorf("load transactions: %w", err)
	}
	return out, nil
}

// scanTransaction reads one row of transactionColumns; the columns that
// are NULL for some types read as the zero value.
func scanTransaction(row pgx.CollectableRow) (Transaction, error) {
	var t Transaction
	var sec, lot uuid.NullUUID
	var settle *time.Time
	var qty, price, amount, ratio decimal.NullDecimal
	var source, sourceRef, notes, fxPack *string
	if err := row.Scan(&t.ID, &t.Seq, &t.PortfolioID, &sec, &t.Type, &t.TradeDate, &settle, &qty, &price,
		&amount, &t.Currency, &t.Fees, &ratio, &lot, &source, &sourceRef, &notes, &t.RealizedPL,
		&t.CashAmount, &t.CashCurrency, &t.FXRate, &fxPack, &t.CreatedAt); err != nil {
		return Transaction{}, err
	}
	t.SecurityID, t.LotID = sec.UUID, lot.UUID
	if settle != nil {
		t.SettleDate = *settle
	}
	t.Quantity, t.Price, t.Amount, t.SplitRatio = qty.Decimal, price.Decimal, amount.Decimal, ratio.Decimal
	t.Source, t.SourceRef, t.Notes, t.FXPackID = textOf(source), textOf(sourceRef), textOf(notes), textOf(fxPack)
	return t, nil
}

// TransactionFilter narrows ListTransactions; zero fields do not filter.
type TransactionFilter struct {
	SecurityID uuid.UUID
	Type       string
	From, To   time.Time
}

// ListTransactions returns a portfolio's transactions in ledger order
// (trade date, then insertion).
func ListTransactions(ctx context.Context, q Querier, portfolioID uuid.UUID, f TransactionFilter) ([]Transaction, error) {
	txs, err := loadTransactions(ctx, q, `t.portfolio_id = $1 AND ($2::uuid IS NULL OR t.security_id = $2)
		AND ($3::text IS NULL OR t.type = $3) AND ($4::date IS NULL OR t.trade_date >= $4)
		AND ($5::date IS NULL OR t.trade_date <= $5)`,
		portfolioID, optUUID(f.SecurityID), optText(f.Type), optDate(f.From), optDate(f.To))
	if err != nil {
		return nil, fmt.Errorf("list transactions of portfolio %s: %w", portfolioID, err)
	}
	return txs, nil
}

// ListLotReliefs returns the lot reliefs of a portfolio dated from..to
// (zero bounds are open), by date and transaction order: the realised
// gains per lot that tax reports read.
func ListLotReliefs(ctx context.Context, q Querier, portfolioID uuid.UUID, from, to time.Time) ([]LotRelief, error) {
	rows, err := q.Query(ctx, `SELECT r.transaction_id, r.lot_id, l.security_id, r.relief_date, l.acquired_date,
			r.quantity, r.cost_relieved, r.proceeds, r.realized_pl
		FROM lot_reliefs r JOIN lots l ON l.id = r.lot_id JOIN transactions t ON t.id = r.transaction_id
		WHERE r.portfolio_id = $1 AND ($2::date IS NULL OR r.relief_date >= $2) AND ($3::date IS NULL OR r.relief_date <= $3)
		ORDER BY r.relief_date, t.seq, l.acquired_date, r.lot_id`, portfolioID, optDate(from), optDate(to))
	if err != nil {
		return nil, fmt.Errorf("list lot reliefs of portfolio %s: %w", portfolioID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[LotRelief])
	if err != nil {
		return nil, fmt.Errorf("list lot reliefs of portfolio %s: %w", portfolioID, err)
	}
	return out, nil
}

func insertTransaction(ctx context.Context, q Querier, t *Transaction) error {
	inKind := t.SecurityID != uuid.Nil && (t.Type == TxTransferIn || t.Type == TxTransferOut)
	trade := t.Type == TxBuy || t.Type == TxSell || inKind
	var qty, price, amount decimal.NullDecimal
	if trade {
		qty, price, amount = decimal.NewNullDecimal(t.Quantity), decimal.NewNullDecimal(t.Price), decimal.NewNullDecimal(t.Amount)
	} else {
		qty, price, amount = nonZero(t.Quantity), nonZero(t.Price), nonZero(t.Amount)
	}
	err := q.QueryRow(ctx, `INSERT INTO transactions (id, portfolio_id, security_id, type, trade_date, settle_date,
			quantity, price, amount, currency, fees, split_ratio, lot_id, source, source_ref, notes,
			realized_pl, cash_amount, cash_currency, fx_rate, fx_pack_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
		RETURNING seq, created_at`,
		t.ID, t.PortfolioID, optUUID(t.SecurityID), t.Type, t.TradeDate, optDate(t.SettleDate),
		optDecimal(qty), optDecimal(price), optDecimal(amount), t.Currency, t.Fees.String(), optDecimal(nonZero(t.SplitRatio)),
		optUUID(t.LotID), optText(t.Source), optText(t.SourceRef), optText(t.Notes),
		optDecimal(t.RealizedPL), t.CashAmount.String(), t.CashCurrency, optDecimal(t.FXRate), optText(t.FXPackID),
	).Scan(&t.Seq, &t.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert %s transaction %s: %w", t.Type, t.ID, err)
	}
	return nil
}

func nonZero(d decimal.Decimal) decimal.NullDecimal {
	if d.IsZero() {
		return decimal.NullDecimal{}
	}
	return decimal.NewNullDecimal(d)
}

// writeEffects upserts lots and inserts reliefs and flows in one round trip.
func writeEffects(ctx context.Context, q Querier, portfolioID uuid.UUID, changed []*lotState, reliefs []LotRelief, flows []CashFlow) error {
	b := &pgx.Batch{}
	for _, l := range changed {
		b.Queue(`INSERT INTO lots (id, portfolio_id, security_id, acquired_date, quantity_original, quantity_open,
				cost_basis_original, cost_basis_open, cost_per_share, currency, closed_date)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (id) DO UPDATE SET quantity_original = EXCLUDED.quantity_original,
				quantity_open = EXCLUDED.quantity_open, cost_basis_open = EXCLUDED.cost_basis_open,
				cost_per_share = EXCLUDED.cost_per_share, closed_date = EXCLUDED.closed_date, updated_at = now()`,
			l.ID, portfolioID, l.securityID, l.Acquired, l.qtyOriginal.String(), l.Quantity.String(),
			l.costOriginal.String(), l.Cost.String(), l.CostPerShare.String(), l.currency, optDate(l.closed))
	}
	for _, r := range reliefs {
		b.Queue(`INSERT INTO lot_reliefs (transaction_id, lot_id, portfolio_id, relief_date, quantity, cost_relieved, proceeds, realized_pl)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			r.TransactionID, r.LotID, portfolioID, r.Date, r.Quantity.String(), r.CostRelieved.String(),
			optDecimal(r.Proceeds), optDecimal(r.RealizedPL))
	}
	for _, f := range flows {
		b.Queue(`INSERT INTO portfolio_cash_flows (portfolio_id, transaction_id, flow_date, type, amount, currency)
			VALUES ($1, $2, $3, $4, $5, $6)`, portfolioID, f.TransactionID, f.Date, f.Type, f.Amount.String(), f.Currency)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d lots, %d reliefs, %d flows: %w", len(changed), len(reliefs), len(flows), err)
	}
	return nil
}

// Lot is one tax lot: what one BUY or in-kind TRANSFER_IN acquired and how
// much of it is still open.
type Lot struct {
	ID           uuid.UUID
	PortfolioID  uuid.UUID
	SecurityID   uuid.UUID
	Symbol       string
	AcquiredDate time.Time
	// Quantities after any splits.
	QuantityOriginal decimal.Decimal
	QuantityOpen     decimal.Decimal
	// Cost of the original and of the open quantity, fees included, in
	// Currency.
	CostBasisOriginal decimal.Decimal
	CostBasisOpen     decimal.Decimal
	CostPerShare      decimal.Decimal
	Currency          string
	// ClosedDate is zero while the lot is open.
	ClosedDate time.Time
}

// OpenLots returns the portfolio's open lots as of now, by security symbol
// and acquisition order.
func OpenLots(ctx context.Context, q Querier, portfolioID uuid.UUID) ([]Lot, error) {
	rows, err := q.Query(ctx, `SELECT l.id, l.portfolio_id, l.security_id, s.symbol, l.acquired_date, l.quantity_original,
			l.quantity_open, l.cost_basis_original, l.cost_basis_open, l.cost_per_share, l.currency
		FROM lots l JOIN securities s ON s.id = l.security_id JOIN transactions t ON t.id = l.id
		WHERE l.portfolio_id = $1 AND l.is_open
		ORDER BY s.symbol, l.acquired_date, t.seq`, portfolioID)
	if err != nil {
		return nil, fmt.Errorf("load open lots of portfolio %s: %w", portfolioID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Lot, error) {
		var l Lot
		err := r.Scan(&l.ID, &l.PortfolioID, &l.SecurityID, &l.Symbol, &l.AcquiredDate, &l.QuantityOriginal,
			&l.QuantityOpen, &l.CostBasisOriginal, &l.CostBasisOpen, &l.CostPerShare, &l.Currency)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("load open lots of portfolio %s: %w", portfolioID, err)
	}
	return out, nil
}

// LotsAsOf returns the lots open at the end of asOf, rebuilt in memory from
// the transactions up to that date (the lots table holds only the present).
// A zero asOf or one on or after the newest transaction reads the lots
// table.
func LotsAsOf(ctx context.Context, q Querier, portfolioID uuid.UUID, asOf time.Time) ([]Lot, error) {
	if !asOf.IsZero() {
		var last *time.Time
		if err := q.QueryRow(ctx, `SELECT max(trade_date) FROM transactions WHERE portfolio_id = $1`, portfolioID).Scan(&last); err != nil {
			return nil, fmt.Errorf("lots of portfolio %s as of %s: %w", portfolioID, asOf.Format(time.DateOnly), err)
		}
		if last != nil && civilDate(asOf).Before(*last) {
			return replayLotsAsOf(ctx, q, portfolioID, civilDate(asOf))
		}
	}
	return OpenLots(ctx, q, portfolioID)
}

func replayLotsAsOf(ctx context.Context, q Querier, portfolioID uuid.UUID, asOf time.Time) ([]Lot, error) {
	p, err := GetPortfolio(ctx, q, portfolioID)
	if err != nil {
		return nil, err
	}
	txs, err := loadTransactions(ctx, q, `t.portfolio_id = $1 AND t.trade_date <= $2`, portfolioID, asOf)
	if err != nil {
		return nil, err
	}
	b := newBook(p.CostBasisMethod)
	for i := range txs {
		if _, err := b.apply(&txs[i], ""); err != nil {
			return nil, fmt.Errorf("rebuild lots of portfolio %s as of %s: %w", portfolioID, asOf.Format(time.DateOnly), err)
		}
	}
	syms := map[uuid.UUID]string{}
	var ids []uuid.UUID
	for sec := range b.bySec {
		ids = append(ids, sec)
	}
	secs, err := ListSecurities(ctx, q, SecurityFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	for _, s := range secs {
		syms[s.ID] = s.Symbol
	}
	var out []Lot
	for _, l := range b.order {
		if !l.Quantity.IsPositive() {
			continue
		}
		out = append(out, Lot{ID: l.ID, PortfolioID: portfolioID, SecurityID: l.securityID, Symbol: syms[l.securityID],
			AcquiredDate: l.Acquired, QuantityOriginal: l.qtyOriginal, QuantityOpen: l.Quantity,
			CostBasisOriginal: l.costOriginal, CostBasisOpen: l.Cost, CostPerShare: l.CostPerShare, Currency: l.currency})
	}
	slices.SortStableFunc(out, func(x, y Lot) int { return cmp.Compare(x.Symbol, y.Symbol) })
	return out, nil
}

// Position is the open lots of one security aggregated.
type Position struct {
	SecurityID uuid.UUID
	Symbol     string
	Name       string
	Type       string
	Sector     string
	Industry   string
	Country    string
	Exchange   string
	// Currency of the lots (the trading currency).
	Currency string
	Quantity decimal.Decimal
	// CostBasis is the total cost of the open quantity, fees included.
	CostBasis decimal.Decimal
	// AvgCost is CostBasis / Quantity to 10 decimal places.
	AvgCost       decimal.Decimal
	Lots          int
	FirstAcquired time.Time
}

// OpenPositions aggregates the lots open at the end of asOf (now when zero)
// per security, by symbol.
func OpenPositions(ctx context.Context, q Querier, portfolioID uuid.UUID, asOf time.Time) ([]Position, error) {
	open, err := LotsAsOf(ctx, q, portfolioID, asOf)
	if err != nil {
		return nil, err
	}
	return aggregateLots(ctx, q, open)
}

func aggregateLots(ctx context.Context, q Querier, open []Lot) ([]Position, error) {
	idx := map[uuid.UUID]int{}
	var out []Position
	var ids []uuid.UUID
	for _, l := range open {
		i, ok := idx[l.SecurityID]
		if !ok {
			i = len(out)
			idx[l.SecurityID] = i
			ids = append(ids, l.SecurityID)
			out = append(out, Position{SecurityID: l.SecurityID, Symbol: l.Symbol, Currency: l.Currency, FirstAcquired: l.AcquiredDate})
		}
		p := &out[i]
		p.Quantity = p.Quantity.Add(l.QuantityOpen)
		p.CostBasis = p.CostBasis.Add(l.CostBasisOpen)
		p.Lots++
		if l.AcquiredDate.Before(p.FirstAcquired) {
			p.FirstAcquired = l.AcquiredDate
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	secs, err := ListSecurities(ctx, q, SecurityFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	for _, s := range secs {
		p := &out[idx[s.ID]]
		p.Symbol, p.Name, p.Type, p.Sector, p.Industry, p.Country, p.Exchange = s.Symbol, s.Name, s.Type, s.Sector, s.Industry, s.Country, s.Exchange
	}
	for i := range out {
		out[i].AvgCost = out[i].CostBasis.DivRound(out[i].Quantity, ledgerScale)
	}
	slices.SortFunc(out, func(x, y Position) int { return cmp.Compare(x.Symbol, y.Symbol) })
	return out, nil
}

// CashBalance is a portfolio's cash in one currency.
type CashBalance struct {
	Currency string
	Amount   decimal.Decimal
}

// CashBalances returns the portfolio's cash per currency at the end of asOf
// (now when zero): the sum of its transactions' cash effects. Currencies
// whose balance is zero are left out.
func CashBalances(ctx context.Context, q Querier, portfolioID uuid.UUID, asOf time.Time) ([]CashBalance, error) {
	rows, err := q.Query(ctx, `SELECT cash_currency, sum(cash_amount) FROM transactions
		WHERE portfolio_id = $1 AND ($2::date IS NULL OR trade_date <= $2)
		GROUP BY cash_currency HAVING sum(cash_amount) <> 0 ORDER BY cash_currency`, portfolioID, optDate(asOf))
	if err != nil {
		return nil, fmt.Errorf("cash of portfolio %s: %w", portfolioID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CashBalance])
	if err != nil {
		return nil, fmt.Errorf("cash of portfolio %s: %w", portfolioID, err)
	}
	return out, nil
}

// ledgerHasher chains transactions into a hash: h0 = sha256("dawsos ledger
// v1"), h(i) = sha256(h(i-1) || canonical line of transaction i). Lines hold
// the content (dates, type, symbol, exact numbers, currency, source), not
// the random ids, so the same ledger hashes alike in any database; a named
// lot is referred to by the position of the transaction that opened it.
type ledgerHasher struct {
	sum     [sha256.Size]byte
	ordinal map[uuid.UUID]int
	n       int
}

func newLedgerHasher() *ledgerHasher {
	return &ledgerHasher{sum: sha256.Sum256([]byte("dawsos ledger v1")), ordinal: map[uuid.UUID]int{}}
}

func (h *ledgerHasher) add(t Transaction, symbol string) {
	lot := ""
	if t.LotID != uuid.Nil {
		if i, ok := h.ordinal[t.LotID]; ok {
			lot = fmt.Sprint(i)
		} else {
			lot = t.LotID.String()
		}
	}
	settle := ""
	if !t.SettleDate.IsZero() {
		settle = t.SettleDate.Format(time.DateOnly)
	}
	line := strings.Join([]string{t.TradeDate.Format(time.DateOnly), settle, t.Type, symbol,
		t.Quantity.String(), t.Price.String(), t.Amount.String(), t.Currency, t.Fees.String(),
		t.SplitRatio.String(), lot, t.Source, t.SourceRef}, "|")
	hh := sha256.New()
	hh.Write(h.sum[:])
	hh.Write([]byte(line))
	copy(h.sum[:], hh.Sum(nil))
	h.ordinal[t.ID] = h.n
	h.n++
}

func (h *ledgerHasher) hex() string { return hex.EncodeToString(h.sum[:]) }

// LedgerCommitHash names the state of a portfolio's ledger: a hash chained
// over its transactions in ledger order (see ledgerHasher). A result that
// records it can tell whether the ledger changed since.
func LedgerCommitHash(ctx context.Context, q Querier, portfolioID uuid.UUID) (string, error) {
	txs, err := loadTransactions(ctx, q, `t.portfolio_id = $1`, portfolioID)
	if err != nil {
		return "", fmt.Errorf("ledger hash of portfolio %s: %w", portfolioID, err)
	}
	syms, err := symbolsOf(ctx, q, txs)
	if err != nil {
		return "", fmt.Errorf("ledger hash of portfolio %s: %w", portfolioID, err)
	}
	h := newLedgerHasher()
	for _, t := range txs {
		h.add(t, syms[t.SecurityID])
	}
	return h.hex(), nil
}

func symbolsOf(ctx context.Context, q Querier, txs []Transaction) (map[uuid.UUID]string, error) {
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
	secs, err := ListSecurities(ctx, q, SecurityFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	for _, s := range secs {
		out[s.ID] = s.Symbol
	}
	return out, nil
}
