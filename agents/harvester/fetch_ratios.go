package harvester

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Harvester) fetchRatios() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "provider.fetch_ratios",
		Description: "A security's annual financial ratios as FMP reports them (/stable/ratios: margins, current ratio, debt/equity, " +
			"interest coverage, payout ratio, dividend yield), stored in fundamental_ratios with source and fetch time; fresh stored ratios answer without a call.",
		Reads:  []string{"securities", "provider_fetches", "fundamental_ratios"},
		Writes: []string{"fundamental_ratios", "provider_fetches"},
		Codes:  []string{agents.CodeNotFound, agents.CodeProviderNotConfigured},
	}, a.FetchRatios)
}

// FetchRatiosInput names the security.
type FetchRatiosInput struct {
	SecurityID uuid.UUID `json:"security_id" doc:"The security."`
	Years      int       `json:"years,omitempty" jsonschema:"minimum=1,maximum=10,default=5" doc:"Fiscal years, newest first."`
}

// RatioYear is one fiscal year's ratios; a null ratio was not reported.
type RatioYear struct {
	FiscalYear       int        `json:"fiscal_year"`
	PeriodEnd        string     `json:"period_end"`
	Currency         *string    `json:"currency"`
	GrossMargin      *float64   `json:"gross_margin" doc:"Gross profit / revenue, a decimal."`
	OperatingMargin  *float64   `json:"operating_margin"`
	NetMargin        *float64   `json:"net_margin"`
	CurrentRatio     *float64   `json:"current_ratio"`
	DebtToEquity     *float64   `json:"debt_to_equity"`
	InterestCoverage *float64   `json:"interest_coverage"`
	PayoutRatio      *float64   `json:"payout_ratio"`
	DividendYield    *float64   `json:"dividend_yield" doc:"A decimal (0.02 is 2 %)."`
	Source           string     `json:"source"`
	FetchedAt        *time.Time `json:"fetched_at"`
}

// RatiosOutput is a security's stored ratios, newest first.
type RatiosOutput struct {
	SecurityID  uuid.UUID         `json:"security_id"`
	Symbol      string            `json:"symbol"`
	Ratios      []RatioYear       `json:"ratios"`
	Refreshed   bool              `json:"refreshed" doc:"True when this call fetched them."`
	LastFetched *time.Time        `json:"last_fetched"`
	Provenance  agents.Provenance `json:"provenance"`
}

// FetchRatios implements provider.fetch_ratios.
func (a *Harvester) FetchRatios(ctx context.Context, c *agents.Call, in FetchRatiosInput) (RatiosOutput, error) {
	pc := a.client(agents.ProviderFMP)
	var sec storage.Security
	var stored []storage.FundamentalRatios
	var last map[string]time.Time
	read := func(q storage.Querier) error {
		var err error
		if sec, err = storage.GetSecurity(ctx, q, in.SecurityID); err != nil {
			return err
		}
		if last, err = storage.LastFetches(ctx, q, agents.ProviderFMP, "ratios", []string{sec.ID.String()}); err != nil {
			return err
		}
		stored, err = storage.ListFundamentalRatios(ctx, q, sec.ID)
		return err
	}
	if err := c.Read(ctx, read); err != nil {
		return RatiosOutput{}, err
	}
	out := RatiosOutput{SecurityID: sec.ID, Symbol: sec.Symbol, Ratios: []RatioYear{}}
	out.Provenance = c.Provenance("ratios as FMP reports them, stored; refetched when older than FMP's staleness", "decimals (0.15 is 15 %)")
	out.Provenance.Source = agents.ProviderFMP
	at, ok := last[sec.ID.String()]
	if !a.fresh(pc, at, ok) || len(stored) == 0 {
		if err := pc.Ready(); err != nil {
			return out, err
		}
		rows, err := fetchFMPRatios(ctx, pc, sec, in.Years)
		if err != nil {
			return out, err
		}
		at = rows[0].FetchedAt
		err = c.Write(ctx, func(q storage.Querier) error {
			if err := storage.UpsertFundamentalRatios(ctx, q, rows); err != nil {
				return err
			}
			if err := storage.RecordFetch(ctx, q, agents.ProviderFMP, "ratios", sec.ID.String(), at, len(rows)); err != nil {
				return err
			}
			return read(q)
		})
		if err != nil {
			return out, err
		}
		ok, out.Refreshed = true, true
	}
	if ok {
		t := at.UTC()
		out.LastFetched = &t
	}
	for i, r := range stored {
		if i >= in.Years {
			break
		}
		fa := r.FetchedAt.UTC()
		out.Ratios = append(out.Ratios, RatioYear{FiscalYear: r.FiscalYear, PeriodEnd: r.PeriodEnd.Format(time.DateOnly), Currency: r.Currency,
			GrossMargin: r.GrossMargin, OperatingMargin: r.OperatingMargin, NetMargin: r.NetMargin, CurrentRatio: r.CurrentRatio,
			DebtToEquity: r.DebtToEquity, InterestCoverage: r.InterestCoverage, PayoutRatio: r.PayoutRatio,
			DividendYield: r.DividendYield, Source: r.Source, FetchedAt: &fa})
	}
	return out, nil
}
