package harvester

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// NewsAPI (newsapi.org), GET /v2/everything?q=&from=&searchIn=&sortBy=
// publishedAt&pageSize=, key as X-Api-Key: {status: "ok", totalResults,
// articles[{source{id, name}, author, title, description, url,
// publishedAt, content}]}; errors are {status: "error", code, message}
// with a 4xx or 5xx status. NewsAPI gives no sentiment: its items are
// stored unscored. Articles NewsAPI has withdrawn come back titled
// "[Removed]" and are skipped.

// newsAPIQueryMax is the longest q NewsAPI accepts.
const newsAPIQueryMax = 500

type newsAPIArticle struct {
	Source struct {
		Name string `json:"name"`
	} `json:"source"`
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	PublishedAt string `json:"publishedAt"`
}

type newsAPIAnswer struct {
	Status       string           `json:"status"`
	TotalResults *int             `json:"totalResults"`
	Articles     []newsAPIArticle `json:"articles"`
}

func (n *newsAPIAnswer) Check() error {
	if n.Status != "ok" {
		return fmt.Errorf("status %q, not ok", n.Status)
	}
	if n.Articles == nil {
		return fmt.Errorf("no articles list")
	}
	for i, a := range n.Articles {
		if _, err := time.Parse(time.RFC3339, a.PublishedAt); err != nil {
			return fmt.Errorf("article %d: publishedAt %q is not RFC 3339", i, a.PublishedAt)
		}
		if a.URL == "" {
			return fmt.Errorf("article %d has no url", i)
		}
	}
	return nil
}

// newsAPITerms is what NewsAPI is asked for about a security: its short
// name as a phrase, and its ticker.
func newsAPITerms(s storage.Security) string {
	return `"` + shortName(s.Name) + `" OR ` + s.Symbol
}

// newsAPIGroups splits securities into groups whose query fits in
// newsAPIQueryMax.
func newsAPIGroups(secs []storage.Security) [][]storage.Security {
	var out [][]storage.Security
	var cur []storage.Security
	n := 0
	for _, s := range secs {
		t := len(newsAPITerms(s)) + len(" OR ")
		if len(cur) > 0 && n+t > newsAPIQueryMax {
			out = append(out, cur)
			cur, n = nil, 0
		}
		cur = append(cur, s)
		n += t
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// fetchNewsAPI fetches the articles about a group of securities published
// from from on, searched in titles and descriptions, and stores each
// against every security of the group its title or description mentions
// (see mentions); an article that mentions none is dropped and counted.
func fetchNewsAPI(ctx context.Context, c *agents.ProviderClient, group []storage.Security, from time.Time, limit int) (items []storage.NewsItem, unattributed int, at time.Time, err error) {
	terms := make([]string, len(group))
	for i, s := range group {
		terms[i] = newsAPITerms(s)
	}
	var ans newsAPIAnswer
	resp, err := c.GetJSON(ctx, agents.ProviderRequest{Path: "/v2/everything", KeyHeader: "X-Api-Key", Query: url.Values{
		"q": {strings.Join(terms, " OR ")}, "from": {from.UTC().Format(time.RFC3339)}, "searchIn": {"title,description"},
		"sortBy": {"publishedAt"}, "pageSize": {strconv.Itoa(limit)},
	}}, &ans)
	if err != nil {
		return nil, 0, time.Time{}, fmt.Errorf("news of %d securities: %w", len(group), err)
	}
	at = resp.FetchedAt
	items = []storage.NewsItem{}
	for _, a := range ans.Articles {
		title := strings.TrimSpace(a.Title)
		if title == "" || title == "[Removed]" {
			continue
		}
		pub, _ := time.Parse(time.RFC3339, a.PublishedAt)
		linked := false
		for _, s := range group {
			if mentions(s, title) || mentions(s, a.Description) {
				linked = true
				items = append(items, storage.NewsItem{SecurityID: s.ID, PublishedAt: pub, Title: title,
					Summary: strings.TrimSpace(a.Description), URL: a.URL, Source: publisherOr(a.Source.Name, "newsapi"),
					Provider: agents.ProviderNewsAPI, FetchedAt: &at})
			}
		}
		if !linked {
			unattributed++
		}
	}
	return items, unattributed, at, nil
}
