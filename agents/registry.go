package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
)

// NamePattern is the shape of every capability name. It keeps names safe as
// NATS subject tokens: no wildcard, no empty token, no extra separator.
var NamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// agentNamePattern is the shape of an agent name (config and flags use it).
var agentNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Deps are what every agent is built with. The pool is the process's one
// pool; no agent opens another.
type Deps struct {
	DB     *storage.DB
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// RiskFreeRate is the annual risk-free rate (a decimal) of Sharpe,
	// Sortino and α.
	RiskFreeRate float64
	// ReportMaxBytes bounds the size of one report file (PDF, xlsx, CSV)
	// the reports agent stores; its default applies when zero.
	ReportMaxBytes int
	// Providers are the outside data and model providers by name (fmp,
	// polygon, fred, newsapi, anthropic) as configured; see provider.go.
	Providers map[string]Provider
}

// Agent is one agent: its name, given once, and its capabilities.
type Agent struct {
	Name         string
	Capabilities []Def
}

// Constructor builds an agent from the shared dependencies.
type Constructor func(Deps) Agent

// Spec describes one registered capability.
type Spec struct {
	Name        string `json:"name"`
	Agent       string `json:"agent"`
	Description string `json:"description"`
	// File is the capability's source file, agents/<agent>/<file>.go.
	File   string `json:"file"`
	Access Access `json:"access"`
	// Reads and Writes name the tables the capability touches.
	Reads  []string `json:"reads"`
	Writes []string `json:"writes"`
	// Codes are the error codes it may return beyond the common ones.
	Codes []string `json:"codes"`
	// InputSchema and OutputSchema are JSON Schemas derived from the Go
	// types.
	InputSchema  json.RawMessage `json:"input_schema"`
	OutputSchema json.RawMessage `json:"output_schema"`

	input  *Schema
	output *Schema
	def    Def
	reg    *Registry
}

// Input and Output return the parsed schemas.
func (s *Spec) Input() *Schema  { return s.input }
func (s *Spec) Output() *Schema { return s.output }

// Options configure a registry.
type Options struct {
	// DB is the pool the registry opens snapshots and transactions on.
	DB     *storage.DB
	Logger *slog.Logger
	// CheckContracts makes every call verify what its capability declared:
	// the tables it touched against Reads and Writes, the code of its error
	// against Codes. Tests turn it on; a violation fails the call.
	CheckContracts bool
}

// Registry holds every capability of the process by name.
type Registry struct {
	opts Options

	mu     sync.RWMutex
	specs  map[string]*Spec
	agents []string

	fkOnce sync.Once
	fks    map[string][]string
	fkErr  error
}

// NewRegistry returns an empty registry.
func NewRegistry(o Options) *Registry {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Registry{opts: o, specs: map[string]*Spec{}}
}

// CheckContracts reports whether calls verify their declarations.
func (r *Registry) CheckContracts() bool { return r.opts.CheckContracts }

// Add registers an agent's capabilities. It panics when a name is
// malformed or taken, or a declared code is unknown: each is a programming
// error that must stop start-up.
func (r *Registry) Add(a Agent) {
	if !agentNamePattern.MatchString(a.Name) {
		panic(fmt.Sprintf("agents: agent name %q does not match %s", a.Name, agentNamePattern))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.agents, a.Name) {
		panic(fmt.Sprintf("agents: agent %q added twice", a.Name))
	}
	for _, d := range a.Capabilities {
		m := d.meta
		if !NamePattern.MatchString(m.Name) {
			panic(fmt.Sprintf("agents: capability name %q does not match %s", m.Name, NamePattern))
		}
		if _, dup := r.specs[m.Name]; dup {
			panic(fmt.Sprintf("agents: capability %q registered twice", m.Name))
		}
		for _, c := range m.Codes {
			if _, ok := Codes[c]; !ok {
				panic(fmt.Sprintf("agents: capability %q declares unknown code %q", m.Name, c))
			}
		}
		if d.access == Pure && len(m.Reads)+len(m.Writes) > 0 {
			panic(fmt.Sprintf("agents: capability %q is pure but declares tables", m.Name))
		}
		r.specs[m.Name] = &Spec{
			Name: m.Name, Agent: a.Name, Description: m.Description, File: d.file, Access: d.access,
			Reads: sortedCopy(m.Reads), Writes: sortedCopy(m.Writes), Codes: sortedCopy(m.Codes),
			InputSchema: schemaJSON(d.input), OutputSchema: schemaJSON(d.output),
			input: d.input, output: d.output, def: d, reg: r,
		}
	}
	r.agents = append(r.agents, a.Name)
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
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

// Agents returns the agent names, sorted.
func (r *Registry) Agents() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := append([]string(nil), r.agents...)
	sort.Strings(out)
	return out
}

// Invoke runs the capability on arguments that were validated against its
// input schema, inside the snapshot or transaction its access asks for.
// Every error it returns is an *Error with a code (see Classify).
func (s *Spec) Invoke(ctx context.Context, c Call, args json.RawMessage) (json.RawMessage, error) {
	c.spec, c.reg = s, s.reg
	if c.Log == nil {
		c.Log = s.reg.opts.Logger.With("capability", s.Name, "run_id", c.Run.RunID, "step_id", c.StepID)
	}
	var out json.RawMessage
	var err error
	switch s.def.access {
	case Snapshot, Transaction:
		err = s.reg.inTx(ctx, s, s.def.access, func(q storage.Querier) error {
			c.DB = q
			var ferr error
			out, ferr = s.def.run(ctx, &c, args)
			return ferr
		})
	default:
		out, err = s.def.run(ctx, &c, args)
	}
	if err != nil {
		return nil, s.checkCode(Classify(err))
	}
	return out, nil
}

// inTx runs fn in a snapshot or a transaction on the registry's pool,
// checking the tables it touched when contracts are checked.
func (r *Registry) inTx(ctx context.Context, s *Spec, access Access, fn func(q storage.Querier) error) error {
	if r.opts.DB == nil {
		return Errorf(CodeInternal, "capability %s needs the database, and the registry has none", s.Name)
	}
	opts := writeTx
	if access == Snapshot {
		opts = snapshotTx
	}
	return r.opts.DB.TxWith(ctx, opts, func(tx pgx.Tx) error {
		var before storage.TableCounters
		if r.opts.CheckContracts {
			var err error
			if before, err = storage.ReadTableCounters(ctx, tx); err != nil {
				return err
			}
		}
		if err := fn(tx); err != nil {
			return err
		}
		if r.opts.CheckContracts {
			return r.checkTables(ctx, tx, s, access, before)
		}
		return nil
	})
}

// checkTables compares what the transaction touched with the capability's
// declaration. A table written may be read, and so may the tables its
// foreign keys point at (PostgreSQL reads them to check the keys).
func (r *Registry) checkTables(ctx context.Context, tx pgx.Tx, s *Spec, access Access, before storage.TableCounters) error {
	now, err := storage.ReadTableCounters(ctx, tx)
	if err != nil {
		return err
	}
	read, wrote := now.Touched(before)
	sort.Strings(read)
	sort.Strings(wrote)
	r.fkOnce.Do(func() { r.fks, r.fkErr = storage.ForeignKeyTargets(ctx, tx) })
	if r.fkErr != nil {
		return r.fkErr
	}
	mayRead := map[string]bool{}
	for _, t := range s.Reads {
		mayRead[t] = true
	}
	for _, t := range s.Writes {
		mayRead[t] = true
		for _, ref := range r.fks[t] {
			mayRead[t], mayRead[ref] = true, true
		}
	}
	var bad []string
	for _, t := range wrote {
		if access == Snapshot || !slices.Contains(s.Writes, t) {
			bad = append(bad, "wrote "+t)
		}
	}
	for _, t := range read {
		if !mayRead[t] {
			bad = append(bad, "read "+t)
		}
	}
	if len(bad) > 0 {
		return Errorf(CodeInternal, "contract of %s: it %s, which its Meta does not declare (Reads %v, Writes %v)",
			s.Name, strings.Join(bad, ", "), s.Reads, s.Writes)
	}
	return nil
}

// checkCode makes an undeclared code a contract violation when contracts
// are checked.
func (s *Spec) checkCode(e *Error) *Error {
	if !s.reg.opts.CheckContracts || slices.Contains(commonCodes, e.Code) || slices.Contains(s.Codes, e.Code) {
		return e
	}
	return &Error{Code: CodeInternal, Retryable: false,
		Message: fmt.Sprintf("contract of %s: it returned code %s, which its Meta does not declare (Codes %v): %s", s.Name, e.Code, s.Codes, e.Message)}
}
