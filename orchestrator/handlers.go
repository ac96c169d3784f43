package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
)

// StepSettings are one capability's handler settings.
type StepSettings struct {
	Timeout     time.Duration
	MaxAttempts int
	Concurrency int
	// MaxInFlight bounds the capability's steps in flight across every
	// process (0: Concurrency).
	MaxInFlight int
}

// Handlers turns the capabilities of the named agents (all of them when
// agentNames is nil) into bus handlers. It is the one adapter from a
// registered capability to a step handler, used by serve, worker and the
// tests: it checks the step's resolved arguments against the capability's
// input schema, hands the capability the run context the request carries,
// and, when the registry checks contracts, checks the output against the
// output schema.
func Handlers(cat *Catalog, agentNames []string, settings func(capability string) StepSettings) ([]bus.Handler, error) {
	known := cat.Registry.Agents()
	for _, n := range agentNames {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("unknown agent %q (known: %s)", n, strings.Join(known, ", "))
		}
	}
	var out []bus.Handler
	for _, s := range cat.Registry.All() {
		if agentNames != nil && !slices.Contains(agentNames, s.Agent) {
			continue
		}
		spec, compiled := s, cat.specs[s.Name]
		check := cat.Registry.CheckContracts()
		st := settings(s.Name)
		out = append(out, bus.Handler{
			Capability: s.Name, Agent: s.Agent, Timeout: st.Timeout, MaxAttempts: st.MaxAttempts, Concurrency: st.Concurrency, MaxInFlight: st.MaxInFlight,
			Invoke: func(ctx context.Context, req *bus.StepRequest) (json.RawMessage, error) {
				if errs := compiled.Input.Validate(req.Args); len(errs) > 0 {
					return nil, invalidFields(fmt.Sprintf("the arguments of %s are invalid", spec.Name), "args", errs)
				}
				rc, err := decodeRunContext(req.Context)
				if err != nil {
					return nil, err
				}
				rc.RunID = req.RunID
				out, err := spec.Invoke(ctx, agents.Call{Run: rc, StepID: req.StepID, Attempt: req.Attempt, CorrelationID: req.CorrelationID}, req.Args)
				if err != nil {
					return nil, err
				}
				if check {
					if errs := compiled.Output.Validate(out); len(errs) > 0 {
						return nil, &agents.Error{Code: agents.CodeInternal, Message: fmt.Sprintf("contract of %s: its output does not match its output schema at %s: %s",
							spec.Name, errs[0].Field, errs[0].Message)}
					}
				}
				return out, nil
			},
		})
	}
	return out, nil
}

// decodeRunContext reads the run context a step request carries. Unknown
// keys are refused: a context this process cannot read is a version skew
// that must not pass silently.
func decodeRunContext(raw json.RawMessage) (agents.RunContext, error) {
	var rc agents.RunContext
	if len(raw) == 0 || string(raw) == "null" {
		return rc, nil
	}
	if err := strictUnmarshal(raw, &rc); err != nil {
		return rc, agents.Wrap(agents.CodeUndecodable, err, "decode the run context of the step request")
	}
	return rc, nil
}

// Classify is the bus's classifier: the bus's own failures get their codes
// here, everything else through agents.Classify, and the one table of
// codes decides retry and breaker counting.
func Classify(err error) *bus.StepError {
	var ae *agents.Error
	switch {
	case errors.Is(err, bus.ErrAttemptTimeout):
		ae = agents.Wrap(agents.CodeTimeout, nil, "%s", err.Error())
	case errors.Is(err, bus.ErrPanicked):
		ae = agents.Wrap(agents.CodePanic, nil, "%s", err.Error())
	case errors.Is(err, bus.ErrCircuitOpen):
		ae = agents.Wrap(agents.CodeCircuitOpen, nil, "%s", err.Error())
	case errors.Is(err, bus.ErrUndecodable):
		ae = agents.Wrap(agents.CodeUndecodable, nil, "%s", err.Error())
	default:
		ae = agents.Classify(err)
	}
	info := agents.Info(ae.Code)
	return &bus.StepError{Code: ae.Code, Message: ae.Message, Retryable: ae.Retryable, Field: ae.Field, Counted: info.Counted}
}

// strictUnmarshal decodes exactly one JSON value into v, refusing unknown
// fields.
func strictUnmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}
