package reports

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A macro output reaches the reports as a generic object (the regime
// detector's shape is its own): it is printed as label/value lines in a
// fixed order, every figure as given.

// line is one label and its value (a JSON scalar, or text).
type line struct {
	label string
	value any
}

// Bounds of the flattening: nesting depth and items listed per array.
const (
	macroDepth = 3
	macroItems = 10
)

// flatten lists the fields of a macro output: regime and confidence
// first, then the others by name; nested objects as parent.child, arrays
// of scalars joined, arrays of objects item by item as parent[i].child
// (the first 10). Provenance is left to the sources. At most limit lines.
func flatten(m map[string]any, limit int) []line {
	var out []line
	var walk func(label string, v any, depth int)
	walk = func(label string, v any, depth int) {
		switch x := v.(type) {
		case map[string]any:
			if depth >= macroDepth {
				out = append(out, line{label, fmt.Sprintf("%d fields", len(x))})
				return
			}
			for _, k := range sortedKeys(x) {
				walk(label+"."+k, x[k], depth+1)
			}
		case []any:
			if scalars(x) {
				out = append(out, line{label, scalarText(x)})
				return
			}
			if depth >= macroDepth {
				out = append(out, line{label, fmt.Sprintf("%d items", len(x))})
				return
			}
			for i, e := range x {
				if i == macroItems {
					out = append(out, line{label, fmt.Sprintf("%d items in all; the run's output has the rest", len(x))})
					break
				}
				walk(fmt.Sprintf("%s[%d]", label, i), e, depth+1)
			}
		default:
			out = append(out, line{label, v})
		}
	}
	keys := []string{}
	for _, k := range []string{"regime", "confidence"} {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
		}
	}
	for _, k := range sortedKeys(m) {
		if k != "regime" && k != "confidence" && k != "provenance" {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		walk(k, m[k], 0)
	}
	if len(out) > limit {
		n := len(out)
		out = append(out[:limit-1], line{"...", fmt.Sprintf("%d more lines in the run's output", n-limit+1)})
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func scalars(a []any) bool {
	for _, e := range a {
		switch e.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// scalarText prints a JSON value as given: numbers at up to 6
// significant digits, arrays of scalars joined (the first 10).
func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', 6, 64)
	case []any:
		parts := []string{}
		for i, e := range x {
			if i == macroItems {
				parts = append(parts, fmt.Sprintf("... (%d in all)", len(x)))
				break
			}
			parts = append(parts, scalarText(e))
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		return fmt.Sprintf("%d fields", len(x))
	}
	return fmt.Sprint(v)
}
