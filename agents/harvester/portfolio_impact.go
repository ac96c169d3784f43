package harvester

import (
	"context"
	"math"
	"sort"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
)

func (a *Harvester) portfolioImpact() agents.Def {
	return agents.Compute(agents.Meta{
		Name: "news.compute_portfolio_impact",
		Description: "The news impact on a portfolio: per item sentiment × relevance × the position's weight, averaged per security " +
			"over its scored items and summed over the portfolio; securities and the portfolio at or above the threshold are flagged.",
		Codes: []string{agents.CodeInsufficientData},
	}, a.PortfolioImpact)
}

// ImpactPosition is a held position with its weight (the positions of
// portfolio.get_valued_positions can be passed whole).
type ImpactPosition struct {
	SecurityID uuid.UUID       `json:"security_id"`
	Symbol     string          `json:"symbol"`
	Weight     decimal.Decimal `json:"weight" doc:"Market value / total value, a decimal."`
}

// ImpactItem is a scored news item (the items of news.search can be
// passed whole).
type ImpactItem struct {
	SecurityID uuid.UUID `json:"security_id"`
	Title      string    `json:"title"`
	URL        string    `json:"url"`
	Sentiment  *float64  `json:"sentiment" jsonschema:"minimum=-1,maximum=1" doc:"The stored sentiment in [-1, 1]; null when unscored."`
	Relevance  float64   `json:"relevance" jsonschema:"minimum=0,maximum=1"`
}

// ImpactInput is the positions, the news and the threshold.
type ImpactInput struct {
	Positions          []ImpactPosition `json:"positions" doc:"The held positions with their weights."`
	Items              []ImpactItem     `json:"items" doc:"The news items, with sentiment and relevance."`
	MinImpactThreshold float64          `json:"min_impact_threshold,omitempty" jsonschema:"minimum=0,maximum=1,default=0.05" doc:"An absolute impact at or above this flags a security or the portfolio."`
}

// SecurityImpact is one held security's news impact.
type SecurityImpact struct {
	SecurityID  uuid.UUID `json:"security_id"`
	Symbol      string    `json:"symbol"`
	Weight      float64   `json:"weight"`
	Items       int       `json:"items" doc:"Its items in the window."`
	Scored      int       `json:"scored" doc:"Those with a sentiment; only they count."`
	Signal      *float64  `json:"signal" doc:"Mean of sentiment × relevance over the scored items, in [-1, 1]; null when none is scored."`
	Impact      float64   `json:"impact" doc:"weight × signal; 0 when no item is scored."`
	Significant bool      `json:"significant" doc:"|impact| ≥ the threshold."`
}

// ItemImpact is one scored item's contribution before averaging.
type ItemImpact struct {
	SecurityID uuid.UUID `json:"security_id"`
	Symbol     string    `json:"symbol"`
	Title      string    `json:"title"`
	URL        string    `json:"url"`
	Sentiment  float64   `json:"sentiment"`
	Relevance  float64   `json:"relevance"`
	Impact     float64   `json:"impact" doc:"sentiment × relevance × weight."`
}

// ImpactOutput is the portfolio's news impact.
type ImpactOutput struct {
	PortfolioImpact  float64           `json:"portfolio_impact" doc:"Σ over held securities of weight × signal, in [-1, 1]."`
	Direction        string            `json:"direction" doc:"positive, negative or neutral (|impact| below the threshold)."`
	Threshold        float64           `json:"threshold"`
	ExceedsThreshold bool              `json:"exceeds_threshold" doc:"|portfolio_impact| ≥ the threshold."`
	Securities       []SecurityImpact  `json:"securities" doc:"Held securities with news, largest |impact| first."`
	Significant      []string          `json:"significant" doc:"Symbols whose |impact| ≥ the threshold."`
	TopItems         []ItemImpact      `json:"top_items" doc:"The ten scored items of largest |sentiment × relevance × weight|."`
	ItemsScored      int               `json:"items_scored"`
	ItemsUnscored    int               `json:"items_unscored" doc:"Items of held securities without a sentiment, left out."`
	ItemsNotHeld     int               `json:"items_not_held" doc:"Items of securities not among the positions, left out."`
	Provenance       agents.Provenance `json:"provenance"`
}

// PortfolioImpact implements news.compute_portfolio_impact. Sentiment is
// the stored one (the provider's score, or the loader's), never inferred:
// an item without one is left out and counted, and news of which no item
// is scored is insufficient_data rather than an impact of 0. A portfolio
// without news in the window has an impact of 0.
func (a *Harvester) PortfolioImpact(ctx context.Context, c *agents.Call, in ImpactInput) (ImpactOutput, error) {
	type acc struct {
		SecurityImpact
		sum float64
	}
	held := map[uuid.UUID]*acc{}
	var order []uuid.UUID
	for _, p := range in.Positions {
		if _, ok := held[p.SecurityID]; !ok {
			order = append(order, p.SecurityID)
			held[p.SecurityID] = &acc{SecurityImpact: SecurityImpact{SecurityID: p.SecurityID, Symbol: p.Symbol}}
		}
		w, _ := p.Weight.Float64()
		held[p.SecurityID].Weight += w
	}
	out := ImpactOutput{Threshold: in.MinImpactThreshold, Securities: []SecurityImpact{}, Significant: []string{}, TopItems: []ItemImpact{}}
	for _, it := range in.Items {
		h, ok := held[it.SecurityID]
		if !ok {
			out.ItemsNotHeld++
			continue
		}
		h.Items++
		if it.Sentiment == nil {
			out.ItemsUnscored++
			continue
		}
		h.Scored++
		out.ItemsScored++
		sr := *it.Sentiment * it.Relevance
		h.sum += sr
		out.TopItems = append(out.TopItems, ItemImpact{SecurityID: it.SecurityID, Symbol: h.Symbol, Title: it.Title, URL: it.URL,
			Sentiment: *it.Sentiment, Relevance: it.Relevance, Impact: sr * h.Weight})
	}
	if out.ItemsScored == 0 && out.ItemsUnscored > 0 {
		return ImpactOutput{}, agents.Errorf(agents.CodeInsufficientData,
			"news impact: %d items of held securities, none with a sentiment score (the provider gives none and none is stored); need at least 1 scored item",
			out.ItemsUnscored)
	}
	for _, id := range order {
		h := held[id]
		if h.Items == 0 {
			continue
		}
		if h.Scored > 0 {
			sig := h.sum / float64(h.Scored)
			h.Signal = &sig
			h.Impact = h.Weight * sig
		}
		h.Significant = math.Abs(h.Impact) >= in.MinImpactThreshold && h.Scored > 0
		out.PortfolioImpact += h.Impact
		out.Securities = append(out.Securities, h.SecurityImpact)
	}
	sort.SliceStable(out.Securities, func(i, j int) bool { return math.Abs(out.Securities[i].Impact) > math.Abs(out.Securities[j].Impact) })
	for _, s := range out.Securities {
		if s.Significant {
			out.Significant = append(out.Significant, s.Symbol)
		}
	}
	sort.SliceStable(out.TopItems, func(i, j int) bool { return math.Abs(out.TopItems[i].Impact) > math.Abs(out.TopItems[j].Impact) })
	if len(out.TopItems) > 10 {
		out.TopItems = out.TopItems[:10]
	}
	out.ExceedsThreshold = math.Abs(out.PortfolioImpact) >= in.MinImpactThreshold && out.ItemsScored > 0
	switch {
	case !out.ExceedsThreshold, out.PortfolioImpact == 0:
		out.Direction = "neutral"
	case out.PortfolioImpact > 0:
		out.Direction = "positive"
	default:
		out.Direction = "negative"
	}
	out.Provenance = c.Provenance("per security: weight × mean over its scored items of sentiment × relevance; summed over held securities",
		"sentiment in [-1, 1] as stored (provider's or loader's score; unscored items left out, never inferred); relevance in [0, 1] from news.search; weights are decimals of total value")
	return out, nil
}
