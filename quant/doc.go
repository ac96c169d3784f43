// Package quant holds the finance math of DawsOS: returns, risk, attribution,
// regression, simulation, optimisation and tax-lot relief.
//
// The package is pure: slices and values in, numbers out; no I/O, no context,
// no database. Conventions follow shared/DOMAIN.md §1 and each function states
// the one it uses (rates and weights are decimals, 252 periods a year, sample
// standard deviation with ddof 1). Degenerate input (empty or one-element
// series, zero variance, mismatched lengths, singular matrices) returns an
// error wrapping one of the sentinels below, never NaN or Inf.
package quant
