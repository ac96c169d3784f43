package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/patterns"
)

func newPatternsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "patterns", Short: "Work with pattern files"}
	lint := &cobra.Command{
		Use:   "lint [DIR]",
		Short: "Validate the built-in patterns, and those in DIR, against the capability registry",
		Long: `lint checks every pattern against the registry of this binary and lists
every problem with its file and JSON path: unknown capability, unknown input
or step reference, cycle, duplicate 'as', argument not in the capability's
schema, required argument without a value, output that names nothing. It
needs no database. Exit code 1 when there is a problem.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := g.load(nil)
			if err != nil {
				return err
			}
			// Capabilities only need to be described, not run: no pool.
			reg := newRegistry(cfg, agents.Deps{})
			var dirs []string
			if cfg.Patterns.Dir != "" {
				dirs = append(dirs, cfg.Patterns.Dir)
			}
			dirs = append(dirs, args...)
			probs := lintPatterns(reg, dirs)
			for _, p := range probs {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s: %s (%s)\n", p.File, p.Path, p.Message, p.Code)
			}
			if len(probs) > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d problem(s)", len(probs))}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "all patterns are valid")
			return nil
		},
	}
	cmd.AddCommand(lint)
	return cmd
}

func lintPatterns(reg *agents.Registry, dirs []string) []patterns.Problem {
	cat, err := orchestrator.NewCatalog(reg)
	if err != nil {
		return []patterns.Problem{{File: "(registry)", Path: "$", Code: patterns.CodeReadError, Message: err.Error()}}
	}
	return patterns.Lint(cat, dirs...)
}
