package claude

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
)

// Prompt limits. The figures of a prompt are bounded so that a request
// stays well inside the model's context window and its cost is
// predictable; a larger input is refused before any traffic, naming the
// argument, and the remedy is to pass a part of an output (`as.path`)
// rather than the whole.
const (
	// MaxFigureBytes bounds the `path = value` lines of one prompt.
	MaxFigureBytes = 192 << 10
	// MaxFigures bounds their number.
	MaxFigures = 4000
	// maxCitationLen bounds what is read as one citation.
	maxCitationLen = 400
)

// rules is the part of every system prompt that makes the answer
// checkable: the figures are the only source, each is cited by its path.
const rules = `You write for DawsOS, a portfolio-intelligence engine. The user's message lists figures computed by earlier steps, one per line as "path = value".
Rules:
- Use only the figures listed. Never state a number, date or fact about the portfolio or the security that is not among them; if they do not answer the question, say which figure is missing.
- Cite every figure you use by its exact path in double square brackets right after it, for example "a score of 72.5 [[aggregate.score]]".
- Rates, weights and ratios are decimals (0.15 means 15%); you may write them as percentages. Round as you like, but do not compute new figures beyond plain comparisons.
- Be brief and concrete; no investment disclaimers beyond one sentence.`

// namedInput is one input of a prompt: an argument (or one entry of a map
// argument) holding another step's output whole.
type namedInput struct {
	// Name is the root of its paths: the argument's name, or
	// argument.key for an entry of a map argument.
	Name string
	// Field is the argument at fault when the input is too large.
	Field string
	Raw   json.RawMessage
}

// leaf is one figure sent: its path and its JSON literal.
type leaf struct {
	Path  string
	Value string
}

// InputUsed says what of one input the prompt carried.
type InputUsed struct {
	Name    string   `json:"name" doc:"The input: an argument, argument.key for an entry of a map argument, or ctx for the run's context."`
	Figures int      `json:"figures" doc:"How many path = value lines it gave."`
	Bytes   int      `json:"bytes" doc:"The size of those lines."`
	Paths   []string `json:"paths" doc:"Every path sent, in the order sent."`
}

// prompt is a built prompt with what the answer is checked against.
type prompt struct {
	system, user string
	used         []InputUsed
	leaves       map[string]string // path -> JSON literal
	nodes        map[string]int    // path of an object or array -> figures under it
	numbers      []decimal.Decimal // absolute values of every number sent
	text         string            // every string sent, for dates
}

// buildPrompt flattens the inputs to leaves (the run's as-of date and
// pack first, as ctx.*) and writes the system and user messages.
func buildPrompt(rc agents.RunContext, role, instruction string, inputs []namedInput) (*prompt, error) {
	p := &prompt{leaves: map[string]string{}, nodes: map[string]int{}}
	var ctxLeaves []leaf
	if rc.AsOfDate != "" {
		ctxLeaves = append(ctxLeaves, leaf{"ctx.asof_date", quote(rc.AsOfDate)})
	}
	if rc.PricingPackID != "" {
		ctxLeaves = append(ctxLeaves, leaf{"ctx.pricing_pack_id", quote(rc.PricingPackID)})
	}
	var lines bytes.Buffer
	total, count := 0, 0
	add := func(name string, ls []leaf) {
		u := InputUsed{Name: name, Paths: make([]string, 0, len(ls))}
		for _, l := range ls {
			n, _ := fmt.Fprintf(&lines, "%s = %s\n", l.Path, l.Value)
			u.Bytes += n
			u.Paths = append(u.Paths, l.Path)
			p.leaves[l.Path] = l.Value
			for _, anc := range ancestors(l.Path) {
				p.nodes[anc]++
			}
		}
		u.Figures = len(ls)
		total += u.Bytes
		count += len(ls)
		p.used = append(p.used, u)
	}
	if len(ctxLeaves) > 0 {
		add("ctx", ctxLeaves)
	}
	largest, largestBytes := "", -1
	for _, in := range inputs {
		ls, err := flatten(in.Name, in.Raw)
		if err != nil {
			return nil, agents.FieldError(in.Field, "input %s is not JSON: %v", in.Name, err)
		}
		add(in.Name, ls)
		if b := p.used[len(p.used)-1].Bytes; b > largestBytes {
			largest, largestBytes = in.Field, b
		}
	}
	if total > MaxFigureBytes || count > MaxFigures {
		return nil, agents.FieldError(largest, "the inputs give %d figures in %d bytes (the largest, %s, %d bytes); a prompt carries at most %d figures in %d bytes: pass a part of the output (as.path) instead of the whole",
			count, total, largest, largestBytes, MaxFigures, MaxFigureBytes)
	}
	p.system = rules + "\n\n" + role
	p.user = fmt.Sprintf("%s\n\nFigures (path = value), %d in all:\n%s", instruction, count, lines.String())
	for _, v := range p.leaves {
		p.collect(v)
	}
	p.collect(quote(instruction))
	return p, nil
}

// collect records the numbers and text of one JSON literal sent.
func (p *prompt) collect(literal string) {
	if strings.HasPrefix(literal, `"`) {
		var s string
		if json.Unmarshal([]byte(literal), &s) == nil {
			p.text += s + "\n"
			for _, t := range numberTokens(s) {
				if !t.date {
					p.numbers = append(p.numbers, t.value, t.value.Mul(t.scale))
				}
			}
		}
		return
	}
	if d, err := decimal.NewFromString(literal); err == nil {
		p.numbers = append(p.numbers, d.Abs())
	}
}

// ancestors lists the object and array paths above a leaf path.
func ancestors(path string) []string {
	var out []string
	depth := 0
	inQuote := false
	for i := 1; i < len(path); i++ {
		switch ch := path[i]; {
		case inQuote:
			if ch == '\\' {
				i++
			} else if ch == '"' {
				inQuote = false
			}
		case ch == '"':
			inQuote = true
		case ch == '[':
			if depth == 0 {
				out = append(out, path[:i])
			}
			depth++
		case ch == ']':
			depth--
		case ch == '.' && depth == 0:
			out = append(out, path[:i])
		}
	}
	return out
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// quote writes s as a JSON string without HTML escaping.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// flatten lists the leaves of a JSON value under root in document order:
// numbers exactly as written, strings quoted, empty objects and arrays as
// {} and [], so nothing sent is lost.
func flatten(root string, raw json.RawMessage) ([]leaf, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out []leaf
	if err := walk(dec, root, &out); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one JSON value")
	}
	return out, nil
}

func walk(dec *json.Decoder, path string, out *[]leaf) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := 0
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				child := path + "." + k
				if !identifier.MatchString(k) {
					child = path + "[" + quote(k) + "]"
				}
				if err := walk(dec, child, out); err != nil {
					return err
				}
				n++
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			if n == 0 {
				*out = append(*out, leaf{path, "{}"})
			}
		case '[':
			n := 0
			for dec.More() {
				if err := walk(dec, fmt.Sprintf("%s[%d]", path, n), out); err != nil {
					return err
				}
				n++
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			if n == 0 {
				*out = append(*out, leaf{path, "[]"})
			}
		}
	case json.Number:
		*out = append(*out, leaf{path, t.String()})
	case string:
		*out = append(*out, leaf{path, quote(t)})
	case bool:
		*out = append(*out, leaf{path, fmt.Sprint(t)})
	case nil:
		*out = append(*out, leaf{path, "null"})
	}
	return nil
}

// Citation is a path the answer cites that was sent.
type Citation struct {
	Path string `json:"path"`
	// Value is the literal sent for a figure; empty for an object or
	// array, whose figures are counted instead.
	Value   json.RawMessage `json:"value,omitempty" doc:"The value sent under the path (a figure); absent when the path names an object or array."`
	Figures int             `json:"figures" doc:"How many figures sent lie under the path (1 for a figure)."`
}

// grounding is what the answer says measured against the prompt.
type grounding struct {
	citations  []Citation
	unsent     []string
	ungrounded []string
}

// ground checks an answer against the prompt: its citations (sent or
// not) and the numbers it writes that match no figure sent at the
// precision written.
func (p *prompt) ground(answer string) grounding {
	g := grounding{citations: []Citation{}, unsent: []string{}, ungrounded: []string{}}
	seen := map[string]bool{}
	stripped := citationSpans(answer, func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		if v, ok := p.leaves[path]; ok {
			g.citations = append(g.citations, Citation{Path: path, Value: json.RawMessage(v), Figures: 1})
		} else if n, ok := p.nodes[path]; ok {
			g.citations = append(g.citations, Citation{Path: path, Figures: n})
		} else {
			g.unsent = append(g.unsent, path)
		}
	})
	written := map[string]bool{}
	for _, t := range numberTokens(stripped) {
		if written[t.text] || p.grounded(t) {
			continue
		}
		written[t.text] = true
		g.ungrounded = append(g.ungrounded, t.text)
	}
	return g
}

// citationSpans calls cite for every path in [[...]] (several may be
// separated by commas) and returns the text with the citations blanked.
func citationSpans(s string, cite func(string)) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "[[")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		end, depth := -1, 0
		for j := i + 2; j < len(s) && j < i+2+maxCitationLen && s[j] != '\n'; j++ {
			switch s[j] {
			case '[':
				depth++
			case ']':
				if depth > 0 {
					depth--
				} else if j+1 < len(s) && s[j+1] == ']' {
					end = j
				}
			}
			if end >= 0 {
				break
			}
		}
		if end < 0 {
			b.WriteString("[[")
			s = s[i+2:]
			continue
		}
		for _, path := range strings.Split(s[i+2:end], ",") {
			if path = strings.TrimSpace(strings.Trim(strings.TrimSpace(path), "`")); path != "" {
				cite(path)
			}
		}
		b.WriteString(" ")
		s = s[end+2:]
	}
}

// grounded reports whether a number written matches a figure sent: the
// figure (sign ignored; prose says "fell 12 %" of -0.12), divided by the
// written unit (% is 0.01, bp 0.0001, million 1e6, ...), rounded to the
// decimals written, equals the number. A date must appear in a string
// sent.
func (p *prompt) grounded(t token) bool {
	if t.date {
		return strings.Contains(p.text, t.text)
	}
	places := int32(t.places)
	for _, f := range p.numbers {
		if f.Div(t.scale).Round(places).Equal(t.value) {
			return true
		}
	}
	return false
}

// token is one number written in a text.
type token struct {
	text   string          // as written, with its unit
	value  decimal.Decimal // absolute, without the unit
	places int             // decimals written
	scale  decimal.Decimal // what one unit is worth
	date   bool            // a YYYY-MM-DD date
}

// units are the words and signs after a number that scale it.
var units = map[string]decimal.Decimal{
	"%": decimal.New(1, -2), "percent": decimal.New(1, -2), "pct": decimal.New(1, -2),
	"bp": decimal.New(1, -4), "bps": decimal.New(1, -4),
	"k": decimal.New(1, 3), "thousand": decimal.New(1, 3),
	"m": decimal.New(1, 6), "mn": decimal.New(1, 6), "million": decimal.New(1, 6),
	"b": decimal.New(1, 9), "bn": decimal.New(1, 9), "billion": decimal.New(1, 9),
	"t": decimal.New(1, 12), "tn": decimal.New(1, 12), "trillion": decimal.New(1, 12),
	"x": decimal.New(1, 0), "×": decimal.New(1, 0),
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)

// numberTokens finds the numbers of a text: digits with optional
// thousands commas and decimals, not part of a word (T10Y2Y, FY2025, 1st),
// not a list marker at the start of a line, with the unit that follows
// (at most one space before a word unit), and YYYY-MM-DD dates.
func numberTokens(s string) []token {
	rs := []rune(s)
	var out []token
	lineStart := true
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '\n' {
			lineStart = true
			continue
		}
		if !unicode.IsDigit(r) {
			if !unicode.IsSpace(r) {
				lineStart = false
			}
			continue
		}
		if i > 0 && (unicode.IsLetter(rs[i-1]) || unicode.IsDigit(rs[i-1]) || rs[i-1] == '_' || rs[i-1] == '.') {
			for i < len(rs) && (unicode.IsDigit(rs[i]) || unicode.IsLetter(rs[i])) {
				i++
			}
			lineStart = false
			continue
		}
		start := i
		if m := isoDate.FindString(string(rs[i:min(len(rs), i+10)])); m != "" && (i+10 >= len(rs) || !unicode.IsDigit(rs[i+10])) {
			out = append(out, token{text: m, date: true})
			i += 9
			lineStart = false
			continue
		}
		for i < len(rs) && (unicode.IsDigit(rs[i]) || (rs[i] == ',' && i+3 < len(rs) && isDigits(rs[i+1:i+4]) && (i+4 >= len(rs) || !unicode.IsDigit(rs[i+4])))) {
			i++
		}
		places := 0
		if i+1 < len(rs) && rs[i] == '.' && unicode.IsDigit(rs[i+1]) {
			i++
			for i < len(rs) && unicode.IsDigit(rs[i]) {
				i++
				places++
			}
		}
		numEnd := i
		if lineStart && places == 0 && i+1 < len(rs) && (rs[i] == '.' || rs[i] == ')') && unicode.IsSpace(rs[i+1]) {
			lineStart = false
			i--
			continue
		}
		lineStart = false
		digits := strings.ReplaceAll(string(rs[start:numEnd]), ",", "")
		v, err := decimal.NewFromString(digits)
		if err != nil {
			i--
			continue
		}
		scale, end := decimal.New(1, 0), numEnd
		j := numEnd
		if j < len(rs) && rs[j] == ' ' {
			j++
		}
		k := j
		for k < len(rs) && (unicode.IsLetter(rs[k]) || rs[k] == '%' || rs[k] == '×') {
			k++
			if rs[k-1] == '%' || rs[k-1] == '×' {
				break
			}
		}
		word := strings.ToLower(string(rs[j:k]))
		if word == "per" && k+5 <= len(rs) && strings.EqualFold(string(rs[k:k+5]), " cent") {
			word, k = "percent", k+5
		}
		if u, ok := units[word]; ok && (j == numEnd || len([]rune(word)) > 1 || word == "%") {
			scale, end = u, k
		} else if j == numEnd && k > j {
			// Digits glued to a word that is no unit (1st, 3rd, 10y): not a figure.
			i = k - 1
			continue
		}
		out = append(out, token{text: string(rs[start:end]), value: v, places: places, scale: scale})
		i = end - 1
	}
	return out
}

func isDigits(rs []rune) bool {
	for _, r := range rs {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return len(rs) > 0
}

// sortedKeys returns a map argument's keys in order, so the prompt (and
// its hash) is the same for the same inputs.
func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// present reports whether an optional input was given (not absent, not
// null).
func present(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

// MaxNamedInputs bounds the entries of a map argument.
const MaxNamedInputs = 20

var inputName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// checkNamed checks a map argument of outputs by name: between min and
// MaxNamedInputs entries, each name a lower-case identifier that is not
// ctx nor one of the capability's other roots, each value given.
func checkNamed(field string, m map[string]json.RawMessage, min int, reserved ...string) error {
	if len(m) < min || len(m) > MaxNamedInputs {
		return agents.FieldError(field, "%s has %d entries; it takes %d to %d", field, len(m), min, MaxNamedInputs)
	}
	for _, k := range sortedKeys(m) {
		switch {
		case !inputName.MatchString(k):
			return agents.FieldError(field+"."+k, "name %q is not a lower-case identifier ([a-z][a-z0-9_]*): it roots the paths of its figures", k)
		case k == "ctx" || slices.Contains(reserved, k):
			return agents.FieldError(field+"."+k, "name %q is taken by another input of the prompt; choose another", k)
		case !present(m[k]):
			return agents.FieldError(field+"."+k, "%s.%s is null: pass an output or leave the entry out", field, k)
		}
	}
	return nil
}

// named lists the entries of a map argument as inputs, in name order.
func named(field string, m map[string]json.RawMessage) []namedInput {
	out := make([]namedInput, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, namedInput{Name: k, Field: field + "." + k, Raw: m[k]})
	}
	return out
}
