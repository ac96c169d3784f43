package analyst

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) positionTransactions() agents.Def {
	return agents.Read(agents.Meta{
		Name: "position.get_transactions",
		Description: "The transactions of one security in a portfolio dated from_date..to_date (default: all up to the run's as-of date), " +
			"newest first, with the realised P&L of sales where the ledger recorded it. A security never traded in the " +
			"portfolio gives an empty list with a note.",
		Reads: []string{"portfolios", "securities", "transactions"},
		Codes: []string{agents.CodeNotFound},
	}, a.PositionTransactions)
}

// PositionTransactionsInput names a position and an optional date range.
type PositionTransactionsInput struct {
	PortfolioID uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	SecurityID  uuid.UUID `json:"security_id" doc:"The security."`
	FromDate    string    `json:"from_date,omitempty" jsonschema:"format=date" doc:"First trade date (inclusive); open when absent."`
	ToDate      string    `json:"to_date,omitempty" jsonschema:"format=date" doc:"Last trade date (inclusive); the run's as-of date when absent."`
	Limit       int       `json:"limit,omitempty" jsonschema:"minimum=1,maximum=10000,default=500" doc:"At most this many, the newest."`
}

// Validate checks the range.
func (in PositionTransactionsInput) Validate() error {
	from, to, err := dateRange(in.FromDate, in.ToDate)
	if err != nil {
		return err
	}
	if !from.IsZero() && !to.IsZero() && from.After(to) {
		return agents.FieldError("from_date", "from_date %s is after to_date %s", in.FromDate, in.ToDate)
	}
	return nil
}

// TransactionLine is one ledger entry.
type TransactionLine struct {
	ID         uuid.UUID        `json:"id"`
	Type       string           `json:"type" doc:"BUY, SELL, DIVIDEND, SPLIT, TRANSFER_IN, TRANSFER_OUT or FEE."`
	TradeDate  string           `json:"trade_date"`
	SettleDate string           `json:"settle_date,omitempty"`
	Quantity   *decimal.Decimal `json:"quantity" doc:"Null when the type has none."`
	Price      *decimal.Decimal `json:"price"`
	Amount     *decimal.Decimal `json:"amount" doc:"Gross cash amount in currency."`
	Currency   string           `json:"currency"`
	Fees       decimal.Decimal  `json:"fees" doc:"Commission, or withholding on a dividend."`
	SplitRatio *decimal.Decimal `json:"split_ratio"`
	// RealizedPL is what the ledger recorded for a sale; null otherwise.
	RealizedPL   *decimal.Decimal `json:"realized_pl" doc:"Net proceeds − cost relieved, in currency; recorded for sales only, else null."`
	CashAmount   decimal.Decimal  `json:"cash_amount" doc:"Signed effect on cash, in cash_currency."`
	CashCurrency string           `json:"cash_currency"`
	FXRate       *decimal.Decimal `json:"fx_rate" doc:"Rate a dividend was converted into the base currency at; null otherwise."`
	LotID        *uuid.UUID       `json:"lot_id" doc:"The lot a sale named, if any."`
	Source       string           `json:"source,omitempty"`
	Notes        string           `json:"notes,omitempty"`
}

// RealizedTotal is the realised P&L of the listed sales in one currency.
type RealizedTotal struct {
	Currency   string          `json:"currency"`
	RealizedPL decimal.Decimal `json:"realized_pl"`
	Sales      int             `json:"sales"`
}

// PositionTransactionsOutput lists a position's transactions.
type PositionTransactionsOutput struct {
	PortfolioID  uuid.UUID         `json:"portfolio_id"`
	SecurityID   uuid.UUID         `json:"security_id"`
	Symbol       string            `json:"symbol"`
	FromDate     string            `json:"from_date,omitempty"`
	ToDate       string            `json:"to_date"`
	Count        int               `json:"count" doc:"Transactions listed."`
	Truncated    bool              `json:"truncated" doc:"More matched than limit; the oldest were left out."`
	Transactions []TransactionLine `json:"transactions" doc:"Newest first (trade date, then reverse ledger order)."`
	Realized     []RealizedTotal   `json:"realized" doc:"Realised P&L of the listed sales per currency."`
	Note         string            `json:"note,omitempty"`
	Provenance   agents.Provenance `json:"provenance"`
}

// PositionTransactions implements position.get_transactions.
func (a *Analyst) PositionTransactions(ctx context.Context, c *agents.Call, in PositionTransactionsInput) (PositionTransactionsOutput, error) {
	from, to, err := dateRange(in.FromDate, in.ToDate)
	if err != nil {
		return PositionTransactionsOutput{}, err
	}
	if to.IsZero() {
		if to, err = c.RequireAsOf(); err != nil {
			return PositionTransactionsOutput{}, err
		}
	}
	if _, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID); err != nil {
		return PositionTransactionsOutput{}, err
	}
	s, err := storage.GetSecurity(ctx, c.DB, in.SecurityID)
	if err != nil {
		return PositionTransactionsOutput{}, err
	}
	txs, err := storage.ListTransactions(ctx, c.DB, in.PortfolioID, storage.TransactionFilter{SecurityID: in.SecurityID, From: from, To: to})
	if err != nil {
		return PositionTransactionsOutput{}, err
	}
	out := PositionTransactionsOutput{
		PortfolioID: in.PortfolioID, SecurityID: in.SecurityID, Symbol: s.Symbol, ToDate: to.Format(time.DateOnly),
		Transactions: []TransactionLine{}, Realized: []RealizedTotal{},
		Provenance: c.Provenance("the ledger's transactions of the security in the portfolio",
			"amounts in the transaction's currency; realised P&L as recorded by the ledger under the portfolio's cost-basis method"),
	}
	if !from.IsZero() {
		out.FromDate = from.Format(time.DateOnly)
	}
	// Ledger order is oldest first; newest first is its reverse.
	for i, j := 0, len(txs)-1; i < j; i, j = i+1, j-1 {
		txs[i], txs[j] = txs[j], txs[i]
	}
	if len(txs) > in.Limit {
		txs, out.Truncated = txs[:in.Limit], true
	}
	realized := map[string]*RealizedTotal{}
	for _, t := range txs {
		out.Transactions = append(out.Transactions, transactionLine(t))
		if t.RealizedPL.Valid {
			r, ok := realized[t.Currency]
			if !ok {
				r = &RealizedTotal{Currency: t.Currency}
				realized[t.Currency] = r
			}
			r.RealizedPL = r.RealizedPL.Add(t.RealizedPL.Decimal)
			r.Sales++
		}
	}
	for _, r := range realized {
		out.Realized = append(out.Realized, *r)
	}
	sort.Slice(out.Realized, func(i, j int) bool { return out.Realized[i].Currency < out.Realized[j].Currency })
	out.Count = len(out.Transactions)
	if out.Count == 0 {
		out.Note = "the portfolio has no transactions of " + s.Symbol + " in the range"
	}
	return out, nil
}

func transactionLine(t storage.Transaction) TransactionLine {
	opt := func(d decimal.Decimal, keep bool) *decimal.Decimal {
		if !keep {
			return nil
		}
		return &d
	}
	trade := t.Type == storage.TxBuy || t.Type == storage.TxSell || t.Type == storage.TxTransferIn || t.Type == storage.TxTransferOut
	l := TransactionLine{
		ID: t.ID, Type: t.Type, TradeDate: t.TradeDate.Format(time.DateOnly),
		Quantity: opt(t.Quantity, trade || !t.Quantity.IsZero()), Price: opt(t.Price, trade || !t.Price.IsZero()),
		Amount: opt(t.Amount, t.Type != storage.TxSplit), Currency: t.Currency, Fees: t.Fees,
		SplitRatio: opt(t.SplitRatio, t.Type == storage.TxSplit), CashAmount: t.CashAmount, CashCurrency: t.CashCurrency,
		Source: t.Source, Notes: t.Notes,
	}
	if !t.SettleDate.IsZero() {
		l.SettleDate = t.SettleDate.Format(time.DateOnly)
	}
	if t.RealizedPL.Valid {
		l.RealizedPL = opt(t.RealizedPL.Decimal, true)
	}
	if t.FXRate.Valid {
		l.FXRate = opt(t.FXRate.Decimal, true)
	}
	if t.LotID != uuid.Nil {
		id := t.LotID
		l.LotID = &id
	}
	return l
}
