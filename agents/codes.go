package agents

import "net/http"

// Error codes are wire names: they appear in step results, dead letters and
// problem+json bodies, so they never change once published.
const (
	CodeInvalidInput          = "invalid_input"
	CodeNotFound              = "not_found"
	CodeProviderNotConfigured = "provider_not_configured"
	CodeInsufficientData      = "insufficient_data"
	CodeMissingPrice          = "missing_price"
	CodeMissingFX             = "missing_fx"
	CodePricingPackWarming    = "pricing_pack_warming"
	CodeConflict              = "conflict"
	CodeTimeout               = "timeout"
	CodePanic                 = "panic"
	CodeUnavailable           = "unavailable"
	CodeCircuitOpen           = "circuit_open"
	CodeInternal              = "internal"
	CodeCanceled              = "canceled"
	CodeUndecodable           = "undecodable"
	CodeResolve               = "unresolved_reference"
)

// CodeInfo describes one error code: whether it is worth retrying and the
// HTTP status it maps to at the edge.
type CodeInfo struct {
	Retryable   bool
	Status      int
	Description string
}

// Codes is the one table of error codes. The HTTP edge maps a code to its
// status here and nowhere else.
var Codes = map[string]CodeInfo{
	CodeInvalidInput:          {false, http.StatusUnprocessableEntity, "an input or argument is invalid"},
	CodeNotFound:              {false, http.StatusNotFound, "a referenced entity does not exist"},
	CodeProviderNotConfigured: {false, http.StatusServiceUnavailable, "an external provider has no key or URL configured"},
	CodeInsufficientData:      {false, http.StatusUnprocessableEntity, "there is not enough data for the computation"},
	CodeMissingPrice:          {false, http.StatusUnprocessableEntity, "a held security has no price in the pricing pack"},
	CodeMissingFX:             {false, http.StatusUnprocessableEntity, "a currency pair has no rate in the pricing pack"},
	CodePricingPackWarming:    {false, http.StatusServiceUnavailable, "no fresh pricing pack covers the as-of date"},
	CodeConflict:              {false, http.StatusConflict, "the request conflicts with the current state"},
	CodeTimeout:               {true, http.StatusGatewayTimeout, "the attempt ran past its deadline"},
	CodePanic:                 {true, http.StatusInternalServerError, "the capability panicked"},
	CodeUnavailable:           {true, http.StatusServiceUnavailable, "a dependency is temporarily unavailable"},
	CodeCircuitOpen:           {false, http.StatusServiceUnavailable, "the capability's circuit breaker is open"},
	CodeInternal:              {true, http.StatusInternalServerError, "an unexpected error"},
	CodeCanceled:              {false, 499, "the run was canceled"},
	CodeUndecodable:           {false, http.StatusBadRequest, "a message could not be decoded"},
	CodeResolve:               {false, http.StatusUnprocessableEntity, "a step argument references a value that does not exist"},
}

// Retryable reports whether errors with this code are retried; unknown codes
// are not.
func Retryable(code string) bool { return Codes[code].Retryable }
