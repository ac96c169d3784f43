package agents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

type echoIn struct {
	PortfolioID uuid.UUID       `json:"portfolio_id"`
	Days        int             `json:"days,omitempty" jsonschema:"minimum=1,default=252"`
	Tags        []string        `json:"tags,omitempty"`
	Amount      decimal.Decimal `json:"amount,omitempty"`
	Method      string          `json:"method,omitempty" jsonschema:"enum=FIFO|LIFO"`
}

type echoOut struct {
	Days   int              `json:"days"`
	Amount decimal.Decimal  `json:"amount"`
	Maybe  *decimal.Decimal `json:"maybe"`
	List   []int            `json:"list"`
}

func echo(_ context.Context, _ *agents.Call, in echoIn) (echoOut, error) {
	return echoOut{Days: in.Days, Amount: in.Amount}, nil
}

func echoAgent(defs ...agents.Def) agents.Agent {
	return agents.Agent{Name: "tester", Capabilities: defs}
}

func schemaOf(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSchemasFollowTheGoTypes(t *testing.T) {
	t.Parallel()
	r := agents.NewRegistry(agents.Options{})
	r.Add(echoAgent(agents.Compute(agents.Meta{Name: "test.echo"}, echo)))
	s, _ := r.Get("test.echo")
	in := schemaOf(t, s.InputSchema)
	if in["additionalProperties"] != false {
		t.Errorf("input schema additionalProperties = %v; the top level of an input refuses unknown arguments", in["additionalProperties"])
	}
	if req := in["required"].([]any); len(req) != 1 || req[0] != "portfolio_id" {
		t.Errorf("required = %v; want [portfolio_id] (omitempty fields and fields with a default are optional)", req)
	}
	props := in["properties"].(map[string]any)
	check := func(what string, got, want any) {
		t.Helper()
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("%s = %s; want %s", what, gb, wb)
		}
	}
	check("portfolio_id", props["portfolio_id"], map[string]any{"type": "string", "format": "uuid"})
	check("days", props["days"], map[string]any{"type": "integer", "default": 252, "minimum": 1, "maximum": 9223372036854775807})
	check("tags", props["tags"], map[string]any{"type": []string{"array", "null"}, "items": map[string]any{"type": "string"}})
	check("amount (input)", props["amount"], map[string]any{"type": []string{"string", "number"}, "format": "decimal"})
	check("method", props["method"], map[string]any{"type": "string", "enum": []string{"FIFO", "LIFO"}})
	out := schemaOf(t, s.OutputSchema)
	op := out["properties"].(map[string]any)
	check("amount (output)", op["amount"], map[string]any{"type": "string", "format": "decimal"})
	check("maybe", op["maybe"], map[string]any{"type": []string{"string", "null"}, "format": "decimal"})
	if _, ok := out["additionalProperties"]; ok {
		t.Errorf("output schema sets additionalProperties; only inputs refuse unknown fields")
	}
	if s.File != "agents/registry_test.go" {
		t.Errorf("File = %q; want the file that defined the capability", s.File)
	}
}

func TestAddPanicsOnProgrammingErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]func(r *agents.Registry){
		"malformed name": func(r *agents.Registry) { r.Add(echoAgent(agents.Compute(agents.Meta{Name: "nodot"}, echo))) },
		"wildcard name":  func(r *agents.Registry) { r.Add(echoAgent(agents.Compute(agents.Meta{Name: "a.*"}, echo))) },
		"empty token":    func(r *agents.Registry) { r.Add(echoAgent(agents.Compute(agents.Meta{Name: "a..b"}, echo))) },
		"unknown code": func(r *agents.Registry) {
			r.Add(echoAgent(agents.Compute(agents.Meta{Name: "a.b", Codes: []string{"no_such"}}, echo)))
		},
		"pure with tables": func(r *agents.Registry) {
			r.Add(echoAgent(agents.Compute(agents.Meta{Name: "a.b", Reads: []string{"runs"}}, echo)))
		},
		"bad agent name": func(r *agents.Registry) { r.Add(agents.Agent{Name: "Bad Agent"}) },
		"duplicate": func(r *agents.Registry) {
			r.Add(echoAgent(agents.Compute(agents.Meta{Name: "a.b"}, echo), agents.Compute(agents.Meta{Name: "a.b"}, echo)))
		},
		"agent added twice": func(r *agents.Registry) { r.Add(echoAgent()); r.Add(echoAgent()) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f(agents.NewRegistry(agents.Options{}))
		})
	}
}

func TestInvokeAppliesDefaultsAndClassifiesErrors(t *testing.T) {
	t.Parallel()
	r := agents.NewRegistry(agents.Options{})
	r.Add(echoAgent(
		agents.Compute(agents.Meta{Name: "test.echo"}, echo),
		agents.Compute(agents.Meta{Name: "test.wrapped"}, func(context.Context, *agents.Call, echoIn) (echoOut, error) {
			return echoOut{}, errors.Join(errors.New("context"), agents.Errorf(agents.CodeNotFound, "no such thing"))
		}),
		agents.Compute(agents.Meta{Name: "test.storage"}, func(context.Context, *agents.Call, echoIn) (echoOut, error) {
			return echoOut{}, errorWrap("value AAPL", storage.ErrMissingPrice)
		}),
	))
	s, _ := r.Get("test.echo")
	out, err := s.Invoke(context.Background(), agents.Call{}, json.RawMessage(`{"portfolio_id": "`+uuid.NewString()+`", "amount": 2.5}`))
	if err != nil || string(out) != `{"days":252,"amount":"2.5","maybe":null,"list":null}` {
		t.Fatalf("Invoke = %s, %v; want the default days 252 and the amount echoed", out, err)
	}
	for name, code := range map[string]string{"test.wrapped": agents.CodeNotFound, "test.storage": agents.CodeMissingPrice} {
		s, _ := r.Get(name)
		_, err := s.Invoke(context.Background(), agents.Call{}, json.RawMessage(`{"portfolio_id": "`+uuid.NewString()+`"}`))
		var ae *agents.Error
		if !errors.As(err, &ae) || ae.Code != code {
			t.Errorf("%s: Invoke error = %v; want code %s found through the wrapping", name, err, code)
		}
	}
}

func errorWrap(what string, err error) error { return &wrapped{what, err} }

type wrapped struct {
	what string
	err  error
}

func (w *wrapped) Error() string { return w.what + ": " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

func TestClassifyKeepsContextAndMapsForeignErrors(t *testing.T) {
	t.Parallel()
	inner := agents.FieldError("positions[0].sector", "security X has no sector")
	e := agents.Classify(errorWrap("allocate", inner))
	if e.Code != agents.CodeInvalidInput || e.Field != "positions[0].sector" || !strings.HasPrefix(e.Message, "allocate: ") {
		t.Errorf("Classify(wrapped field error) = %+v; want the code and field kept and the context in the message", e)
	}
	cases := map[error]string{
		storage.ErrRunNotFound:      agents.CodeNotFound,
		storage.ErrAcquireTimeout:   agents.CodeUnavailable,
		context.DeadlineExceeded:    agents.CodeTimeout,
		errors.New("out of cheese"): agents.CodeInternal,
	}
	for err, code := range cases {
		if got := agents.Classify(err); got.Code != code || got.Retryable != agents.Retryable(code) {
			t.Errorf("Classify(%v) = %s (retryable %v); want %s", err, got.Code, got.Retryable, code)
		}
	}
}

// TestContractsAreChecked runs capabilities against a real database with
// contract checks on: touching a table or returning a code the Meta does
// not declare fails the call.
func TestContractsAreChecked(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	ctx := context.Background()
	r := agents.NewRegistry(agents.Options{DB: db, CheckContracts: true})
	read := func(q string) agents.Func[struct{}, struct{}] {
		return func(ctx context.Context, c *agents.Call, _ struct{}) (struct{}, error) {
			_, err := c.DB.Exec(ctx, q)
			return struct{}{}, err
		}
	}
	r.Add(agents.Agent{Name: "tester", Capabilities: []agents.Def{
		agents.Read(agents.Meta{Name: "test.declared", Reads: []string{"securities"}}, read(`SELECT count(*) FROM securities`)),
		agents.Read(agents.Meta{Name: "test.undeclared", Reads: []string{"securities"}}, read(`SELECT count(*) FROM portfolios`)),
		agents.Read(agents.Meta{Name: "test.writes_in_snapshot", Writes: []string{"securities"}},
			read(`INSERT INTO securities (symbol, name, type, currency) VALUES ('ZZX', 'Z', 'EQUITY', 'USD')`)),
		agents.Write(agents.Meta{Name: "test.writes", Writes: []string{"securities"}},
			read(`INSERT INTO securities (symbol, name, type, currency) VALUES ('ZZZ', 'Z', 'EQUITY', 'USD') ON CONFLICT (symbol) DO NOTHING`)),
		agents.Write(agents.Meta{Name: "test.writes_undeclared", Writes: []string{"portfolios"}},
			read(`INSERT INTO securities (symbol, name, type, currency) VALUES ('ZZY', 'Z', 'EQUITY', 'USD') ON CONFLICT (symbol) DO NOTHING`)),
		agents.Compute(agents.Meta{Name: "test.declared_code", Codes: []string{agents.CodeNotFound}},
			func(context.Context, *agents.Call, struct{}) (struct{}, error) {
				return struct{}{}, agents.Errorf(agents.CodeNotFound, "nothing")
			}),
		agents.Compute(agents.Meta{Name: "test.undeclared_code"},
			func(context.Context, *agents.Call, struct{}) (struct{}, error) {
				return struct{}{}, agents.Errorf(agents.CodeNotFound, "nothing")
			}),
	}})
	call := func(name string) error {
		s, _ := r.Get(name)
		_, err := s.Invoke(ctx, agents.Call{}, json.RawMessage(`{}`))
		return err
	}
	for _, name := range []string{"test.declared", "test.writes"} {
		if err := call(name); err != nil {
			t.Errorf("%s: %v; it keeps to its contract", name, err)
		}
	}
	for name, want := range map[string]string{
		"test.undeclared":        "read portfolios",
		"test.writes_undeclared": "wrote securities",
		"test.undeclared_code":   "returned code not_found",
	} {
		err := call(name)
		var ae *agents.Error
		if !errors.As(err, &ae) || ae.Code != agents.CodeInternal || !strings.Contains(ae.Message, want) {
			t.Errorf("%s: %v; want a contract violation saying %q", name, err, want)
		}
	}
	if err := call("test.writes_in_snapshot"); err == nil {
		t.Error("test.writes_in_snapshot: a snapshot capability wrote a row; its transaction must be read-only")
	}
	var ae *agents.Error
	if err := call("test.declared_code"); !errors.As(err, &ae) || ae.Code != agents.CodeNotFound {
		t.Errorf("test.declared_code: %v; want its declared not_found", err)
	}
	// A rolled-back violation writes nothing.
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM securities WHERE symbol = 'ZZY'`, nil, &n); err != nil || n != 0 {
		t.Errorf("the undeclared write left %d rows (%v); the violation must roll it back", n, err)
	}
}
