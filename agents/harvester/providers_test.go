package harvester_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dawsos/dawsos/agents"
)

// Local stand-ins for the four providers, answering in each one's
// documented format (written from their public API documentation: field
// names, types and error shapes; the figures are the fixture's own). Each
// checks the key where and how its documentation says it is sent.

// testKeys are the keys the fake providers accept.
var testKeys = map[string]string{
	agents.ProviderFMP: "fmp-test-key-1", agents.ProviderPolygon: "polygon-test-key-2",
	agents.ProviderFRED: "fred-test-key-3", agents.ProviderNewsAPI: "newsapi-test-key-4",
}

// fakeProviders runs one local server per provider.
type fakeProviders struct {
	clock   sync.Mutex
	at      time.Time
	servers map[string]*httptest.Server
	mu      sync.Mutex
	hits    map[string]int
	// fail makes a provider answer this status to everything (0: none).
	fail map[string]*atomic.Int64
}

func newFakeProviders(t *testing.T, now time.Time) *fakeProviders {
	t.Helper()
	f := &fakeProviders{at: now, servers: map[string]*httptest.Server{}, hits: map[string]int{}, fail: map[string]*atomic.Int64{}}
	handlers := map[string]http.HandlerFunc{
		agents.ProviderFMP: f.fmp, agents.ProviderPolygon: f.polygon, agents.ProviderFRED: f.fred, agents.ProviderNewsAPI: f.newsAPI,
	}
	for name, h := range handlers {
		f.fail[name] = &atomic.Int64{}
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			f.hits[name]++
			f.mu.Unlock()
			if code := f.fail[name].Load(); code != 0 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(int(code))
				fmt.Fprint(w, `{"error":"fixture failure"}`)
				return
			}
			h(w, r)
		}))
		t.Cleanup(s.Close)
		f.servers[name] = s
	}
	return f
}

// now is the fixture's clock: quote timestamps and publication times
// follow it.
func (f *fakeProviders) now() time.Time {
	f.clock.Lock()
	defer f.clock.Unlock()
	return f.at
}

func (f *fakeProviders) setNow(t time.Time) {
	f.clock.Lock()
	defer f.clock.Unlock()
	f.at = t
}

func (f *fakeProviders) calls(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[name]
}

// providers is the configuration of the four providers against the local
// servers, keys included; staleness one hour.
func (f *fakeProviders) providers() map[string]agents.Provider {
	out := map[string]agents.Provider{}
	for name, s := range f.servers {
		hp := strings.TrimPrefix(s.URL, "http://")
		out[name] = agents.Provider{Name: name, BaseURL: s.URL, Key: testKeys[name], RatePerMinute: 60000, Timeout: 5 * time.Second,
			AllowedHosts: []string{"127.0.0.1"}, AllowLoopback: []string{hp}, Staleness: time.Hour, MaxAttempts: 3,
			Backoff: 5 * time.Millisecond}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fmpYear are the statement figures of the k-th fiscal year back (0 the
// newest): round numbers, so the tests can state the stored values.
type fmpYear struct {
	revenue, gross, operating, net, interest, shares            float64
	assets, intangibles, debt, equity, curAssets, curLiab, cash float64
	ocf, capex, dividends                                       float64
}

func fixtureYear(k int) fmpYear {
	rev := 1_000_000_000 - float64(k)*50_000_000
	return fmpYear{revenue: rev, gross: rev * 0.4, operating: rev * 0.2, net: rev * 0.15, interest: 10_000_000, shares: 100_000_000,
		assets: 2_000_000_000, intangibles: 100_000_000, debt: 500_000_000, equity: 1_000_000_000, curAssets: 600_000_000,
		curLiab: 400_000_000, cash: 200_000_000, ocf: 250_000_000, capex: -80_000_000, dividends: -60_000_000}
}

// fiscalYears is how many years the fake FMP knows per symbol.
const fiscalYears = 6

func (f *fakeProviders) fmp(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("apikey") != testKeys[agents.ProviderFMP] {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"Error Message": "Invalid API KEY. Feel free to create a Free API Key."})
		return
	}
	sym := q.Get("symbol")
	if sym == "" || sym == "UNKNOWN" {
		writeJSON(w, http.StatusOK, []any{})
		return
	}
	limit := fiscalYears
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l < limit {
		limit = l
	}
	last := f.now().Year() - 1
	rows := []map[string]any{}
	key := func(k int) map[string]any {
		y := last - k
		return map[string]any{"date": fmt.Sprintf("%d-12-31", y), "symbol": sym, "reportedCurrency": "USD", "cik": "0000000001",
			"filingDate": fmt.Sprintf("%d-02-15", y+1), "acceptedDate": fmt.Sprintf("%d-02-15 16:05:00", y+1),
			"fiscalYear": strconv.Itoa(y), "period": "FY"}
	}
	switch r.URL.Path {
	case "/stable/quote":
		writeJSON(w, http.StatusOK, []map[string]any{{"symbol": sym, "name": "Fixture " + sym, "price": 123.45,
			"changePercentage": 0.81, "change": 0.99, "volume": 1234567, "dayLow": 121.5, "dayHigh": 124, "yearHigh": 150,
			"yearLow": 90, "marketCap": 1.2345e11, "priceAvg50": 118.2, "priceAvg200": 110.7, "exchange": "NASDAQ",
			"open": 122, "previousClose": 122.46, "timestamp": f.now().Unix()}})
		return
	case "/stable/income-statement":
		for k := range limit {
			y, m := fixtureYear(k), key(k)
			m["revenue"], m["costOfRevenue"], m["grossProfit"] = y.revenue, y.revenue-y.gross, y.gross
			m["researchAndDevelopmentExpenses"], m["operatingExpenses"] = 0, y.gross-y.operating
			m["operatingIncome"], m["interestExpense"], m["interestIncome"] = y.operating, y.interest, 0
			m["netIncome"], m["eps"], m["epsDiluted"] = y.net, y.net/y.shares, y.net/y.shares
			m["weightedAverageShsOut"], m["weightedAverageShsOutDil"] = y.shares, y.shares
			rows = append(rows, m)
		}
	case "/stable/balance-sheet-statement":
		for k := range limit {
			y, m := fixtureYear(k), key(k)
			m["cashAndCashEquivalents"], m["totalCurrentAssets"], m["goodwill"] = y.cash, y.curAssets, 50_000_000
			m["intangibleAssets"], m["goodwillAndIntangibleAssets"], m["totalAssets"] = y.intangibles, y.intangibles+50_000_000, y.assets
			m["totalCurrentLiabilities"], m["totalDebt"], m["netDebt"] = y.curLiab, y.debt, y.debt-y.cash
			m["totalStockholdersEquity"], m["totalEquity"] = y.equity, y.equity
			rows = append(rows, m)
		}
	case "/stable/cash-flow-statement":
		for k := range limit {
			y, m := fixtureYear(k), key(k)
			m["netIncome"], m["operatingCashFlow"], m["capitalExpenditure"] = y.net, y.ocf, y.capex
			m["freeCashFlow"], m["commonDividendsPaid"], m["netDividendsPaid"] = y.ocf+y.capex, y.dividends, y.dividends
			rows = append(rows, m)
		}
	case "/stable/ratios":
		for k := range limit {
			m := key(k)
			m["grossProfitMargin"], m["operatingProfitMargin"], m["netProfitMargin"] = 0.4, 0.2, 0.15
			m["currentRatio"], m["quickRatio"], m["debtToEquityRatio"] = 1.5, 1.2, 0.5
			m["interestCoverageRatio"], m["dividendPayoutRatio"], m["dividendYield"] = 20.0, 0.4, 0.02
			rows = append(rows, m)
		}
	case "/stable/dividends":
		rows = append(rows,
			map[string]any{"symbol": sym, "date": f.now().AddDate(0, 0, 20).Format(time.DateOnly), "recordDate": f.now().AddDate(0, 0, 20).Format(time.DateOnly),
				"paymentDate": f.now().AddDate(0, 0, 35).Format(time.DateOnly), "declarationDate": f.now().Format(time.DateOnly),
				"adjDividend": 0.75, "dividend": 0.75, "yield": 2.4, "frequency": "Quarterly"},
			map[string]any{"symbol": sym, "date": f.now().AddDate(0, -3, 0).Format(time.DateOnly), "recordDate": "", "paymentDate": "",
				"declarationDate": "", "adjDividend": 0.7, "dividend": 0.7, "yield": 2.3, "frequency": "Quarterly"})
	case "/stable/splits":
		rows = append(rows, map[string]any{"symbol": sym, "date": f.now().AddDate(0, 0, 40).Format(time.DateOnly), "numerator": 3, "denominator": 2})
	case "/stable/earnings":
		rows = append(rows, map[string]any{"symbol": sym, "date": f.now().AddDate(0, 0, 25).Format(time.DateOnly), "epsActual": nil,
			"epsEstimated": 1.52, "revenueActual": nil, "revenueEstimated": 2.1e9, "lastUpdated": f.now().Format(time.DateOnly)})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"Error Message": "Not found"})
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

func (f *fakeProviders) polygon(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testKeys[agents.ProviderPolygon] {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"status": "ERROR", "request_id": "r1", "error": "Unknown API Key"})
		return
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/v2/aggs/ticker/") && strings.HasSuffix(r.URL.Path, "/prev"):
		t := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/aggs/ticker/"), "/prev")
		day := time.Date(f.now().Year(), f.now().Month(), f.now().Day()-1, 4, 0, 0, 0, time.UTC) // midnight New York (EDT)
		writeJSON(w, http.StatusOK, map[string]any{"ticker": t, "queryCount": 1, "resultsCount": 1, "adjusted": true,
			"results": []map[string]any{{"T": t, "v": 5.5e7, "vw": 200.1, "o": 199, "c": 201.25, "h": 202, "l": 198.5,
				"t": day.UnixMilli(), "n": 512000}}, "status": "OK", "request_id": "r2"})
	case r.URL.Path == "/v2/reference/news":
		t := r.URL.Query().Get("ticker")
		pub := f.now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)
		writeJSON(w, http.StatusOK, map[string]any{"status": "OK", "request_id": "r3", "count": 1, "results": []map[string]any{{
			"id": "abc", "publisher": map[string]any{"name": "Fixture Wire", "homepage_url": "https://wire.example/"},
			"title": t + " beats expectations", "author": "A. Writer", "published_utc": pub,
			"article_url": "https://wire.example/" + strings.ToLower(t) + "-beats", "tickers": []string{t},
			"description": "Quarterly figures came in above estimates.", "keywords": []string{"earnings"},
			"insights": []map[string]any{{"ticker": t, "sentiment": "positive", "sentiment_reasoning": "beat estimates"}},
		}}})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"status": "NOT_FOUND", "request_id": "r4"})
	}
}

// fredValues are the fixture's observations: monthly, one missing (".").
var fredValues = []struct{ date, value string }{{"2026-03-01", "4.1"}, {"2026-04-01", "."}, {"2026-05-01", "4.25"}, {"2026-06-01", "4.3"}}

func (f *fakeProviders) fred(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("api_key") != testKeys[agents.ProviderFRED] {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error_code": 400,
			"error_message": "Bad Request.  The value for variable api_key is not registered."})
		return
	}
	if r.URL.Path != "/fred/series/observations" || q.Get("file_type") != "json" {
		writeJSON(w, http.StatusNotFound, map[string]any{"error_code": 404, "error_message": "Not Found"})
		return
	}
	if q.Get("series_id") == "NOSUCHSERIES" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error_code": 400, "error_message": "Bad Request.  The series does not exist."})
		return
	}
	obs := []map[string]string{}
	for _, v := range fredValues {
		obs = append(obs, map[string]string{"realtime_start": f.now().Format(time.DateOnly), "realtime_end": f.now().Format(time.DateOnly),
			"date": v.date, "value": v.value})
	}
	writeJSON(w, http.StatusOK, map[string]any{"realtime_start": f.now().Format(time.DateOnly), "realtime_end": f.now().Format(time.DateOnly),
		"observation_start": q.Get("observation_start"), "observation_end": "9999-12-31", "units": "lin", "output_type": 1,
		"file_type": "json", "order_by": "observation_date", "sort_order": "asc", "count": len(obs), "offset": 0, "limit": 100000,
		"observations": obs})
}

// quoted finds the phrases of a NewsAPI q.
var quoted = regexp.MustCompile(`"([^"]+)"`)

// newsAPIHours are how long before now the fixture's articles were
// published.
const (
	titleHours   = 6
	summaryHours = 12
)

func (f *fakeProviders) newsAPI(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Api-Key") != testKeys[agents.ProviderNewsAPI] {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"status": "error", "code": "apiKeyInvalid",
			"message": "Your API key is invalid or incorrect."})
		return
	}
	if r.URL.Path != "/v2/everything" {
		writeJSON(w, http.StatusNotFound, map[string]string{"status": "error", "code": "notFound", "message": "no such endpoint"})
		return
	}
	articles := []map[string]any{}
	art := func(name, title, desc string, hours int, slug string) map[string]any {
		return map[string]any{"source": map[string]any{"id": nil, "name": "Fixture News"}, "author": "Reporter",
			"title": title, "description": desc, "url": "https://news.fixture.example/" + slug,
			"urlToImage": nil, "publishedAt": f.now().Add(-time.Duration(hours) * time.Hour).UTC().Format(time.RFC3339),
			"content": "Body of the article… [+1200 chars]"}
	}
	for _, m := range quoted.FindAllStringSubmatch(r.URL.Query().Get("q"), -1) {
		name := m[1]
		slug := strings.ToLower(strings.ReplaceAll(name, " ", "-"))
		articles = append(articles,
			art(name, name+" raises its outlook", "Management sounded upbeat.", titleHours, slug+"-outlook"),
			art(name, "Sector roundup", "Among the movers, "+name+" drew attention.", summaryHours, slug+"-roundup"))
	}
	articles = append(articles,
		art("", "Markets close mixed", "Nothing about any holding.", 2, "markets-mixed"),
		map[string]any{"source": map[string]any{"id": nil, "name": "[Removed]"}, "title": "[Removed]", "description": "[Removed]",
			"url": "https://removed.com", "publishedAt": "1970-01-01T00:00:00Z", "content": "[Removed]"})
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "totalResults": len(articles), "articles": articles})
}
