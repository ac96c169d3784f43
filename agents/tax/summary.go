package tax

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Tax) summary() agents.Def {
	return agents.Read(agents.Meta{
		Name: "tax.summary",
		Description: "The tax year's totals in the base currency: short- and long-term gains and losses and their net under a relief method, " +
			"wash-sale losses disallowed, dividends (gross, withheld, net) and interest received, commissions and account fees, from the transactions.",
		Reads: []string{"portfolios", "transactions", "lot_reliefs", "lots", "securities", "pricing_packs", "fx_rates"},
		Codes: []string{agents.CodeNotFound, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.Summary)
}

// SummaryInput asks for a tax year's totals.
type SummaryInput struct {
	PortfolioID      uuid.UUID      `json:"portfolio_id" doc:"The portfolio."`
	TaxYear          *int           `json:"tax_year,omitempty" jsonschema:"minimum=1900,maximum=2200" doc:"The calendar year; the as-of date's year when absent."`
	Method           string         `json:"method,omitempty" jsonschema:"enum=FIFO|LIFO|HIFO|SPECIFIC_LOT|AVERAGE_COST|fifo|lifo|hifo|specific_lot|average_cost" doc:"The lot-relief method of the gains, either case; the portfolio's own when absent."`
	LotSelections    []LotSelection `json:"lot_selections,omitempty" doc:"As for tax.realized_gains."`
	IncludeWashSales bool           `json:"include_wash_sales,omitempty" jsonschema:"default=true" doc:"Compute the wash-sale losses disallowed (tax.wash_sales)."`
}

// SummaryOutput is a tax year in totals, base currency.
type SummaryOutput struct {
	PortfolioID  uuid.UUID         `json:"portfolio_id"`
	BaseCurrency string            `json:"base_currency"`
	TaxYear      int               `json:"tax_year"`
	From         string            `json:"from"`
	To           string            `json:"to"`
	Partial      bool              `json:"partial" doc:"The year runs past the as-of date."`
	Method       string            `json:"method"`
	Source       string            `json:"source" doc:"recorded or replayed, as for tax.realized_gains."`
	Gains        GainTotals        `json:"gains" doc:"Realised gains and losses by term (losses ≤ 0), before wash-sale adjustments."`
	WashSales    *WashSummary      `json:"wash_sales" doc:"Null when include_wash_sales is false."`
	Income       IncomeTotals      `json:"income"`
	Fees         FeeTotals         `json:"fees"`
	Notes        []string          `json:"notes"`
	Provenance   agents.Provenance `json:"provenance"`
}

// WashSummary sums the year's wash sales.
type WashSummary struct {
	Count               int             `json:"count" doc:"Loss sales that are wash sales."`
	Disallowed          decimal.Decimal `json:"disallowed" doc:"Losses disallowed, positive."`
	DisallowedShortTerm decimal.Decimal `json:"disallowed_short_term"`
	DisallowedLongTerm  decimal.Decimal `json:"disallowed_long_term"`
	ShortTermAfter      decimal.Decimal `json:"short_term_after" doc:"Net short term with the disallowed short-term losses added back."`
	LongTermAfter       decimal.Decimal `json:"long_term_after"`
	NetAfter            decimal.Decimal `json:"net_after" doc:"Net gain with every disallowed loss added back."`
	OpenWindows         int             `json:"open_windows" doc:"Loss sales whose 30-day window ends after the as-of date."`
}

// IncomeTotals is the income received in the year.
type IncomeTotals struct {
	Dividends         int             `json:"dividends" doc:"DIVIDEND transactions."`
	DividendsGross    decimal.Decimal `json:"dividends_gross" doc:"Σ amount × the rate recorded at the pay date."`
	DividendsWithheld decimal.Decimal `json:"dividends_withheld" doc:"Σ withholding (the dividend's fees) × the same rate."`
	DividendsNet      decimal.Decimal `json:"dividends_net" doc:"Σ cash credited in the base currency (gross − withheld)."`
	Interest          int             `json:"interest" doc:"INTEREST transactions."`
	InterestReceived  decimal.Decimal `json:"interest_received" doc:"Σ (amount − fees) × the trade-date rate."`
}

// FeeTotals is the fees paid in the year.
type FeeTotals struct {
	Commissions     decimal.Decimal `json:"commissions" doc:"Fees of BUY, SELL and in-kind transfers × the trade-date rate; already in the gains (cost includes them, proceeds are net of them)."`
	AccountFees     decimal.Decimal `json:"account_fees" doc:"FEE transactions (amount + fees) and the fees of deposits, withdrawals and cash transfers × the trade-date rate."`
	Total           decimal.Decimal `json:"total" doc:"commissions + account_fees (withholding on dividends is in income)."`
	FeeTransactions int             `json:"fee_transactions"`
}

// Summary implements tax.summary.
func (a *Tax) Summary(ctx context.Context, c *agents.Call, in SummaryInput) (SummaryOutput, error) {
	out := SummaryOutput{PortfolioID: in.PortfolioID, Notes: []string{}}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	p, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return out, fmt.Errorf("tax summary: %w", err)
	}
	ty, err := yearOf(in.TaxYear, asOf)
	if err != nil {
		return out, err
	}
	out.BaseCurrency, out.TaxYear, out.From, out.To, out.Partial = p.BaseCurrency, ty.Year, day(ty.From), day(ty.To), ty.Partial
	q := salesQuery{Portfolio: p, Method: methodOf(in.Method, p), Selections: in.LotSelections, From: ty.From, To: ty.To}
	sr, err := loadSales(ctx, c.DB, q)
	if err != nil {
		return out, fmt.Errorf("tax summary of portfolio %s in %d: %w", p.ID, ty.Year, err)
	}
	out.Method, out.Source = string(sr.Method), sr.Source
	out.Notes = append(out.Notes, sr.Notes...)
	rep, err := gainsReport(ctx, c.DB, p.BaseCurrency, sr.Sales)
	if err != nil {
		return out, fmt.Errorf("tax summary of portfolio %s in %d: %w", p.ID, ty.Year, err)
	}
	out.Gains = rep.totals
	if in.IncludeWashSales {
		wy, err := loadWashYear(ctx, c.DB, q, asOf, p.BaseCurrency)
		if err != nil {
			return out, fmt.Errorf("tax summary of portfolio %s in %d: %w", p.ID, ty.Year, err)
		}
		ws := &WashSummary{}
		for _, o := range wy.outcomes {
			w := washSaleOut(o, wy.rates[storage.DatedCurrency{Date: o.Sale.Date, Currency: o.Sale.Currency}].Rate, asOf)
			if w.WindowOpen {
				ws.OpenWindows++
			}
			if len(w.Matches) == 0 {
				continue
			}
			ws.Count++
			ws.Disallowed = ws.Disallowed.Add(w.DisallowedBase)
			for _, m := range w.Matches {
				if m.SoldTerm == TermLong {
					ws.DisallowedLongTerm = ws.DisallowedLongTerm.Add(m.DisallowedLossBase)
				} else {
					ws.DisallowedShortTerm = ws.DisallowedShortTerm.Add(m.DisallowedLossBase)
				}
			}
		}
		ws.ShortTermAfter = out.Gains.ShortTerm.Add(ws.DisallowedShortTerm)
		ws.LongTermAfter = out.Gains.LongTerm.Add(ws.DisallowedLongTerm)
		ws.NetAfter = out.Gains.Net.Add(ws.Disallowed)
		out.WashSales = ws
	}
	if err := a.incomeAndFees(ctx, c.DB, p, ty, &out); err != nil {
		return out, fmt.Errorf("tax summary of portfolio %s in %d: %w", p.ID, ty.Year, err)
	}
	out.Provenance = c.ProvenanceAt("", asOf, gainsMethod(sr)+"; income and fees summed over the year's transactions",
		gainsConvention+"; dividends at the rate the ledger recorded at the pay date; interest and fees at the rate of the newest "+
			"fresh pack on or before the trade date")
	return out, nil
}

// incomeAndFees sums dividends, interest and fees of the year's
// transactions into the base currency.
func (a *Tax) incomeAndFees(ctx context.Context, db storage.Querier, p storage.Portfolio, ty taxYear, out *SummaryOutput) error {
	txs, err := storage.ListTransactions(ctx, db, p.ID, storage.TransactionFilter{From: ty.From, To: ty.To})
	if err != nil {
		return err
	}
	// Dividends carry their recorded rate; the others need the trade
	// date's when they have a figure to convert.
	var need []storage.DatedCurrency
	for _, t := range txs {
		if t.Type != storage.TxDividend && (!t.Fees.IsZero() || t.Type == storage.TxInterest || t.Type == storage.TxFee) {
			need = append(need, storage.DatedCurrency{Date: t.TradeDate, Currency: t.Currency})
		}
	}
	rates, err := storage.FXRatesOnDates(ctx, db, p.BaseCurrency, need)
	if err != nil {
		return err
	}
	inc, fees := &out.Income, &out.Fees
	for _, t := range txs {
		rate := rates[storage.DatedCurrency{Date: t.TradeDate, Currency: t.Currency}].Rate
		inKind := t.SecurityID != uuid.Nil
		switch {
		case t.Type == storage.TxDividend:
			r := decimal.NewFromInt(1)
			switch {
			case t.FXRate.Valid:
				r = t.FXRate.Decimal
			case t.Currency != p.BaseCurrency:
				return fmt.Errorf("dividend %s of %s %s on %s has no recorded rate to %s", t.ID, t.Amount, t.Currency, day(t.TradeDate), p.BaseCurrency)
			}
			inc.Dividends++
			inc.DividendsGross = inc.DividendsGross.Add(t.Amount.Mul(r))
			inc.DividendsWithheld = inc.DividendsWithheld.Add(t.Fees.Mul(r))
			inc.DividendsNet = inc.DividendsNet.Add(t.CashAmount)
		case t.Type == storage.TxInterest:
			inc.Interest++
			inc.InterestReceived = inc.InterestReceived.Add(t.Amount.Sub(t.Fees).Mul(rate))
		case t.Type == storage.TxFee:
			fees.FeeTransactions++
			fees.AccountFees = fees.AccountFees.Add(t.Amount.Add(t.Fees).Mul(rate))
		case t.Type == storage.TxBuy || t.Type == storage.TxSell || ((t.Type == storage.TxTransferIn || t.Type == storage.TxTransferOut) && inKind):
			if !t.Fees.IsZero() {
				fees.Commissions = fees.Commissions.Add(t.Fees.Mul(rate))
			}
		case t.Type == storage.TxSplit:
		default:
			if !t.Fees.IsZero() {
				fees.AccountFees = fees.AccountFees.Add(t.Fees.Mul(rate))
			}
		}
	}
	fees.Total = fees.Commissions.Add(fees.AccountFees)
	return nil
}
