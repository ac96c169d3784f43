package claude_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/claude"
	"github.com/dawsos/dawsos/agents/harvester"
	"github.com/dawsos/dawsos/agents/ratings"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
)

// engineRegistry is the agents buffett_checklist needs, as the binary
// hosts them, with the given providers.
func engineRegistry(db *storage.DB, providers map[string]agents.Provider) *agents.Registry {
	deps := agents.Deps{DB: db, Now: func() time.Time { return clock }, Providers: providers}
	return enginetest.Registry(db, ratings.New(deps), harvester.New(deps), claude.New(deps))
}

func stepOf(d *orchestrator.RunDocument, id string) orchestrator.StepDocument {
	for _, s := range d.Steps {
		if s.ID == id {
			return s
		}
	}
	return orchestrator.StepDocument{}
}

func stepCode(s orchestrator.StepDocument) string {
	var e struct {
		Code string `json:"code"`
	}
	if len(s.Error) > 0 {
		_ = json.Unmarshal(s.Error, &e)
	}
	return e.Code
}

// figureLine finds a `path = value` line of a prompt.
func figureLine(prompt, path string) (string, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path) + ` = (.*)$`).FindStringSubmatch(prompt)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// TestBuffettChecklistEndToEnd: on the demo data with no provider key the
// run ends partial, fundamentals.load (stored statements, marked stale)
// and the four ratings intact, ai.explain dead-lettered after one attempt
// with provider_not_configured; a second engine with the key, pointing at
// the local API, replays the dead letter and the run ends succeeded, the
// explanation citing the ratings' figures with the values the run
// computed, and the answer stored under the run's step with the hash of
// the body the server received.
func TestBuffettChecklistEndToEnd(t *testing.T) {
	t.Parallel()
	dm := agenttest.SeedDemo(t, time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), 3)
	ctx := context.Background()
	var cnr string
	if err := dm.DB.QueryRow(ctx, `SELECT id::text FROM securities WHERE symbol = 'CNR'`, nil, &cnr); err != nil {
		t.Fatal(err)
	}
	inputs := map[string]any{"security_id": cnr}
	var runID string
	t.Run("without a key", func(t *testing.T) {
		e := enginetest.Start(t, dm.DB, engineRegistry(dm.DB, nil), "buffett_checklist.json")
		d := e.Run(t, "buffett_checklist", "2026-06-30", inputs)
		runID = d.RunID
		if d.Status != storage.RunPartial {
			t.Fatalf("ended %s; want partial: %+v", d.Status, d.Errors)
		}
		for _, id := range []string{"fundamentals", "dividend", "moat", "resilience", "aggregate"} {
			if s := stepOf(d, id); s.Status != storage.StepSucceeded {
				t.Errorf("step %s %s (%s); it needs no Anthropic key", id, s.Status, s.Error)
			}
			if _, ok := d.Outputs[id]; !ok {
				t.Errorf("output %s is gone from the partial run", id)
			}
		}
		if f := enginetest.Output[harvester.FundamentalsOutput](t, d, "fundamentals"); !f.Stale || f.Refreshed || len(f.Statements) == 0 {
			t.Errorf("fundamentals stale %v refreshed %v, %d statements; want the stored ones, marked stale", f.Stale, f.Refreshed, len(f.Statements))
		}
		if s := stepOf(d, "explain"); s.Status != storage.StepDeadLettered || stepCode(s) != agents.CodeProviderNotConfigured || s.Attempts != 1 {
			t.Fatalf("explain step %+v; want dead-lettered after one attempt with provider_not_configured", s)
		}
	})
	dls, err := storage.ListDeadLetters(ctx, dm.DB.Pool(), storage.DeadLetterFilter{Capability: "ai.explain", Status: "pending"})
	if err != nil || len(dls) != 1 {
		t.Fatalf("dead letters of ai.explain: %d (%v); want 1", len(dls), err)
	}

	// The fake answers with the figures it was sent, cited by path.
	f := newFake(t, func(_ int, req map[string]any) reply {
		prompt := req["messages"].([]any)[0].(map[string]any)["content"].(string)
		score, _ := figureLine(prompt, "aggregate.score")
		grade, _ := figureLine(prompt, "aggregate.grade")
		moat, _ := figureLine(prompt, "moat.score")
		return message("msg_e2e", "The aggregate score of "+score+" [[aggregate.score]] earns grade "+strings.Trim(grade, `"`)+
			" [[aggregate.grade]]; the moat scores "+moat+" [[moat.score]].", "end_turn", 4000, 60)
	})
	e := enginetest.Start(t, dm.DB, engineRegistry(dm.DB, map[string]agents.Provider{agents.ProviderAnthropic: f.provider(testKey)}), "buffett_checklist.json")
	if _, err := e.Engine.Replay(ctx, orchestrator.ReplayRequest{DeadLetterID: dls[0].ID, RequestedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	d := e.Wait(t, runID)
	if d.Status != storage.RunSucceeded {
		t.Fatalf("after the replay the run ended %s: %+v", d.Status, d.Errors)
	}
	if f.hits() != 1 {
		t.Fatalf("%d requests to the API; want 1", f.hits())
	}
	agg := enginetest.Output[ratings.AggregateOutput](t, d, "aggregate")
	moat := enginetest.Output[ratings.RatingOutput](t, d, "moat")
	out := enginetest.Output[claude.AnswerOutput](t, d, "explain")
	var req struct{ Messages []struct{ Content string } }
	if err := json.Unmarshal(f.body(0), &req); err != nil {
		t.Fatal(err)
	}
	prompt := req.Messages[0].Content
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	want := map[string]string{"aggregate.score": num(agg.Score), "aggregate.grade": `"` + agg.Grade + `"`, "moat.score": num(moat.Score)}
	for _, r := range []string{"dividend", "moat", "resilience"} {
		rating := enginetest.Output[ratings.RatingOutput](t, d, r)
		want[r+".score"] = num(rating.Score)
		want[r+".components[0].metric"] = `"` + rating.Components[0].Metric + `"`
	}
	for path, v := range want {
		if got, ok := figureLine(prompt, path); !ok || got != v {
			t.Errorf("the prompt carries %s = %q (%v); the run's output has %s", path, got, ok, v)
		}
	}
	if out.Status != "complete" || len(out.Citations) != 3 || len(out.UnsentCitations) != 0 || len(out.UngroundedNumbers) != 0 {
		t.Fatalf("explanation %+v", out)
	}
	for _, c := range out.Citations {
		if string(c.Value) != want[c.Path] {
			t.Errorf("citation %s = %s; the run computed %s", c.Path, c.Value, want[c.Path])
		}
	}
	var names []string
	for _, u := range out.InputsUsed {
		names = append(names, u.Name)
	}
	if strings.Join(names, ",") != "ctx,aggregate,dividend,moat,resilience" {
		t.Errorf("inputs used %v", names)
	}
	var hash, status, model string
	if err := dm.DB.QueryRow(ctx, `SELECT prompt_hash, status, model FROM ai_answers WHERE run_id = $1 AND step_id = 'explain' AND capability = 'ai.explain'`,
		[]any{runID}, &hash, &status, &model); err != nil {
		t.Fatal(err)
	}
	if hash != sha(f.body(0)) || status != "complete" || model != answeredModel || out.PromptHash != hash {
		t.Errorf("stored hash %s status %s model %s; the server received a body hashing to %s", hash, status, model, sha(f.body(0)))
	}
	enginetest.Golden(t, d, "buffett_checklist_cnr", agenttest.Update())
}
