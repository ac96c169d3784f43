package analyst_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
)

// BenchmarkOverviewCapabilities times each capability of the
// portfolio_overview pattern alone, on the demo dataset over the same
// span as `serve --demo` (39 months of prices), so the work of one
// overview run can be split by step:
//
//	go test ./agents/analyst -run '^$' -bench OverviewCapabilities -cpuprofile cpu.out
func BenchmarkOverviewCapabilities(b *testing.B) {
	end := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	dm := agenttest.SeedDemo(b, end, 39)
	h := enginetest.NewHarness(b, dm.DB, analyst.New(agents.Deps{DB: dm.DB})).At(end.Format(time.DateOnly))
	h.Run.PricingPackID = dm.PackID
	pid := dm.Ports["USD"].ID.String()
	outs := map[string]json.RawMessage{}
	steps := []struct {
		as, capability string
		args           func() map[string]any
	}{
		{"valued", "portfolio.get_valued_positions", func() map[string]any {
			return map[string]any{"portfolio_id": pid, "pricing_pack_id": dm.PackID}
		}},
		{"sectors", "portfolio.sector_allocation", func() map[string]any {
			var v struct {
				Positions  json.RawMessage `json:"positions"`
				TotalValue json.RawMessage `json:"total_value"`
			}
			if err := json.Unmarshal(outs["valued"], &v); err != nil {
				b.Fatal(err)
			}
			return map[string]any{"positions": v.Positions, "total_value": v.TotalValue}
		}},
		{"twr", "metrics.compute_twr", func() map[string]any {
			return map[string]any{"portfolio_id": pid, "lookback_days": 252, "include_series": true}
		}},
		{"attribution", "attribution.currency", func() map[string]any {
			return map[string]any{"portfolio_id": pid, "pricing_pack_id": dm.PackID, "lookback_days": 252}
		}},
		{"nav", "portfolio.historical_nav", func() map[string]any {
			return map[string]any{"portfolio_id": pid, "lookback_days": 252}
		}},
		{"metrics", "metrics.compute", func() map[string]any {
			return map[string]any{"portfolio_id": pid, "pricing_pack_id": dm.PackID}
		}},
		{"charts", "charts.overview", func() map[string]any {
			return map[string]any{"valued": outs["valued"], "sectors": outs["sectors"], "nav": outs["nav"],
				"twr": outs["twr"], "metrics": outs["metrics"], "attribution": outs["attribution"]}
		}},
	}
	for _, s := range steps {
		b.Run(s.as, func(b *testing.B) {
			args := s.args()
			var out json.RawMessage
			for b.Loop() {
				if err := h.Call(s.capability, args, &out); err != nil {
					b.Fatal(err)
				}
			}
			outs[s.as] = out
		})
	}
}
