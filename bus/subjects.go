package bus

import "strings"

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

// durableName turns a capability name into a consumer name: durable names
// may not contain dots.
func durableName(capability string) string {
	return "step_" + strings.ReplaceAll(capability, ".", "_")
}
