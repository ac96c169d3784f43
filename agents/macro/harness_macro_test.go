package macro_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

// newMacroHarness calls capabilities with the checks a step gets, in a
// registry that holds the macro hound and the financial analyst (whose
// capabilities the macro patterns use).
func newMacroHarness(t *testing.T, db *storage.DB) *enginetest.Harness {
	return enginetest.NewHarness(t, db, macro.New(agents.Deps{DB: db}), analyst.New(agents.Deps{DB: db, RiskFreeRate: 0.04}))
}

// wantCode checks that err is an *agents.Error with code whose message
// mentions every one of names.
func wantCode(t *testing.T, err error, code string, names ...string) {
	t.Helper()
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("error %v; want code %s", err, code)
	}
	for _, n := range names {
		if !strings.Contains(ae.Message, n) {
			t.Errorf("error %q does not name %s", ae.Message, n)
		}
	}
}

// obs is one hand-made macro_indicators row.
type obs struct {
	series string
	date   time.Time
	value  float64
}

// insertObs writes hand-made observations with plain SQL.
func insertObs(t *testing.T, db *storage.DB, rows []obs) {
	t.Helper()
	ids, dates, vals := make([]string, len(rows)), make([]time.Time, len(rows)), make([]float64, len(rows))
	for i, r := range rows {
		ids[i], dates[i], vals[i] = r.series, r.date, r.value
	}
	if _, err := db.Exec(context.Background(), `INSERT INTO macro_indicators (series_id, obs_date, value, source)
		SELECT s, d, v, 'test' FROM unnest($1::text[], $2::date[], $3::float8[]) AS u(s, d, v)
		ON CONFLICT (series_id, obs_date) DO UPDATE SET value = EXCLUDED.value`, ids, dates, vals); err != nil {
		t.Fatal(err)
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// businessDays returns the n weekdays ending on or before end, oldest first.
func businessDays(end time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for d := end; len(out) < n; d = d.AddDate(0, 0, -1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			out = append(out, d)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// monthStarts returns the n first-of-month dates ending with end's month.
func monthStarts(end time.Time, n int) []time.Time {
	last := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = last.AddDate(0, -(n - 1 - i), 0)
	}
	return out
}

// handZ is the z-score of the last of xs over all of xs, sample standard
// deviation (ddof 1), written out.
func handZ(xs []float64) float64 {
	n := float64(len(xs))
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	mean := sum / n
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return (xs[len(xs)-1] - mean) / math.Sqrt(ss/(n-1))
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
