package patterns

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestCheckInputs(t *testing.T) {
	t.Parallel()
	p := mustParse(t, doc(`
		"pid": {"type": "uuid", "required": true},
		"days": {"type": "integer", "default": 252},
		"conf": {"type": "number", "default": 0.95, "enum": [0.9, 0.95, 0.99]},
		"asof": {"type": "date"},
		"flag": {"type": "boolean", "default": false},
		"name": {"type": "string"},
		"shocks": {"type": "object"},
		"ids": {"type": "array"}`, echoA, `"a"`))
	const pid = "6f1c2a9e-2f4b-4c8e-9d3a-1b2c3d4e5f60"
	cases := []struct {
		name   string
		in     string
		want   string // fmt of the checked map, when no errors
		errors string // fmt of field/code pairs
	}{
		{"defaults filled", `{"pid": "` + pid + `"}`,
			"map[asof:<nil> conf:0.95 days:252 flag:false ids:<nil> name:<nil> pid:" + pid + " shocks:<nil>]", ""},
		{"all given", `{"pid": "6F1C2A9E-2F4B-4C8E-9D3A-1B2C3D4E5F60", "days": 2.52e2, "conf": 0.99, "asof": "2024-02-29", "flag": true, "name": "x", "shocks": {"rate": 0.01, "n": 2}, "ids": [1, 1.5]}`,
			"map[asof:2024-02-29 conf:0.99 days:252 flag:true ids:[1 1.5] name:x pid:" + pid + " shocks:map[n:2 rate:0.01]]", ""},
		{"null is absent", `{"pid": "` + pid + `", "days": null}`,
			"map[asof:<nil> conf:0.95 days:252 flag:false ids:<nil> name:<nil> pid:" + pid + " shocks:<nil>]", ""},
		{"missing required", `{}`, "", "[pid:missing]"},
		{"unknown", `{"pid": "` + pid + `", "zz": 1}`, "", "[zz:unknown_field]"},
		{"bad uuid", `{"pid": "6f1c2a9e-2f4b"}`, "", "[pid:invalid_format]"},
		{"uuid not string", `{"pid": 5}`, "", "[pid:wrong_type]"},
		{"non-integral integer", `{"pid": "` + pid + `", "days": 25.5}`, "", "[days:wrong_type]"},
		{"integer as string", `{"pid": "` + pid + `", "days": "252"}`, "", "[days:wrong_type]"},
		{"integer too large", `{"pid": "` + pid + `", "days": 1e19}`, "", "[days:out_of_range]"},
		{"bad date format", `{"pid": "` + pid + `", "asof": "2024-2-29"}`, "", "[asof:invalid_format]"},
		// 2023 is not a leap year, so 29 February does not exist.
		{"impossible date", `{"pid": "` + pid + `", "asof": "2023-02-29"}`, "", "[asof:invalid_format]"},
		{"date with time", `{"pid": "` + pid + `", "asof": "2024-02-29T00:00:00Z"}`, "", "[asof:invalid_format]"},
		{"not in enum", `{"pid": "` + pid + `", "conf": 0.5}`, "", "[conf:not_in_enum]"},
		{"enum matches other spelling", `{"pid": "` + pid + `", "conf": 9.5e-1}`,
			"map[asof:<nil> conf:0.95 days:252 flag:false ids:<nil> name:<nil> pid:" + pid + " shocks:<nil>]", ""},
		{"wrong containers", `{"pid": "` + pid + `", "shocks": [], "ids": {}, "flag": "true", "name": 3}`, "",
			"[flag:wrong_type ids:wrong_type name:wrong_type shocks:wrong_type]"},
		{"several at once", `{"days": "x", "q": 1}`, "", "[days:wrong_type pid:missing q:unknown_field]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var in map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tc.in), &in); err != nil {
				t.Fatal(err)
			}
			got, errs := CheckInputs(p, in)
			var codes []string
			for _, e := range errs {
				codes = append(codes, e.Field+":"+e.Code)
				if e.Message == "" {
					t.Errorf("field error %+v has no message", e)
				}
			}
			if tc.errors != "" {
				if fmt.Sprint(codes) != tc.errors {
					t.Errorf("CheckInputs(%s) errors = %v, want %s (%v)", tc.in, codes, tc.errors, errs)
				}
				return
			}
			if len(errs) > 0 || fmt.Sprint(got) != tc.want {
				t.Errorf("CheckInputs(%s) = %v, %v\nwant %s", tc.in, got, errs, tc.want)
			}
		})
	}
}

func TestCheckedInputsTypes(t *testing.T) {
	t.Parallel()
	p := mustParse(t, doc(pidInput+`, "days": {"type": "integer", "default": 252}, "r": {"type": "number", "default": 1}`, echoA, `"a"`))
	got, errs := CheckInputs(p, map[string]json.RawMessage{"pid": json.RawMessage(`"6f1c2a9e-2f4b-4c8e-9d3a-1b2c3d4e5f60"`)})
	if errs != nil {
		t.Fatal(errs)
	}
	if _, ok := got["days"].(int64); !ok {
		t.Errorf("days is %T, want int64", got["days"])
	}
	if _, ok := got["r"].(float64); !ok {
		t.Errorf("r is %T, want float64", got["r"])
	}
	// The checked map feeds Resolve directly: types survive.
	out, err := Resolve(json.RawMessage(`{"d": "{{inputs.days}}", "r": "{{inputs.r}}"}`), Scope{Inputs: got})
	if err != nil || string(out) != `{"d":252,"r":1}` {
		t.Errorf("Resolve with checked inputs = %s, %v", out, err)
	}
}

// TestRestoreInputsRoundTrip: the inputs a run was accepted with, stored
// as JSON and read back, are the same values in the same Go types, so a
// decision made on a step result sees what the submission saw.
func TestRestoreInputsRoundTrip(t *testing.T) {
	t.Parallel()
	p := mustParse(t, doc(`
		"pid": {"type": "uuid", "required": true},
		"days": {"type": "integer", "default": 252},
		"conf": {"type": "number", "default": 0.95},
		"asof": {"type": "date"},
		"flag": {"type": "boolean", "default": false},
		"shocks": {"type": "object"},
		"ids": {"type": "array"}`, echoA, `"a"`))
	checked, errs := CheckInputs(p, map[string]json.RawMessage{
		"pid": json.RawMessage(`"6f1c2a9e-2f4b-4c8e-9d3a-1b2c3d4e5f60"`), "asof": json.RawMessage(`"2024-02-29"`),
		"shocks": json.RawMessage(`{"rate": 0.01}`), "ids": json.RawMessage(`[1, 2]`),
	})
	if errs != nil {
		t.Fatal(errs)
	}
	b, err := json.Marshal(checked)
	if err != nil {
		t.Fatal(err)
	}
	var stored map[string]json.RawMessage
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	got, err := RestoreInputs(p, stored)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%#v", got["days"]) != fmt.Sprintf("%#v", checked["days"]) || fmt.Sprint(got) != fmt.Sprint(checked) {
		t.Fatalf("restored %v (days %T), want %v (days %T)", got, got["days"], checked, checked["days"])
	}
	for name, v := range checked {
		if fmt.Sprintf("%T", got[name]) != fmt.Sprintf("%T", v) {
			t.Errorf("%s restored as %T, accepted as %T", name, got[name], v)
		}
	}
	// A stored value that no longer fits its declared type is an error, not
	// a guess.
	stored["days"] = json.RawMessage(`"many"`)
	if _, err := RestoreInputs(p, stored); err == nil {
		t.Fatal("a string restored as an integer input")
	}
}

// TestDecimalBounds: a decimal argument of thousands of digits, or with
// more fraction digits than money needs, is refused before it reaches the
// database; ordinary money is not.
func TestDecimalBounds(t *testing.T) {
	t.Parallel()
	for in, ok := range map[any]bool{
		"123.45": true, json.Number("123.45"): true, "-0.000000000000000001": true, "1e3": true,
		"999999999999999999999999": true, "1000000000000000000000000": false,
		"0.0000000000000000001": false, "1e30": false, json.Number("1e30"): false,
		strings.Repeat("9", 5000): false, "12,5": false,
	} {
		if err := CheckDecimal(in); (err == nil) != ok {
			t.Errorf("CheckDecimal(%.60v) = %v; want accepted %v", in, err, ok)
		}
	}
}
