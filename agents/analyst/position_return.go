package analyst

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) positionReturn() agents.Def {
	return agents.Read(agents.Meta{
		Name: "position.compute_return",
		Description: "A held position's return over the last lookback_days pricing packs: split-adjusted price return in the " +
			"local (price) currency, FX return into the base currency and the total in base, with the dividends received " +
			"(from the portfolio's transactions) shown separately and as a total return with income.",
		Reads: []string{"portfolios", "securities", "lots", "transactions", "pricing_packs", "prices", "fx_rates", "corporate_actions"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodeMissingPrice, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.PositionReturn)
}

// PositionLookbackInput names a position and a lookback in pricing packs
// (business days) ending at the run's pack.
type PositionLookbackInput struct {
	PortfolioID  uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	SecurityID   uuid.UUID `json:"security_id" doc:"The security held."`
	LookbackDays int       `json:"lookback_days,omitempty" jsonschema:"minimum=1,maximum=2520,default=252" doc:"Daily returns in the window: the window runs from the pack lookback_days packs before the run's pack to the run's pack (252 = one year)."`
}

// DividendLine is one dividend the portfolio received from the position.
type DividendLine struct {
	Date        string          `json:"date" doc:"Trade (ex or pay) date of the DIVIDEND transaction."`
	Currency    string          `json:"currency"`
	Quantity    decimal.Decimal `json:"quantity" doc:"Shares the dividend was paid on: the transaction's, else the quantity the ledger held on the date."`
	Gross       decimal.Decimal `json:"gross"`
	Withholding decimal.Decimal `json:"withholding" doc:"Tax withheld (the transaction's fees)."`
	Net         decimal.Decimal `json:"net"`
	NetBase     decimal.Decimal `json:"net_base" doc:"Net cash booked in the base currency at the pay-date rate (the transaction's cash amount)."`
	// NetPerStartShare is Net / Quantity × the splits since the window's
	// start: the income of one share held at the start.
	NetPerStartShare float64 `json:"net_per_start_share"`
}

// PositionIncome is the dividends received in the window.
type PositionIncome struct {
	Dividends    int             `json:"dividends"`
	Currency     string          `json:"currency" doc:"Currency of gross, withholding and net: the price currency."`
	Gross        decimal.Decimal `json:"gross"`
	Withholding  decimal.Decimal `json:"withholding"`
	Net          decimal.Decimal `json:"net"`
	NetBase      decimal.Decimal `json:"net_base"`
	IncomeReturn float64         `json:"income_return" doc:"Σ net per start share / start close: net dividends as a fraction of the start price, not reinvested."`
	Payments     []DividendLine  `json:"payments" doc:"Oldest first."`
}

// PositionReturnOutput is a position's return over the window.
type PositionReturnOutput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id"`
	SecurityID    uuid.UUID `json:"security_id"`
	Symbol        string    `json:"symbol"`
	LocalCurrency string    `json:"local_currency" doc:"The currency of the closes."`
	BaseCurrency  string    `json:"base_currency"`
	StartDate     string    `json:"start_date"`
	EndDate       string    `json:"end_date"`
	Days          int       `json:"days" doc:"Daily returns in the window."`
	HeldSince     string    `json:"held_since" doc:"Acquisition date of the oldest open lot; the return is that of one share over the whole window whether or not it was held throughout."`

	StartClose       decimal.Decimal `json:"start_close"`
	EndClose         decimal.Decimal `json:"end_close"`
	SplitFactor      decimal.Decimal `json:"split_factor" doc:"Shares one share held at the start became through splits in the window."`
	PriceReturnLocal float64         `json:"price_return_local" doc:"end_close × split_factor / start_close − 1."`
	StartFXRate      decimal.Decimal `json:"start_fx_rate" doc:"1 local = rate base, at the start."`
	EndFXRate        decimal.Decimal `json:"end_fx_rate"`
	FXReturn         float64         `json:"fx_return" doc:"end_fx_rate / start_fx_rate − 1; 0 for a base-currency security."`
	TotalReturnBase  float64         `json:"total_return_base" doc:"(1 + price_return_local)(1 + fx_return) − 1."`
	// TotalReturnBaseAnnual is set only for a window longer than a year.
	TotalReturnBaseAnnual *float64 `json:"total_return_base_annualised" doc:"Annualised with 365-day years when the window is longer than one calendar year, else null (DOMAIN.md §1)."`

	Income                     PositionIncome    `json:"income"`
	TotalReturnWithIncomeLocal float64           `json:"total_return_with_income_local" doc:"price_return_local + income.income_return."`
	TotalReturnWithIncomeBase  float64           `json:"total_return_with_income_base" doc:"(1 + total_return_with_income_local)(1 + fx_return) − 1: dividends kept in the local currency to the end, not reinvested."`
	Provenance                 agents.Provenance `json:"provenance"`
}

// PositionReturn implements position.compute_return.
func (a *Analyst) PositionReturn(ctx context.Context, c *agents.Call, in PositionLookbackInput) (PositionReturnOutput, error) {
	pack, err := runPack(ctx, c)
	if err != nil {
		return PositionReturnOutput{}, err
	}
	h, err := heldPosition(ctx, c.DB, in.PortfolioID, in.SecurityID, pack.Date)
	if err != nil {
		return PositionReturnOutput{}, err
	}
	dates, err := windowDates(ctx, c.DB, pack.Date, in.LookbackDays)
	if err != nil {
		return PositionReturnOutput{}, err
	}
	us, err := loadUnitSeries(ctx, c.DB, in.PortfolioID, []storage.Security{h.Security}, h.Portfolio.BaseCurrency, dates)
	if err != nil {
		return PositionReturnOutput{}, err
	}
	u := us[h.Security.ID]
	n := len(dates) - 1
	out := PositionReturnOutput{
		PortfolioID: in.PortfolioID, SecurityID: in.SecurityID, Symbol: h.Security.Symbol, LocalCurrency: u.PriceCurrency,
		BaseCurrency: h.Portfolio.BaseCurrency, StartDate: dates[0].Format(time.DateOnly), EndDate: dates[n].Format(time.DateOnly),
		Days: n, HeldSince: h.Position.FirstAcquired.Format(time.DateOnly),
		StartClose: u.Closes[0], EndClose: u.Closes[n], SplitFactor: u.SplitFactor(n), StartFXRate: u.Rates[0], EndFXRate: u.Rates[n],
		Provenance: c.Provenance("close-to-close over the window's pricing packs, split-adjusted (corporate actions, else the ledger's SPLIT transactions); dividends from the portfolio's DIVIDEND transactions",
			"decimal fractions; price return in the price currency, FX return of 1 local in base; total = (1+price)(1+fx) − 1; "+
				"income = net dividends per start share / start close, not reinvested; not annualised up to one year, 365-day years beyond"),
	}
	p0 := u.Closes[0].InexactFloat64()
	out.PriceReturnLocal = u.Closes[n].Mul(out.SplitFactor).InexactFloat64()/p0 - 1
	out.FXReturn = u.Rates[n].InexactFloat64()/u.Rates[0].InexactFloat64() - 1
	out.TotalReturnBase = (1+out.PriceReturnLocal)*(1+out.FXReturn) - 1
	if ann, annual, err := quant.AnnualiseCalendarReturn(out.TotalReturnBase, dates[0], dates[n]); err != nil {
		return PositionReturnOutput{}, err
	} else if annual {
		out.TotalReturnBaseAnnual = &ann
	}

	income, err := positionIncome(ctx, c.DB, h, u)
	if err != nil {
		return PositionReturnOutput{}, err
	}
	out.Income = income
	out.TotalReturnWithIncomeLocal = out.PriceReturnLocal + income.IncomeReturn
	out.TotalReturnWithIncomeBase = (1+out.TotalReturnWithIncomeLocal)*(1+out.FXReturn) - 1
	return out, nil
}

// positionIncome sums the DIVIDEND transactions of the position dated after
// the window's start up to its end.
func positionIncome(ctx context.Context, q storage.Querier, h held, u unitSeries) (PositionIncome, error) {
	first, last := u.Dates[0], u.Dates[len(u.Dates)-1]
	txs, err := securityTxs(ctx, q, h.Portfolio.ID, h.Security.ID, last)
	if err != nil {
		return PositionIncome{}, err
	}
	inc := PositionIncome{Currency: u.PriceCurrency, Payments: []DividendLine{}}
	var divDates []time.Time
	var divs []storage.Transaction
	for _, t := range txs {
		if t.Type == storage.TxDividend && t.TradeDate.After(first) {
			divs = append(divs, t)
			divDates = append(divDates, t.TradeDate)
		}
	}
	held := quantityHeld(txs, divDates)
	p0 := u.Closes[0].InexactFloat64()
	for i, t := range divs {
		if t.Currency != u.PriceCurrency {
			return PositionIncome{}, agents.Errorf(agents.CodeInsufficientData,
				"dividend of %s on %s is in %s and its closes in %s, so it has no income return in the price currency",
				h.Security.Symbol, t.TradeDate.Format(time.DateOnly), t.Currency, u.PriceCurrency)
		}
		qty := t.Quantity
		if !qty.IsPositive() {
			qty = held[i]
		}
		if !qty.IsPositive() {
			return PositionIncome{}, agents.Errorf(agents.CodeInsufficientData,
				"dividend of %s on %s names no quantity and the ledger held none, so it has no amount per share",
				h.Security.Symbol, t.TradeDate.Format(time.DateOnly))
		}
		net := t.Amount.Sub(t.Fees)
		// The splits from the window's start to the last pack on or before
		// the dividend turn a share then into shares now.
		k := 0
		for k+1 < len(u.Dates) && !u.Dates[k+1].After(t.TradeDate) {
			k++
		}
		perStart := net.Div(qty).Mul(u.SplitFactor(k)).InexactFloat64()
		inc.Payments = append(inc.Payments, DividendLine{
			Date: t.TradeDate.Format(time.DateOnly), Currency: t.Currency, Quantity: qty, Gross: t.Amount,
			Withholding: t.Fees, Net: net, NetBase: t.CashAmount, NetPerStartShare: perStart,
		})
		inc.Dividends++
		inc.Gross = inc.Gross.Add(t.Amount)
		inc.Withholding = inc.Withholding.Add(t.Fees)
		inc.Net = inc.Net.Add(net)
		inc.NetBase = inc.NetBase.Add(t.CashAmount)
		inc.IncomeReturn += perStart / p0
	}
	return inc, nil
}
