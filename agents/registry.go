package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/invopop/jsonschema"
	"github.com/shopspring/decimal"
)

// NamePattern is the shape of every capability name. It keeps names safe as
// NATS subject tokens: no wildcard, no empty token, no extra separator.
var NamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// RunContext is what every invocation knows about the run it serves. It is
// fixed when the run is accepted, so every step of a run computes on the same
// pricing pack, as-of date and ledger state.
type RunContext struct {
	RunID            string `json:"run_id"`
	StepID           string `json:"step_id"`
	Attempt          int    `json:"attempt"`
	PricingPackID    string `json:"pricing_pack_id,omitempty"`
	AsOfDate         string `json:"asof_date,omitempty"`
	LedgerCommitHash string `json:"ledger_commit_hash,omitempty"`
	UserID           string `json:"user_id,omitempty"`
	CorrelationID    string `json:"correlation_id,omitempty"`
}

// AsOf parses AsOfDate; the zero time when it is empty.
func (rc RunContext) AsOf() (time.Time, error) {
	if rc.AsOfDate == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, rc.AsOfDate)
	if err != nil {
		return time.Time{}, FieldError("ctx.asof_date", "as-of date %q is not YYYY-MM-DD", rc.AsOfDate)
	}
	return t, nil
}

// Invoker runs a capability on raw JSON arguments and returns raw JSON output.
type Invoker func(ctx context.Context, rc RunContext, args json.RawMessage) (json.RawMessage, error)

// Spec describes one registered capability.
type Spec struct {
	// Name is the wire name, for example "portfolio.sector_allocation".
	Name string `json:"name"`
	// Agent names the agent that owns the capability.
	Agent string `json:"agent"`
	// Description says what the capability computes.
	Description string `json:"description"`
	// Reads and Writes name the tables the capability touches.
	Reads  []string `json:"reads,omitempty"`
	Writes []string `json:"writes,omitempty"`
	// InputSchema and OutputSchema are JSON Schemas derived from the Go types.
	InputSchema  json.RawMessage `json:"input_schema"`
	OutputSchema json.RawMessage `json:"output_schema"`
	// Args maps each argument name to its JSON Schema type ("" when any).
	Args map[string]string `json:"-"`
	// Required lists the arguments without which the capability cannot run.
	Required []string `json:"-"`
	// Invoke runs the capability.
	Invoke Invoker `json:"-"`
}

// Meta is what a capability declares about itself at registration.
type Meta struct {
	Name        string
	Agent       string
	Description string
	Reads       []string
	Writes      []string
}

// Registry holds every capability of the process by name.
type Registry struct {
	mu    sync.RWMutex
	specs map[string]*Spec
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{specs: map[string]*Spec{}} }

// Validator is implemented by inputs that check themselves after decoding.
type Validator interface{ Validate() error }

// Register adds a typed capability. It panics when the name is malformed or
// already taken: both are programming errors that must stop start-up.
func Register[I, O any](r *Registry, m Meta, fn func(ctx context.Context, rc RunContext, in I) (O, error)) {
	if !NamePattern.MatchString(m.Name) {
		panic(fmt.Sprintf("agents: capability name %q does not match %s", m.Name, NamePattern))
	}
	if m.Agent == "" {
		panic(fmt.Sprintf("agents: capability %q has no agent", m.Name))
	}
	var in I
	var out O
	inSchema, args, required := schemaOf(reflect.TypeOf(in))
	outSchema, _, _ := schemaOf(reflect.TypeOf(out))
	spec := &Spec{
		Name: m.Name, Agent: m.Agent, Description: m.Description,
		Reads: m.Reads, Writes: m.Writes,
		InputSchema: inSchema, OutputSchema: outSchema,
		Args: args, Required: required,
	}
	spec.Invoke = func(ctx context.Context, rc RunContext, raw json.RawMessage) (json.RawMessage, error) {
		in, err := decodeArgs[I](raw, required)
		if err != nil {
			return nil, err
		}
		o, err := fn(ctx, rc, in)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(o)
		if err != nil {
			return nil, Wrap(CodeInternal, err, "encode output of %s", m.Name)
		}
		return b, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.specs[m.Name]; dup {
		panic(fmt.Sprintf("agents: capability %q registered twice", m.Name))
	}
	r.specs[m.Name] = spec
}

// Get returns the spec of a capability.
func (r *Registry) Get(name string) (*Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.specs[name]
	return s, ok
}

// All returns every spec sorted by name.
func (r *Registry) All() []*Spec {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Spec, 0, len(r.specs))
	for _, s := range r.specs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Agents returns the distinct agent names, sorted.
func (r *Registry) Agents() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range r.All() {
		if !seen[s.Agent] {
			seen[s.Agent] = true
			out = append(out, s.Agent)
		}
	}
	return out
}

func decodeArgs[I any](raw json.RawMessage, required []string) (I, error) {
	var in I
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		raw = json.RawMessage("{}")
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(raw, &present); err != nil {
		return in, FieldError("args", "arguments are not a JSON object: %v", err)
	}
	for _, name := range required {
		v, ok := present[name]
		if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return in, FieldError(name, "argument %s is required", name)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return in, FieldError(te.Field, "argument %s must be %s, got %s", te.Field, te.Type, te.Value)
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			return in, FieldError(name, "unknown argument %s", name)
		}
		return in, FieldError("args", "decode arguments: %v", err)
	}
	if v, ok := any(&in).(Validator); ok {
		if err := v.Validate(); err != nil {
			var ae *Error
			if errors.As(err, &ae) {
				return in, ae
			}
			return in, &Error{Code: CodeInvalidInput, Message: err.Error()}
		}
	} else if v, ok := any(in).(Validator); ok {
		if err := v.Validate(); err != nil {
			var ae *Error
			if errors.As(err, &ae) {
				return in, ae
			}
			return in, &Error{Code: CodeInvalidInput, Message: err.Error()}
		}
	}
	return in, nil
}

var (
	uuidType    = reflect.TypeOf(uuid.UUID{})
	decimalType = reflect.TypeOf(decimal.Decimal{})
	rawType     = reflect.TypeOf(json.RawMessage{})
)

// schemaOf derives the JSON Schema of a Go type, the JSON type of each
// top-level property, and the required property names (those whose json tag
// lacks omitempty).
func schemaOf(t reflect.Type) (json.RawMessage, map[string]string, []string) {
	rf := &jsonschema.Reflector{
		DoNotReference: true,
		ExpandedStruct: true,
		Anonymous:      true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			switch t {
			case uuidType:
				return &jsonschema.Schema{Type: "string", Format: "uuid"}
			case decimalType:
				return &jsonschema.Schema{Type: "string", Format: "decimal"}
			case rawType:
				return &jsonschema.Schema{}
			}
			return nil
		},
	}
	s := rf.ReflectFromType(t)
	s.Version = ""
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("agents: schema of %s: %v", t, err))
	}
	args := map[string]string{}
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			args[p.Key] = p.Value.Type
		}
	}
	return b, args, append([]string(nil), s.Required...)
}
