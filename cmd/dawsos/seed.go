package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	seeddata "github.com/dawsos/dawsos/storage/seed"
)

func newSeedCmd(g *globals) *cobra.Command {
	var seedN int64
	var adminPW, managerPW, viewerPW, truthFile, dbURL, dataDir string
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Load the deterministic demo dataset",
		Long: `seed loads the demo dataset into the configured database (migrating it
first): three users, three portfolios in CAD, USD and EUR, about thirty
securities, three years and three months of business-day pricing packs
ending on the last business day before today (UTC), their transactions,
macro series, fundamentals, news, corporate actions, the scenario library
and the rating rubric. Everything is synthetic and follows from --seed;
running it again changes nothing.

Passwords not given are kept for existing users and generated for new
ones; generated passwords are printed once. --truth writes the factor
model's true betas as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ov := map[string]any{}
			setIf(ov, "database.url", dbURL)
			setIf(ov, "data_dir", dataDir)
			cfg, log, err := g.load(ov)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
				return &exitError{code: 1, err: fmt.Errorf("data_dir %s: %w", cfg.DataDir, err)}
			}
			ctx := cmd.Context()
			m, db, err := openDatabase(ctx, cfg, log)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer stopManaged(m)
			defer db.Close()

			pw := map[string]string{}
			for role, p := range map[string]string{seeddata.RoleAdmin: adminPW, seeddata.RoleManager: managerPW, seeddata.RoleViewer: viewerPW} {
				if p != "" {
					pw[role] = p
				}
			}
			bar := newSeedBar(cmd.ErrOrStderr())
			rep, err := seeddata.Run(ctx, db, seeddata.Options{Seed: seedN, Passwords: pw, Progress: bar.update})
			bar.finish()
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("seed: %w", err)}
			}
			printSeedReport(cmd.OutOrStdout(), rep)
			if truthFile != "" {
				js, err := json.MarshalIndent(rep.Truth(), "", "  ")
				if err != nil {
					return &exitError{code: 1, err: fmt.Errorf("encode truth: %w", err)}
				}
				if err := os.WriteFile(truthFile, append(js, '\n'), 0o644); err != nil {
					return &exitError{code: 1, err: fmt.Errorf("write truth file %s: %w", truthFile, err)}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "true factor betas written to %s\n", truthFile)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Int64Var(&seedN, "seed", 1, "seed of the dataset (same seed, same data)")
	f.StringVar(&adminPW, "admin-password", "", "password of admin@dawsos.example (default: keep, or generate for a new user)")
	f.StringVar(&managerPW, "manager-password", "", "password of manager@dawsos.example")
	f.StringVar(&viewerPW, "viewer-password", "", "password of viewer@dawsos.example")
	f.StringVar(&truthFile, "truth", "", "write the true factor betas of every security to this JSON file")
	f.StringVar(&dbURL, "database-url", "", "PostgreSQL URL; empty runs a private server (database.url)")
	f.StringVar(&dataDir, "data-dir", "", "data directory (data_dir)")
	return cmd
}

// seedBar draws the progress of a seed run on stderr; the bar is created
// on the first report, when the total is known.
type seedBar struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newSeedBar(w io.Writer) *seedBar { return &seedBar{w: w} }

func (s *seedBar) update(done, total int, stage string) {
	if s.bar == nil {
		s.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(s.w), progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30), progressbar.OptionThrottle(80*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	s.bar.Describe(stage)
	_ = s.bar.Set(done)
}

func (s *seedBar) finish() {
	if s.bar != nil {
		_ = s.bar.Finish()
	}
}

func printSeedReport(w io.Writer, rep seeddata.Report) {
	fmt.Fprintf(w, "demo dataset (seed %d) loaded in %s: %s to %s, %d pricing packs\n", rep.Seed,
		rep.Elapsed.Round(time.Millisecond), rep.Start.Format(time.DateOnly), rep.End.Format(time.DateOnly), rep.PackDays)
	for _, t := range seeddata.Tables {
		fmt.Fprintf(w, "  %-24s %8d\n", t, rep.Counts[t])
	}
	for _, p := range rep.Portfolios {
		fmt.Fprintf(w, "  portfolio %s  %-20s %s %-12s benchmark %-5s %d transactions (%d new)\n",
			p.ID, p.Name, p.BaseCurrency, p.Method, p.Benchmark, p.Transactions, p.Inserted)
	}
	if len(rep.Passwords) > 0 {
		fmt.Fprintln(w, "generated passwords (shown once, store them now):")
		for _, role := range seeddata.Roles {
			if pw, ok := rep.Passwords[role]; ok {
				fmt.Fprintf(w, "  %-24s %s\n", seeddata.UserEmail(role), pw)
			}
		}
	}
}

// seedDemoIfEmpty loads the demo dataset with generated passwords when the
// database has no portfolio yet and returns those passwords by role (for
// printDemoLogins: they go to the terminal, never to the log); otherwise it
// does nothing.
func seedDemoIfEmpty(ctx context.Context, a *app, seed int64) (map[string]string, error) {
	has, err := seeddata.HasPortfolio(ctx, a.db)
	if err != nil {
		return nil, err
	}
	if has {
		a.log.Debug("demo data not loaded: the database already has portfolios")
		return nil, nil
	}
	rep, err := seeddata.Run(ctx, a.db, seeddata.Options{Seed: seed})
	if err != nil {
		return nil, err
	}
	a.log.Info("demo data loaded", "seed", seed, "start", rep.Start.Format(time.DateOnly), "end", rep.End.Format(time.DateOnly),
		"packs", rep.PackDays, "elapsed", rep.Elapsed.Round(time.Millisecond))
	return rep.Passwords, nil
}

// printDemoLogins says how to log in as each demo user: with the passwords
// this start generated, or, when the users existed already, how to set a
// new one.
func printDemoLogins(w io.Writer, url string, passwords map[string]string) {
	if len(passwords) == 0 {
		fmt.Fprintln(w, "Demo users (their passwords were printed when they were created; `dawsos seed --manager-password ...` sets a new one):")
		for _, role := range seeddata.Roles {
			fmt.Fprintf(w, "  %-24s %s\n", seeddata.UserEmail(role), role)
		}
	} else {
		fmt.Fprintln(w, "Demo users (passwords generated for this database and shown once; only their bcrypt hashes are stored):")
		for _, role := range seeddata.Roles {
			fmt.Fprintf(w, "  %-24s %-8s %s\n", seeddata.UserEmail(role), role, passwords[role])
		}
	}
	manager := seeddata.UserEmail(seeddata.RoleManager)
	fmt.Fprintf(w, "Log in (the manager owns two of the demo portfolios):\n")
	fmt.Fprintf(w, "  dawsos login --server %s --email %s\n", url, manager)
	fmt.Fprintf(w, "  curl -s -X POST %s/v1/auth/login -d '{\"email\":\"%s\",\"password\":\"<password>\"}'\n", url, manager)
	fmt.Fprintln(w, "then send the access_token (or an API key from POST /v1/auth/keys) as Authorization: Bearer <token>.")
}
