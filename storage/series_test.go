package storage_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// TestFactorSeries derives the factors from macro observations written by
// hand: rates in percent become changes / 100, indices become returns; a
// date on which one series has no observation is left out.
func TestFactorSeries(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	ctx := context.Background()
	// Three days of every series; VIXCLS lacks the third day.
	obs := map[string][3]float64{
		"DFII10": {1.50, 1.60, 1.55}, "T10YIE": {2.30, 2.25, 2.25}, "BAMLC0A0CM": {1.00, 1.10, 1.20},
		"DTWEXBGS": {120, 121.2, 120}, "SP500": {5000, 5050, 4949.5}, "DCOILWTICO": {80, 76, 79.8}, "VIXCLS": {15, 18, 0},
	}
	days := []string{"2025-03-03", "2025-03-04", "2025-03-05"}
	for id, v := range obs {
		for i, d := range days {
			if id == "VIXCLS" && i == 2 {
				continue
			}
			if _, err := db.Exec(ctx, `INSERT INTO macro_indicators (series_id, obs_date, value) VALUES ($1, $2, $3)`, id, d, v[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got []storage.FactorDay
	err := db.Snapshot(ctx, func(tx pgx.Tx) error {
		var err error
		got, err = storage.FactorSeries(ctx, tx, seriesDate(t, "2025-03-04"), seriesDate(t, "2025-03-05"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// 2025-03-04 by hand: real rates (1.60-1.50)/100 = 0.001, inflation
	// -0.0005, credit 0.001, usd 121.2/120-1 = 0.01, equity 0.01,
	// commodity -0.05, volatility 0.2. 2025-03-05 lacks VIXCLS: left out.
	want := []float64{0.001, -0.0005, 0.001, 0.01, 0.01, -0.05, 0.2}
	if len(got) != 1 || !got[0].Date.Equal(seriesDate(t, "2025-03-04")) {
		t.Fatalf("factor days %+v; want only 2025-03-04", got)
	}
	for i, w := range want {
		if math.Abs(got[0].Values[i]-w) > 1e-12 {
			t.Errorf("%s = %v; want %v", storage.Factors[i].Name, got[0].Values[i], w)
		}
	}
}

func seriesDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
