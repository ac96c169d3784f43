package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
)

func (a *Reports) exportCSV() agents.Def {
	return agents.Write(agents.Meta{
		Name: "reports.export_csv",
		Description: "Writes one section of the figures of earlier steps (holdings, sector allocation, performance, NAV history " +
			"or currency attribution) as an RFC 4180 CSV table at full precision; stores it in files and answers its download link.",
		Writes: []string{"files"},
	}, a.ExportCSV)
}

// CSV sections.
const (
	csvHoldings    = "holdings"
	csvAllocation  = "allocation"
	csvPerformance = "performance"
	csvNAV         = "nav"
	csvAttribution = "attribution"
)

// ExportCSVInput is the figures and the section to write.
type ExportCSVInput struct {
	Figures
	Section  string `json:"section,omitempty" jsonschema:"default=holdings,enum=holdings|allocation|performance|nav|attribution" doc:"The table to write: holdings (positions, cash and the total; from valued), allocation (sectors), performance (twr), nav (nav) or attribution (attribution)."`
	FileName string `json:"file_name,omitempty" jsonschema:"maxLength=100,pattern=^[A-Za-z0-9][A-Za-z0-9._ -]*$" doc:"The download name (.csv is added); portfolio-<section>-<as-of date>.csv when absent."`
}

// Validate checks that the figures belong to one portfolio and that the
// section's figures were given.
func (in ExportCSVInput) Validate() error {
	if err := in.check(); err != nil {
		return err
	}
	missing := map[string]bool{csvAllocation: in.Sectors == nil, csvPerformance: in.TWR == nil, csvNAV: in.NAV == nil,
		csvAttribution: in.Attribution == nil}
	arg := map[string]string{csvAllocation: "sectors", csvPerformance: "twr", csvNAV: "nav", csvAttribution: "attribution"}
	if missing[in.Section] {
		return agents.FieldError(arg[in.Section], "section %s is written from the %s argument, which was not given", in.Section, arg[in.Section])
	}
	return nil
}

// ExportCSV implements reports.export_csv. Decimals are written exactly as
// given, floats in the shortest form that reads back to the same value;
// text that a spreadsheet would take for a formula is prefixed with '.
func (a *Reports) ExportCSV(ctx context.Context, c *agents.Call, in ExportCSVInput) (FileOutput, error) {
	header, rows := csvTable(in)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	if err := w.Write(header); err != nil {
		return FileOutput{}, agents.Wrap(agents.CodeInternal, err, "write csv header")
	}
	if err := w.WriteAll(rows); err != nil {
		return FileOutput{}, agents.Wrap(agents.CodeInternal, err, "write csv rows")
	}
	v := in.Valued
	out, err := a.store(ctx, c, fileName(in.FileName, "portfolio-"+in.Section, "", v.AsOfDate, ".csv"), MediaCSV, buf.Bytes())
	if err != nil {
		return out, err
	}
	out.Sections = []string{in.Section}
	out.Rows = len(rows)
	out.Provenance = reportProvenance(c, v, fmt.Sprintf("encoding/csv table of the %s section, one header row and %d data rows", in.Section, len(rows)))
	out.Provenance.Convention = "RFC 4180, CRLF line ends, UTF-8; decimals exact as given, returns and weights as decimal fractions " +
		"(0.05 is 5%), money in the base currency " + v.BaseCurrency + " unless a currency column names another"
	return out, nil
}

// csvTable builds the header and rows of the chosen section.
func csvTable(in ExportCSVInput) ([]string, [][]string) {
	v := in.Valued
	switch in.Section {
	case csvAllocation:
		rows := [][]string{}
		for _, s := range in.Sectors.Sectors {
			rows = append(rows, []string{text(s.Sector), s.Value.String(), s.Weight.String(), strconv.Itoa(s.Positions)})
		}
		return []string{"sector", "value", "weight", "positions"}, rows
	case csvPerformance:
		t := in.TWR
		return []string{"metric", "value"}, [][]string{
			{"twr", num(t.TWR)}, {"annualized", strconv.FormatBool(t.Annualized)}, {"total_return", num(t.TotalReturn)},
			{"start_date", t.StartDate}, {"end_date", t.EndDate}, {"days", strconv.Itoa(t.Days)},
		}
	case csvNAV:
		rows := [][]string{}
		for _, p := range in.NAV.Values {
			rows = append(rows, []string{p.Date, p.TotalValue.String(), optDec(p.CashValue), optDec(p.PositionsValue), optDec(p.NetExternalFlow)})
		}
		return []string{"date", "total_value", "cash_value", "positions_value", "net_external_flow"}, rows
	case csvAttribution:
		a := in.Attribution
		rows := [][]string{{"portfolio", "", "", "", num(a.LocalReturn), num(a.FXReturn), num(a.InteractionReturn), num(a.TotalReturn), num(a.ResidualBP)}}
		for _, l := range a.ByCurrency {
			rows = append(rows, []string{"currency", l.Currency, "", num(l.Weight), num(l.Local), num(l.FX), num(l.Interaction), num(l.Total), ""})
		}
		for _, p := range a.Positions {
			rows = append(rows, []string{"position", p.Currency, text(p.Symbol), num(p.Weight), num(p.Local), num(p.FX), num(p.Interaction), num(p.Total), ""})
		}
		return []string{"level", "currency", "symbol", "weight", "local", "fx", "interaction", "total", "residual_bp"}, rows
	}
	rows := [][]string{}
	for _, h := range v.Positions {
		rows = append(rows, []string{"position", text(h.Symbol), text(h.Name), text(h.Sector), h.PriceCurrency, h.Quantity.String(),
			h.Close.String(), h.FXRate.String(), h.MarketValue.String(), h.Weight.String(), optDec(h.UnrealizedPL)})
	}
	for _, cl := range v.Cash {
		rows = append(rows, []string{"cash", "", "", "", cl.Currency, cl.Amount.String(), "", cl.FXRate.String(), cl.BaseValue.String(), "", ""})
	}
	rows = append(rows, []string{"total", "", "", "", v.BaseCurrency, "", "", "", v.TotalValue.String(), "", ""})
	return []string{"kind", "symbol", "name", "sector", "currency", "quantity", "close", "fx_rate", "market_value", "weight", "unrealized_pl"}, rows
}

// num writes a float in the shortest form that parses back to it.
func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func optDec(d *decimal.Decimal) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// text guards a text cell against formula injection: a spreadsheet runs
// a cell starting with = + - @ (or a tab or carriage return) as a formula.
func text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
