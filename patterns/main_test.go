package patterns

import (
	"encoding/json"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeCatalog is a fixed table of capability schemas, written by hand; it
// stands in for the agents registry, which this package may not import.
type fakeCatalog map[string]CapabilitySpec

func (c fakeCatalog) Capability(name string) (CapabilitySpec, bool) {
	s, ok := c[name]
	return s, ok
}

func (c fakeCatalog) Context() *Schema { return testContext }

func mustSchema(name, doc string) *Schema {
	s, err := CompileSchema(name, json.RawMessage(doc))
	if err != nil {
		panic(err)
	}
	return s
}

var testContext = mustSchema("ctx", `{"type": "object", "properties": {
	"run_id": {"type": "string"}, "pricing_pack_id": {"type": "string"}, "asof_date": {"type": "string"},
	"ledger_commit_hash": {"type": "string"}, "user_id": {"type": "string"}}}`)

// testCatalog covers the capabilities used by the tests and by the
// embedded pattern files.
var testCatalog = fakeCatalog{
	"portfolio.get_valued_positions": {
		Name: "portfolio.get_valued_positions",
		Input: mustSchema("gvp in", `{"type": "object", "additionalProperties": false,
			"properties": {"portfolio_id": {"type": "string", "format": "uuid"}, "pricing_pack_id": {"type": "string", "minLength": 1}},
			"required": ["portfolio_id", "pricing_pack_id"]}`),
		Output: mustSchema("gvp out", `{"type": "object", "properties": {
			"total_value": {"type": "string", "format": "decimal"},
			"base_currency": {"type": "string"},
			"unrealized": {"type": ["string", "null"], "format": "decimal"},
			"positions": {"type": ["array", "null"], "items": {"type": "object",
				"properties": {"symbol": {"type": "string"}, "sector": {"type": "string"}, "market_value": {"type": "string", "format": "decimal"},
					"weight": {"type": "string", "format": "decimal"}},
				"required": ["symbol", "sector", "market_value", "weight"]}}},
			"required": ["total_value", "base_currency", "positions"]}`),
	},
	"portfolio.sector_allocation": {
		Name: "portfolio.sector_allocation",
		Input: mustSchema("sa in", `{"type": "object", "additionalProperties": false, "properties": {
			"positions": {"type": ["array", "null"], "items": {"type": "object",
				"properties": {"symbol": {"type": "string"}, "sector": {"type": "string"}, "market_value": {"type": ["string", "number"], "format": "decimal"}},
				"required": ["symbol", "sector", "market_value"]}},
			"total_value": {"type": ["string", "number"], "format": "decimal"}},
			"required": ["positions"]}`),
		Output: mustSchema("sa out", `{"type": "object", "properties": {"sectors": {"type": "array"}}}`),
	},
	"metrics.compute_twr": {
		Name: "metrics.compute_twr",
		Input: mustSchema("twr in", `{"type": "object", "additionalProperties": false, "properties": {
			"portfolio_id": {"type": "string"}, "lookback_days": {"type": "integer", "minimum": 1}, "note": {}},
			"required": ["portfolio_id"]}`),
		Output: mustSchema("twr out", `{"type": "object", "properties": {"twr": {"type": "number"}}, "required": ["twr"]}`),
	},
	"test.echo": {
		Name:   "test.echo",
		Input:  mustSchema("echo in", `{"type": "object", "additionalProperties": false, "properties": {"a": {}, "b": {}, "c": {}}}`),
		Output: mustSchema("echo out", `{}`),
	},
}

func mustParse(t *testing.T, doc string) *Pattern {
	t.Helper()
	p, err := Parse("test.json", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v\ninput:\n%s", err, doc)
	}
	return p
}
