package seed

import (
	"math"
	"math/rand/v2"

	"github.com/dawsos/dawsos/storage"
)

// Factor names, in the order of the position_factor_betas columns and of
// every factor vector in this package: the analytics' factor model
// (storage.Factors), which the demo prices are drawn from.
const (
	FactorRealRates  = storage.FactorRealRates
	FactorInflation  = storage.FactorInflation
	FactorCredit     = storage.FactorCredit
	FactorUSD        = storage.FactorUSD
	FactorEquity     = storage.FactorEquity
	FactorCommodity  = storage.FactorCommodity
	FactorVolatility = storage.FactorVolatility
)

// nFactors is the number of factors of the model.
const nFactors = 7

// FactorNames lists the factors in model order.
var FactorNames = [nFactors]string{FactorRealRates, FactorInflation, FactorCredit, FactorUSD, FactorEquity, FactorCommodity, FactorVolatility}

// FactorDef says how a factor's daily value is read back from the macro
// series the seed writes (storage.FactorDef).
type FactorDef = storage.FactorDef

// Factors maps every factor to its series; the daily series carry one
// observation per business day, the same days as the pricing packs.
var Factors = storage.Factors

// secSpec describes one demo security: its static row, where its
// simulated price starts, and the parameters of its return model.
type secSpec struct {
	Symbol, Name, Type, Exchange, Currency, Sector, Industry, Country string
	Benchmark                                                         bool
	// Price is the simulated close on the first simulated day.
	Price float64
	// Betas are the template betas before the seeded jitter.
	Betas [nFactors]float64
	// IdioVol is the daily standard deviation of the idiosyncratic return.
	IdioVol float64
	// AlphaAnn is the annual drift not explained by the factors.
	AlphaAnn float64
	// DivYield is the annual dividend over Price; DivFreq payments a year
	// (0 pays none).
	DivYield float64
	DivFreq  int
	// SharesM (millions) and PE size the fundamentals of an equity.
	SharesM float64
	PE      float64
}

// b builds a beta vector in model order.
func b(rr, inf, cr, usd, eq, com, vol float64) [nFactors]float64 {
	return [nFactors]float64{rr, inf, cr, usd, eq, com, vol}
}

// universe is the demo security list. Everything about it except the
// symbols, names and classifications is synthetic.
//
// BTI is the NYSE-listed ADR of British American Tobacco: it trades in USD
// (country GB), so its closes, lots and dividends are in USD. EVO is listed
// in EUR as in the original demo portfolio. LSE closes are in pounds, not
// pence; Tokyo closes are in yen.
var universe = []secSpec{
	// CAD
	{"CNR", "Canadian National Railway", "EQUITY", "TSX", "CAD", "Industrials", "Railroads", "CA", false, 150, b(-4, 0.5, -4, 0.1, 0.8, 0.1, -0.02), 0.012, 0.03, 0.021, 4, 640, 19},
	{"BAM", "Brookfield Asset Management", "EQUITY", "TSX", "CAD", "Financials", "Asset Management", "CA", false, 50, b(-5, 0.5, -8, 0, 1.3, 0, -0.03), 0.017, 0.04, 0.032, 4, 410, 28},
	{"BBUC", "Brookfield Business Corporation", "EQUITY", "TSX", "CAD", "Industrials", "Conglomerates", "CA", false, 30, b(-3, 0.5, -7, 0, 1.2, 0.1, -0.03), 0.019, 0.0, 0.008, 4, 73, 15},
	{"RY", "Royal Bank of Canada", "EQUITY", "TSX", "CAD", "Financials", "Banks", "CA", false, 130, b(2, 0.5, -9, 0, 1.0, 0, -0.02), 0.011, 0.02, 0.041, 4, 1410, 12},
	{"ENB", "Enbridge", "EQUITY", "TSX", "CAD", "Energy", "Oil & Gas Midstream", "CA", false, 50, b(-5, 1.5, -4, 0.1, 0.6, 0.2, -0.01), 0.011, 0.01, 0.066, 4, 2120, 17},
	{"SHOP", "Shopify", "EQUITY", "TSX", "CAD", "Technology", "Software", "CA", false, 90, b(-12, -1, -8, 0, 1.8, 0, -0.05), 0.026, 0.03, 0, 0, 1290, 70},
	{"XIU", "iShares S&P/TSX 60 Index ETF", "ETF", "TSX", "CAD", "Broad Market", "Index Fund", "CA", true, 33, b(-2, 0.5, -3, 0.05, 0.85, 0.15, 0), 0.003, 0.0, 0.029, 4, 0, 0},
	{"PSA", "Purpose High Interest Savings Fund", "CASH", "TSX", "CAD", "Cash", "Money Market", "CA", false, 50, b(0, 0, 0, 0, 0, 0, 0), 0.00002, 0.04, 0, 0, 0, 0},
	// USD
	{"BRK.B", "Berkshire Hathaway Class B", "EQUITY", "NYSE", "USD", "Financials", "Insurance", "US", false, 420, b(0, 0.5, -4, -0.1, 0.85, 0.05, -0.01), 0.010, 0.02, 0, 0, 1300, 22},
	{"BTI", "British American Tobacco ADR", "EQUITY", "NYSE", "USD", "Consumer Staples", "Tobacco", "GB", false, 33, b(-3, 0.5, -3, -0.5, 0.5, 0, -0.01), 0.013, -0.01, 0.085, 4, 2230, 8},
	{"NKE", "Nike", "EQUITY", "NYSE", "USD", "Consumer Discretionary", "Footwear & Apparel", "US", false, 95, b(-6, -1, -5, -0.4, 1.0, -0.05, -0.02), 0.016, -0.03, 0.016, 4, 1500, 26},
	{"PYPL", "PayPal Holdings", "EQUITY", "NASDAQ", "USD", "Financials", "Payments", "US", false, 65, b(-9, -0.5, -7, -0.2, 1.35, 0, -0.03), 0.021, -0.02, 0, 0, 1050, 16},
	{"HHC", "Howard Hughes Holdings", "EQUITY", "NYSE", "USD", "Real Estate", "Real Estate Development", "US", false, 75, b(-8, 0.5, -8, 0, 1.2, 0, -0.03), 0.018, 0.0, 0, 0, 50, 30},
	{"AAPL", "Apple", "EQUITY", "NASDAQ", "USD", "Technology", "Consumer Electronics", "US", false, 190, b(-7, -0.5, -4, -0.3, 1.15, 0, -0.03), 0.012, 0.04, 0.005, 4, 15300, 29},
	{"MSFT", "Microsoft", "EQUITY", "NASDAQ", "USD", "Technology", "Software", "US", false, 400, b(-8, -0.5, -4, -0.3, 1.1, 0, -0.03), 0.011, 0.05, 0.008, 4, 7430, 33},
	{"NVDA", "NVIDIA", "EQUITY", "NASDAQ", "USD", "Technology", "Semiconductors", "US", false, 220, b(-12, -1, -6, -0.2, 1.9, 0, -0.05), 0.024, 0.15, 0.0004, 4, 2450, 45},
	{"JPM", "JPMorgan Chase", "EQUITY", "NYSE", "USD", "Financials", "Banks", "US", false, 190, b(3, 0.5, -10, 0, 1.1, 0, -0.02), 0.012, 0.03, 0.025, 4, 2870, 12},
	{"XOM", "Exxon Mobil", "EQUITY", "NYSE", "USD", "Energy", "Oil & Gas Integrated", "US", false, 110, b(-1, 2, -3, -0.2, 0.7, 0.45, -0.01), 0.013, 0.01, 0.035, 4, 3970, 13},
	{"JNJ", "Johnson & Johnson", "EQUITY", "NYSE", "USD", "Health Care", "Pharmaceuticals", "US", false, 155, b(-3, 0, -2, -0.3, 0.55, 0, -0.01), 0.009, 0.0, 0.031, 4, 2410, 15},
	{"SPY", "SPDR S&P 500 ETF Trust", "ETF", "NYSE Arca", "USD", "Broad Market", "Index Fund", "US", true, 500, b(0, 0, 0, 0, 1.0, 0, 0), 0.0004, 0.0, 0.013, 4, 0, 0},
	{"IEF", "iShares 7-10 Year Treasury Bond ETF", "ETF", "NASDAQ", "USD", "Fixed Income", "Government Bonds", "US", false, 95, b(-7.5, -7.5, 0, 0, 0, 0, 0), 0.0005, 0.035, 0.034, 12, 0, 0},
	{"GLD", "SPDR Gold Shares", "ETF", "NYSE Arca", "USD", "Commodities", "Gold", "US", false, 210, b(-12, 2, 0, -0.6, 0.05, 0.25, 0), 0.006, 0.0, 0, 0, 0, 0},
	// EUR
	{"EVO", "Evolution", "EQUITY", "Nasdaq Stockholm", "EUR", "Consumer Discretionary", "Casinos & Gaming", "SE", false, 100, b(-6, 0, -5, 0.2, 1.0, 0, -0.03), 0.019, -0.02, 0.027, 1, 210, 18},
	{"SAP", "SAP", "EQUITY", "XETRA", "EUR", "Technology", "Software", "DE", false, 180, b(-8, -0.5, -4, 0.2, 1.05, 0, -0.03), 0.013, 0.05, 0.012, 1, 1170, 40},
	{"ASML", "ASML Holding", "EQUITY", "Euronext Amsterdam", "EUR", "Technology", "Semiconductor Equipment", "NL", false, 700, b(-10, -0.5, -5, 0.25, 1.4, 0, -0.04), 0.019, 0.04, 0.009, 4, 394, 38},
	{"EXW1", "iShares Core EURO STOXX 50 UCITS ETF", "ETF", "XETRA", "EUR", "Broad Market", "Index Fund", "DE", true, 48, b(-2, 0.5, -4, 0.2, 0.9, 0.05, -0.01), 0.004, 0.0, 0.03, 4, 0, 0},
	// GBP
	{"SHEL", "Shell", "EQUITY", "LSE", "GBP", "Energy", "Oil & Gas Integrated", "GB", false, 27, b(-1, 2, -3, 0.2, 0.7, 0.45, -0.01), 0.013, 0.01, 0.04, 4, 6300, 9},
	{"AZN", "AstraZeneca", "EQUITY", "LSE", "GBP", "Health Care", "Pharmaceuticals", "GB", false, 110, b(-3, 0, -2, 0.2, 0.55, 0, -0.01), 0.012, 0.03, 0.02, 2, 1550, 30},
	{"ULVR", "Unilever", "EQUITY", "LSE", "GBP", "Consumer Staples", "Household Products", "GB", false, 42, b(-4, 0, -2, 0.2, 0.5, -0.05, -0.01), 0.010, 0.0, 0.036, 4, 2500, 19},
	// JPY
	{"7203.T", "Toyota Motor", "EQUITY", "TSE", "JPY", "Consumer Discretionary", "Automobiles", "JP", false, 2800, b(-3, 0, -3, 0.4, 0.9, -0.05, -0.02), 0.015, 0.03, 0.025, 2, 13000, 10},
	{"6758.T", "Sony Group", "EQUITY", "TSE", "JPY", "Technology", "Consumer Electronics", "JP", false, 3200, b(-6, 0, -4, 0.3, 1.1, 0, -0.03), 0.017, 0.03, 0.006, 2, 6200, 18},
}

// currencies are every currency the demo prices or holds cash in; packs
// carry a rate for every ordered pair of them.
var currencies = []string{"CAD", "EUR", "GBP", "JPY", "USD"}

// fxSpec is how one currency moves against the USD: the USD value of one
// unit returns -USDBeta x usd factor + CommodityBeta x commodity factor +
// noise.
type fxSpec struct {
	Ccy           string
	USDValue      float64 // start: USD per unit
	USDBeta       float64
	CommodityBeta float64
	Vol           float64 // daily noise
}

var fxSpecs = []fxSpec{
	{"CAD", 0.74, 0.7, 0.08, 0.0025},
	{"EUR", 1.08, 1.1, 0, 0.003},
	{"GBP", 1.27, 0.9, 0, 0.003},
	{"JPY", 1.0 / 150, 1.0, 0, 0.004},
}

// SecurityTruth is what the model used for one security: the true factor
// betas a regression of its daily local returns on the factor series
// should recover.
type SecurityTruth struct {
	Symbol    string `json:"symbol"`
	Currency  string `json:"currency"`
	Type      string `json:"type"`
	Benchmark bool   `json:"benchmark"`
	// Betas by factor name (see Factors for the units).
	Betas map[string]float64 `json:"betas"`
	// DailyAlpha is the intercept and IdioVol the standard deviation of
	// the idiosyncratic daily return.
	DailyAlpha float64 `json:"daily_alpha"`
	IdioVol    float64 `json:"idio_vol"`
}

// model is one security's drawn return model.
type model struct {
	spec  secSpec
	betas [nFactors]float64
	alpha float64
}

// drawModels jitters the template betas: each moves by a normal draw of
// 5 % of its size (at least 0.01), so two seeds have different truths.
func drawModels(r *rand.Rand) []model {
	out := make([]model, len(universe))
	for i, s := range universe {
		m := model{spec: s, alpha: math.Pow(1+s.AlphaAnn, 1.0/252) - 1}
		for f := range nFactors {
			sd := math.Max(0.05*math.Abs(s.Betas[f]), 0.01)
			if s.Type == "CASH" || s.Betas[f] == 0 && s.Type != "EQUITY" {
				sd = 0 // index funds and cash keep their exact exposures
			}
			m.betas[f] = round(s.Betas[f]+sd*r.NormFloat64(), 4)
		}
		out[i] = m
	}
	return out
}

func (m model) truth() SecurityTruth {
	t := SecurityTruth{Symbol: m.spec.Symbol, Currency: m.spec.Currency, Type: m.spec.Type, Benchmark: m.spec.Benchmark,
		Betas: map[string]float64{}, DailyAlpha: m.alpha, IdioVol: m.spec.IdioVol}
	for f, n := range FactorNames {
		t.Betas[n] = m.betas[f]
	}
	return t
}

// round rounds x to d decimal places.
func round(x float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(x*p) / p
}
