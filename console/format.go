package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"short":    shortID,
	"when":     when,
	"pretty":   prettyJSON,
	"pct":      pct,
	"money":    money,
	"num":      num,
	"ratio":    ratio,
	"state":    stateClass,
	"query":    queryWith,
	"dur":      duration,
	"contains": strings.Contains,
}

// shortID is the first 8 characters of an id, enough to tell runs apart
// on a page; the full id is in the link and the title.
func shortID(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func when(v any) string {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	case *time.Time:
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	}
	return ""
}

func duration(ms *float64) string {
	if ms == nil {
		return ""
	}
	if *ms < 1000 {
		return strconv.FormatFloat(*ms, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(*ms/1000, 'f', 2, 64) + " s"
}

// maxShownJSON bounds a JSON value shown on a page; the rest is in the
// API's document.
const maxShownJSON = 16 << 10

// prettyJSON indents a JSON value for a <pre>, cut at maxShownJSON.
func prettyJSON(raw json.RawMessage) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	if b.Len() > maxShownJSON {
		return b.String()[:maxShownJSON] + fmt.Sprintf("\n… (%d bytes more; the full value is in the API's run document)", b.Len()-maxShownJSON)
	}
	return b.String()
}

// toFloat reads a figure that may be a JSON number or a decimal string.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	case int:
		return float64(x), true
	}
	return 0, false
}

// pct shows a decimal fraction as a percentage with two decimals.
func pct(v any) string {
	f, ok := toFloat(v)
	if !ok || math.IsNaN(f) {
		return "–"
	}
	return strconv.FormatFloat(f*100, 'f', 2, 64) + " %"
}

// money shows an amount with thousands separators and two decimals.
func money(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return "–"
	}
	neg := f < 0
	s := strconv.FormatFloat(math.Abs(f), 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String() + "." + frac
	if neg {
		return "−" + out
	}
	return out
}

// num shows a quantity as given, trimmed of trailing zeros.
func num(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return "–"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// ratio shows a plain number (beta, Sharpe) with three decimals.
func ratio(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return "–"
	}
	return strconv.FormatFloat(f, 'f', 3, 64)
}

// stateClass is the CSS class of a run or step state.
func stateClass(s string) string {
	switch s {
	case "succeeded":
		return "st-ok"
	case "failed", "dead_lettered", "open":
		return "st-bad"
	case "partial", "half_open":
		return "st-warn"
	case "queued", "running", "pending":
		return "st-run"
	}
	return "st-idle"
}

// queryWith is the current query with one key set (or removed when the
// value is empty), for filter and paging links.
func queryWith(q url.Values, kv ...string) string {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "?" + out.Encode()
}
