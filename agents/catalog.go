package agents

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Markdown renders the capability catalogue (docs/capabilities.md): an
// index, then every capability with its agent, file, access, tables,
// error codes, inputs and outputs. It is generated from the registry, so
// it cannot drift from the code; a test compares it with the file.
func (r *Registry) Markdown() []byte {
	var b bytes.Buffer
	specs := r.All()
	fmt.Fprintf(&b, "# Capabilities\n\n")
	fmt.Fprintf(&b, "Generated from the registry by `dawsos capabilities --markdown`; do not edit.\n")
	fmt.Fprintf(&b, "`go test ./cmd/dawsos -run TestCapabilityCatalogIsCurrent -update` writes it again.\n")
	fmt.Fprintf(&b, "%d capabilities of %d agents. Every capability may also fail with the common codes\n", len(specs), len(r.Agents()))
	fmt.Fprintf(&b, "%s.\n\n", codeList(commonCodes))
	fmt.Fprintf(&b, "| capability | agent | access | file |\n|---|---|---|---|\n")
	for _, s := range specs {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | [%s](../%s) |\n", s.Name, anchor(s.Name), s.Agent, s.Access, s.File, s.File)
	}
	for _, s := range specs {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", s.Name, s.Description)
		fmt.Fprintf(&b, "- agent: `%s`; file: [%s](../%s); access: %s\n", s.Agent, s.File, s.File, accessDoc[s.Access])
		fmt.Fprintf(&b, "- reads: %s\n- writes: %s\n- error codes: %s\n", tableList(s.Reads), tableList(s.Writes), codeList(s.Codes))
		fmt.Fprintf(&b, "\nInputs:\n\n")
		writeFields(&b, s.input, true)
		fmt.Fprintf(&b, "\nOutput:\n\n")
		writeFields(&b, s.output, false)
	}
	return b.Bytes()
}

var accessDoc = map[Access]string{
	Pure:        "pure (computes from its arguments)",
	Snapshot:    "snapshot (one read-only REPEATABLE READ transaction)",
	Transaction: "transaction (reads and writes in one transaction)",
	Staged:      "staged (opens its own snapshots and transactions)",
}

func anchor(name string) string { return strings.ReplaceAll(name, ".", "") }

func tableList(ts []string) string {
	if len(ts) == 0 {
		return "none"
	}
	return "`" + strings.Join(ts, "`, `") + "`"
}

func codeList(cs []string) string {
	if len(cs) == 0 {
		return "none beyond the common ones"
	}
	return "`" + strings.Join(cs, "`, `") + "`"
}

// writeFields writes a table of a schema's fields, nested ones as dotted
// paths (items of arrays as []).
func writeFields(b *bytes.Buffer, s *Schema, input bool) {
	if len(s.Properties) == 0 {
		b.WriteString("none\n")
		return
	}
	if input {
		b.WriteString("| field | type | required | description |\n|---|---|---|---|\n")
	} else {
		b.WriteString("| field | type | description |\n|---|---|---|\n")
	}
	var walk func(prefix string, s *Schema, depth int)
	walk = func(prefix string, s *Schema, depth int) {
		for _, p := range s.Properties {
			name := prefix + p.Name
			desc := strings.ReplaceAll(strings.TrimSpace(p.Schema.Description+" "+constraints(p.Schema)), "|", "\\|")
			if input {
				req := "no"
				for _, r := range s.Required {
					if r == p.Name {
						req = "yes"
					}
				}
				fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", name, typeDoc(p.Schema), req, desc)
			} else {
				fmt.Fprintf(b, "| `%s` | %s | %s |\n", name, typeDoc(p.Schema), desc)
			}
			if depth >= 3 {
				continue
			}
			switch {
			case len(p.Schema.Properties) > 0:
				walk(name+".", p.Schema, depth+1)
			case p.Schema.Items != nil && len(p.Schema.Items.Properties) > 0:
				walk(name+"[].", p.Schema.Items, depth+1)
			}
		}
	}
	walk("", s, 1)
}

func typeDoc(s *Schema) string {
	var ts []string
	nullable := false
	for _, t := range s.Type {
		if t == "null" {
			nullable = true
			continue
		}
		ts = append(ts, t)
	}
	out := strings.Join(ts, " or ")
	switch {
	case s.Format == SchemaFormatDecimal:
		out = "decimal"
	case s.Format != "":
		out += " (" + s.Format + ")"
	case out == "array" && s.Items != nil:
		out = "array of " + typeDoc(s.Items)
	case out == "":
		out = "any"
	}
	if nullable {
		out += ", nullable"
	}
	return out
}

func constraints(s *Schema) string {
	var parts []string
	if s.Default != nil {
		b, _ := json.Marshal(s.Default)
		parts = append(parts, "default "+string(b))
	}
	if len(s.Enum) > 0 {
		b, _ := json.Marshal(s.Enum)
		parts = append(parts, "one of "+string(b))
	}
	// The bounds of the Go integer type itself are not worth a reader's time.
	typeBound := func(n *json.Number) bool {
		v, err := n.Float64()
		return err == nil && (v <= -(1<<31) || v >= 1<<31-1)
	}
	if s.Minimum != nil && !typeBound(s.Minimum) {
		parts = append(parts, "≥ "+s.Minimum.String())
	}
	if s.Maximum != nil && !typeBound(s.Maximum) {
		parts = append(parts, "≤ "+s.Maximum.String())
	}
	if s.ExclusiveMinimum != nil {
		parts = append(parts, "> "+s.ExclusiveMinimum.String())
	}
	if s.ExclusiveMaximum != nil {
		parts = append(parts, "< "+s.ExclusiveMaximum.String())
	}
	if s.Pattern != "" {
		parts = append(parts, "matching `"+s.Pattern+"`")
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, "; ") + ")"
}
