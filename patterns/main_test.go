package patterns

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeCatalog is a fixed table of capability specs; it stands in for the
// agents registry, which this package may not import.
type fakeCatalog map[string]CapabilitySpec

func (c fakeCatalog) Capability(name string) (CapabilitySpec, bool) {
	s, ok := c[name]
	return s, ok
}

// testCatalog covers the capabilities used by the tests and by the
// embedded pattern files.
var testCatalog = fakeCatalog{
	"portfolio.get_valued_positions": {
		Name:     "portfolio.get_valued_positions",
		Args:     map[string]ArgSpec{"portfolio_id": {Type: "string"}, "pricing_pack_id": {Type: "string"}},
		Required: []string{"portfolio_id", "pricing_pack_id"},
	},
	"portfolio.sector_allocation": {
		Name:     "portfolio.sector_allocation",
		Args:     map[string]ArgSpec{"positions": {Type: "array"}, "total_value": {Type: "number"}},
		Required: []string{"positions"},
	},
	"metrics.compute_twr": {
		Name:     "metrics.compute_twr",
		Args:     map[string]ArgSpec{"portfolio_id": {Type: "string"}, "lookback_days": {Type: "integer"}, "note": {}},
		Required: []string{"portfolio_id"},
	},
	"test.echo": {
		Name: "test.echo",
		Args: map[string]ArgSpec{"a": {}, "b": {}, "c": {}},
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
