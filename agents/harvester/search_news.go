package harvester

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Harvester) searchNews() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "news.search",
		Description: "News about the given securities over a lookback window: the stored items, fetched first from NewsAPI or Polygon " +
			"for every security whose last fetch is older than the provider's staleness, each scored for relevance (how prominently it names the security, and how recent it is).",
		Reads:  []string{"securities", "provider_fetches", "news_items"},
		Writes: []string{"news_items", "provider_fetches"},
		Codes:  []string{agents.CodeNotFound, agents.CodeProviderNotConfigured},
	}, a.SearchNews)
}

// Relevance weights of where an item names its security.
const (
	mentionTitle   = 1.0
	mentionSummary = 0.6
	mentionLinked  = 0.3
)

// SearchNewsInput names the securities and the window.
type SearchNewsInput struct {
	Positions     []SecurityRef `json:"positions" jsonschema:"maxItems=200" doc:"The securities, e.g. the positions of portfolio.get_valued_positions."`
	LookbackHours int           `json:"lookback_hours,omitempty" jsonschema:"minimum=1,maximum=720,default=24" doc:"Hours before the as-of instant."`
	Provider      string        `json:"provider,omitempty" jsonschema:"enum=newsapi|polygon,default=newsapi" doc:"Where missing or stale news is fetched from."`
	MaxItems      int           `json:"max_items,omitempty" jsonschema:"minimum=1,maximum=1000,default=200" doc:"Most relevant items returned."`
}

// ScoredNewsItem is a stored item with its relevance.
type ScoredNewsItem struct {
	NewsItemOut
	Mention   string  `json:"mention" doc:"Where the item names the security: title, summary, or linked (the provider tied it to the security, neither text names it)."`
	Relevance float64 `json:"relevance" doc:"mention weight (title 1.0, summary 0.6, linked 0.3) × recency (1 at the window's end, 0.5 at its start, linear), in [0.15, 1]."`
}

// SearchNewsOutput lists the items, most relevant first.
type SearchNewsOutput struct {
	From       time.Time         `json:"from"`
	To         time.Time         `json:"to"`
	Provider   string            `json:"provider"`
	Fetches    []NewsFetch       `json:"fetches"`
	Items      []ScoredNewsItem  `json:"items"`
	Total      int               `json:"total" doc:"Items in the window before max_items was applied."`
	Provenance agents.Provenance `json:"provenance"`
}

// SearchNews implements news.search.
func (a *Harvester) SearchNews(ctx context.Context, c *agents.Call, in SearchNewsInput) (SearchNewsOutput, error) {
	from, to, err := a.newsWindow(c, in.LookbackHours)
	if err != nil {
		return SearchNewsOutput{}, err
	}
	var secs []storage.Security
	if err := c.Read(ctx, func(q storage.Querier) error {
		var err error
		secs, err = loadSecurities(ctx, q, in.Positions)
		return err
	}); err != nil {
		return SearchNewsOutput{}, err
	}
	out := SearchNewsOutput{From: from, To: to, Provider: in.Provider, Fetches: []NewsFetch{}, Items: []ScoredNewsItem{}}
	out.Provenance = c.Provenance("stored news_items in the window, fetched first where the provider's last fetch is stale",
		"relevance = mention weight (title 1.0, summary 0.6, linked 0.3; a mention is the ticker as a word or the company name as a phrase) × "+
			"(1 − 0.5 × age / lookback); window = [as-of instant − lookback, as-of instant]")
	out.Provenance.Source = in.Provider
	if len(secs) == 0 {
		return out, nil
	}
	if out.Fetches, _, err = a.ensureNews(ctx, c, in.Provider, secs, from); err != nil {
		return SearchNewsOutput{}, err
	}
	ids := make([]uuid.UUID, len(secs))
	byID := map[uuid.UUID]storage.Security{}
	for i, s := range secs {
		ids[i], byID[s.ID] = s.ID, s
	}
	var stored []storage.NewsItem
	if err := c.Read(ctx, func(q storage.Querier) error {
		var err error
		stored, err = storage.NewsInWindow(ctx, q, ids, from, to)
		return err
	}); err != nil {
		return SearchNewsOutput{}, err
	}
	lookback := to.Sub(from)
	for _, it := range stored {
		s := byID[it.SecurityID]
		mention, weight := "linked", mentionLinked
		switch {
		case mentions(s, it.Title):
			mention, weight = "title", mentionTitle
		case mentions(s, it.Summary):
			mention, weight = "summary", mentionSummary
		}
		age := to.Sub(it.PublishedAt)
		recency := 1 - 0.5*math.Min(math.Max(age.Seconds()/lookback.Seconds(), 0), 1)
		out.Items = append(out.Items, ScoredNewsItem{NewsItemOut: newsOut(it, s.Symbol), Mention: mention,
			Relevance: math.Round(weight*recency*1e4) / 1e4})
	}
	sort.SliceStable(out.Items, func(i, j int) bool {
		if out.Items[i].Relevance != out.Items[j].Relevance {
			return out.Items[i].Relevance > out.Items[j].Relevance
		}
		return out.Items[i].PublishedAt.After(out.Items[j].PublishedAt)
	})
	out.Total = len(out.Items)
	if len(out.Items) > in.MaxItems {
		out.Items = out.Items[:in.MaxItems]
	}
	return out, nil
}
