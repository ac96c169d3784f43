package ratings

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// The rubric is the one source of the ratings' weights and thresholds
// (rating_rubrics, versioned, one active version per name). This file reads
// its JSON and applies it; nothing here holds a weight or a threshold.
//
// A component rubric lists metrics, each with a weight, a direction and
// bands: with "higher_is_better" a value scores the first band whose min it
// reaches, with "lower_is_better" the first band whose max it does not
// exceed, and otherwise the metric's else score. The rating is the
// weighted sum of the metric scores. The aggregate rubric weighs the
// component ratings, rescales them to its own scale and grades the result
// with its cut-offs.

// Directions of a metric.
const (
	higherIsBetter = "higher_is_better"
	lowerIsBetter  = "lower_is_better"
)

type band struct {
	Min   *float64 `json:"min"`
	Max   *float64 `json:"max"`
	Score float64  `json:"score"`
}

type metricRule struct {
	Metric      string  `json:"metric"`
	Description string  `json:"description"`
	Weight      float64 `json:"weight"`
	Direction   string  `json:"direction"`
	Bands       []band  `json:"bands"`
	Else        float64 `json:"else"`
}

type componentRubric struct {
	Name        string
	Version     int
	Description string
	Scale       float64      `json:"scale"`
	Metrics     []metricRule `json:"metrics"`
}

type gradeCut struct {
	Grade string  `json:"grade"`
	Min   float64 `json:"min"`
}

type aggregateRubric struct {
	Name        string
	Version     int
	Description string
	Scale       float64            `json:"scale"`
	Weights     map[string]float64 `json:"weights"`
	Grades      []gradeCut         `json:"grades"`
	Else        string             `json:"else"`
}

// weightTolerance is how far a rubric's weights may sum from 1.
const weightTolerance = 1e-9

// badRubric is the error of a rubric row the code cannot apply: a fault of
// the stored data that another attempt does not cure.
func badRubric(name string, version int, format string, args ...any) error {
	return &agents.Error{Code: agents.CodeInternal, Retryable: false,
		Message: fmt.Sprintf("rating rubric %s v%d cannot be applied: %s", name, version, fmt.Sprintf(format, args...))}
}

func parseComponent(r storage.Rubric) (componentRubric, error) {
	c := componentRubric{Name: r.Name, Version: r.Version, Description: r.Description}
	if err := json.Unmarshal(r.Rubric, &c); err != nil {
		return c, badRubric(r.Name, r.Version, "decode: %v", err)
	}
	if !(c.Scale > 0) {
		return c, badRubric(r.Name, r.Version, "scale %g is not positive", c.Scale)
	}
	if len(c.Metrics) == 0 {
		return c, badRubric(r.Name, r.Version, "no metrics")
	}
	sum := 0.0
	for _, m := range c.Metrics {
		if m.Weight < 0 || math.IsNaN(m.Weight) {
			return c, badRubric(r.Name, r.Version, "metric %s has weight %g", m.Metric, m.Weight)
		}
		sum += m.Weight
		if m.Direction != higherIsBetter && m.Direction != lowerIsBetter {
			return c, badRubric(r.Name, r.Version, "metric %s has direction %q", m.Metric, m.Direction)
		}
		if m.Else < 0 || m.Else > c.Scale {
			return c, badRubric(r.Name, r.Version, "metric %s else score %g outside [0, %g]", m.Metric, m.Else, c.Scale)
		}
		for i, b := range m.Bands {
			if (m.Direction == higherIsBetter && b.Min == nil) || (m.Direction == lowerIsBetter && b.Max == nil) {
				return c, badRubric(r.Name, r.Version, "metric %s band %d has no %s bound", m.Metric, i, map[bool]string{true: "min", false: "max"}[m.Direction == higherIsBetter])
			}
			if b.Score < 0 || b.Score > c.Scale {
				return c, badRubric(r.Name, r.Version, "metric %s band %d score %g outside [0, %g]", m.Metric, i, b.Score, c.Scale)
			}
		}
	}
	if math.Abs(sum-1) > weightTolerance {
		return c, badRubric(r.Name, r.Version, "metric weights sum to %g, not 1", sum)
	}
	return c, nil
}

func parseAggregate(r storage.Rubric) (aggregateRubric, error) {
	a := aggregateRubric{Name: r.Name, Version: r.Version, Description: r.Description}
	if err := json.Unmarshal(r.Rubric, &a); err != nil {
		return a, badRubric(r.Name, r.Version, "decode: %v", err)
	}
	if !(a.Scale > 0) {
		return a, badRubric(r.Name, r.Version, "scale %g is not positive", a.Scale)
	}
	if len(a.Weights) == 0 {
		return a, badRubric(r.Name, r.Version, "no weights")
	}
	sum := 0.0
	for name, w := range a.Weights {
		if _, ok := metricDefs[name]; !ok {
			return a, badRubric(r.Name, r.Version, "weighs %q, which is not a component rating", name)
		}
		if w < 0 || math.IsNaN(w) {
			return a, badRubric(r.Name, r.Version, "weight of %s is %g", name, w)
		}
		sum += w
	}
	if math.Abs(sum-1) > weightTolerance {
		return a, badRubric(r.Name, r.Version, "weights sum to %g, not 1", sum)
	}
	if a.Else == "" {
		return a, badRubric(r.Name, r.Version, "no grade below the cut-offs (else)")
	}
	// Cut-offs apply highest first, whatever their order in the row.
	sort.SliceStable(a.Grades, func(i, j int) bool { return a.Grades[i].Min > a.Grades[j].Min })
	return a, nil
}

// components lists the component ratings the aggregate weighs, by name.
func (a aggregateRubric) components() []string {
	out := make([]string, 0, len(a.Weights))
	for n := range a.Weights {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// grade is the grade of an aggregate score: the first cut-off it reaches,
// else the rubric's else grade.
func (a aggregateRubric) grade(score float64) string {
	for _, g := range a.Grades {
		if score >= g.Min {
			return g.Grade
		}
	}
	return a.Else
}

// score applies the metric's bands to v (which may be ±Inf: a ratio with a
// zero denominator) and says which band it met.
func (m metricRule) score(v float64) (float64, string) {
	for _, b := range m.Bands {
		switch m.Direction {
		case higherIsBetter:
			if v >= *b.Min {
				return b.Score, "≥ " + num(*b.Min)
			}
		case lowerIsBetter:
			if v <= *b.Max {
				return b.Score, "≤ " + num(*b.Max)
			}
		}
	}
	return m.Else, "no band met (else)"
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
