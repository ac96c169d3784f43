package harvester

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// Polygon.io REST API (api.polygon.io), key as "Authorization: Bearer".
// Used: the previous day's bar, GET /v2/aggs/ticker/{ticker}/prev
// (results[0] with o, h, l, c, v and t, the bar's start in Unix
// milliseconds), and ticker news, GET /v2/reference/news?ticker= (results
// with title, description, article_url, published_utc, publisher.name,
// tickers and insights[{ticker, sentiment}], sentiment one of positive,
// neutral, negative). Polygon lists US tickers; a ticker it does not know
// answers an empty results list.

func polygonRequest(path string, q url.Values) agents.ProviderRequest {
	return agents.ProviderRequest{Path: path, Query: q, KeyHeader: "Authorization", KeyPrefix: "Bearer "}
}

// polygonBar is one aggregate. encoding/json matches keys without regard
// to case when no field has the exact name, so T (the ticker) needs a
// field of its own or it would be read into t (the start time).
type polygonBar struct {
	Ticker string   `json:"T"`
	Open   *float64 `json:"o"`
	High   *float64 `json:"h"`
	Low    *float64 `json:"l"`
	Close  *float64 `json:"c"`
	Volume *float64 `json:"v"`
	Start  *int64   `json:"t"`
}

type polygonPrev struct {
	Ticker  string       `json:"ticker"`
	Status  string       `json:"status"`
	Results []polygonBar `json:"results"`
}

func (p *polygonPrev) Check() error {
	for i, b := range p.Results {
		if b.Close == nil || b.Start == nil || *b.Close < 0 {
			return fmt.Errorf("bar %d lacks a close or a start time", i)
		}
	}
	return nil
}

func fetchPolygonQuote(ctx context.Context, c *agents.ProviderClient, s storage.Security) (quote, time.Time, error) {
	var p polygonPrev
	resp, err := c.GetJSON(ctx, polygonRequest("/v2/aggs/ticker/"+url.PathEscape(s.Symbol)+"/prev", url.Values{"adjusted": {"true"}}), &p)
	if err != nil {
		return quote{}, time.Time{}, fmt.Errorf("previous close of %s: %w", s.Symbol, err)
	}
	if len(p.Results) == 0 {
		return quote{}, time.Time{}, agents.Errorf(agents.CodeNotFound, "provider polygon has no bar of %s", s.Symbol)
	}
	b := p.Results[0]
	// A daily bar starts at midnight New York time, 04:00 or 05:00 UTC of
	// the same date.
	at := time.UnixMilli(*b.Start).UTC()
	return quote{symbol: s.Symbol, date: time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC), price: storage.Price{
		SecurityID: s.ID, Close: decimal.NewFromFloat(*b.Close), Open: nonNegDec(b.Open), High: nonNegDec(b.High),
		Low: nonNegDec(b.Low), Volume: nonNegDec(b.Volume), Currency: s.Currency,
	}}, resp.FetchedAt, nil
}

type polygonArticle struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	ArticleURL  string `json:"article_url"`
	Published   string `json:"published_utc"`
	Publisher   struct {
		Name string `json:"name"`
	} `json:"publisher"`
	Tickers  []string `json:"tickers"`
	Insights []struct {
		Ticker    string `json:"ticker"`
		Sentiment string `json:"sentiment"`
	} `json:"insights"`
}

type polygonNews struct {
	Status  string           `json:"status"`
	Results []polygonArticle `json:"results"`
}

func (p *polygonNews) Check() error {
	if p.Results == nil {
		return fmt.Errorf("no results list")
	}
	for i, a := range p.Results {
		if _, err := time.Parse(time.RFC3339, a.Published); err != nil {
			return fmt.Errorf("article %d: published_utc %q is not RFC 3339", i, a.Published)
		}
		if a.Title == "" || a.ArticleURL == "" {
			return fmt.Errorf("article %d lacks a title or an article_url", i)
		}
	}
	return nil
}

// polygonSentiment maps Polygon's per-ticker label to the stored score:
// positive 1, neutral 0, negative −1; any other label is not a score.
var polygonSentiment = map[string]float64{"positive": 1, "neutral": 0, "negative": -1}

// fetchPolygonNews fetches a security's articles published from from on.
// Each is stored against the security, with the sentiment Polygon gives
// for that ticker (none when it gives none).
func fetchPolygonNews(ctx context.Context, c *agents.ProviderClient, s storage.Security, from time.Time, limit int) ([]storage.NewsItem, time.Time, error) {
	var p polygonNews
	resp, err := c.GetJSON(ctx, polygonRequest("/v2/reference/news", url.Values{
		"ticker": {s.Symbol}, "published_utc.gte": {from.UTC().Format(time.RFC3339)}, "order": {"desc"},
		"sort": {"published_utc"}, "limit": {strconv.Itoa(limit)},
	}), &p)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("news of %s: %w", s.Symbol, err)
	}
	at := resp.FetchedAt
	out := []storage.NewsItem{}
	for _, a := range p.Results {
		pub, _ := time.Parse(time.RFC3339, a.Published)
		it := storage.NewsItem{SecurityID: s.ID, PublishedAt: pub, Title: strings.TrimSpace(a.Title), Summary: strings.TrimSpace(a.Description),
			URL: a.ArticleURL, Source: publisherOr(a.Publisher.Name, "polygon"), Provider: agents.ProviderPolygon, FetchedAt: &at}
		for _, in := range a.Insights {
			if strings.EqualFold(in.Ticker, s.Symbol) {
				if v, ok := polygonSentiment[strings.ToLower(in.Sentiment)]; ok {
					it.Sentiment = &v
				}
			}
		}
		out = append(out, it)
	}
	return out, at, nil
}

func publisherOr(name, fallback string) string {
	if n := strings.TrimSpace(name); n != "" {
		return n
	}
	return fallback
}
