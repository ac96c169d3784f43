package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
)

// RunContext is what a run fixes when it is accepted, so that every step
// of the run computes on the same pricing pack, as-of date and ledger
// state. It is the one declaration of the run-context keys: the JSON
// names below are the keys patterns reference as {{ctx.<key>}}, the keys
// of the context stored with the run, and the keys of the context every
// step request carries.
type RunContext struct {
	RunID            string `json:"run_id" doc:"The run's id."`
	PricingPackID    string `json:"pricing_pack_id,omitempty" doc:"The pricing pack every step values with: the newest fresh pack on or before the as-of date."`
	AsOfDate         string `json:"asof_date,omitempty" doc:"The as-of date, YYYY-MM-DD."`
	LedgerCommitHash string `json:"ledger_commit_hash,omitempty" doc:"A hash of the portfolio's transactions when the run was accepted."`
	UserID           string `json:"user_id,omitempty" doc:"The user who submitted the run."`
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

// ContextSchema is the JSON Schema of the run context, against which
// pattern references to {{ctx.<key>}} are checked.
func ContextSchema() json.RawMessage {
	return schemaJSON(reflectSchema(reflect.TypeFor[RunContext](), outputSchema))
}

// Provenance says where a figure comes from. Capabilities that compute on
// the portfolio's data put one in their output, so every figure can be
// traced to the pack, the date, the ledger state and the method.
type Provenance struct {
	PricingPackID    string `json:"pricing_pack_id,omitempty" doc:"The pricing pack the figures were computed with."`
	AsOfDate         string `json:"asof_date,omitempty" doc:"The as-of date of the figures."`
	LedgerCommitHash string `json:"ledger_commit_hash,omitempty" doc:"The ledger state the figures were computed on."`
	Method           string `json:"method,omitempty" doc:"How the figures were computed."`
	Convention       string `json:"convention,omitempty" doc:"The conventions the figures follow (annualisation, day count, sign)."`
	Source           string `json:"source,omitempty" doc:"Where outside data came from, for fetched figures."`
}

// Access says how a capability reaches the database. The registry opens
// and closes what it needs, so a capability never begins or commits.
type Access int

const (
	// Pure capabilities compute from their arguments alone.
	Pure Access = iota
	// Snapshot capabilities read in one REPEATABLE READ READ ONLY
	// transaction: every query sees the same state, and opening it is one
	// round trip.
	Snapshot
	// Transaction capabilities read and write in one transaction, committed
	// when the capability returns without an error. Their writes are
	// upserts on natural keys, so a replay changes nothing.
	Transaction
	// Staged capabilities open their own snapshots and transactions through
	// Call.Read and Call.Write, for work that must not hold a connection
	// while it waits on something else (an HTTP call to a provider).
	Staged
)

var accessNames = [...]string{"pure", "snapshot", "transaction", "staged"}

func (a Access) String() string { return accessNames[a] }

// MarshalJSON writes the access as its name.
func (a Access) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// Meta is what a capability declares about itself. Reads, Writes and Codes
// are checked: with Options.CheckContracts (every test) a call that
// touches an undeclared table or returns an undeclared code fails.
type Meta struct {
	// Name is the wire name, for example "portfolio.sector_allocation".
	Name string
	// Description says what the capability computes, in a sentence or two.
	Description string
	// Reads and Writes name the tables the capability touches.
	Reads  []string
	Writes []string
	// Codes lists the error codes the capability returns beyond the common
	// ones (invalid_input, internal, unavailable, timeout, canceled, panic).
	Codes []string
}

// Call is one invocation of a capability.
type Call struct {
	Run           RunContext
	StepID        string
	Attempt       int
	CorrelationID string
	// DB is the snapshot or transaction of a Snapshot or Transaction
	// capability; nil for the others.
	DB storage.Querier
	// Log is the agent's logger with the run and step attached.
	Log *slog.Logger

	spec *Spec
	reg  *Registry
}

// Provenance fills the run's part of a provenance record.
func (c *Call) Provenance(method, convention string) Provenance {
	return Provenance{PricingPackID: c.Run.PricingPackID, AsOfDate: c.Run.AsOfDate,
		LedgerCommitHash: c.Run.LedgerCommitHash, Method: method, Convention: convention}
}

// Read runs fn in a read-only snapshot of its own, for Staged capabilities.
func (c *Call) Read(ctx context.Context, fn func(q storage.Querier) error) error {
	return c.reg.inTx(ctx, c.spec, Snapshot, fn)
}

// Write runs fn in a transaction of its own, for Staged capabilities.
func (c *Call) Write(ctx context.Context, fn func(q storage.Querier) error) error {
	return c.reg.inTx(ctx, c.spec, Transaction, fn)
}

// Def is a capability ready to be added to a registry: its metadata, its
// schemas and a type-erased way to run it. The typed constructors below
// build one in the capability's own file.
type Def struct {
	meta   Meta
	access Access
	file   string
	input  *Schema
	output *Schema
	run    func(ctx context.Context, c *Call, args json.RawMessage) (json.RawMessage, error)
}

// Name is the capability's wire name.
func (d Def) Name() string { return d.meta.Name }

// Func is the signature of every capability.
type Func[I, O any] func(ctx context.Context, c *Call, in I) (O, error)

// Compute defines a Pure capability.
func Compute[I, O any](m Meta, fn Func[I, O]) Def { return define(m, Pure, fn) }

// Read defines a Snapshot capability.
func Read[I, O any](m Meta, fn Func[I, O]) Def { return define(m, Snapshot, fn) }

// Write defines a Transaction capability.
func Write[I, O any](m Meta, fn Func[I, O]) Def { return define(m, Transaction, fn) }

// Stage defines a Staged capability.
func Stage[I, O any](m Meta, fn Func[I, O]) Def { return define(m, Staged, fn) }

func define[I, O any](m Meta, access Access, fn Func[I, O]) Def {
	d := Def{meta: m, access: access,
		input:  reflectSchema(reflect.TypeFor[I](), inputSchema),
		output: reflectSchema(reflect.TypeFor[O](), outputSchema)}
	// The caller of Compute, Read, Write or Stage is the capability's file.
	if _, file, _, ok := runtime.Caller(2); ok {
		d.file = repoPath(file)
	}
	defaults := defaultsOf(d.input)
	d.run = func(ctx context.Context, c *Call, raw json.RawMessage) (json.RawMessage, error) {
		in, err := decodeInput[I](raw, defaults)
		if err != nil {
			return nil, err
		}
		out, err := fn(ctx, c, in)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, Wrap(CodeInternal, err, "encode output of %s", m.Name)
		}
		return b, nil
	}
	return d
}

// repoPath shortens an absolute source path to the repository's
// agents/<agent>/<file>.go form.
func repoPath(file string) string {
	file = strings.ReplaceAll(file, "\\", "/")
	if i := strings.LastIndex(file, "/agents/"); i >= 0 {
		return file[i+1:]
	}
	return path.Base(file)
}

// defaultsOf lists the top-level defaults of an input schema.
func defaultsOf(s *Schema) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, p := range s.Properties {
		if p.Schema.Default != nil {
			b, err := json.Marshal(p.Schema.Default)
			if err != nil {
				panic(fmt.Sprintf("agents: default of %s: %v", p.Name, err))
			}
			out[p.Name] = b
		}
	}
	return out
}

// decodeInput decodes arguments into I after filling declared defaults.
// The arguments were validated against the input schema by the engine; a
// decode error here is still reported as invalid input, naming the field.
func decodeInput[I any](raw json.RawMessage, defaults map[string]json.RawMessage) (I, error) {
	var in I
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		raw = json.RawMessage("{}")
	}
	if len(defaults) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return in, FieldError("args", "arguments are not a JSON object: %v", err)
		}
		changed := false
		for k, v := range defaults {
			if cur, ok := m[k]; !ok || bytes.Equal(bytes.TrimSpace(cur), []byte("null")) {
				if m == nil {
					m = map[string]json.RawMessage{}
				}
				m[k] = v
				changed = true
			}
		}
		if changed {
			b, err := json.Marshal(m)
			if err != nil {
				return in, Wrap(CodeInternal, err, "apply argument defaults")
			}
			raw = b
		}
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return in, FieldError(te.Field, "argument %s must be %s, got %s", te.Field, te.Type, te.Value)
		}
		return in, FieldError("args", "decode arguments: %v", err)
	}
	if v, ok := any(&in).(Validator); ok {
		if err := v.Validate(); err != nil {
			return in, asInvalid(err)
		}
	}
	return in, nil
}

// Validator is implemented by inputs with rules the schema cannot state
// (one field bounded by another, say). Simple rules belong in the
// `jsonschema` tag instead.
type Validator interface{ Validate() error }

func asInvalid(err error) error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	return &Error{Code: CodeInvalidInput, Message: err.Error()}
}

// txOptions of the two kinds of transaction the registry opens.
var (
	snapshotTx = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	writeTx    = pgx.TxOptions{}
)
