package reports

import (
	"math"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Display formats of the PDF. They round for reading only; the xlsx and
// CSV files carry the figures at full precision.

// money formats an amount with 2 decimals and thousands separators:
// 1234567.891 is "1,234,567.89".
func money(d decimal.Decimal) string { return group(d.StringFixed(2)) }

// quantity formats a quantity with up to 4 decimals, trailing zeros
// dropped: 1500 is "1,500", 12.5 is "12.5".
func quantity(d decimal.Decimal) string {
	s := d.Round(4).String()
	return group(s)
}

// price formats a close with 2 decimals, 4 below 1.
func price(d decimal.Decimal) string {
	if d.Abs().LessThan(decimal.NewFromInt(1)) {
		return group(d.StringFixed(4))
	}
	return group(d.StringFixed(2))
}

// rate formats an exchange rate with 4 decimals.
func rate(d decimal.Decimal) string { return d.StringFixed(4) }

// percent formats a decimal fraction as a percentage with 2 decimals:
// 0.12345 is "12.35%". A negative zero prints as "0.00%".
func percent(f float64) string {
	v := round(f*100, 2)
	return strconv.FormatFloat(v, 'f', 2, 64) + "%"
}

// percentDec is percent of a decimal weight.
func percentDec(d decimal.Decimal) string {
	s := d.Mul(decimal.NewFromInt(100)).StringFixed(2)
	if s == "-0.00" {
		s = "0.00"
	}
	return s + "%"
}

// bp formats basis points with 4 decimals.
func bp(f float64) string { return strconv.FormatFloat(round(f, 4), 'f', 4, 64) + " bp" }

// round rounds half away from zero and never returns a negative zero.
func round(f float64, places int) float64 {
	p := math.Pow(10, float64(places))
	v := math.Round(f*p) / p
	if v == 0 {
		return 0
	}
	return v
}

// group inserts thousands separators into a plain decimal string.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, ch := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	out := b.String()
	if hasFrac {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.,") != "" {
		out = "-" + out
	}
	return out
}
