package harvester

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Harvester) fetchMacro() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "provider.fetch_macro",
		Description: "Observations of FRED series (/fred/series/observations) stored in macro_indicators with source and fetch " +
			"time; a series fetched within FRED's staleness is answered from the stored observations.",
		Reads:  []string{"provider_fetches", "macro_indicators"},
		Writes: []string{"macro_indicators", "provider_fetches"},
		Codes:  []string{agents.CodeNotFound, agents.CodeProviderNotConfigured},
	}, a.FetchMacro)
}

// seriesIDPattern is the form of a macro_indicators series id.
var seriesIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.]+$`)

// FetchMacroInput names the series.
type FetchMacroInput struct {
	SeriesIDs []string `json:"series_ids" jsonschema:"minItems=1,maxItems=25" doc:"FRED series ids, e.g. DGS10, UNRATE, CPIAUCSL."`
	Start     string   `json:"start,omitempty" jsonschema:"format=date" doc:"First observation date to fetch; default five years before the as-of date."`
}

// Validate checks each series id.
func (in FetchMacroInput) Validate() error {
	for i, id := range in.SeriesIDs {
		if !seriesIDPattern.MatchString(id) {
			return agents.FieldError(fmt.Sprintf("series_ids[%d]", i), "series id %q is not letters, digits, '_' and '.'", id)
		}
	}
	return nil
}

// MacroSeriesOut is what is stored of one series after the call.
type MacroSeriesOut struct {
	SeriesID      string     `json:"series_id"`
	Refreshed     bool       `json:"refreshed" doc:"True when this call fetched the series."`
	Fetched       int        `json:"fetched" doc:"Observations this call fetched and stored."`
	MissingValues int        `json:"missing_values" doc:"Observations FRED marked missing (\".\"), not stored."`
	Stored        int        `json:"stored" doc:"Observations stored for the series, from every source."`
	First         *string    `json:"first"`
	Last          *string    `json:"last"`
	LastValue     *float64   `json:"last_value"`
	Sources       []string   `json:"sources"`
	LastFetched   *time.Time `json:"last_fetched"`
}

// FetchMacroOutput lists the series.
type FetchMacroOutput struct {
	Start      string            `json:"start"`
	Series     []MacroSeriesOut  `json:"series"`
	Provenance agents.Provenance `json:"provenance"`
}

// FetchMacro implements provider.fetch_macro.
func (a *Harvester) FetchMacro(ctx context.Context, c *agents.Call, in FetchMacroInput) (FetchMacroOutput, error) {
	pc := a.client(agents.ProviderFRED)
	asOf, err := a.asOfDate(c)
	if err != nil {
		return FetchMacroOutput{}, err
	}
	start := asOf.AddDate(-5, 0, 0)
	if in.Start != "" {
		if start, err = time.Parse(time.DateOnly, in.Start); err != nil {
			return FetchMacroOutput{}, agents.FieldError("start", "start %q is not YYYY-MM-DD", in.Start)
		}
	}
	ids := uniqueStrings(in.SeriesIDs)
	var last map[string]time.Time
	if err := c.Read(ctx, func(q storage.Querier) error {
		var err error
		last, err = storage.LastFetches(ctx, q, agents.ProviderFRED, "series", ids)
		return err
	}); err != nil {
		return FetchMacroOutput{}, err
	}
	type fetched struct {
		obs     []storage.MacroObservation
		missing int
		at      time.Time
	}
	got := map[string]fetched{}
	for _, id := range ids {
		at, ok := last[id]
		if a.fresh(pc, at, ok) {
			continue
		}
		if err := pc.Ready(); err != nil {
			return FetchMacroOutput{}, err
		}
		obs, missing, at, err := fetchFREDSeries(ctx, pc, id, start)
		if err != nil {
			return FetchMacroOutput{}, err
		}
		got[id] = fetched{obs, missing, at}
	}
	var sums map[string]storage.MacroSeriesSummary
	write := func(q storage.Querier) error {
		for id, f := range got {
			if err := storage.UpsertFetchedMacro(ctx, q, id, f.obs, agents.ProviderFRED, f.at); err != nil {
				return err
			}
			if err := storage.RecordFetch(ctx, q, agents.ProviderFRED, "series", id, f.at, len(f.obs)); err != nil {
				return err
			}
			last[id] = f.at
		}
		var err error
		sums, err = storage.SummarizeMacroSeries(ctx, q, ids)
		return err
	}
	if len(got) > 0 {
		err = c.Write(ctx, write)
	} else {
		err = c.Read(ctx, write)
	}
	if err != nil {
		return FetchMacroOutput{}, err
	}
	out := FetchMacroOutput{Start: start.Format(time.DateOnly), Series: []MacroSeriesOut{}}
	for _, id := range ids {
		s := MacroSeriesOut{SeriesID: id, Sources: []string{}}
		if f, ok := got[id]; ok {
			s.Refreshed, s.Fetched, s.MissingValues = true, len(f.obs), f.missing
		}
		if at, ok := last[id]; ok {
			t := at.UTC()
			s.LastFetched = &t
		}
		if sum, ok := sums[id]; ok {
			s.Stored, s.First, s.Last, s.Sources = sum.Observations, dateString(&sum.First), dateString(&sum.Last), sum.Sources
			v := sum.LastValue
			s.LastValue = &v
		}
		out.Series = append(out.Series, s)
	}
	out.Provenance = c.Provenance("FRED observations from the start date on, stored on (series, date); '.' (missing) not stored",
		"values in the series' own units as FRED publishes them")
	out.Provenance.Source = agents.ProviderFRED
	return out, nil
}

func uniqueStrings(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
