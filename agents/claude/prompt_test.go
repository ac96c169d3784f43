package claude

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dawsos/dawsos/agents"
)

// TestGrounding checks the reading of numbers and citations on cases
// written out by hand: units scale, words that hold digits are no
// figures, list markers are skipped, and a citation may end in an index.
func TestGrounding(t *testing.T) {
	t.Parallel()
	p, err := buildPrompt(agents.RunContext{AsOfDate: "2026-06-30"}, "role", "Question: what if rates rise 2%?", []namedInput{
		{Name: "m", Field: "m", Raw: json.RawMessage(`{"twr": -0.1234, "value": 1234567890.5, "te": 0.00045, "xs": [{"k": 3}], "band": ">= 0.6"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text            string
		cited, unsent   []string
		ungroundedWords []string
	}{
		// -0.1234 as 12.3% (sign ignored), 1.23 billion, 4.5 bp, $1,234,567,890.5, 2% from the question,
		// 0.6 from a string sent; 12.4% is not 0.1234 at one decimal.
		{text: "TWR fell 12.3% [[m.twr]] to $1.23bn [[m.value]] (1,234,567,890.5), TE 4.5 bp [[m.te]], 2% and 0.6 vs 12.4%.",
			cited: []string{"m.twr", "m.value", "m.te"}, ungroundedWords: []string{"12.4%"}},
		// T10Y2Y, FY2025, 1st and Q3 hold digits but are words; "1." opens a list; 3 [[m.xs[0].k]] ends in an index.
		{text: "1. T10Y2Y in FY2025, the 1st Q3 score 3 [[m.xs[0].k]], [[m.xs]], [[m.nope, m.twr]]\n2) 7 more",
			cited: []string{"m.xs[0].k", "m.xs", "m.twr"}, unsent: []string{"m.nope"}, ungroundedWords: []string{"7"}},
		{text: "As of 2026-06-30 not 2026-07-01; 1.5 million.", ungroundedWords: []string{"2026-07-01", "1.5 million"}},
	} {
		g := p.ground(tc.text)
		var cited []string
		for _, c := range g.citations {
			cited = append(cited, c.Path)
		}
		if !reflect.DeepEqual(cited, tc.cited) || !reflect.DeepEqual(g.unsent, nonNil(tc.unsent)) || !reflect.DeepEqual(g.ungrounded, nonNil(tc.ungroundedWords)) {
			t.Errorf("%q:\ncited %q unsent %q ungrounded %q\nwant  %q %q %q", tc.text, cited, g.unsent, g.ungrounded, tc.cited, tc.unsent, tc.ungroundedWords)
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
