package analyst

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) positionFundamentals() agents.Def {
	return agents.Read(agents.Meta{
		Name: "position.get_fundamentals",
		Description: "The stored annual statements (table fundamentals) of an equity, newest fiscal year first. Fundamentals " +
			"exist only for equities: another security type is invalid_input; an equity without any row is insufficient_data.",
		Reads: []string{"securities", "fundamentals"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData},
	}, a.PositionFundamentals)
}

// FundamentalsInput names a security.
type FundamentalsInput struct {
	SecurityID uuid.UUID `json:"security_id" doc:"The security; it must be an equity."`
	Years      int       `json:"years,omitempty" jsonschema:"minimum=1,maximum=50,default=10" doc:"At most this many fiscal years, the newest."`
}

// FundamentalsYear is one fiscal year's statement lines, in currency; a
// null line was not reported (never 0).
type FundamentalsYear struct {
	FiscalYear         int                 `json:"fiscal_year"`
	PeriodEnd          string              `json:"period_end"`
	Currency           string              `json:"currency"`
	Revenue            decimal.NullDecimal `json:"revenue"`
	GrossProfit        decimal.NullDecimal `json:"gross_profit"`
	OperatingIncome    decimal.NullDecimal `json:"operating_income"`
	NetIncome          decimal.NullDecimal `json:"net_income"`
	InterestExpense    decimal.NullDecimal `json:"interest_expense"`
	TotalAssets        decimal.NullDecimal `json:"total_assets"`
	IntangibleAssets   decimal.NullDecimal `json:"intangible_assets"`
	TotalDebt          decimal.NullDecimal `json:"total_debt"`
	TotalEquity        decimal.NullDecimal `json:"total_equity"`
	CurrentAssets      decimal.NullDecimal `json:"current_assets"`
	CurrentLiabilities decimal.NullDecimal `json:"current_liabilities"`
	OperatingCashFlow  decimal.NullDecimal `json:"operating_cash_flow"`
	CapitalExpenditure decimal.NullDecimal `json:"capital_expenditure"`
	DividendsPaid      decimal.NullDecimal `json:"dividends_paid"`
	SharesOutstanding  decimal.NullDecimal `json:"shares_outstanding"`
	DividendPerShare   decimal.NullDecimal `json:"dividend_per_share"`
	CashAndEquivalents decimal.NullDecimal `json:"cash_and_equivalents"`
	Source             string              `json:"source"`
}

// FundamentalsOutput is an equity's statements.
type FundamentalsOutput struct {
	SecurityID uuid.UUID          `json:"security_id"`
	Symbol     string             `json:"symbol"`
	Years      []FundamentalsYear `json:"years" doc:"Newest fiscal year first."`
	Provenance agents.Provenance  `json:"provenance"`
}

// PositionFundamentals implements position.get_fundamentals.
func (a *Analyst) PositionFundamentals(ctx context.Context, c *agents.Call, in FundamentalsInput) (FundamentalsOutput, error) {
	s, err := storage.GetSecurity(ctx, c.DB, in.SecurityID)
	if err != nil {
		return FundamentalsOutput{}, err
	}
	if s.Type != storage.SecurityEquity {
		return FundamentalsOutput{}, agents.FieldError("security_id", "%s is a %s: fundamentals exist only for equities", s.Symbol, s.Type)
	}
	rows, err := storage.ListFundamentals(ctx, c.DB, s.ID)
	if err != nil {
		return FundamentalsOutput{}, err
	}
	if len(rows) == 0 {
		return FundamentalsOutput{}, agents.InsufficientData("fundamentals of "+s.Symbol, 0, 1)
	}
	if len(rows) > in.Years {
		rows = rows[:in.Years]
	}
	out := FundamentalsOutput{SecurityID: s.ID, Symbol: s.Symbol, Years: []FundamentalsYear{},
		Provenance: c.Provenance("stored annual statements", "amounts in the statement's currency; null lines were not reported")}
	sources := map[string]bool{}
	var srcs []string
	for _, f := range rows {
		out.Years = append(out.Years, fundamentalsYear(f))
		if !sources[f.Source] {
			sources[f.Source] = true
			srcs = append(srcs, f.Source)
		}
	}
	out.Provenance.Source = strings.Join(srcs, ", ")
	return out, nil
}

func fundamentalsYear(f storage.Fundamentals) FundamentalsYear {
	return FundamentalsYear{
		FiscalYear: f.FiscalYear, PeriodEnd: f.PeriodEnd.Format(time.DateOnly), Currency: f.Currency,
		Revenue: f.Revenue, GrossProfit: f.GrossProfit, OperatingIncome: f.OperatingIncome, NetIncome: f.NetIncome,
		InterestExpense: f.InterestExpense, TotalAssets: f.TotalAssets, IntangibleAssets: f.IntangibleAssets,
		TotalDebt: f.TotalDebt, TotalEquity: f.TotalEquity, CurrentAssets: f.CurrentAssets,
		CurrentLiabilities: f.CurrentLiabilities, OperatingCashFlow: f.OperatingCashFlow,
		CapitalExpenditure: f.CapitalExpenditure, DividendsPaid: f.DividendsPaid, SharesOutstanding: f.SharesOutstanding,
		DividendPerShare: f.DividendPerShare, CashAndEquivalents: f.CashAndEquivalents, Source: f.Source,
	}
}
