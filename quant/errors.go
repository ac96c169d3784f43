package quant

import "errors"

// Sentinel errors. Callers match them with errors.Is; every error returned by
// this package wraps one of them and says which input was at fault.
var (
	// ErrEmpty: a series has too few observations for the computation.
	ErrEmpty = errors.New("quant: not enough observations")
	// ErrLength: two series that must align have different lengths.
	ErrLength = errors.New("quant: mismatched lengths")
	// ErrZeroVariance: a denominator variance or deviation is zero.
	ErrZeroVariance = errors.New("quant: zero variance")
	// ErrSingular: a matrix that must be inverted or factorised is singular
	// or not positive definite.
	ErrSingular = errors.New("quant: singular matrix")
	// ErrNoConvergence: an iterative solver did not converge.
	ErrNoConvergence = errors.New("quant: no convergence")
	// ErrInvalid: an argument is outside its domain (negative value where a
	// positive one is required, confidence outside (0,1), infeasible bounds).
	ErrInvalid = errors.New("quant: invalid argument")
	// ErrInfeasible: the constraints of an optimisation admit no solution.
	ErrInfeasible = errors.New("quant: infeasible constraints")
)
