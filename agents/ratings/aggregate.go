package ratings

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Ratings) aggregate() agents.Def {
	return agents.Write(agents.Meta{
		Name: "ratings.aggregate",
		Description: "The aggregate quality score 0–100 and grade of one equity, or value-weighted over a list of positions (the " +
			"valued positions output, passed whole): the active aggregate rubric's weights of the three component ratings " +
			"(each computed here with its own rubric) and its grade cut-offs. Positions that cannot be rated are listed with why. " +
			"Upserts each rated security's aggregate row into security_ratings.",
		Reads:  []string{"securities", "fundamentals", "rating_rubrics"},
		Writes: []string{"security_ratings"},
		Codes:  []string{agents.CodeNotFound, agents.CodeInsufficientData},
	}, a.Aggregate)
}

// AggregateInput names one security or a list of positions.
type AggregateInput struct {
	SecurityID *uuid.UUID          `json:"security_id,omitempty" doc:"One equity to score; give this or positions."`
	Positions  []AggregatePosition `json:"positions,omitempty" doc:"Valued positions (portfolio.get_valued_positions' positions, passed whole); only their security_id, symbol and market_value are read."`
	FiscalYear int                 `json:"fiscal_year,omitempty" jsonschema:"minimum=1900,maximum=2200" doc:"Rate as of this fiscal year; default each security's newest one ending on or before the as-of date."`
}

// AggregatePosition is what the aggregate reads of a valued position.
type AggregatePosition struct {
	SecurityID  uuid.UUID       `json:"security_id"`
	Symbol      string          `json:"symbol"`
	MarketValue decimal.Decimal `json:"market_value" doc:"In the base currency."`
}

// Validate requires exactly one of security_id and positions.
func (in AggregateInput) Validate() error {
	switch {
	case in.SecurityID == nil && in.Positions == nil:
		return agents.FieldError("security_id", "give security_id (one equity) or positions (a list of valued positions)")
	case in.SecurityID != nil && in.Positions != nil:
		return agents.FieldError("positions", "give either security_id or positions, not both")
	}
	return nil
}

// RatingScore is one component rating inside the aggregate.
type RatingScore struct {
	Rating       string    `json:"rating"`
	Score        float64   `json:"score" doc:"On the component rubric's scale; value-weighted for a list of positions."`
	Scale        float64   `json:"scale"`
	Weight       float64   `json:"weight" doc:"The aggregate rubric's weight of this rating."`
	Contribution float64   `json:"contribution" doc:"weight × score / scale × the aggregate's scale: its part of the aggregate score."`
	Rubric       RubricRef `json:"rubric"`
}

// SecurityAggregate is one rated security.
type SecurityAggregate struct {
	SecurityID  uuid.UUID        `json:"security_id"`
	Symbol      string           `json:"symbol"`
	Name        string           `json:"name"`
	FiscalYear  int              `json:"fiscal_year"`
	Score       float64          `json:"score" doc:"On the aggregate rubric's scale (0–100)."`
	Grade       string           `json:"grade"`
	Ratings     []RatingScore    `json:"ratings"`
	MarketValue *decimal.Decimal `json:"market_value,omitempty" doc:"For a list of positions: the position's market value."`
	ValueWeight *float64         `json:"value_weight,omitempty" doc:"For a list of positions: market value / the rated positions' value."`
}

// UnratedPosition is a position the aggregate could not rate.
type UnratedPosition struct {
	SecurityID  uuid.UUID       `json:"security_id"`
	Symbol      string          `json:"symbol"`
	MarketValue decimal.Decimal `json:"market_value"`
	Code        string          `json:"code" doc:"The error code rating it gave."`
	Reason      string          `json:"reason"`
}

// GradeCut is one grade cut-off of the rubric.
type GradeCut struct {
	Grade string  `json:"grade"`
	Min   float64 `json:"min"`
}

// AggregateOutput is the aggregate of one security or of positions.
type AggregateOutput struct {
	Scope      string              `json:"scope" doc:"security or positions."`
	Score      float64             `json:"score" doc:"The aggregate score; for positions the value-weighted mean of the rated securities' scores."`
	Scale      float64             `json:"scale"`
	Grade      string              `json:"grade"`
	Ratings    []RatingScore       `json:"ratings" doc:"The component ratings (value-weighted for positions) and their parts of the score."`
	Securities []SecurityAggregate `json:"securities" doc:"Every rated security."`
	Unrated    []UnratedPosition   `json:"unrated" doc:"Positions that could not be rated, and why; not in the score."`
	// Value coverage, for positions.
	RatedValue   *decimal.Decimal `json:"rated_value,omitempty" doc:"For positions: the market value of the rated positions."`
	UnratedValue *decimal.Decimal `json:"unrated_value,omitempty" doc:"For positions: the market value of the unrated ones."`
	Coverage     float64          `json:"coverage" doc:"rated_value / (rated_value + unrated_value); 1 for one security."`
	Rubric       RubricRef        `json:"rubric" doc:"The aggregate rubric."`
	Grades       []GradeCut       `json:"grades" doc:"The rubric's cut-offs, highest first."`
	GradeElse    string           `json:"grade_else" doc:"The grade below every cut-off."`
	AsOfDate     string           `json:"asof_date"`

	Provenance agents.Provenance `json:"provenance"`
}

// Aggregate implements ratings.aggregate.
func (a *Ratings) Aggregate(ctx context.Context, c *agents.Call, in AggregateInput) (AggregateOutput, error) {
	asOf, err := c.RequireAsOf()
	if err != nil {
		return AggregateOutput{}, err
	}
	rows, err := storage.ActiveRubrics(ctx, c.DB, []string{storage.RatingAggregate})
	if err != nil {
		return AggregateOutput{}, err
	}
	agg, err := parseAggregate(rows[storage.RatingAggregate])
	if err != nil {
		return AggregateOutput{}, err
	}
	names := agg.components()
	rubs, err := componentRubrics(ctx, c.DB, names...)
	if err != nil {
		return AggregateOutput{}, err
	}

	type item struct {
		id     uuid.UUID
		symbol string
		mv     decimal.Decimal
	}
	var items []item
	scope := "security"
	if in.SecurityID != nil {
		items = []item{{id: *in.SecurityID}}
	} else {
		scope = "positions"
		seen := map[uuid.UUID]int{}
		for _, p := range in.Positions {
			if k, ok := seen[p.SecurityID]; ok {
				items[k].mv = items[k].mv.Add(p.MarketValue)
				continue
			}
			seen[p.SecurityID] = len(items)
			items = append(items, item{id: p.SecurityID, symbol: p.Symbol, mv: p.MarketValue})
		}
	}
	ids := make([]uuid.UUID, len(items))
	for i, it := range items {
		ids[i] = it.id
	}
	subs, err := loadSubjects(ctx, c.DB, ids, asOf)
	if err != nil {
		return AggregateOutput{}, err
	}

	out := AggregateOutput{Scope: scope, Scale: agg.Scale, Ratings: []RatingScore{}, Securities: []SecurityAggregate{},
		Unrated: []UnratedPosition{}, Rubric: RubricRef{agg.Name, agg.Version}, Grades: []GradeCut{}, GradeElse: agg.Else,
		AsOfDate: asOf.Format(time.DateOnly), UnratedValue: &decimal.Decimal{}}
	for _, g := range agg.Grades {
		out.Grades = append(out.Grades, GradeCut(g))
	}
	var rated []SecurityAggregate
	var ratedMV []decimal.Decimal
	var stored []storage.SecurityRating
	for _, it := range items {
		sa, err := scoreSecurity(subs, it.id, in.FiscalYear, asOf, agg, rubs, names)
		if err != nil {
			ce := agents.Classify(err)
			if scope == "security" || !unratable(ce.Code) {
				return AggregateOutput{}, err
			}
			out.Unrated = append(out.Unrated, UnratedPosition{SecurityID: it.id, Symbol: it.symbol, MarketValue: it.mv, Code: ce.Code, Reason: ce.Message})
			*out.UnratedValue = out.UnratedValue.Add(it.mv)
			continue
		}
		if scope == "positions" && !it.mv.IsPositive() {
			out.Unrated = append(out.Unrated, UnratedPosition{SecurityID: it.id, Symbol: it.symbol, MarketValue: it.mv, Code: agents.CodeInsufficientData,
				Reason: fmt.Sprintf("market value %s is not positive, so it has no value weight", it.mv)})
			*out.UnratedValue = out.UnratedValue.Add(it.mv)
			continue
		}
		comps, err := json.Marshal(map[string]any{"ratings": sa.Ratings, "fiscal_year": sa.FiscalYear})
		if err != nil {
			return AggregateOutput{}, agents.Wrap(agents.CodeInternal, err, "encode the aggregate of %s", sa.Symbol)
		}
		stored = append(stored, storage.SecurityRating{SecurityID: sa.SecurityID, RatingType: storage.RatingAggregate, AsOfDate: asOf,
			RubricName: agg.Name, RubricVersion: agg.Version, Score: sa.Score, Grade: sa.Grade, Components: comps, FiscalYear: sa.FiscalYear})
		rated = append(rated, sa)
		ratedMV = append(ratedMV, it.mv)
	}
	if len(rated) == 0 {
		var why []string
		for _, u := range out.Unrated {
			why = append(why, u.Symbol+": "+u.Reason)
		}
		e := agents.InsufficientData("positions that can be rated", 0, 1)
		if len(why) > 0 {
			e.Message += " (" + strings.Join(why, "; ") + ")"
		}
		return AggregateOutput{}, e
	}
	if err := storage.UpsertSecurityRatings(ctx, c.DB, stored); err != nil {
		return AggregateOutput{}, err
	}

	// The mean over the rated securities weighted by market value (one
	// security: weight 1), in decimals.
	mean := func(score func(sa SecurityAggregate) float64) decimal.Decimal {
		if scope == "security" {
			return dec(score(rated[0]))
		}
		sum := decimal.Zero
		for i, sa := range rated {
			sum = sum.Add(ratedMV[i].Mul(dec(score(sa))))
		}
		return sum.DivRound(*out.RatedValue, 16)
	}
	if scope == "positions" {
		total, unrated := decimal.Zero, out.UnratedValue
		for _, v := range ratedMV {
			total = total.Add(v)
		}
		out.RatedValue = &total
		for i, v := range ratedMV {
			w := v.DivRound(total, 20).InexactFloat64()
			mv := v
			rated[i].MarketValue, rated[i].ValueWeight = &mv, &w
		}
		if all := total.Add(*unrated); all.IsPositive() {
			out.Coverage = total.DivRound(all, 20).InexactFloat64()
		}
	} else {
		out.Coverage = 1
		out.UnratedValue = nil
	}
	out.Score = atMost(mean(func(sa SecurityAggregate) float64 { return sa.Score }).InexactFloat64(), agg.Scale)
	for j, n := range names {
		rs := RatingScore{Rating: n, Scale: rubs[n].Scale, Weight: agg.Weights[n], Rubric: RubricRef{rubs[n].Name, rubs[n].Version}}
		rs.Score = mean(func(sa SecurityAggregate) float64 { return sa.Ratings[j].Score }).InexactFloat64()
		rs.Contribution = contribution(rs.Weight, rs.Score, rs.Scale, agg.Scale).InexactFloat64()
		out.Ratings = append(out.Ratings, rs)
	}
	out.Grade = agg.grade(out.Score)
	out.Securities = rated

	var versions []string
	for _, n := range names {
		versions = append(versions, fmt.Sprintf("%s v%d", n, rubs[n].Version))
	}
	method := fmt.Sprintf("rubric %s v%d weighing %s, each applied to the security's fundamentals (periods ending on or before %s); "+
		"aggregate rows upserted into security_ratings", agg.Name, agg.Version, strings.Join(versions, ", "), out.AsOfDate)
	convention := "score = aggregate scale × Σ weight × rating / rating scale; grade = the first cut-off the score reaches, else " + agg.Else
	if scope == "positions" {
		convention += "; positions: the score and ratings are means weighted by market value (base currency) over the rated positions only"
	}
	out.Provenance = c.Provenance(method, convention)
	return out, nil
}

// unratable says which codes leave a position out of a list's aggregate
// rather than failing it: the security cannot be rated (not an equity, no
// statements, a line not reported, unknown).
func unratable(code string) bool {
	return code == agents.CodeInsufficientData || code == agents.CodeInvalidInput || code == agents.CodeNotFound
}

// scoreSecurity rates one security with every component rubric and
// combines the ratings with the aggregate rubric.
func scoreSecurity(subs map[uuid.UUID]subject, id uuid.UUID, fiscalYear int, asOf time.Time, agg aggregateRubric,
	rubs map[string]componentRubric, names []string) (SecurityAggregate, error) {
	s, ok := subs[id]
	if !ok {
		return SecurityAggregate{}, fmt.Errorf("rate security %s: %w", id, storage.ErrNotFound)
	}
	st, err := s.statementsFor(fiscalYear, asOf)
	if err != nil {
		return SecurityAggregate{}, err
	}
	sa := SecurityAggregate{SecurityID: s.sec.ID, Symbol: s.sec.Symbol, Name: s.sec.Name, FiscalYear: st.years[0].FiscalYear, Ratings: []RatingScore{}}
	total := decimal.Zero
	for _, n := range names {
		r, err := rate(s, st, rubs[n])
		if err != nil {
			return SecurityAggregate{}, err
		}
		rs := RatingScore{Rating: n, Score: r.Score, Scale: r.Scale, Weight: agg.Weights[n], Rubric: r.Rubric}
		c := contribution(rs.Weight, rs.Score, rs.Scale, agg.Scale)
		rs.Contribution = c.InexactFloat64()
		total = total.Add(c)
		sa.Ratings = append(sa.Ratings, rs)
	}
	sa.Score = atMost(total.InexactFloat64(), agg.Scale)
	sa.Grade = agg.grade(sa.Score)
	return sa, nil
}

// contribution is weight × score / scale × the aggregate's scale, in
// decimals (see dec).
func contribution(weight, score, scale, aggScale float64) decimal.Decimal {
	return dec(weight).Mul(dec(score)).Mul(dec(aggScale)).DivRound(dec(scale), 16)
}
