package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/csvimport"
)

func init() {
	commandFactories = append(commandFactories, newImportCmd)
}

// newImportCmd is `dawsos import`: it loads CSV files straight into the
// configured database (no server needed), so a user can bring their own
// ledger and prices before the first run.
func newImportCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import transactions or prices from CSV files into the database",
		Long: `import loads a CSV file into the configured database directly (not through
the HTTP API). A file with any bad row imports nothing; every bad row is
printed as "line N: column: problem". Importing the same file again changes
nothing. The column layouts are in docs/import.md.

Examples:
  dawsos import transactions trades.csv --portfolio 0b9d2c1e-5f7a-4e3b-8c6d-1a2b3c4d5e6f
  dawsos import prices closes.csv --dry-run`,
	}
	cmd.AddCommand(newImportTransactionsCmd(g), newImportPricesCmd(g))
	return cmd
}

func newImportTransactionsCmd(g *globals) *cobra.Command {
	var (
		portfolio string
		dryRun    bool
	)
	cmd := &cobra.Command{
		Use:   "transactions FILE.csv --portfolio ID",
		Short: "Import a transaction file into a portfolio's ledger",
		Long: `transactions applies the rows of FILE.csv (columns trade_date, type, symbol,
quantity, price, amount, currency, fees, settle_date, lot_id, split_ratio,
notes; see docs/import.md) to the portfolio's ledger in one database
transaction. Rows already imported (same content) are counted as duplicates
and left alone. --dry-run checks and applies everything, then rolls back.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if portfolio == "" {
				return usageErrorf("--portfolio is required: the id of the portfolio to import into")
			}
			pid, err := uuid.Parse(portfolio)
			if err != nil {
				return usageErrorf("--portfolio must be a portfolio id (uuid), got %q", portfolio)
			}
			return runImport(cmd, g, args[0], func(db *storage.DB, r io.Reader) (csvimport.Result, error) {
				ctx := cliAudit(cmd.Context(), "portfolio.import_transactions", "portfolio:"+pid.String())
				return csvimport.ImportTransactions(ctx, db, pid, r, csvimport.Options{DryRun: dryRun})
			})
		},
	}
	cmd.Flags().StringVar(&portfolio, "portfolio", "", "id of the portfolio to import into (required)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check and apply inside a transaction, then roll back")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: exitUsage, err: err} })
	return cmd
}

func newImportPricesCmd(g *globals) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "prices FILE.csv",
		Short: "Import closes and FX rates into pricing packs",
		Long: `prices loads FILE.csv (columns date, symbol, close and optionally currency,
open, high, low, volume; a symbol like USD/CAD is an FX rate: 1 USD = close
CAD) into the pricing packs of its dates: each date's current pack is
restated with the file's rows merged in and finalised fresh or error. A
file that holds nothing new leaves the packs as they are.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd, g, args[0], func(db *storage.DB, r io.Reader) (csvimport.Result, error) {
				return csvimport.ImportPrices(cliAudit(cmd.Context(), "prices.import", "prices"), db, r, csvimport.Options{DryRun: dryRun})
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check and build the packs inside a transaction, then roll back")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: exitUsage, err: err} })
	return cmd
}

// runImport opens the file and the database, runs one import and prints
// its outcome.
func runImport(cmd *cobra.Command, g *globals, path string, run func(*storage.DB, io.Reader) (csvimport.Result, error)) error {
	f, err := os.Open(path)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("open import file: %w", err)}
	}
	defer f.Close()
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
	res, err := run(db, f)
	return reportImport(cmd.OutOrStdout(), cmd.ErrOrStderr(), path, res, err)
}

// reportImport prints a summary, or every bad row, and returns the
// command's error (non-nil exits non-zero).
func reportImport(out, errOut io.Writer, path string, res csvimport.Result, err error) error {
	var ie *csvimport.ImportError
	if errors.As(err, &ie) {
		for _, r := range ie.Rows {
			fmt.Fprintln(errOut, r.String())
		}
		return &exitError{code: 1, err: fmt.Errorf("%s: %d problem(s) in %d row(s) read; nothing was imported", path, len(ie.Rows), res.Rows)}
	}
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("import %s: %w", path, err)}
	}
	verb := "imported"
	if res.DryRun {
		verb = "dry run (nothing written):"
	}
	fmt.Fprintf(out, "%s %s: %d rows read, %d new, %d duplicates\n", path, verb, res.Rows, res.Applied, res.Duplicates)
	for _, p := range res.Packs {
		line := fmt.Sprintf("  %s  %s  %s", p.Date, p.PackID, p.Status)
		if p.Unchanged {
			line += " (unchanged)"
		}
		if len(p.MissingPrices) > 0 {
			line += "  missing prices: " + strings.Join(p.MissingPrices, ", ")
		}
		if len(p.MissingFX) > 0 {
			line += "  missing fx: " + strings.Join(p.MissingFX, ", ")
		}
		fmt.Fprintln(out, line)
	}
	return nil
}

// cliAudit records a change the command makes in the database directly in
// audit_log, in the change's transaction, as the API would: with no user,
// since the command acts with the database's own credentials.
func cliAudit(ctx context.Context, action, resource string) context.Context {
	return storage.WithAuditActor(ctx, &storage.AuditActor{Action: action, Resource: resource,
		Details: json.RawMessage(`{"via": "dawsos import"}`)})
}
