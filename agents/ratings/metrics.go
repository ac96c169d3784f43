package ratings

import (
	"fmt"
	"math"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

// How each metric a rubric names is measured from the statements. The
// rubric says which metrics count, with what weight and thresholds; this
// file only says what the metric's figure is. A line that is not reported
// (NULL) is insufficient_data naming the line and the fiscal year, never a
// zero. A ratio whose denominator is zero is unbounded (±Inf, by the sign
// of its numerator) and meets the bands as such; 0/0 has no value and is
// insufficient_data. Where a negative denominator would turn a ratio's
// meaning round (a payout out of a loss, leverage on negative equity), the
// metric is unbounded on its bad side, and the component's note says so.

// statements are the fiscal years a rating reads: newest (the rated year)
// first, consecutive.
type statements struct {
	symbol string
	years  []storage.Fundamentals
}

// LineInput is one statement line a metric read.
type LineInput struct {
	Line       string          `json:"line" doc:"The fundamentals column."`
	FiscalYear int             `json:"fiscal_year"`
	Value      decimal.Decimal `json:"value" doc:"In the statement's currency (per share for dividend_per_share)."`
}

// YearValue is a metric's per-year figure, for metrics over several years.
type YearValue struct {
	FiscalYear int     `json:"fiscal_year"`
	Value      float64 `json:"value"`
}

// measured is a metric's figure with what it was computed from.
type measured struct {
	value  float64 // ±Inf when unbounded
	inputs []LineInput
	series []YearValue
	note   string
}

type metricFunc func(s statements, m *measured) error

// metricDefs maps each rating (rubric name) to the metrics its rubric may
// name.
var metricDefs = map[string]map[string]metricFunc{
	storage.RatingDividendSafety: {
		"payout_ratio":           payoutRatio,
		"fcf_coverage":           fcfCoverage,
		"dividend_growth_streak": dividendGrowthStreak,
		"net_cash_to_assets":     netCashToAssets,
	},
	storage.RatingMoatStrength: {
		"roe":                   returnOnEquity,
		"gross_margin":          grossMargin,
		"intangibles_to_assets": intangiblesToAssets,
		"switching_costs":       switchingCosts,
	},
	storage.RatingResilience: {
		"debt_to_equity":             debtToEquity,
		"interest_coverage":          interestCoverage,
		"current_ratio":              currentRatio,
		"operating_margin_stability": operatingMarginStability,
	},
}

// lineOf reads the statement lines by column name.
var lineOf = map[string]func(f storage.Fundamentals) decimal.NullDecimal{
	"revenue":              func(f storage.Fundamentals) decimal.NullDecimal { return f.Revenue },
	"gross_profit":         func(f storage.Fundamentals) decimal.NullDecimal { return f.GrossProfit },
	"operating_income":     func(f storage.Fundamentals) decimal.NullDecimal { return f.OperatingIncome },
	"net_income":           func(f storage.Fundamentals) decimal.NullDecimal { return f.NetIncome },
	"interest_expense":     func(f storage.Fundamentals) decimal.NullDecimal { return f.InterestExpense },
	"total_assets":         func(f storage.Fundamentals) decimal.NullDecimal { return f.TotalAssets },
	"intangible_assets":    func(f storage.Fundamentals) decimal.NullDecimal { return f.IntangibleAssets },
	"total_debt":           func(f storage.Fundamentals) decimal.NullDecimal { return f.TotalDebt },
	"total_equity":         func(f storage.Fundamentals) decimal.NullDecimal { return f.TotalEquity },
	"current_assets":       func(f storage.Fundamentals) decimal.NullDecimal { return f.CurrentAssets },
	"current_liabilities":  func(f storage.Fundamentals) decimal.NullDecimal { return f.CurrentLiabilities },
	"operating_cash_flow":  func(f storage.Fundamentals) decimal.NullDecimal { return f.OperatingCashFlow },
	"capital_expenditure":  func(f storage.Fundamentals) decimal.NullDecimal { return f.CapitalExpenditure },
	"dividends_paid":       func(f storage.Fundamentals) decimal.NullDecimal { return f.DividendsPaid },
	"dividend_per_share":   func(f storage.Fundamentals) decimal.NullDecimal { return f.DividendPerShare },
	"cash_and_equivalents": func(f storage.Fundamentals) decimal.NullDecimal { return f.CashAndEquivalents },
}

// line reads a line of the k-th year (0: the rated year) and records it
// as an input; a line not reported is insufficient_data naming it.
func (s statements) line(k int, name string, m *measured) (decimal.Decimal, error) {
	f := s.years[k]
	v := lineOf[name](f)
	if !v.Valid {
		return decimal.Zero, agents.Errorf(agents.CodeInsufficientData,
			"fundamentals of %s: line %s of fiscal year %d is not reported", s.symbol, name, f.FiscalYear)
	}
	m.inputs = append(m.inputs, LineInput{Line: name, FiscalYear: f.FiscalYear, Value: v.Decimal})
	return v.Decimal, nil
}

// lines reads several lines of the k-th year.
func (s statements) lines(k int, m *measured, names ...string) ([]decimal.Decimal, error) {
	out := make([]decimal.Decimal, len(names))
	for i, n := range names {
		v, err := s.line(k, n, m)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// undefined is the error of a ratio that has no value in a fiscal year.
func (s statements) undefined(k int, format string, args ...any) error {
	return agents.Errorf(agents.CodeInsufficientData, "fundamentals of %s, fiscal year %d: %s",
		s.symbol, s.years[k].FiscalYear, fmt.Sprintf(format, args...))
}

// ratioDigits is the precision of the decimal division behind a ratio.
const ratioDigits = 20

// ratio is num/den; with den = 0 it is ±Inf by the sign of num, and NaN
// (no value) when num is 0 too.
func ratio(num, den decimal.Decimal) float64 {
	if den.IsZero() {
		switch num.Sign() {
		case 1:
			return math.Inf(1)
		case -1:
			return math.Inf(-1)
		}
		return math.NaN()
	}
	return num.DivRound(den, ratioDigits).InexactFloat64()
}

// payoutRatio: dividends paid / net income of the rated year. Nothing paid
// is 0 whatever the earnings; a dividend paid out of a net loss is +Inf,
// above every band.
func payoutRatio(s statements, m *measured) error {
	v, err := s.lines(0, m, "dividends_paid", "net_income")
	if err != nil {
		return err
	}
	div, ni := v[0], v[1]
	switch {
	case div.IsZero():
		m.value, m.note = 0, "no dividend paid: the payout ratio is 0"
	case ni.Sign() <= 0:
		m.value, m.note = math.Inf(1), "a dividend paid with net income ≤ 0: the payout exceeds all earnings (unbounded)"
	default:
		m.value = ratio(div, ni)
	}
	return nil
}

// fcfCoverage: (operating cash flow − capital expenditure) / dividends paid.
func fcfCoverage(s statements, m *measured) error {
	v, err := s.lines(0, m, "operating_cash_flow", "capital_expenditure", "dividends_paid")
	if err != nil {
		return err
	}
	fcf := v[0].Sub(v[1])
	m.value = ratio(fcf, v[2])
	switch {
	case math.IsNaN(m.value):
		return s.undefined(0, "free cash flow and dividends paid are both 0, so coverage has no value")
	case math.IsInf(m.value, 1):
		m.note = "no dividend paid and positive free cash flow: coverage is unbounded"
	case math.IsInf(m.value, -1):
		m.note = "no dividend paid and negative free cash flow: coverage is unbounded below"
	}
	return nil
}

// dividendGrowthStreak: the number of consecutive fiscal years, counting
// back from the rated year, whose dividend per share is higher than the
// year before's. It needs two years; when every available year rose, the
// true streak may be longer and the note says so.
func dividendGrowthStreak(s statements, m *measured) error {
	if len(s.years) < 2 {
		return agents.InsufficientData(fmt.Sprintf("consecutive fiscal years of dividend_per_share of %s for a growth streak", s.symbol), len(s.years), 2)
	}
	cur, err := s.line(0, "dividend_per_share", m)
	if err != nil {
		return err
	}
	m.series = []YearValue{{FiscalYear: s.years[0].FiscalYear, Value: cur.InexactFloat64()}}
	streak := 0
	for k := 1; k < len(s.years); k++ {
		prev, err := s.line(k, "dividend_per_share", m)
		if err != nil {
			return err
		}
		m.series = append(m.series, YearValue{FiscalYear: s.years[k].FiscalYear, Value: prev.InexactFloat64()})
		if !cur.GreaterThan(prev) {
			break
		}
		streak++
		cur = prev
	}
	m.value = float64(streak)
	if streak == len(s.years)-1 {
		m.note = fmt.Sprintf("the dividend rose in every one of the %d fiscal years available: the streak may be longer", len(s.years))
	}
	return nil
}

// netCashToAssets: (cash and equivalents − total debt) / total assets.
func netCashToAssets(s statements, m *measured) error {
	v, err := s.lines(0, m, "cash_and_equivalents", "total_debt", "total_assets")
	if err != nil {
		return err
	}
	if !v[2].IsPositive() {
		return s.undefined(0, "total_assets is %s, so net cash to assets has no value", v[2])
	}
	m.value = ratio(v[0].Sub(v[1]), v[2])
	return nil
}

// returnOnEquity: net income / total equity; equity ≤ 0 makes it
// meaningless, scored as unbounded below.
func returnOnEquity(s statements, m *measured) error {
	v, err := s.lines(0, m, "net_income", "total_equity")
	if err != nil {
		return err
	}
	if !v[1].IsPositive() {
		m.value, m.note = math.Inf(-1), "total equity ≤ 0: return on equity is not meaningful (unbounded below)"
		return nil
	}
	m.value = ratio(v[0], v[1])
	return nil
}

// margin is line / revenue of the k-th year; revenue must be positive.
func margin(s statements, k int, line string, m *measured) (float64, error) {
	v, err := s.lines(k, m, line, "revenue")
	if err != nil {
		return 0, err
	}
	if !v[1].IsPositive() {
		return 0, s.undefined(k, "revenue is %s, so %s / revenue has no value", v[1], line)
	}
	return ratio(v[0], v[1]), nil
}

// grossMargin: gross profit / revenue of the rated year.
func grossMargin(s statements, m *measured) error {
	v, err := margin(s, 0, "gross_profit", m)
	m.value = v
	return err
}

// intangiblesToAssets: intangible assets / total assets.
func intangiblesToAssets(s statements, m *measured) error {
	v, err := s.lines(0, m, "intangible_assets", "total_assets")
	if err != nil {
		return err
	}
	if !v[1].IsPositive() {
		return s.undefined(0, "total_assets is %s, so intangibles to assets has no value", v[1])
	}
	m.value = ratio(v[0], v[1])
	return nil
}

// marginStability is the sample standard deviation (ddof 1) of line /
// revenue over every year read; it needs two years.
func marginStability(s statements, line string, m *measured) error {
	if len(s.years) < 2 {
		return agents.InsufficientData(fmt.Sprintf("consecutive fiscal years of %s / revenue of %s for a standard deviation", line, s.symbol), len(s.years), 2)
	}
	xs := make([]float64, len(s.years))
	for k := range s.years {
		v, err := margin(s, k, line, m)
		if err != nil {
			return err
		}
		xs[k] = v
		m.series = append(m.series, YearValue{FiscalYear: s.years[k].FiscalYear, Value: v})
	}
	sd, err := quant.StdDev(xs)
	if err != nil {
		return fmt.Errorf("standard deviation of %s / revenue of %s: %w", line, s.symbol, err)
	}
	m.value = sd
	return nil
}

// switchingCosts is the rubric's proxy for switching costs: the standard
// deviation of gross margin over the fiscal years.
func switchingCosts(s statements, m *measured) error {
	return marginStability(s, "gross_profit", m)
}

// operatingMarginStability: the standard deviation of operating margin
// over the fiscal years.
func operatingMarginStability(s statements, m *measured) error {
	return marginStability(s, "operating_income", m)
}

// debtToEquity: total debt / total equity; debt on equity ≤ 0 is
// unbounded leverage.
func debtToEquity(s statements, m *measured) error {
	v, err := s.lines(0, m, "total_debt", "total_equity")
	if err != nil {
		return err
	}
	switch {
	case v[0].IsZero():
		m.value = 0
	case !v[1].IsPositive():
		m.value, m.note = math.Inf(1), "debt on total equity ≤ 0: leverage is unbounded"
	default:
		m.value = ratio(v[0], v[1])
	}
	return nil
}

// interestCoverage: operating income / interest expense.
func interestCoverage(s statements, m *measured) error {
	v, err := s.lines(0, m, "operating_income", "interest_expense")
	if err != nil {
		return err
	}
	m.value = ratio(v[0], v[1])
	switch {
	case math.IsNaN(m.value):
		return s.undefined(0, "operating income and interest expense are both 0, so interest coverage has no value")
	case math.IsInf(m.value, 0):
		m.note = "no interest expense: coverage is unbounded (by the sign of operating income)"
	}
	return nil
}

// currentRatio: current assets / current liabilities.
func currentRatio(s statements, m *measured) error {
	v, err := s.lines(0, m, "current_assets", "current_liabilities")
	if err != nil {
		return err
	}
	m.value = ratio(v[0], v[1])
	switch {
	case math.IsNaN(m.value):
		return s.undefined(0, "current assets and current liabilities are both 0, so the current ratio has no value")
	case math.IsInf(m.value, 1):
		m.note = "no current liabilities: the current ratio is unbounded"
	}
	return nil
}
