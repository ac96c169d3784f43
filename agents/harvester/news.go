package harvester

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// News shared by provider.fetch_news and news.search.

// newsFetchLimit is how many articles one provider call asks for.
const newsFetchLimit = 100

// NewsItemOut is one stored news item.
type NewsItemOut struct {
	SecurityID  uuid.UUID  `json:"security_id"`
	Symbol      string     `json:"symbol"`
	PublishedAt time.Time  `json:"published_at"`
	Title       string     `json:"title"`
	Summary     string     `json:"summary"`
	URL         string     `json:"url"`
	Source      string     `json:"source" doc:"The publisher."`
	Provider    string     `json:"provider" doc:"The API it was fetched from (newsapi, polygon); empty for a loaded item."`
	Sentiment   *float64   `json:"sentiment" doc:"In [-1, 1] as stored (the provider's score, or the loader's); null when unscored."`
	FetchedAt   *time.Time `json:"fetched_at"`
}

// NewsFetch says what one security's news fetch did.
type NewsFetch struct {
	SecurityID  uuid.UUID  `json:"security_id"`
	Symbol      string     `json:"symbol"`
	Refreshed   bool       `json:"refreshed" doc:"True when this call fetched the security's news; false when the last fetch was still fresh."`
	Fetched     int        `json:"fetched" doc:"Items this call fetched and stored for the security."`
	LastFetched *time.Time `json:"last_fetched"`
}

// newsWindow is the lookback window ending at the run's as-of instant.
func (a *Harvester) newsWindow(c *agents.Call, hours int) (time.Time, time.Time, error) {
	end, err := a.asOfEnd(c)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return end.Add(-time.Duration(hours) * time.Hour), end, nil
}

// ensureNews fetches the news of every security whose last fetch from the
// provider is missing or older than its staleness, from from on (no
// transaction open), stores it with the fetch log, and returns what it
// did per security and how many fetched articles named none of them.
func (a *Harvester) ensureNews(ctx context.Context, c *agents.Call, provider string, secs []storage.Security, from time.Time) ([]NewsFetch, int, error) {
	pc := a.client(provider)
	subjects := make([]string, len(secs))
	for i, s := range secs {
		subjects[i] = s.ID.String()
	}
	var last map[string]time.Time
	if err := c.Read(ctx, func(q storage.Querier) error {
		var err error
		last, err = storage.LastFetches(ctx, q, provider, "news", subjects)
		return err
	}); err != nil {
		return nil, 0, err
	}
	var stale []storage.Security
	for _, s := range secs {
		at, ok := last[s.ID.String()]
		if !a.fresh(pc, at, ok) {
			stale = append(stale, s)
		}
	}
	report := make([]NewsFetch, len(secs))
	for i, s := range secs {
		report[i] = NewsFetch{SecurityID: s.ID, Symbol: s.Symbol}
		if at, ok := last[s.ID.String()]; ok {
			t := at.UTC()
			report[i].LastFetched = &t
		}
	}
	if len(stale) == 0 {
		return report, 0, nil
	}
	if err := pc.Ready(); err != nil {
		return nil, 0, err
	}
	var items []storage.NewsItem
	fetchedAt := map[uuid.UUID]time.Time{}
	unattributed := 0
	switch provider {
	case agents.ProviderPolygon:
		for _, s := range stale {
			got, at, err := fetchPolygonNews(ctx, pc, s, from, newsFetchLimit)
			if err != nil {
				return nil, 0, err
			}
			items = append(items, got...)
			fetchedAt[s.ID] = at
		}
	default:
		for _, g := range newsAPIGroups(stale) {
			got, un, at, err := fetchNewsAPI(ctx, pc, g, from, newsFetchLimit)
			if err != nil {
				return nil, 0, err
			}
			items, unattributed = append(items, got...), unattributed+un
			for _, s := range g {
				fetchedAt[s.ID] = at
			}
		}
	}
	counts := map[uuid.UUID]int{}
	for _, it := range items {
		counts[it.SecurityID]++
	}
	err := c.Write(ctx, func(q storage.Querier) error {
		if err := storage.UpsertFetchedNews(ctx, q, items); err != nil {
			return err
		}
		for _, s := range stale {
			if err := storage.RecordFetch(ctx, q, provider, "news", s.ID.String(), fetchedAt[s.ID], counts[s.ID]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	for i := range report {
		if at, ok := fetchedAt[report[i].SecurityID]; ok {
			t := at.UTC()
			report[i].Refreshed, report[i].Fetched, report[i].LastFetched = true, counts[report[i].SecurityID], &t
		}
	}
	return report, unattributed, nil
}

func newsOut(it storage.NewsItem, symbol string) NewsItemOut {
	return NewsItemOut{SecurityID: it.SecurityID, Symbol: symbol, PublishedAt: it.PublishedAt.UTC(), Title: it.Title,
		Summary: it.Summary, URL: it.URL, Source: it.Source, Provider: it.Provider, Sentiment: it.Sentiment, FetchedAt: optTime(it.FetchedAt)}
}
