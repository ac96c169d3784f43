package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newMigrateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded migrations to the configured database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load(nil)
			if err != nil {
				return err
			}
			m, db, err := openDatabase(cmd.Context(), cfg, log)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer stopManaged(m)
			defer db.Close()
			fmt.Fprintln(cmd.OutOrStdout(), "migrations are current")
			return nil
		},
	}
}
