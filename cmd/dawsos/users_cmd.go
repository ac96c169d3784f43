package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"

	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/storage"
)

func init() {
	commandFactories = append(commandFactories, newUsersCmd)
}

func newUsersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage users directly in the database (the first ADMIN of an installation)",
		Long: `users works on the configured database itself, like migrate and seed, so it
needs no running server and no login: it is how the first ADMIN of an
installation is made. Once one exists, users are managed over the API
(POST /v1/users, PATCH /v1/users/{id}), which audits every change.`,
	}
	cmd.AddCommand(newUsersAddCmd(g))
	return cmd
}

func newUsersAddCmd(g *globals) *cobra.Command {
	var email, role, password, dbURL, dataDir string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "add --email E [--role ROLE] [--password-stdin]",
		Short: "Create a user; prints its id (and the password when one was generated)",
		Long: `add creates a user with a bcrypt hash of the password: from standard
input with --password-stdin, else generated and printed once. --role is
VIEWER, USER (the default), MANAGER or ADMIN. The creation is recorded in
the audit log.

Example:
  dawsos users add --email ops@example.com --role ADMIN`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			role = strings.ToUpper(role)
			if _, ok := ingress.ParseRole(role); !ok {
				return usageErrorf("--role must be VIEWER, USER, MANAGER or ADMIN, got %q", role)
			}
			email = strings.ToLower(strings.TrimSpace(email))
			if !strings.Contains(email, "@") {
				return usageErrorf("--email must be an email address, got %q", email)
			}
			generated := false
			if passwordStdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return usageErrorf("read the password from standard input: %v", err)
				}
				password = strings.TrimRight(line, "\r\n")
			}
			if password == "" {
				var err error
				if password, err = generatePassword(); err != nil {
					return &exitError{code: 1, err: err}
				}
				generated = true
			}
			if len(password) < 12 || len(password) > 72 {
				return usageErrorf("the password must have 12 to 72 bytes")
			}
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
			hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("hash the password: %w", err)}
			}
			var u storage.User
			err = db.Tx(ctx, func(tx pgx.Tx) error {
				var err error
				if u, err = storage.CreateUser(ctx, tx, email, string(hash), role); err != nil {
					return err
				}
				details, _ := json.Marshal(map[string]string{"email": email, "role": role, "via": "dawsos users add"})
				return storage.InsertAudit(ctx, tx, storage.AuditEntry{Action: "user.create", Resource: "user:" + u.ID.String(), Details: details})
			})
			if errors.Is(err, storage.ErrAlreadyExists) {
				return &exitError{code: 1, err: fmt.Errorf("a user has the email %s already", email)}
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "created user %s %s (%s)\n", u.ID, u.Email, u.Role)
			if generated {
				fmt.Fprintf(out, "generated password (shown once, store it now): %s\n", password)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the user's email (required)")
	f.StringVar(&role, "role", "USER", "VIEWER, USER, MANAGER or ADMIN")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input (default: generate one)")
	f.StringVar(&password, "password", "", "the password (visible to other users of the machine; prefer --password-stdin)")
	f.StringVar(&dbURL, "database-url", "", "PostgreSQL URL; empty runs a private server (database.url)")
	f.StringVar(&dataDir, "data-dir", "", "data directory (data_dir)")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

// generatePassword draws 128 bits as 22 URL-safe characters.
func generatePassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("draw a password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
