package harvester

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Harvester) fetchNews() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "provider.fetch_news",
		Description: "News about securities from NewsAPI (/v2/everything) or Polygon (/v2/reference/news) over a lookback window, " +
			"stored in news_items with provider and fetch time; securities fetched within the provider's staleness are not fetched again.",
		Reads:  []string{"securities", "provider_fetches", "news_items"},
		Writes: []string{"news_items", "provider_fetches"},
		Codes:  []string{agents.CodeNotFound, agents.CodeProviderNotConfigured},
	}, a.FetchNews)
}

// FetchNewsInput names the securities, the window and the provider.
type FetchNewsInput struct {
	Positions     []SecurityRef `json:"positions" jsonschema:"minItems=1,maxItems=100" doc:"The securities, e.g. a portfolio's positions."`
	LookbackHours int           `json:"lookback_hours,omitempty" jsonschema:"minimum=1,maximum=720,default=24" doc:"Hours before the as-of instant."`
	Provider      string        `json:"provider,omitempty" jsonschema:"enum=newsapi|polygon,default=newsapi" doc:"newsapi (no sentiment) or polygon (per-ticker sentiment)."`
}

// FetchNewsOutput lists what was fetched and the provider's stored items
// in the window.
type FetchNewsOutput struct {
	Provider     string            `json:"provider"`
	From         time.Time         `json:"from"`
	To           time.Time         `json:"to"`
	Securities   []NewsFetch       `json:"securities"`
	Unattributed int               `json:"unattributed" doc:"Fetched articles that named none of the securities in their title or description, not stored."`
	Items        []NewsItemOut     `json:"items" doc:"The provider's stored items in the window, newest first."`
	Provenance   agents.Provenance `json:"provenance"`
}

// FetchNews implements provider.fetch_news.
func (a *Harvester) FetchNews(ctx context.Context, c *agents.Call, in FetchNewsInput) (FetchNewsOutput, error) {
	from, to, err := a.newsWindow(c, in.LookbackHours)
	if err != nil {
		return FetchNewsOutput{}, err
	}
	var secs []storage.Security
	if err := c.Read(ctx, func(q storage.Querier) error {
		var err error
		secs, err = loadSecurities(ctx, q, in.Positions)
		return err
	}); err != nil {
		return FetchNewsOutput{}, err
	}
	report, un, err := a.ensureNews(ctx, c, in.Provider, secs, from)
	if err != nil {
		return FetchNewsOutput{}, err
	}
	var stored []storage.NewsItem
	ids := make([]uuid.UUID, len(secs))
	sym := map[uuid.UUID]string{}
	for i, s := range secs {
		ids[i], sym[s.ID] = s.ID, s.Symbol
	}
	if err := c.Read(ctx, func(q storage.Querier) error {
		var err error
		stored, err = storage.NewsInWindow(ctx, q, ids, from, to)
		return err
	}); err != nil {
		return FetchNewsOutput{}, err
	}
	out := FetchNewsOutput{Provider: in.Provider, From: from, To: to, Securities: report, Unattributed: un, Items: []NewsItemOut{}}
	for _, it := range stored {
		if it.Provider == in.Provider {
			out.Items = append(out.Items, newsOut(it, sym[it.SecurityID]))
		}
	}
	out.Provenance = c.Provenance("articles fetched from the provider since the window's start and stored against each security they name",
		"window = [as-of instant − lookback, as-of instant]; the as-of instant is the end of the as-of date (UTC), or now if earlier")
	out.Provenance.Source = in.Provider
	return out, nil
}
