package harvester

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Harvester) fetchQuote() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "provider.fetch_quote",
		Description: "The latest quote of a security from FMP (/stable/quote) or Polygon (previous close), staged in the warming " +
			"pricing pack of its trading date with its source and fetch time; a stored quote younger than the provider's staleness is returned without a call.",
		Reads:  []string{"securities", "provider_fetches", "prices", "pricing_packs"},
		Writes: []string{"prices", "pricing_packs", "provider_fetches"},
		Codes:  []string{agents.CodeNotFound, agents.CodeProviderNotConfigured},
	}, a.FetchQuote)
}

// FetchQuoteInput names the security and the provider.
type FetchQuoteInput struct {
	SecurityID uuid.UUID `json:"security_id" doc:"The security."`
	Provider   string    `json:"provider,omitempty" jsonschema:"enum=fmp|polygon,default=fmp" doc:"fmp (any listed exchange) or polygon (US tickers)."`
}

// QuoteOutput is a fetched or stored quote.
type QuoteOutput struct {
	SecurityID     uuid.UUID           `json:"security_id"`
	Symbol         string              `json:"symbol"`
	ProviderSymbol string              `json:"provider_symbol" doc:"The ticker the provider was asked for (FMP adds exchange suffixes: CNR.TO)."`
	Provider       string              `json:"provider"`
	Date           string              `json:"date" doc:"The trading date of the quote."`
	Close          decimal.Decimal     `json:"close" doc:"The last price (FMP) or the previous close (Polygon), in currency."`
	Open           decimal.NullDecimal `json:"open"`
	High           decimal.NullDecimal `json:"high"`
	Low            decimal.NullDecimal `json:"low"`
	Volume         decimal.NullDecimal `json:"volume"`
	Currency       string              `json:"currency"`
	FetchedAt      time.Time           `json:"fetched_at"`
	FromStore      bool                `json:"from_store" doc:"True when the stored quote was fresh and the provider was not called."`
	PackID         string              `json:"pack_id" doc:"The pricing pack of the trading date."`
	Staged         bool                `json:"staged" doc:"True when the quote is stored in that pack; false when the pack is final (immutable) or already holds the pack builder's close."`
	Provenance     agents.Provenance   `json:"provenance"`
}

// FetchQuote implements provider.fetch_quote.
func (a *Harvester) FetchQuote(ctx context.Context, c *agents.Call, in FetchQuoteInput) (QuoteOutput, error) {
	pc := a.client(in.Provider)
	var sec storage.Security
	var stored storage.FetchedPrice
	var haveStored bool
	var last map[string]time.Time
	err := c.Read(ctx, func(q storage.Querier) error {
		var err error
		if sec, err = storage.GetSecurity(ctx, q, in.SecurityID); err != nil {
			return err
		}
		if last, err = storage.LastFetches(ctx, q, in.Provider, "quote", []string{sec.ID.String()}); err != nil {
			return err
		}
		stored, haveStored, err = storage.LatestFetchedPrice(ctx, q, sec.ID, in.Provider)
		return err
	})
	if err != nil {
		return QuoteOutput{}, err
	}
	at, ok := last[sec.ID.String()]
	if haveStored && a.fresh(pc, at, ok) {
		out := QuoteOutput{SecurityID: sec.ID, Symbol: sec.Symbol, ProviderSymbol: providerSymbol(in.Provider, sec), Provider: in.Provider,
			Date: stored.Date.Format(time.DateOnly), Close: stored.Close, Open: stored.Open, High: stored.High, Low: stored.Low,
			Volume: stored.Volume, Currency: stored.Currency, FetchedAt: stored.FetchedAt.UTC(), FromStore: true,
			PackID: stored.PackID, Staged: true}
		out.Provenance = quoteProvenance(c, in.Provider)
		return out, nil
	}
	if err := pc.Ready(); err != nil {
		return QuoteOutput{}, err
	}
	var qt quote
	var fetchedAt time.Time
	switch in.Provider {
	case agents.ProviderPolygon:
		qt, fetchedAt, err = fetchPolygonQuote(ctx, pc, sec)
	default:
		qt, fetchedAt, err = fetchFMPQuote(ctx, pc, sec)
	}
	if err != nil {
		return QuoteOutput{}, err
	}
	var packID string
	var staged bool
	err = c.Write(ctx, func(q storage.Querier) error {
		var err error
		if packID, staged, err = storage.StageFetchedPrice(ctx, q, qt.date, qt.price, in.Provider, fetchedAt); err != nil {
			return err
		}
		n := 0
		if staged {
			n = 1
		}
		return storage.RecordFetch(ctx, q, in.Provider, "quote", sec.ID.String(), fetchedAt, n)
	})
	if err != nil {
		return QuoteOutput{}, err
	}
	p := qt.price
	out := QuoteOutput{SecurityID: sec.ID, Symbol: sec.Symbol, ProviderSymbol: qt.symbol, Provider: in.Provider,
		Date: qt.date.Format(time.DateOnly), Close: p.Close, Open: p.Open, High: p.High, Low: p.Low, Volume: p.Volume,
		Currency: p.Currency, FetchedAt: fetchedAt.UTC(), PackID: packID, Staged: staged}
	out.Provenance = quoteProvenance(c, in.Provider)
	return out, nil
}

func providerSymbol(provider string, s storage.Security) string {
	if provider == agents.ProviderFMP {
		return fmpSymbol(s)
	}
	return s.Symbol
}

func quoteProvenance(c *agents.Call, provider string) agents.Provenance {
	p := c.Provenance("fetched from the provider, or the stored fetch while younger than the provider's staleness",
		"close in the security's trading currency; date = UTC date of the provider's timestamp")
	p.Source = provider
	return p
}
