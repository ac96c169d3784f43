package harvester

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// Statements shared by provider.fetch_fundamentals and fundamentals.load.

// Statement is one fiscal year's statement lines, as stored: a null line
// was not reported. Money is in currency; dividend_per_share per share.
type Statement struct {
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
	CapitalExpenditure decimal.NullDecimal `json:"capital_expenditure" doc:"A positive amount (cash spent)."`
	DividendsPaid      decimal.NullDecimal `json:"dividends_paid" doc:"A positive amount (cash paid)."`
	SharesOutstanding  decimal.NullDecimal `json:"shares_outstanding"`
	DividendPerShare   decimal.NullDecimal `json:"dividend_per_share"`
	CashAndEquivalents decimal.NullDecimal `json:"cash_and_equivalents"`
	Source             string              `json:"source" doc:"Where the row came from: a provider (fmp) or the loader (seed, import)."`
	FetchedAt          *time.Time          `json:"fetched_at" doc:"When it was fetched; null for a loaded row."`
}

// FundamentalsOutput is a security's stored statements, newest first.
type FundamentalsOutput struct {
	SecurityID uuid.UUID   `json:"security_id"`
	Symbol     string      `json:"symbol"`
	Statements []Statement `json:"statements"`
	// Refreshed says whether this call fetched them.
	Refreshed bool `json:"refreshed" doc:"True when this call fetched the statements from the provider."`
	Stale     bool `json:"stale" doc:"True when the statements are older than the provider's staleness (or were never fetched) and could not be refreshed because the provider is not configured."`
	// LastFetched is the provider's last fetch of them, null if never.
	LastFetched *time.Time        `json:"last_fetched"`
	Note        string            `json:"note,omitempty"`
	Provenance  agents.Provenance `json:"provenance"`
}

func statementOut(f storage.StoredFundamentals) Statement {
	return Statement{FiscalYear: f.FiscalYear, PeriodEnd: f.PeriodEnd.Format(time.DateOnly), Currency: f.Currency,
		Revenue: f.Revenue, GrossProfit: f.GrossProfit, OperatingIncome: f.OperatingIncome, NetIncome: f.NetIncome,
		InterestExpense: f.InterestExpense, TotalAssets: f.TotalAssets, IntangibleAssets: f.IntangibleAssets,
		TotalDebt: f.TotalDebt, TotalEquity: f.TotalEquity, CurrentAssets: f.CurrentAssets,
		CurrentLiabilities: f.CurrentLiabilities, OperatingCashFlow: f.OperatingCashFlow,
		CapitalExpenditure: f.CapitalExpenditure, DividendsPaid: f.DividendsPaid, SharesOutstanding: f.SharesOutstanding,
		DividendPerShare: f.DividendPerShare, CashAndEquivalents: f.CashAndEquivalents, Source: f.Source, FetchedAt: optTime(f.FetchedAt)}
}

// statementsMode says what to do when the stored statements are stale and
// the provider has no key.
type statementsMode int

const (
	// mustFetch: provider.fetch_fundamentals fails with
	// provider_not_configured.
	mustFetch statementsMode = iota
	// storedWillDo: fundamentals.load answers from stored statements and
	// fails only when there are none.
	storedWillDo
)

// statements answers from the stored statements of a security while the
// last FMP fetch of them is fresh; otherwise it fetches them (no
// transaction open), upserts them with the fetch log, and answers from the
// stored rows. years bounds the statements returned (newest first).
func (a *Harvester) statements(ctx context.Context, c *agents.Call, id uuid.UUID, years int, mode statementsMode) (FundamentalsOutput, error) {
	pc := a.client(agents.ProviderFMP)
	var sec storage.Security
	var stored []storage.StoredFundamentals
	var last map[string]time.Time
	read := func(q storage.Querier) error {
		var err error
		if sec, err = storage.GetSecurity(ctx, q, id); err != nil {
			return err
		}
		if last, err = storage.LastFetches(ctx, q, agents.ProviderFMP, "fundamentals", []string{id.String()}); err != nil {
			return err
		}
		stored, err = storage.ListStoredFundamentals(ctx, q, id)
		return err
	}
	if err := c.Read(ctx, read); err != nil {
		return FundamentalsOutput{}, err
	}
	at, ok := last[id.String()]
	out := FundamentalsOutput{SecurityID: sec.ID, Symbol: sec.Symbol, Statements: []Statement{}}
	if ok {
		t := at.UTC()
		out.LastFetched = &t
	}
	out.Provenance = c.Provenance("stored annual statements; fetched from FMP (income, balance-sheet and cash-flow statements, annual) when missing or older than its staleness",
		"amounts in the statement's currency as reported; capital expenditure and dividends paid as positive amounts; "+
			"dividend per share of fetched rows = dividends paid / weighted average shares")
	out.Provenance.Source = agents.ProviderFMP
	fresh := a.fresh(pc, at, ok)
	if !fresh || len(stored) == 0 {
		if err := pc.Ready(); err != nil {
			if mode == mustFetch || len(stored) == 0 {
				if len(stored) == 0 {
					return out, agents.Errorf(agents.CodeProviderNotConfigured, "%s has no stored fundamentals, and %s", sec.Symbol, err.(*agents.Error).Message)
				}
				return out, err
			}
			out.Stale = true
			out.Note = "the stored statements were not refreshed: " + err.(*agents.Error).Message
		} else {
			rows, fetchedAt, err := fetchFMPFundamentals(ctx, pc, sec, years)
			var ae *agents.Error
			if err != nil && mode == storedWillDo && len(stored) > 0 && errors.As(err, &ae) && ae.Code == agents.CodeNotFound {
				// The provider has no statements of a security whose
				// loaded ones are stored: they answer, marked stale.
				out.Stale, out.Note = true, "the stored statements were not refreshed: "+ae.Message
				rows = nil
			} else if err != nil {
				return out, err
			}
			err = c.Write(ctx, func(q storage.Querier) error {
				if err := storage.UpsertFetchedFundamentals(ctx, q, rows, fetchedAt); err != nil {
					return err
				}
				if err := storage.RecordFetch(ctx, q, agents.ProviderFMP, "fundamentals", id.String(), fetchedAt, len(rows)); err != nil {
					return err
				}
				return read(q)
			})
			if err != nil {
				return out, err
			}
			if !out.Stale {
				t := fetchedAt.UTC()
				out.LastFetched, out.Refreshed = &t, true
			}
		}
	}
	for i, f := range stored {
		if i >= years {
			break
		}
		out.Statements = append(out.Statements, statementOut(f))
	}
	return out, nil
}
