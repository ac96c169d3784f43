package ratings

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// What the three component ratings and the aggregate share: the input, the
// output, loading a security's statements and applying a rubric to them.

// RatingInput names the security to rate.
type RatingInput struct {
	SecurityID uuid.UUID `json:"security_id" doc:"The security; it must be an equity with fundamentals."`
	FiscalYear int       `json:"fiscal_year,omitempty" jsonschema:"minimum=1900,maximum=2200" doc:"Rate as of this fiscal year (with the consecutive years before it); default the newest fiscal year whose period ended on or before the run's as-of date."`
}

// RubricRef names the rubric version a rating applied.
type RubricRef struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
}

// Component is one metric of a rating.
type Component struct {
	Metric      string      `json:"metric"`
	Description string      `json:"description" doc:"The rubric's definition of the metric."`
	Direction   string      `json:"direction" doc:"higher_is_better or lower_is_better, from the rubric."`
	Weight      float64     `json:"weight" doc:"The metric's weight in the rating, from the rubric."`
	Value       *float64    `json:"value" doc:"The metric's figure (a decimal ratio, a count of years, or a standard deviation); null when unbounded."`
	Unbounded   string      `json:"unbounded,omitempty" doc:"+inf or -inf when the figure is unbounded (a zero denominator, or a ratio the note says is not meaningful); it meets the bands as such."`
	Score       float64     `json:"score" doc:"The score of the band the figure met, from the rubric."`
	Band        string      `json:"band" doc:"The band met (its threshold), or else."`
	Weighted    float64     `json:"weighted" doc:"weight × score."`
	Inputs      []LineInput `json:"inputs" doc:"The statement lines read, with their fiscal years."`
	Series      []YearValue `json:"series,omitempty" doc:"The per-year figures of a metric taken over several fiscal years, newest first."`
	Note        string      `json:"note,omitempty"`
}

// ComponentRating is one component rating of one security.
type ComponentRating struct {
	SecurityID  uuid.UUID   `json:"security_id"`
	Symbol      string      `json:"symbol"`
	Name        string      `json:"name"`
	Rating      string      `json:"rating" doc:"dividend_safety, moat_strength or resilience."`
	Score       float64     `json:"score" doc:"Σ weight × score over the components, on the rubric's scale."`
	Scale       float64     `json:"scale" doc:"The rubric's scale (the highest score)."`
	FiscalYear  int         `json:"fiscal_year" doc:"The rated fiscal year."`
	FiscalYears []int       `json:"fiscal_years" doc:"The consecutive fiscal years read, newest first."`
	Currency    string      `json:"currency" doc:"The statements' currency."`
	Rubric      RubricRef   `json:"rubric"`
	Components  []Component `json:"components"`
}

// RatingOutput is a component rating with its date and provenance.
type RatingOutput struct {
	ComponentRating
	AsOfDate   string            `json:"asof_date" doc:"The date the rating is stored under; statements with a later period end are not read."`
	Provenance agents.Provenance `json:"provenance"`
}

// ratingConvention states the scale and scoring of every component rating.
const ratingConvention = "each metric scores the first band of the rubric it meets (higher_is_better: value ≥ min; lower_is_better: value ≤ max), " +
	"else the rubric's else score; the rating is Σ weight × score; ratios are decimals; standard deviations are sample (ddof 1) " +
	"over the consecutive fiscal years read; a zero denominator makes a ratio unbounded (±inf by the numerator's sign)"

// subject is a security with its statements, newest fiscal year first.
type subject struct {
	sec storage.Security
	fs  []storage.Fundamentals
}

// loadSubjects loads the securities and their statements up to asOf. A
// security that does not exist is absent.
func loadSubjects(ctx context.Context, q storage.Querier, ids []uuid.UUID, asOf time.Time) (map[uuid.UUID]subject, error) {
	secs, err := storage.ListSecurities(ctx, q, storage.SecurityFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	fs, err := storage.FundamentalsUpTo(ctx, q, ids, asOf)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]subject, len(secs))
	for _, s := range secs {
		out[s.ID] = subject{sec: s, fs: fs[s.ID]}
	}
	return out, nil
}

// statementsFor picks the rated year (fiscalYear, or the newest) and the
// consecutive years before it. A security that is not an equity, has no
// statements, or lacks the year asked for cannot be rated.
func (s subject) statementsFor(fiscalYear int, asOf time.Time) (statements, error) {
	if s.sec.Type != storage.SecurityEquity {
		return statements{}, agents.FieldError("security_id", "%s is a %s: ratings are computed from an equity's fundamentals", s.sec.Symbol, s.sec.Type)
	}
	if len(s.fs) == 0 {
		return statements{}, agents.InsufficientData(fmt.Sprintf("fundamentals of %s with a period ending on or before %s", s.sec.Symbol, asOf.Format(time.DateOnly)), 0, 1)
	}
	k := 0
	if fiscalYear != 0 {
		k = slices.IndexFunc(s.fs, func(f storage.Fundamentals) bool { return f.FiscalYear == fiscalYear })
		if k < 0 {
			var have []string
			for _, f := range s.fs {
				have = append(have, fmt.Sprint(f.FiscalYear))
			}
			return statements{}, agents.Errorf(agents.CodeInsufficientData, "fundamentals of %s have no fiscal year %d ending on or before %s (years: %s)",
				s.sec.Symbol, fiscalYear, asOf.Format(time.DateOnly), strings.Join(have, ", "))
		}
	}
	st := statements{symbol: s.sec.Symbol, years: []storage.Fundamentals{s.fs[k]}}
	for j := k + 1; j < len(s.fs) && s.fs[j].FiscalYear == st.years[len(st.years)-1].FiscalYear-1; j++ {
		st.years = append(st.years, s.fs[j])
	}
	return st, nil
}

// rate applies a component rubric to a security's statements.
func rate(s subject, st statements, rub componentRubric) (ComponentRating, error) {
	defs := metricDefs[rub.Name]
	r := ComponentRating{SecurityID: s.sec.ID, Symbol: s.sec.Symbol, Name: s.sec.Name, Rating: rub.Name, Scale: rub.Scale,
		FiscalYear: st.years[0].FiscalYear, Currency: st.years[0].Currency, Rubric: RubricRef{rub.Name, rub.Version},
		FiscalYears: []int{}, Components: []Component{}}
	for _, y := range st.years {
		r.FiscalYears = append(r.FiscalYears, y.FiscalYear)
	}
	total := decimal.Zero
	for _, m := range rub.Metrics {
		def, ok := defs[m.Metric]
		if !ok {
			return ComponentRating{}, badRubric(rub.Name, rub.Version, "metric %q has no definition in the ratings agent", m.Metric)
		}
		var ms measured
		if err := def(st, &ms); err != nil {
			return ComponentRating{}, fmt.Errorf("%s of %s, metric %s: %w", rub.Name, s.sec.Symbol, m.Metric, err)
		}
		score, band := m.score(ms.value)
		weighted := dec(m.Weight).Mul(dec(score))
		total = total.Add(weighted)
		c := Component{Metric: m.Metric, Description: m.Description, Direction: m.Direction, Weight: m.Weight,
			Score: score, Band: band, Weighted: weighted.InexactFloat64(), Inputs: ms.inputs, Series: ms.series, Note: ms.note}
		if c.Inputs == nil {
			c.Inputs = []LineInput{}
		}
		switch {
		case math.IsInf(ms.value, 1):
			c.Unbounded = "+inf"
		case math.IsInf(ms.value, -1):
			c.Unbounded = "-inf"
		default:
			v := ms.value
			c.Value = &v
		}
		r.Components = append(r.Components, c)
	}
	r.Score = atMost(total.InexactFloat64(), r.Scale)
	return r, nil
}

// dec is a rubric number or a score as the decimal it was written as, so
// that weighted sums of them are exact: a sum that lands on a grade's
// cut-off is never a hair below it.
func dec(x float64) decimal.Decimal { return decimal.NewFromFloat(x) }

// atMost removes the excess of a weighted sum that reaches its scale with
// weights summing to 1 only within weightTolerance: it is the scale, and
// the table's check says so.
func atMost(score, scale float64) float64 {
	if score > scale && score-scale <= weightTolerance*scale {
		return scale
	}
	return score
}

// componentRubrics loads and parses the active rubrics of the named
// component ratings.
func componentRubrics(ctx context.Context, q storage.Querier, names ...string) (map[string]componentRubric, error) {
	rows, err := storage.ActiveRubrics(ctx, q, names)
	if err != nil {
		return nil, err
	}
	out := make(map[string]componentRubric, len(names))
	for _, n := range names {
		r, err := parseComponent(rows[n])
		if err != nil {
			return nil, err
		}
		out[n] = r
	}
	return out, nil
}

// ratingRow is the security_ratings row of a component rating.
func ratingRow(r ComponentRating, asOf time.Time) (storage.SecurityRating, error) {
	comps, err := json.Marshal(map[string]any{"components": r.Components, "fiscal_years": r.FiscalYears, "currency": r.Currency})
	if err != nil {
		return storage.SecurityRating{}, agents.Wrap(agents.CodeInternal, err, "encode the components of %s of %s", r.Rating, r.Symbol)
	}
	return storage.SecurityRating{SecurityID: r.SecurityID, RatingType: r.Rating, AsOfDate: asOf, RubricName: r.Rubric.Name,
		RubricVersion: r.Rubric.Version, Score: r.Score, Components: comps, FiscalYear: r.FiscalYear}, nil
}

// rateOne is a component rating capability: rate the security with the
// active rubric of name and upsert the rating.
func (a *Ratings) rateOne(ctx context.Context, c *agents.Call, name string, in RatingInput) (RatingOutput, error) {
	asOf, err := c.RequireAsOf()
	if err != nil {
		return RatingOutput{}, err
	}
	rubs, err := componentRubrics(ctx, c.DB, name)
	if err != nil {
		return RatingOutput{}, err
	}
	rub := rubs[name]
	subs, err := loadSubjects(ctx, c.DB, []uuid.UUID{in.SecurityID}, asOf)
	if err != nil {
		return RatingOutput{}, err
	}
	s, ok := subs[in.SecurityID]
	if !ok {
		return RatingOutput{}, fmt.Errorf("rate security %s: %w", in.SecurityID, storage.ErrNotFound)
	}
	st, err := s.statementsFor(in.FiscalYear, asOf)
	if err != nil {
		return RatingOutput{}, err
	}
	r, err := rate(s, st, rub)
	if err != nil {
		return RatingOutput{}, err
	}
	row, err := ratingRow(r, asOf)
	if err != nil {
		return RatingOutput{}, err
	}
	if err := storage.UpsertSecurityRatings(ctx, c.DB, []storage.SecurityRating{row}); err != nil {
		return RatingOutput{}, err
	}
	out := RatingOutput{ComponentRating: r, AsOfDate: asOf.Format(time.DateOnly),
		Provenance: c.Provenance(fmt.Sprintf("rubric %s v%d applied to the fundamentals of fiscal years %s (table fundamentals, periods ending on or before %s); upserted into security_ratings",
			rub.Name, rub.Version, joinYears(r.FiscalYears), asOf.Format(time.DateOnly)), ratingConvention)}
	out.Provenance.Source = sources(st)
	return out, nil
}

func joinYears(ys []int) string {
	parts := make([]string, len(ys))
	for i, y := range ys {
		parts[i] = fmt.Sprint(y)
	}
	return strings.Join(parts, ", ")
}

// sources lists the statements' sources.
func sources(st statements) string {
	var out []string
	for _, y := range st.years {
		if !slices.Contains(out, y.Source) {
			out = append(out, y.Source)
		}
	}
	return strings.Join(out, ", ")
}
