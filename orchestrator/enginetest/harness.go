package enginetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
)

// Registry is a registry over db with contract checks on, holding the
// agents given, as every test of a capability or a pattern wants it.
func Registry(db *storage.DB, hosted ...agents.Agent) *agents.Registry {
	r := agents.NewRegistry(agents.Options{DB: db, CheckContracts: true})
	for _, a := range hosted {
		r.Add(a)
	}
	return r
}

// Harness calls capabilities one at a time with the checks the step
// adapter makes, without the bus: the arguments are validated against
// the capability's input schema by the orchestrator's catalog, the
// capability runs in the registry with contract checks on, and its output
// is validated against its output schema. Tests of single capabilities
// use it; tests of whole patterns use Start.
//
// A Harness is a plain value: copying it (or calling At) gives a harness
// on the same registry whose run context can be changed on its own.
type Harness struct {
	t        testing.TB
	DB       *storage.DB
	Registry *agents.Registry
	Catalog  *orchestrator.Catalog
	// Run is the run context of every call.
	Run agents.RunContext
	// Step is the step id of every call.
	Step string
}

// NewHarness is a harness over db hosting the agents given, with an empty
// run context.
func NewHarness(t testing.TB, db *storage.DB, hosted ...agents.Agent) *Harness {
	r := Registry(db, hosted...)
	return &Harness{t: t, DB: db, Registry: r, Catalog: orchestrator.MustCatalog(r)}
}

// At returns a copy of the harness whose run is as of date (YYYY-MM-DD).
func (h *Harness) At(date string) *Harness {
	c := *h
	c.Run.AsOfDate = date
	return &c
}

// Call runs the capability name on args (marshalled to JSON) and decodes
// its output into out, which may be nil to discard it. Invalid arguments
// and the capability's own errors are returned, as *agents.Error; an
// unknown capability or an output that breaks its schema fails the test.
func (h *Harness) Call(name string, args, out any) error {
	h.t.Helper()
	return h.CallContext(context.Background(), name, args, out)
}

// CallContext is Call under ctx, for tests of deadlines and cancellation.
func (h *Harness) CallContext(ctx context.Context, name string, args, out any) error {
	h.t.Helper()
	s, ok := h.Registry.Get(name)
	if !ok {
		h.t.Fatalf("%s not registered", name)
	}
	raw, err := json.Marshal(args)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.Catalog.CheckArgs(name, raw, "args"); err != nil {
		return err
	}
	res, err := s.Invoke(ctx, agents.Call{Run: h.Run, StepID: h.Step}, raw)
	if err != nil {
		return err
	}
	spec, _ := h.Catalog.Capability(name)
	if errs := spec.Output.Validate(res); len(errs) > 0 {
		h.t.Fatalf("%s: output breaks its schema: %v", name, errs)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(res, out)
}

// MustCall is Call for calls that must succeed: an error fails the test.
func (h *Harness) MustCall(name string, args, out any) {
	h.t.Helper()
	if err := h.Call(name, args, out); err != nil {
		h.t.Fatalf("%s %v: %v", name, args, err)
	}
}
