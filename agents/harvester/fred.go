package harvester

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// FRED (api.stlouisfed.org), GET /fred/series/observations?series_id=
// &observation_start=&file_type=json&api_key=: an object whose
// observations list holds {date, value} with value a decimal string, "."
// for a missing observation. An unknown series answers 400 with
// error_message.

type fredObservation struct {
	Date  string `json:"date"`
	Value string `json:"value"`
}

type fredObservations struct {
	Count        *int              `json:"count"`
	Observations []fredObservation `json:"observations"`
}

func (f *fredObservations) Check() error {
	if f.Observations == nil {
		return fmt.Errorf("no observations list")
	}
	for i, o := range f.Observations {
		if _, err := time.Parse(time.DateOnly, o.Date); err != nil {
			return fmt.Errorf("observation %d: date %q is not YYYY-MM-DD", i, o.Date)
		}
		if o.Value == "." {
			continue
		}
		if v, err := strconv.ParseFloat(o.Value, 64); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("observation %d (%s): value %q is not a number or \".\"", i, o.Date, o.Value)
		}
	}
	return nil
}

// fetchFREDSeries fetches a series' observations from start on; missing
// observations (".") are skipped, not stored, and counted.
func fetchFREDSeries(ctx context.Context, c *agents.ProviderClient, id string, start time.Time) (obs []storage.MacroObservation, missing int, at time.Time, err error) {
	var f fredObservations
	resp, err := c.GetJSON(ctx, agents.ProviderRequest{Path: "/fred/series/observations", KeyParam: "api_key", Query: url.Values{
		"series_id": {id}, "observation_start": {start.Format(time.DateOnly)}, "file_type": {"json"},
	}}, &f)
	if err != nil {
		return nil, 0, time.Time{}, fmt.Errorf("observations of %s: %w", id, err)
	}
	obs = []storage.MacroObservation{}
	for _, o := range f.Observations {
		if o.Value == "." {
			missing++
			continue
		}
		d, _ := time.Parse(time.DateOnly, o.Date)
		v, _ := strconv.ParseFloat(o.Value, 64)
		obs = append(obs, storage.MacroObservation{Date: d, Value: v})
	}
	return obs, missing, resp.FetchedAt, nil
}
