package agents

import "net/http"

// Error codes are wire names: they appear in step results, dead letters and
// problem+json bodies, so they never change once published. Every code
// DawsOS produces is declared here and only here; a test walks the table
// and checks that each code is produced somewhere and that no other file
// spells a code out as a string.
const (
	CodeInvalidInput     = "invalid_input"
	CodeNotFound         = "not_found"
	CodeInsufficientData = "insufficient_data"
	// CodeNoConvergence: an iterative computation (an optimiser, a
	// solver) stopped before it converged on data that were sufficient.
	CodeNoConvergence        = "no_convergence"
	CodeMissingPrice         = "missing_price"
	CodeMissingFX            = "missing_fx"
	CodePricingPackWarming   = "pricing_pack_warming"
	CodeConflict             = "conflict"
	CodeTimeout              = "timeout"
	CodePanic                = "panic"
	CodeUnavailable          = "unavailable"
	CodeDatabaseUnavailable  = "database_unavailable"
	CodeCircuitOpen          = "circuit_open"
	CodeInternal             = "internal"
	CodeCanceled             = "canceled"
	CodeUndecodable          = "undecodable"
	CodeResolve              = "unresolved_reference"
	CodeIdempotencyKeyReused = "idempotency_key_reused"
	CodeCommitOutcomeUnknown = "commit_outcome_unknown"
	// CodeProviderNotConfigured: an outside provider (FMP, Polygon, FRED,
	// NewsAPI, Anthropic) has no key, rejected its key, or its endpoint is
	// outside what its configuration allows; the message names the
	// provider and the variable or key to set.
	CodeProviderNotConfigured = "provider_not_configured"

	// Codes of the HTTP edge: the request itself is malformed.
	CodeMalformedJSON    = "malformed_json"
	CodeBodyTooLarge     = "body_too_large"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeBadRequest       = "bad_request"
	CodeUnsupportedMedia = "unsupported_media_type"

	// Codes of authentication and authorisation at the HTTP edge.
	CodeUnauthenticated = "unauthenticated"
	CodeForbidden       = "forbidden"
	CodeRateLimited     = "rate_limited"
)

// CodeInfo is what a code means to each part of the engine.
type CodeInfo struct {
	// Status is the HTTP status the ingress answers with.
	Status int
	// Retryable says whether the bus tries the step again.
	Retryable bool
	// Counted says whether a step that ends with this code counts towards
	// its capability's breaker: a failure that says something about the
	// capability's health, never a verdict on its input.
	Counted bool
	// Title is the problem document's title.
	Title string
}

// Codes is the one table of error codes: the bus takes retry and breaker
// counting from it, the ingress the status and title. Nothing else maps a
// code to a status.
var Codes = map[string]CodeInfo{
	CodeInvalidInput:       {http.StatusUnprocessableEntity, false, false, "An input or argument is invalid"},
	CodeNotFound:           {http.StatusNotFound, false, false, "A referenced entity does not exist"},
	CodeInsufficientData:   {http.StatusUnprocessableEntity, false, false, "There is not enough data for the computation"},
	CodeNoConvergence:      {http.StatusUnprocessableEntity, false, false, "The computation did not converge"},
	CodeMissingPrice:       {http.StatusUnprocessableEntity, false, false, "A held security has no price in the pricing pack"},
	CodeMissingFX:          {http.StatusUnprocessableEntity, false, false, "A currency pair has no rate in the pricing pack"},
	CodePricingPackWarming: {http.StatusServiceUnavailable, false, false, "No fresh pricing pack covers the as-of date"},
	CodeConflict:           {http.StatusConflict, false, false, "The request conflicts with the current state"},
	CodeTimeout:            {http.StatusGatewayTimeout, true, true, "The work ran past its deadline"},
	CodePanic:              {http.StatusInternalServerError, true, true, "The capability panicked"},
	CodeUnavailable:        {http.StatusServiceUnavailable, true, true, "A dependency is temporarily unavailable"},
	// A database outage says nothing about a capability: retried, not
	// counted towards its breaker, so breakers are not open when it ends.
	CodeDatabaseUnavailable:  {http.StatusServiceUnavailable, true, false, "The database is unavailable"},
	CodeCircuitOpen:          {http.StatusServiceUnavailable, false, false, "The capability's circuit breaker is open"},
	CodeInternal:             {http.StatusInternalServerError, true, true, "An unexpected error"},
	CodeCanceled:             {499, false, false, "The work was canceled"},
	CodeUndecodable:          {http.StatusBadRequest, false, false, "A message could not be decoded"},
	CodeResolve:              {http.StatusUnprocessableEntity, false, false, "A step argument references a value that does not exist"},
	CodeIdempotencyKeyReused: {http.StatusUnprocessableEntity, false, false, "The idempotency key was used for a different request"},
	CodeCommitOutcomeUnknown: {http.StatusServiceUnavailable, true, false, "Whether the submission was accepted is unknown; retry it with the same idempotency key"},
	CodeMalformedJSON:        {http.StatusBadRequest, false, false, "The request body is not valid JSON"},
	CodeBodyTooLarge:         {http.StatusRequestEntityTooLarge, false, false, "The request body is too large"},
	CodeMethodNotAllowed:     {http.StatusMethodNotAllowed, false, false, "The method is not allowed on this resource"},
	CodeBadRequest:           {http.StatusBadRequest, false, false, "The request is malformed"},
	CodeUnsupportedMedia:     {http.StatusUnsupportedMediaType, false, false, "The request body has an unsupported media type"},
	// Missing, expired, malformed or wrongly signed credentials; also a
	// failed login, which never says whether the email exists.
	CodeUnauthenticated: {http.StatusUnauthorized, false, false, "The request needs valid credentials"},
	// The caller's role is below the route's; objects of other users are
	// not_found instead, so their ids are not confirmed.
	CodeForbidden:   {http.StatusForbidden, false, false, "The caller's role does not allow this"},
	CodeRateLimited: {http.StatusTooManyRequests, false, false, "Too many attempts; retry later"},
	// A provider without a usable configuration is the operator's to fix:
	// final, and not counted, so the breaker stays closed until the key is
	// set and the dead letters are replayed.
	CodeProviderNotConfigured: {http.StatusServiceUnavailable, false, false, "An outside data or model provider is not configured"},
}

// Info returns a code's row; an unknown code is treated as internal, so a
// typo can never turn into a final or uncounted error.
func Info(code string) CodeInfo {
	if ci, ok := Codes[code]; ok {
		return ci
	}
	return Codes[CodeInternal]
}

// Retryable reports whether errors with this code are retried.
func Retryable(code string) bool { return Info(code).Retryable }

// commonCodes are the codes any capability may return without declaring
// them: its input is checked by the engine, and any failure of the machine
// it runs on can end it.
var commonCodes = []string{CodeInvalidInput, CodeInternal, CodeUnavailable, CodeTimeout, CodeCanceled, CodePanic}
