package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
)

func init() {
	commandFactories = append(commandFactories, newDLQCmd)
}

func newDLQCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "List, show and replay dead letters of a DawsOS server",
		Long: `dlq works with the dead letters of a running server: step requests that
failed for good (non-retryable error, attempts exhausted, open breaker,
undecodable message). List them, show one with its replays, and replay one
(optionally with corrected arguments) or every pending one of a capability.

Example:
  dawsos dlq list --capability portfolio.get_valued_positions --status pending
  dawsos dlq replay 0b9d2c1e-5f7a-4e3b-8c6d-1a2b3c4d5e6f --token fix-1`,
	}
	cmd.AddCommand(newDLQListCmd(g), newDLQShowCmd(g), newDLQReplayCmd(g))
	return cmd
}

func newDLQListCmd(g *globals) *cobra.Command {
	var (
		cf         clientFlags
		capability string
		status     string
		limit      int
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "list [--capability C] [--status pending|replayed] [--limit N]",
		Short: "List dead letters, newest first",
		Long: `list prints the dead letters (GET /v1/dlq) as a table: id, created_at,
capability, reason, error code, run/step, tries. --json prints the server's
answer instead.

Example:
  dawsos dlq list --status pending --limit 20`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch status {
			case "", "pending", "replayed":
			default:
				return usageErrorf("--status must be pending or replayed, got %q", status)
			}
			if limit < 0 {
				return usageErrorf("--limit must be positive, got %d", limit)
			}
			c, err := cf.client(g)
			if err != nil {
				return err
			}
			defer c.close()
			q := url.Values{}
			if capability != "" {
				q.Set("capability", capability)
			}
			if status != "" {
				q.Set("status", status)
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			_, raw, err := c.doJSON(cmd.Context(), c.hc, http.MethodGet, "/v1/dlq", q, nil)
			if err != nil {
				return fmt.Errorf("list dead letters: %w", err)
			}
			if asJSON {
				return printIndented(cmd.OutOrStdout(), raw)
			}
			var ans struct {
				DeadLetters []storage.DeadLetterRow `json:"dead_letters"`
			}
			if err := json.Unmarshal(raw, &ans); err != nil {
				return fmt.Errorf("decode the dead letters: %w", err)
			}
			printDeadLetters(cmd.OutOrStdout(), ans.DeadLetters)
			return nil
		},
	}
	addClientFlags(cmd, &cf)
	cmd.Flags().StringVar(&capability, "capability", "", "only this capability")
	cmd.Flags().StringVar(&status, "status", "", "only pending or replayed dead letters")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most N dead letters (server default 100, at most 1000)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the server's JSON")
	return cmd
}

// printDeadLetters prints dead letters as a table.
func printDeadLetters(w io.Writer, dls []storage.DeadLetterRow) {
	if len(dls) == 0 {
		fmt.Fprintln(w, "no dead letters")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED_AT\tCAPABILITY\tREASON\tERROR\tRUN/STEP\tTRIES\tSTATUS")
	for _, d := range dls {
		runStep := "-"
		if d.RunID != nil {
			runStep = *d.RunID + "/"
			if d.StepID != nil {
				runStep += *d.StepID
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.CreatedAt.Local().Format(time.DateTime),
			d.Capability, d.Reason, errorCode(d.Error), runStep, d.Tries, d.Status)
	}
	_ = tw.Flush()
}

// errorCode is the code of an error document {code, message}, or "-".
func errorCode(raw json.RawMessage) string {
	var e struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(raw, &e); err != nil || e.Code == "" {
		return "-"
	}
	return e.Code
}

func newDLQShowCmd(g *globals) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one dead letter with its replays, as JSON",
		Long: `show prints one dead letter (GET /v1/dlq/{id}) as indented JSON: the
request, the error, the tries and every replay made of it.

Example:
  dawsos dlq show 0b9d2c1e-5f7a-4e3b-8c6d-1a2b3c4d5e6f`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(g)
			if err != nil {
				return err
			}
			defer c.close()
			_, raw, err := c.doJSON(cmd.Context(), c.hc, http.MethodGet, "/v1/dlq/"+url.PathEscape(args[0]), nil, nil)
			if err != nil {
				return fmt.Errorf("load dead letter %s: %w", args[0], err)
			}
			return printIndented(cmd.OutOrStdout(), raw)
		},
	}
	addClientFlags(cmd, &cf)
	return cmd
}

// replayRequest is the body of POST /v1/dlq/{id}/replay.
type replayRequest struct {
	Args  json.RawMessage `json:"args,omitempty"`
	Token string          `json:"token,omitempty"`
}

func newDLQReplayCmd(g *globals) *cobra.Command {
	var (
		cf         clientFlags
		argsJSON   string
		token      string
		capability string
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "replay (ID [--args-json '{...}'] [--token T] | --capability C)",
		Short: "Replay one dead letter, or every pending one of a capability",
		Long: `replay sends a dead letter's step again (POST /v1/dlq/{id}/replay), with
its original arguments or with --args-json in their place; --token makes the
replay idempotent (a repeat with the same token returns the first replay).
With --capability instead of an ID it replays every pending dead letter of
that capability (POST /v1/dlq/replay) and prints each outcome; the exit
code is 1 when any of them failed.

Example:
  dawsos dlq replay 0b9d2c1e-5f7a-4e3b-8c6d-1a2b3c4d5e6f --args-json '{"lookback_days": 252}'
  dawsos dlq replay --capability portfolio.get_valued_positions`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 1 && capability != "":
				return usageErrorf("give either a dead letter ID or --capability, not both")
			case len(args) == 0 && capability == "":
				return usageErrorf("give a dead letter ID or --capability")
			case capability != "" && (argsJSON != "" || token != ""):
				return usageErrorf("--args-json and --token apply to one dead letter, not to --capability")
			}
			var body replayRequest
			if argsJSON != "" {
				if !json.Valid([]byte(argsJSON)) {
					return usageErrorf("--args-json must be valid JSON, got %q", argsJSON)
				}
				body.Args = compactJSON(argsJSON)
			}
			body.Token = token
			c, err := cf.client(g)
			if err != nil {
				return err
			}
			defer c.close()
			out := cmd.OutOrStdout()
			if capability != "" {
				_, raw, err := c.doJSON(cmd.Context(), c.hc, http.MethodPost, "/v1/dlq/replay", nil, map[string]string{"capability": capability})
				if err != nil {
					return fmt.Errorf("replay the dead letters of %s: %w", capability, err)
				}
				if asJSON {
					if err := printIndented(out, raw); err != nil {
						return err
					}
				}
				var ans struct {
					Outcomes []orchestrator.ReplayOutcome `json:"outcomes"`
				}
				if err := json.Unmarshal(raw, &ans); err != nil {
					return fmt.Errorf("decode the replay outcomes: %w", err)
				}
				failed := 0
				for _, o := range ans.Outcomes {
					if o.Error != nil {
						failed++
					}
					if !asJSON {
						fmt.Fprintln(out, formatOutcome(o))
					}
				}
				if !asJSON {
					fmt.Fprintf(out, "%d replayed, %d failed\n", len(ans.Outcomes)-failed, failed)
				}
				if failed > 0 {
					return &exitError{code: exitAPI, err: fmt.Errorf("%d of %d replays of %s failed", failed, len(ans.Outcomes), capability)}
				}
				return nil
			}
			_, raw, err := c.doJSON(cmd.Context(), c.hc, http.MethodPost, "/v1/dlq/"+url.PathEscape(args[0])+"/replay", nil, body)
			if err != nil {
				return fmt.Errorf("replay dead letter %s: %w", args[0], err)
			}
			if asJSON {
				return printIndented(out, raw)
			}
			var r storage.ReplayRow
			if err := json.Unmarshal(raw, &r); err != nil {
				return fmt.Errorf("decode the replay: %w", err)
			}
			fmt.Fprintln(out, formatReplay(r))
			return nil
		},
	}
	addClientFlags(cmd, &cf)
	cmd.Flags().StringVar(&argsJSON, "args-json", "", "replace the step's arguments with this JSON")
	cmd.Flags().StringVar(&token, "token", "", "idempotency token of the replay")
	cmd.Flags().StringVar(&capability, "capability", "", "replay every pending dead letter of this capability")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the server's JSON")
	return cmd
}

func formatReplay(r storage.ReplayRow) string {
	return fmt.Sprintf("dead letter %s: replay %s accepted (attempt %d, outcome %s)", r.DeadLetterID, r.ID, r.Attempt, r.Outcome)
}

func formatOutcome(o orchestrator.ReplayOutcome) string {
	switch {
	case o.Error != nil:
		return fmt.Sprintf("dead letter %s: not replayed: %s: %s", o.DeadLetterID, o.Error.Code, o.Error.Message)
	case o.Replay != nil:
		return formatReplay(*o.Replay)
	}
	return fmt.Sprintf("dead letter %s: no outcome reported", o.DeadLetterID)
}
