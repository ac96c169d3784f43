package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dawsos/dawsos/agents"
)

func newCapabilitiesCmd(g *globals) *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "capabilities",
		Short: "List every capability of this binary: agent, access, file; --markdown for the full catalogue",
		Long: `capabilities lists every capability the registry of this binary holds,
with its agent, how it reaches the database and its source file. With
--markdown it prints the full catalogue (inputs, outputs, tables, error
codes) that docs/capabilities.md holds. It needs no database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load(nil)
			if err != nil {
				return err
			}
			reg := newRegistry(cfg, agents.Deps{})
			if markdown {
				_, err := cmd.OutOrStdout().Write(reg.Markdown())
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "CAPABILITY\tAGENT\tACCESS\tFILE")
			for _, s := range reg.All() {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Name, s.Agent, s.Access, s.File)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print the full catalogue as Markdown (docs/capabilities.md)")
	return cmd
}
