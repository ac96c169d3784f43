package reports_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/agents/reports"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
)

var reportOutputs = []string{"report", "report_with_macro", "report_without_performance", "report_without_performance_with_macro"}

// TestExportPortfolioReportEndToEnd runs export_portfolio_report through
// the real engine on the demo data with the three flag combinations that
// matter: the default (performance, no macro), no performance, and macro.
// Each run renders exactly one PDF, listed in the run's files; the PDF is
// read back and its figures checked against the run's own outputs.
func TestExportPortfolioReportEndToEnd(t *testing.T) {
	t.Parallel()
	// Two years of prices: the regime detector needs 36 monthly
	// observations of unemployment and of inflation year on year, and
	// the macro series start two years before the prices.
	dm := agenttest.SeedDemo(t, demoEnd, 26)
	deps := agents.Deps{DB: dm.DB, RiskFreeRate: 0.04}
	reg := enginetest.Registry(dm.DB, analyst.New(deps), macro.New(deps), reports.New(deps))
	e := enginetest.Start(t, dm.DB, reg, "export_portfolio_report.json")
	asOf := demoEnd.Format(time.DateOnly)
	p := dm.Ports["CAD"]

	// report checks that exactly the output as holds the file, that the
	// run's files list it, and returns the PDF's pages.
	report := func(d *orchestrator.RunDocument, as string) (fileOut, []string) {
		t.Helper()
		if d.Status != storage.RunSucceeded {
			t.Fatalf("run ended %s: %+v", d.Status, d.Errors)
		}
		for _, o := range reportOutputs {
			if _, ok := d.Outputs[o]; ok != (o == as) {
				t.Errorf("output %s present %v; want only %s", o, ok, as)
			}
		}
		out := enginetest.Output[fileOut](t, d, as)
		if len(d.Files) != 1 || d.Files[0].ID != out.FileID.String() || d.Files[0].Download != out.Download ||
			d.Files[0].StepID != as || d.Files[0].Size != out.Size || d.Files[0].MediaType != "application/pdf" {
			t.Fatalf("run files %+v; want the one file of step %s: %+v", d.Files, as, out)
		}
		content, _, _ := storedFile(t, dm.DB, out.FileID)
		pages := pdfPages(t, content)
		if len(pages) != out.Pages {
			t.Errorf("the PDF has %d pages; the output says %d", len(pages), out.Pages)
		}
		for i, pg := range pages {
			if !strings.Contains(pg, fmt.Sprintf("Page %d of %d", i+1, len(pages))) {
				t.Errorf("page %d has no page number", i+1)
			}
		}
		return out, pages
	}

	d := e.Run(t, "export_portfolio_report", asOf, map[string]any{"portfolio_id": p.ID})
	out, pages := report(d, "report")
	all := strings.Join(pages, "\n")
	valued := enginetest.Output[analyst.ValuedPositionsOutput](t, d, "valued")
	twr := enginetest.Output[analyst.TWROutput](t, d, "twr")
	att := enginetest.Output[analyst.CurrencyAttributionOutput](t, d, "attribution")
	nav := enginetest.Output[analyst.HistoricalNAVOutput](t, d, "nav")
	want := []string{p.Name, groupThousands(valued.TotalValue) + " CAD", pct(twr.TWR), pct(twr.TotalReturn),
		pct(att.LocalReturn), pct(att.FXReturn), pct(att.InteractionReturn), pct(att.TotalReturn),
		groupThousands(nav.Values[len(nav.Values)-1].TotalValue), "Holdings", "Performance", "Currency attribution", "Sources and methods"}
	for _, pos := range valued.Positions {
		want = append(want, pos.Symbol, groupThousands(pos.MarketValue))
	}
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("default report: %q is not in the PDF", w)
		}
	}
	if strings.Contains(all, "Macro regime") {
		t.Error("the default report (include_macro false) has a macro section")
	}
	if out.Sections[len(out.Sections)-1] != "Sources and methods" {
		t.Errorf("sections %v", out.Sections)
	}
	enginetest.Golden(t, d, "export_portfolio_report", agenttest.Update())

	// Without performance: its steps are skipped, the report still renders.
	d = e.Run(t, "export_portfolio_report", asOf, map[string]any{"portfolio_id": p.ID, "include_performance": false})
	out, pages = report(d, "report_without_performance")
	for _, s := range d.Steps {
		skip := s.ID == "twr" || s.ID == "attribution" || s.ID == "nav" || s.ID == "macro" || (strings.HasPrefix(s.ID, "report") && s.ID != "report_without_performance")
		if (s.Status == storage.StepSkipped) != skip {
			t.Errorf("without performance, step %s is %s", s.ID, s.Status)
		}
	}
	all = strings.Join(pages, "\n")
	if strings.Contains(all, "Time-weighted return") || strings.Contains(all, "Currency attribution") ||
		!strings.Contains(all, groupThousands(valued.TotalValue)) {
		t.Errorf("the report without performance prints performance, or not the total %s", groupThousands(valued.TotalValue))
	}
	if strings.Join(out.Sections, "|") != "Cover|Holdings|Sources and methods" {
		t.Errorf("sections without performance: %v", out.Sections)
	}

	// With macro: the regime the run detected is printed.
	d = e.Run(t, "export_portfolio_report", asOf, map[string]any{"portfolio_id": p.ID, "include_macro": true, "include_holdings": false})
	out, pages = report(d, "report_with_macro")
	regime := enginetest.Output[struct {
		Regime     string  `json:"regime"`
		Confidence float64 `json:"confidence"`
	}](t, d, "macro")
	all = strings.Join(pages, "\n")
	if regime.Regime == "" || !strings.Contains(all, "regime") || !strings.Contains(all, regime.Regime) {
		t.Errorf("the macro report lacks the regime %q", regime.Regime)
	}
	if strings.Join(out.Sections, "|") != "Cover|Performance|Currency attribution|Macro regime|Sources and methods" {
		t.Errorf("sections with macro, without holdings: %v", out.Sections)
	}
}
