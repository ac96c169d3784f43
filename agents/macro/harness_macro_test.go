package macro_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

// macroHarness calls capabilities the way a step handler does: arguments
// checked against the input schema, the capability run in a registry
// with contract checks on (declared tables and codes), the output checked
// against the output schema. The registry holds the macro hound and the
// financial analyst (whose capabilities the macro patterns use).
type macroHarness struct {
	t   *testing.T
	db  *storage.DB
	reg *agents.Registry
	cat *orchestrator.Catalog
	rc  agents.RunContext
}

func newMacroHarness(t *testing.T, db *storage.DB) *macroHarness {
	r := agents.NewRegistry(agents.Options{DB: db, CheckContracts: true})
	r.Add(macro.New(agents.Deps{DB: db}))
	r.Add(analyst.New(agents.Deps{DB: db, RiskFreeRate: 0.04}))
	return &macroHarness{t: t, db: db, reg: r, cat: orchestrator.MustCatalog(r)}
}

// at returns a copy of the harness whose run is as of date.
func (h *macroHarness) at(date string) *macroHarness {
	c := *h
	c.rc.AsOfDate = date
	return &c
}

func (h *macroHarness) call(name string, args any, out any) error {
	h.t.Helper()
	s, ok := h.reg.Get(name)
	if !ok {
		h.t.Fatalf("%s not registered", name)
	}
	raw, err := json.Marshal(args)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.cat.CheckArgs(name, raw, "args"); err != nil {
		return err
	}
	res, err := s.Invoke(context.Background(), agents.Call{Run: h.rc}, raw)
	if err != nil {
		return err
	}
	spec, _ := h.cat.Capability(name)
	if errs := spec.Output.Validate(res); len(errs) > 0 {
		h.t.Fatalf("%s: output breaks its schema: %v", name, errs)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(res, out)
}

// mustCall fails the test on an error.
func (h *macroHarness) mustCall(name string, args any, out any) {
	h.t.Helper()
	if err := h.call(name, args, out); err != nil {
		h.t.Fatalf("%s %v: %v", name, args, err)
	}
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
