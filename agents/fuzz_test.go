package agents_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/orchestrator"
)

type fuzzNested struct {
	Symbol string          `json:"symbol"`
	Value  decimal.Decimal `json:"value"`
}

type fuzzIn struct {
	ID       uuid.UUID        `json:"id"`
	Days     int              `json:"days,omitempty" jsonschema:"minimum=1,maximum=2520,default=252"`
	Rate     float64          `json:"rate,omitempty"`
	Amount   decimal.Decimal  `json:"amount,omitempty"`
	Maybe    *decimal.Decimal `json:"maybe,omitempty"`
	Method   string           `json:"method,omitempty" jsonschema:"enum=FIFO|LIFO"`
	Flag     bool             `json:"flag,omitempty"`
	Items    []fuzzNested     `json:"items,omitempty"`
	Extra    map[string]int   `json:"extra,omitempty"`
	At       time.Time        `json:"at,omitempty"`
	Anything json.RawMessage  `json:"anything,omitempty"`
}

// FuzzArgumentDecoding sends arbitrary arguments through what a step
// handler does: the input schema, then the capability's typed decoding.
// Nothing panics, and what the schema accepts decodes: the schema and the
// Go type never disagree.
func FuzzArgumentDecoding(f *testing.F) {
	id := uuid.NewString()
	for _, s := range []string{
		`{"id": "` + id + `"}`,
		`{"id": "` + id + `", "days": 3, "rate": 0.5, "amount": "12.5", "maybe": null, "method": "FIFO", "items": [{"symbol": "A", "value": 1}]}`,
		`{"id": "` + id + `", "amount": 1e400}`, `{"id": "x"}`, `[]`, `null`, `{"id": "` + id + `", "extra": {"a": 1.5}}`,
		`{"id": "` + id + `", "at": "2024-01-02T03:04:05Z", "anything": {"deep": [1, {"x": null}]}}`,
	} {
		f.Add([]byte(s))
	}
	r := agents.NewRegistry(agents.Options{})
	r.Add(agents.Agent{Name: "fuzz", Capabilities: []agents.Def{
		agents.Compute(agents.Meta{Name: "fuzz.echo"}, func(_ context.Context, _ *agents.Call, in fuzzIn) (fuzzIn, error) { return in, nil }),
	}})
	cat := orchestrator.MustCatalog(r)
	spec, _ := r.Get("fuzz.echo")
	f.Fuzz(func(t *testing.T, args []byte) {
		if err := cat.CheckArgs("fuzz.echo", args, "args"); err != nil {
			var ae *agents.Error
			if !errors.As(err, &ae) || ae.Code != agents.CodeInvalidInput {
				t.Fatalf("CheckArgs(%q) = %v; want nil or invalid_input", args, err)
			}
			return
		}
		if _, err := spec.Invoke(context.Background(), agents.Call{}, args); err != nil {
			t.Fatalf("the schema accepted %q but the capability's decoding refused it: %v", args, err)
		}
	})
}
