package harvester

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// Financial Modeling Prep, "stable" API (financialmodelingprep.com/stable):
// every endpoint takes ?symbol= and the key as ?apikey=, and answers a JSON
// array of objects with camelCase fields (an empty array for a symbol it
// does not know). Used: quote, income-statement, balance-sheet-statement,
// cash-flow-statement (period=annual), ratios, dividends, splits,
// earnings.

// fmpSuffixes maps an exchange to FMP's ticker suffix; US exchanges have
// none and write class shares with a hyphen (BRK.B is BRK-B).
var fmpSuffixes = map[string]string{
	"TSX": ".TO", "TSXV": ".V", "LSE": ".L", "XETRA": ".DE", "FRA": ".F", "EURONEXT PARIS": ".PA",
	"EURONEXT AMSTERDAM": ".AS", "SIX": ".SW", "NASDAQ STOCKHOLM": ".ST", "TSE": ".T", "HKEX": ".HK", "ASX": ".AX",
}

// fmpSymbol is a security's ticker at FMP.
func fmpSymbol(s storage.Security) string {
	if suffix, ok := fmpSuffixes[strings.ToUpper(s.Exchange)]; ok {
		return s.Symbol + suffix
	}
	return strings.ReplaceAll(s.Symbol, ".", "-")
}

func fmpRequest(path, symbol string, extra url.Values) agents.ProviderRequest {
	q := url.Values{"symbol": {symbol}}
	for k, v := range extra {
		q[k] = v
	}
	return agents.ProviderRequest{Path: path, Query: q, KeyParam: "apikey"}
}

// dec is a provider number as a decimal, or not reported. Provider numbers
// are decoded as float64 (a JSON number and nothing else); the decimal is
// the shortest one that reads back as the same float, which is the
// number as written for every figure of up to 15 significant digits.
func dec(f *float64) decimal.NullDecimal {
	if f == nil || math.IsNaN(*f) || math.IsInf(*f, 0) {
		return decimal.NullDecimal{}
	}
	return decimal.NewNullDecimal(decimal.NewFromFloat(*f))
}

// absDec is dec of |f|: FMP writes cash outflows (capital expenditure,
// dividends paid) as negative numbers, and the fundamentals table stores
// them as positive amounts.
func absDec(f *float64) decimal.NullDecimal {
	d := dec(f)
	if d.Valid {
		d.Decimal = d.Decimal.Abs()
	}
	return d
}

// nonNegDec is dec of f when f ≥ 0; a negative value of a line the table
// keeps non-negative (interest expense) is not reported rather than
// guessed at.
func nonNegDec(f *float64) decimal.NullDecimal {
	d := dec(f)
	if d.Valid && d.Decimal.IsNegative() {
		return decimal.NullDecimal{}
	}
	return d
}

func positiveDec(f *float64) decimal.NullDecimal {
	d := dec(f)
	if d.Valid && !d.Decimal.IsPositive() {
		return decimal.NullDecimal{}
	}
	return d
}

// fmpQuote is one row of /stable/quote.
type fmpQuote struct {
	Symbol    string   `json:"symbol"`
	Price     *float64 `json:"price"`
	Open      *float64 `json:"open"`
	DayHigh   *float64 `json:"dayHigh"`
	DayLow    *float64 `json:"dayLow"`
	Volume    *float64 `json:"volume"`
	Timestamp *int64   `json:"timestamp"`
}

type fmpQuotes []fmpQuote

func (qs fmpQuotes) Check() error {
	for i, q := range qs {
		if q.Symbol == "" || q.Price == nil || q.Timestamp == nil {
			return fmt.Errorf("quote %d lacks symbol, price or timestamp", i)
		}
		if *q.Price < 0 {
			return fmt.Errorf("quote %d has a negative price", i)
		}
	}
	return nil
}

// quote is a fetched close with its trading date.
type quote struct {
	price  storage.Price
	date   time.Time
	symbol string
}

func fetchFMPQuote(ctx context.Context, c *agents.ProviderClient, s storage.Security) (quote, time.Time, error) {
	sym := fmpSymbol(s)
	var qs fmpQuotes
	resp, err := c.GetJSON(ctx, fmpRequest("/stable/quote", sym, nil), &qs)
	if err != nil {
		return quote{}, time.Time{}, fmt.Errorf("quote of %s (%s): %w", s.Symbol, sym, err)
	}
	if len(qs) == 0 {
		return quote{}, time.Time{}, agents.Errorf(agents.CodeNotFound, "provider fmp has no quote of %s (%s)", s.Symbol, sym)
	}
	q := qs[0]
	// The timestamp is the last trade's, in Unix seconds; its UTC date is
	// the trading day of every exchange FMP lists (they close before
	// midnight UTC).
	at := time.Unix(*q.Timestamp, 0).UTC()
	return quote{symbol: sym, date: time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC), price: storage.Price{
		SecurityID: s.ID, Close: decimal.NewFromFloat(*q.Price), Open: nonNegDec(q.Open), High: nonNegDec(q.DayHigh),
		Low: nonNegDec(q.DayLow), Volume: nonNegDec(q.Volume), Currency: s.Currency,
	}}, resp.FetchedAt, nil
}

// fmpStatementKey is what every statement row of FMP carries.
type fmpStatementKey struct {
	Date             string `json:"date"`
	FiscalYear       string `json:"fiscalYear"`
	Period           string `json:"period"`
	ReportedCurrency string `json:"reportedCurrency"`
}

func (k fmpStatementKey) check(i int) error {
	if _, err := time.Parse(time.DateOnly, k.Date); err != nil {
		return fmt.Errorf("row %d: date %q is not YYYY-MM-DD", i, k.Date)
	}
	if y, err := strconv.Atoi(k.FiscalYear); err != nil || y < 1900 || y > 2200 {
		return fmt.Errorf("row %d: fiscalYear %q is not a year", i, k.FiscalYear)
	}
	return nil
}

type fmpIncome struct {
	fmpStatementKey
	Revenue               *float64 `json:"revenue"`
	GrossProfit           *float64 `json:"grossProfit"`
	OperatingIncome       *float64 `json:"operatingIncome"`
	InterestExpense       *float64 `json:"interestExpense"`
	NetIncome             *float64 `json:"netIncome"`
	WeightedAverageShsOut *float64 `json:"weightedAverageShsOut"`
}

type fmpBalance struct {
	fmpStatementKey
	CashAndCashEquivalents  *float64 `json:"cashAndCashEquivalents"`
	TotalCurrentAssets      *float64 `json:"totalCurrentAssets"`
	IntangibleAssets        *float64 `json:"intangibleAssets"`
	TotalAssets             *float64 `json:"totalAssets"`
	TotalCurrentLiabilities *float64 `json:"totalCurrentLiabilities"`
	TotalDebt               *float64 `json:"totalDebt"`
	TotalStockholdersEquity *float64 `json:"totalStockholdersEquity"`
}

type fmpCashFlow struct {
	fmpStatementKey
	OperatingCashFlow   *float64 `json:"operatingCashFlow"`
	CapitalExpenditure  *float64 `json:"capitalExpenditure"`
	CommonDividendsPaid *float64 `json:"commonDividendsPaid"`
}

type fmpIncomes []fmpIncome
type fmpBalances []fmpBalance
type fmpCashFlows []fmpCashFlow

func (r fmpIncomes) Check() error {
	return checkKeys(len(r), func(i int) fmpStatementKey { return r[i].fmpStatementKey })
}
func (r fmpBalances) Check() error {
	return checkKeys(len(r), func(i int) fmpStatementKey { return r[i].fmpStatementKey })
}
func (r fmpCashFlows) Check() error {
	return checkKeys(len(r), func(i int) fmpStatementKey { return r[i].fmpStatementKey })
}

func checkKeys(n int, key func(int) fmpStatementKey) error {
	for i := range n {
		if err := key(i).check(i); err != nil {
			return err
		}
	}
	return nil
}

// fetchFMPFundamentals fetches the annual income, balance-sheet and
// cash-flow statements of the last years fiscal years and joins them by
// fiscal year into fundamentals rows (source "fmp"). A line a statement
// does not report, or a statement missing for a year, is NULL. The
// dividend per share is derived: common dividends paid / weighted average
// shares outstanding, to 6 decimals, when both are reported.
func fetchFMPFundamentals(ctx context.Context, c *agents.ProviderClient, s storage.Security, years int) ([]storage.Fundamentals, time.Time, error) {
	sym := fmpSymbol(s)
	extra := url.Values{"period": {"annual"}, "limit": {strconv.Itoa(years)}}
	var inc fmpIncomes
	var bal fmpBalances
	var cf fmpCashFlows
	var fetched time.Time
	for _, step := range []struct {
		path string
		into any
	}{{"/stable/income-statement", &inc}, {"/stable/balance-sheet-statement", &bal}, {"/stable/cash-flow-statement", &cf}} {
		resp, err := c.GetJSON(ctx, fmpRequest(step.path, sym, extra), step.into)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("statements of %s (%s): %w", s.Symbol, sym, err)
		}
		fetched = resp.FetchedAt
	}
	if len(inc)+len(bal)+len(cf) == 0 {
		return nil, fetched, agents.Errorf(agents.CodeNotFound, "provider fmp has no annual statements of %s (%s)", s.Symbol, sym)
	}
	rows := map[int]*storage.Fundamentals{}
	row := func(k fmpStatementKey) *storage.Fundamentals {
		y, _ := strconv.Atoi(k.FiscalYear)
		r, ok := rows[y]
		if !ok {
			pe, _ := time.Parse(time.DateOnly, k.Date)
			ccy := strings.ToUpper(k.ReportedCurrency)
			if len(ccy) != 3 {
				ccy = s.Currency
			}
			r = &storage.Fundamentals{SecurityID: s.ID, FiscalYear: y, PeriodEnd: pe, Currency: ccy, Source: agents.ProviderFMP}
			rows[y] = r
		}
		return r
	}
	for _, i := range inc {
		r := row(i.fmpStatementKey)
		r.Revenue, r.GrossProfit, r.OperatingIncome, r.NetIncome = dec(i.Revenue), dec(i.GrossProfit), dec(i.OperatingIncome), dec(i.NetIncome)
		r.InterestExpense, r.SharesOutstanding = nonNegDec(i.InterestExpense), positiveDec(i.WeightedAverageShsOut)
	}
	for _, b := range bal {
		r := row(b.fmpStatementKey)
		r.CashAndEquivalents, r.CurrentAssets, r.IntangibleAssets = nonNegDec(b.CashAndCashEquivalents), nonNegDec(b.TotalCurrentAssets), nonNegDec(b.IntangibleAssets)
		r.TotalAssets, r.CurrentLiabilities, r.TotalDebt = nonNegDec(b.TotalAssets), nonNegDec(b.TotalCurrentLiabilities), nonNegDec(b.TotalDebt)
		r.TotalEquity = dec(b.TotalStockholdersEquity)
	}
	for _, f := range cf {
		r := row(f.fmpStatementKey)
		r.OperatingCashFlow, r.CapitalExpenditure, r.DividendsPaid = dec(f.OperatingCashFlow), absDec(f.CapitalExpenditure), absDec(f.CommonDividendsPaid)
	}
	out := make([]storage.Fundamentals, 0, len(rows))
	for _, r := range rows {
		if r.DividendsPaid.Valid && r.SharesOutstanding.Valid {
			r.DividendPerShare = decimal.NewNullDecimal(r.DividendsPaid.Decimal.DivRound(r.SharesOutstanding.Decimal, 6))
		}
		out = append(out, *r)
	}
	sortFundamentals(out)
	return out, fetched, nil
}

type fmpRatio struct {
	fmpStatementKey
	GrossProfitMargin     *float64 `json:"grossProfitMargin"`
	OperatingProfitMargin *float64 `json:"operatingProfitMargin"`
	NetProfitMargin       *float64 `json:"netProfitMargin"`
	CurrentRatio          *float64 `json:"currentRatio"`
	DebtToEquityRatio     *float64 `json:"debtToEquityRatio"`
	InterestCoverageRatio *float64 `json:"interestCoverageRatio"`
	DividendPayoutRatio   *float64 `json:"dividendPayoutRatio"`
	DividendYield         *float64 `json:"dividendYield"`
}

type fmpRatios []fmpRatio

func (r fmpRatios) Check() error {
	return checkKeys(len(r), func(i int) fmpStatementKey { return r[i].fmpStatementKey })
}

// finite drops NaN and infinities, which the table refuses and which are
// not a reported figure.
func finite(f *float64) *float64 {
	if f == nil || math.IsNaN(*f) || math.IsInf(*f, 0) {
		return nil
	}
	return f
}

func fetchFMPRatios(ctx context.Context, c *agents.ProviderClient, s storage.Security, years int) ([]storage.FundamentalRatios, error) {
	sym := fmpSymbol(s)
	var rs fmpRatios
	resp, err := c.GetJSON(ctx, fmpRequest("/stable/ratios", sym, url.Values{"period": {"annual"}, "limit": {strconv.Itoa(years)}}), &rs)
	if err != nil {
		return nil, fmt.Errorf("ratios of %s (%s): %w", s.Symbol, sym, err)
	}
	if len(rs) == 0 {
		return nil, agents.Errorf(agents.CodeNotFound, "provider fmp has no annual ratios of %s (%s)", s.Symbol, sym)
	}
	out := make([]storage.FundamentalRatios, 0, len(rs))
	seen := map[int]bool{}
	for _, r := range rs {
		y, _ := strconv.Atoi(r.FiscalYear)
		if seen[y] {
			continue
		}
		seen[y] = true
		pe, _ := time.Parse(time.DateOnly, r.Date)
		var ccy *string
		if c := strings.ToUpper(r.ReportedCurrency); len(c) == 3 {
			ccy = &c
		}
		out = append(out, storage.FundamentalRatios{
			SecurityID: s.ID, FiscalYear: y, PeriodEnd: pe, Currency: ccy,
			GrossMargin: finite(r.GrossProfitMargin), OperatingMargin: finite(r.OperatingProfitMargin),
			NetMargin: finite(r.NetProfitMargin), CurrentRatio: finite(r.CurrentRatio), DebtToEquity: finite(r.DebtToEquityRatio),
			InterestCoverage: finite(r.InterestCoverageRatio), PayoutRatio: finite(r.DividendPayoutRatio),
			DividendYield: finite(r.DividendYield), Source: agents.ProviderFMP, FetchedAt: resp.FetchedAt,
		})
	}
	return out, nil
}

// fmpDividend is one row of /stable/dividends: date is the ex-date;
// recordDate and paymentDate are "" when not announced.
type fmpDividend struct {
	Date        string   `json:"date"`
	RecordDate  string   `json:"recordDate"`
	PaymentDate string   `json:"paymentDate"`
	Dividend    *float64 `json:"dividend"`
}

type fmpDividends []fmpDividend

func (ds fmpDividends) Check() error {
	for i, d := range ds {
		if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
			return fmt.Errorf("dividend %d: date %q is not YYYY-MM-DD", i, d.Date)
		}
	}
	return nil
}

// fmpSplit is one row of /stable/splits: numerator new shares for
// denominator old ones, effective on date.
type fmpSplit struct {
	Date        string   `json:"date"`
	Numerator   *float64 `json:"numerator"`
	Denominator *float64 `json:"denominator"`
}

type fmpSplits []fmpSplit

func (ss fmpSplits) Check() error {
	for i, s := range ss {
		if _, err := time.Parse(time.DateOnly, s.Date); err != nil {
			return fmt.Errorf("split %d: date %q is not YYYY-MM-DD", i, s.Date)
		}
		if s.Numerator == nil || s.Denominator == nil || *s.Numerator <= 0 || *s.Denominator <= 0 {
			return fmt.Errorf("split %d lacks a positive numerator and denominator", i)
		}
	}
	return nil
}

// fmpEarning is one row of /stable/earnings: the report date.
type fmpEarning struct {
	Date string `json:"date"`
}

type fmpEarnings []fmpEarning

func (es fmpEarnings) Check() error {
	for i, e := range es {
		if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
			return fmt.Errorf("earnings %d: date %q is not YYYY-MM-DD", i, e.Date)
		}
	}
	return nil
}

func optDate(s string) *time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil
	}
	return &t
}

// fetchFMPActions fetches one kind of corporate action of a security. A
// dividend without an amount is skipped (the table requires one); a pay
// date before the ex-date is dropped, not stored.
func fetchFMPActions(ctx context.Context, c *agents.ProviderClient, s storage.Security, kind string) ([]storage.CorporateAction, error) {
	sym := fmpSymbol(s)
	var out []storage.CorporateAction
	switch kind {
	case storage.ActionDividend:
		var ds fmpDividends
		if _, err := c.GetJSON(ctx, fmpRequest("/stable/dividends", sym, nil), &ds); err != nil {
			return nil, fmt.Errorf("dividends of %s (%s): %w", s.Symbol, sym, err)
		}
		for _, d := range ds {
			amt := dec(d.Dividend)
			if !amt.Valid || !amt.Decimal.IsPositive() {
				continue
			}
			ex, _ := time.Parse(time.DateOnly, d.Date)
			pay := optDate(d.PaymentDate)
			if pay != nil && pay.Before(ex) {
				pay = nil
			}
			out = append(out, storage.CorporateAction{SecurityID: s.ID, Symbol: s.Symbol, Type: kind, EventDate: ex,
				RecordDate: optDate(d.RecordDate), PayDate: pay, Amount: amt, Currency: s.Currency, Source: agents.ProviderFMP})
		}
	case storage.ActionSplit:
		var ss fmpSplits
		if _, err := c.GetJSON(ctx, fmpRequest("/stable/splits", sym, nil), &ss); err != nil {
			return nil, fmt.Errorf("splits of %s (%s): %w", s.Symbol, sym, err)
		}
		for _, sp := range ss {
			d, _ := time.Parse(time.DateOnly, sp.Date)
			ratio := decimal.NewFromFloat(*sp.Numerator).DivRound(decimal.NewFromFloat(*sp.Denominator), 10)
			out = append(out, storage.CorporateAction{SecurityID: s.ID, Symbol: s.Symbol, Type: kind, EventDate: d,
				Ratio: decimal.NewNullDecimal(ratio), Source: agents.ProviderFMP})
		}
	case storage.ActionEarnings:
		var es fmpEarnings
		if _, err := c.GetJSON(ctx, fmpRequest("/stable/earnings", sym, nil), &es); err != nil {
			return nil, fmt.Errorf("earnings dates of %s (%s): %w", s.Symbol, sym, err)
		}
		for _, e := range es {
			d, _ := time.Parse(time.DateOnly, e.Date)
			out = append(out, storage.CorporateAction{SecurityID: s.ID, Symbol: s.Symbol, Type: kind, EventDate: d, Source: agents.ProviderFMP})
		}
	default:
		return nil, errors.New("unknown corporate action kind " + kind)
	}
	return dedupeActions(out), nil
}

// dedupeActions keeps the first action of each (type, event date), the
// table's key.
func dedupeActions(in []storage.CorporateAction) []storage.CorporateAction {
	seen := map[string]bool{}
	out := in[:0]
	for _, a := range in {
		k := a.Type + a.EventDate.Format(time.DateOnly)
		if !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	return out
}
