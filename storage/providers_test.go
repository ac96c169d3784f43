package storage_test

import (
	"testing"
	"time"

	"github.com/dawsos/dawsos/storage"
)

// TestBuilderCloseReplacesAFetchedOne: a provider's close staged in a
// warming pack carries its source and fetch time; when the pack builder
// then writes its own close for the security, the row is the builder's,
// and no longer says it came from the provider.
func TestBuilderCloseReplacesAFetchedOne(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "USD")
	day := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	sec := f.sec["XYZ"].ID
	packID, staged, err := storage.StageFetchedPrice(f.ctx, f.db.Pool(), day, storage.Price{SecurityID: sec, Close: dec("10.5")}, "fmp", day.Add(20*time.Hour))
	if err != nil || !staged {
		t.Fatalf("stage a fetched close: %v (staged %v)", err, staged)
	}
	if err := storage.UpsertPrices(f.ctx, f.db.Pool(), packID, []storage.Price{{SecurityID: sec, Close: dec("10.75")}}); err != nil {
		t.Fatal(err)
	}
	var closeText string
	var source *string
	var fetched *time.Time
	if err := f.db.Pool().QueryRow(f.ctx, `SELECT close::text, source, fetched_at FROM prices WHERE pack_id = $1 AND security_id = $2`,
		packID, sec).Scan(&closeText, &source, &fetched); err != nil {
		t.Fatal(err)
	}
	if closeText != "10.75" || source != nil || fetched != nil {
		t.Fatalf("after the builder's close: close %s source %v fetched_at %v; want 10.75 with no source or fetch time", closeText, source, fetched)
	}
}

// TestMacroIndicatorsRefuseNaN: NaN is not an observation, and the table
// says so itself (PostgreSQL holds NaN equal to NaN, so the check must
// compare with 'NaN').
func TestMacroIndicatorsRefuseNaN(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "USD")
	_, err := f.db.Pool().Exec(f.ctx, `INSERT INTO macro_indicators (series_id, obs_date, value) VALUES ('UNRATE', '2024-01-01', 'NaN')`)
	if err == nil {
		t.Fatal("macro_indicators took NaN")
	}
	if _, err := f.db.Pool().Exec(f.ctx, `INSERT INTO macro_indicators (series_id, obs_date, value) VALUES ('UNRATE', '2024-01-01', 3.9)`); err != nil {
		t.Fatal(err)
	}
}
