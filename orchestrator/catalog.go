package orchestrator

import (
	"fmt"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/patterns"
)

// Catalog is the registry's capabilities with their schemas compiled: the
// patterns package validates against it, and the step adapter and replays
// check arguments with it, so one validator serves all three.
type Catalog struct {
	Registry *agents.Registry
	specs    map[string]patterns.CapabilitySpec
	ctx      *patterns.Schema
}

// NewCatalog compiles the input and output schema of every capability of
// reg and the schema of the run context.
func NewCatalog(reg *agents.Registry) (*Catalog, error) {
	c := &Catalog{Registry: reg, specs: map[string]patterns.CapabilitySpec{}}
	var err error
	if c.ctx, err = patterns.CompileSchema("run context", agents.ContextSchema()); err != nil {
		return nil, err
	}
	for _, s := range reg.All() {
		in, err := patterns.CompileSchema(s.Name+" input", s.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("capability %s: %w", s.Name, err)
		}
		out, err := patterns.CompileSchema(s.Name+" output", s.OutputSchema)
		if err != nil {
			return nil, fmt.Errorf("capability %s: %w", s.Name, err)
		}
		c.specs[s.Name] = patterns.CapabilitySpec{Name: s.Name, Input: in, Output: out}
	}
	return c, nil
}

// MustCatalog is NewCatalog for schemas that are known to compile (tests).
func MustCatalog(reg *agents.Registry) *Catalog {
	c, err := NewCatalog(reg)
	if err != nil {
		panic(err)
	}
	return c
}

// Capability implements patterns.Catalog.
func (c *Catalog) Capability(name string) (patterns.CapabilitySpec, bool) {
	s, ok := c.specs[name]
	return s, ok
}

// Context implements patterns.Catalog.
func (c *Catalog) Context() *patterns.Schema { return c.ctx }

// CheckArgs validates a capability's arguments against its input schema.
func (c *Catalog) CheckArgs(capability string, args []byte, prefix string) error {
	s, ok := c.specs[capability]
	if !ok {
		return agents.Errorf(agents.CodeNotFound, "capability %s is not registered in this process", capability)
	}
	if errs := s.Input.Validate(args); len(errs) > 0 {
		return invalidFields(fmt.Sprintf("the arguments of %s are invalid", capability), prefix, errs)
	}
	return nil
}

// invalidFields is an invalid_input error listing every field at fault.
func invalidFields(what, prefix string, errs []patterns.FieldError) *agents.Error {
	e := &agents.Error{Code: agents.CodeInvalidInput}
	msg := what
	for i, f := range errs {
		field := f.Field
		if prefix != "" {
			field = prefix + "." + field
			if f.Field == "" {
				field = prefix
			}
		}
		e.Fields = append(e.Fields, agents.FieldIssue{Field: field, Code: f.Code, Message: f.Message})
		if i == 0 {
			e.Field = field
		}
		if i < 3 {
			msg += fmt.Sprintf("; %s: %s", field, f.Message)
		}
	}
	if len(errs) > 3 {
		msg += fmt.Sprintf("; and %d more", len(errs)-3)
	}
	e.Message = msg
	return e
}
