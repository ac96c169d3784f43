package agents_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
)

type echoIn struct {
	PortfolioID uuid.UUID `json:"portfolio_id"`
	Days        int       `json:"days,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
}

type echoOut struct {
	Days int `json:"days"`
}

func echo(_ context.Context, _ agents.RunContext, in echoIn) (echoOut, error) {
	return echoOut{Days: in.Days}, nil
}

func TestRegisterDerivesSchemaAndRequired(t *testing.T) {
	t.Parallel()
	r := agents.NewRegistry()
	agents.Register(r, agents.Meta{Name: "test.echo", Agent: "test"}, echo)
	s, ok := r.Get("test.echo")
	if !ok {
		t.Fatal("test.echo not registered")
	}
	if want := map[string]string{"portfolio_id": "string", "days": "integer", "tags": "array"}; !reflect.DeepEqual(s.Args, want) {
		t.Errorf("args %v; want %v", s.Args, want)
	}
	if !reflect.DeepEqual(s.Required, []string{"portfolio_id"}) {
		t.Errorf("required %v; want [portfolio_id]", s.Required)
	}
	var schema map[string]any
	if err := json.Unmarshal(s.InputSchema, &schema); err != nil {
		t.Fatal(err)
	}
	props := schema["properties"].(map[string]any)
	if f := props["portfolio_id"].(map[string]any)["format"]; f != "uuid" {
		t.Errorf("portfolio_id format %v; want uuid", f)
	}
}

func TestRegisterPanicsOnBadOrDuplicateNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"nodot", "Upper.case", "a.*", "a.b.>", "a..b", "a.b ", ".a.b", "a.b."} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", name)
				}
			}()
			agents.Register(agents.NewRegistry(), agents.Meta{Name: name, Agent: "test"}, echo)
		}()
	}
	r := agents.NewRegistry()
	agents.Register(r, agents.Meta{Name: "test.echo", Agent: "test"}, echo)
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), "twice") {
			t.Errorf("duplicate registration: recover() = %v; want a panic naming the duplicate", p)
		}
	}()
	agents.Register(r, agents.Meta{Name: "test.echo", Agent: "test"}, echo)
}

func TestInvokeRejectsBadArguments(t *testing.T) {
	t.Parallel()
	r := agents.NewRegistry()
	agents.Register(r, agents.Meta{Name: "test.echo", Agent: "test"}, echo)
	s, _ := r.Get("test.echo")
	id := uuid.NewString()
	cases := []struct {
		name, args, field string
	}{
		{"missing required", `{"days": 3}`, "portfolio_id"},
		{"null required", `{"portfolio_id": null}`, "portfolio_id"},
		{"unknown argument", `{"portfolio_id": "` + id + `", "colour": 1}`, "colour"},
		{"wrong type", `{"portfolio_id": "` + id + `", "days": "three"}`, "days"},
		{"bad uuid", `{"portfolio_id": "not-a-uuid"}`, "args"},
		{"not an object", `[1, 2]`, "args"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Invoke(context.Background(), agents.RunContext{}, json.RawMessage(c.args))
			var ae *agents.Error
			if !errors.As(err, &ae) || ae.Code != agents.CodeInvalidInput || ae.Field != c.field || ae.Retryable {
				t.Fatalf("Invoke(%s) = %v; want a final invalid_input naming %q", c.args, err, c.field)
			}
		})
	}
	out, err := s.Invoke(context.Background(), agents.RunContext{}, json.RawMessage(`{"portfolio_id": "`+id+`", "days": 5}`))
	if err != nil || string(out) != `{"days":5}` {
		t.Fatalf("good call: %s, %v", out, err)
	}
}

func TestCodesTableIsComplete(t *testing.T) {
	t.Parallel()
	var codes []string
	for c, info := range agents.Codes {
		codes = append(codes, c)
		if info.Status < 400 || info.Description == "" {
			t.Errorf("code %s: status %d, description %q", c, info.Status, info.Description)
		}
	}
	sort.Strings(codes)
	for _, c := range []string{agents.CodeTimeout, agents.CodePanic, agents.CodeUnavailable, agents.CodeInternal} {
		if !agents.Retryable(c) {
			t.Errorf("%s must be retryable", c)
		}
	}
	for _, c := range []string{agents.CodeInvalidInput, agents.CodeNotFound, agents.CodeProviderNotConfigured, agents.CodeCircuitOpen} {
		if agents.Retryable(c) {
			t.Errorf("%s must be final", c)
		}
	}
	if agents.Retryable("no_such_code") {
		t.Error("an unknown code must not be retried")
	}
}
