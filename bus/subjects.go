package bus

import (
	"regexp"
	"strings"
)

// capabilityRe is the shape of a capability name (agents.NamePattern
// checks it at registration); the bus checks names it reads off the wire
// before it puts one into a subject.
var capabilityRe = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

func validCapability(s string) bool { return capabilityRe.MatchString(s) }

// Stream names and subject roots (ARCHITECTURE.md §4). Declared once here.
const (
	StreamSteps   = "STEPS"
	StreamResults = "RESULTS"
	StreamDLQ     = "DLQ"
	StreamEvents  = "EVENTS"

	stepPrefix   = "dawsos.step."
	resultPrefix = "dawsos.result."
	dlqPrefix    = "dawsos.dlq."
	runPrefix    = "dawsos.run."
	// deliverPrefix roots the deliver subjects of the push consumers of
	// step requests.
	deliverPrefix = "_deliver."

	// ResultsConsumer is the durable consumer the orchestrator reads
	// results with; every orchestrator process shares it.
	ResultsConsumer = "orchestrator"
)

// StepSubject is where step requests for a capability are published.
func StepSubject(capability string) string { return stepPrefix + capability }

// ResultSubject is where a run's step results are published.
func ResultSubject(runID string) string { return resultPrefix + runID }

// DLQSubject is where a capability's dead letters are published.
func DLQSubject(capability string) string { return dlqPrefix + capability }

// EventSubject is where a run's events are published; event names contain
// dots (step.succeeded), which stay tokens under the run's prefix.
func EventSubject(runID, event string) string { return runPrefix + runID + "." + event }

// durableName turns a capability name into a consumer name. Durable names
// may not contain dots; a dot becomes a hyphen, which capability names
// never contain, so two capabilities never share a consumer (a.b_c and
// a_b.c become step_a-b_c and step_a_b-c).
func durableName(capability string) string {
	return "step_" + strings.ReplaceAll(capability, ".", "-")
}
