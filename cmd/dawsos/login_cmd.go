package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func init() {
	commandFactories = append(commandFactories, newLoginCmd, newLogoutCmd)
}

// Variables of the client commands that are not configuration keys:
// the credential to send, and where `dawsos login` keeps its logins.
const (
	envToken           = "DAWSOS_TOKEN"
	envCredentialsFile = "DAWSOS_CREDENTIALS_FILE"
)

// storedLogin is what `dawsos login` keeps for one server.
type storedLogin struct {
	Email            string    `json:"email"`
	AccessToken      string    `json:"access_token"`
	ExpiresAt        time.Time `json:"expires_at"`
	RefreshToken     string    `json:"refresh_token"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at"`
}

// credentials are the stored logins by server base URL. The file is
// readable by its owner only (0600), since its tokens act as the user.
type credentials struct {
	Servers map[string]storedLogin `json:"servers"`
}

// credentialsPath is $DAWSOS_CREDENTIALS_FILE, else dawsos/credentials.json
// in the user's configuration directory.
func credentialsPath() (string, error) {
	if p := os.Getenv(envCredentialsFile); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the configuration directory for stored logins (set %s): %w", envCredentialsFile, err)
	}
	return filepath.Join(dir, "dawsos", "credentials.json"), nil
}

func loadCredentials(path string) (credentials, error) {
	c := credentials{Servers: map[string]storedLogin{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read stored logins %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("read stored logins %s: %w", path, err)
	}
	if c.Servers == nil {
		c.Servers = map[string]storedLogin{}
	}
	return c, nil
}

// save writes the file atomically (a temporary file renamed over it), 0600
// in a 0700 directory.
func (c credentials) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store logins in %s: %w", path, err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stored logins: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*")
	if err != nil {
		return fmt.Errorf("store logins in %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(append(b, '\n'))
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("store logins in %s: %w", path, err)
	}
	return nil
}

// tokenAnswer is the server's answer to a login or a refresh.
type tokenAnswer struct {
	AccessToken      string    `json:"access_token"`
	ExpiresAt        time.Time `json:"expires_at"`
	RefreshToken     string    `json:"refresh_token"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at"`
	User             struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	} `json:"user"`
}

func (a tokenAnswer) stored() storedLogin {
	return storedLogin{Email: a.User.Email, AccessToken: a.AccessToken, ExpiresAt: a.ExpiresAt,
		RefreshToken: a.RefreshToken, RefreshExpiresAt: a.RefreshExpiresAt}
}

// refreshMargin is how long before its expiry a stored access token is
// replaced, so a command does not start with a token about to end.
const refreshMargin = time.Minute

// storedToken is the access token stored for c's server, refreshed (and
// stored again) when it is about to expire; "" when there is none or it
// cannot be refreshed, so the server's 401 says to log in.
func storedToken(c *apiClient) string {
	path, err := credentialsPath()
	if err != nil {
		return ""
	}
	creds, err := loadCredentials(path)
	if err != nil {
		return ""
	}
	key := c.base.String()
	l, ok := creds.Servers[key]
	if !ok {
		return ""
	}
	if time.Until(l.ExpiresAt) > refreshMargin {
		return l.AccessToken
	}
	if l.RefreshToken == "" || time.Now().After(l.RefreshExpiresAt) {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var a tokenAnswer
	if _, err := c.call(ctx, http.MethodPost, "/v1/auth/refresh", nil, map[string]string{"refresh_token": l.RefreshToken}, &a); err != nil {
		return ""
	}
	creds.Servers[key] = a.stored()
	_ = creds.save(path) // a failed save costs a login later, not this command
	return a.AccessToken
}

type loginFlags struct {
	clientFlags
	email         string
	password      string
	passwordStdin bool
	printToken    bool
}

func newLoginCmd(g *globals) *cobra.Command {
	f := &loginFlags{}
	cmd := &cobra.Command{
		Use:   "login [--email E] [--password-stdin]",
		Short: "Log in to a DawsOS server and keep the tokens for the other commands",
		Long: `login asks the server for an access token and a refresh token (POST
/v1/auth/login) and keeps them, for that server, in
$DAWSOS_CREDENTIALS_FILE (default: dawsos/credentials.json in the user's
configuration directory, readable by its owner only). Every other command
then sends the access token, refreshing it when it is about to expire.
--auth-token and $DAWSOS_TOKEN (an access token or an API key) take
precedence over a stored login.

The email and password are asked for when not given; --password-stdin
reads the password from standard input (for scripts), --password takes it
on the command line (where other users of the machine may see it).
--print-token prints the access token instead of storing anything:
  export DAWSOS_TOKEN=$(dawsos login --email me@example.com --print-token)`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLogin(cmd, g, f)
		},
	}
	addClientFlags(cmd, &f.clientFlags)
	fl := cmd.Flags()
	fl.StringVar(&f.email, "email", "", "the user's email (asked for when absent)")
	fl.StringVar(&f.password, "password", "", "the password (visible to other users of the machine; prefer the prompt or --password-stdin)")
	fl.BoolVar(&f.passwordStdin, "password-stdin", false, "read the password from standard input")
	fl.BoolVar(&f.printToken, "print-token", false, "print the access token instead of storing the login")
	return cmd
}

func runLogin(cmd *cobra.Command, g *globals, f *loginFlags) error {
	c, err := f.client(g)
	if err != nil {
		return err
	}
	defer c.close()
	in := bufio.NewReader(cmd.InOrStdin())
	email, password, err := loginCredentials(cmd, in, f)
	if err != nil {
		return err
	}
	var a tokenAnswer
	if _, err := c.call(cmd.Context(), http.MethodPost, "/v1/auth/login", nil,
		map[string]string{"email": email, "password": password}, &a); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.printToken {
		fmt.Fprintln(out, a.AccessToken)
		return nil
	}
	path, err := credentialsPath()
	if err != nil {
		return err
	}
	creds, err := loadCredentials(path)
	if err != nil {
		return err
	}
	creds.Servers[c.base.String()] = a.stored()
	if err := creds.save(path); err != nil {
		return err
	}
	fmt.Fprintf(out, "logged in to %s as %s (%s); the login is kept in %s\n", c.base, a.User.Email, a.User.Role, path)
	return nil
}

// loginCredentials takes the email and password from the flags, or asks
// for them (the password without echo when standard input is a terminal).
func loginCredentials(cmd *cobra.Command, in *bufio.Reader, f *loginFlags) (email, password string, err error) {
	email, password = f.email, f.password
	prompt := cmd.ErrOrStderr()
	if email == "" {
		fmt.Fprint(prompt, "email: ")
		if email, err = readLine(in); err != nil {
			return "", "", usageErrorf("read the email: %v", err)
		}
	}
	if password == "" {
		if !f.passwordStdin {
			fmt.Fprint(prompt, "password: ")
		}
		password, err = readPassword(cmd, in)
		if !f.passwordStdin {
			fmt.Fprintln(prompt)
		}
		if err != nil {
			return "", "", usageErrorf("read the password: %v", err)
		}
	}
	if email == "" || password == "" {
		return "", "", usageErrorf("an email and a password are needed")
	}
	return email, password, nil
}

func readLine(in *bufio.Reader) (string, error) {
	s, err := in.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && s != "") {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// readPassword reads without echo from a terminal, else one line.
func readPassword(cmd *cobra.Command, in *bufio.Reader) (string, error) {
	if f, ok := cmd.InOrStdin().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		return string(b), err
	}
	return readLine(in)
}

func newLogoutCmd(g *globals) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "End the stored login's session on the server and forget it",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(g)
			if err != nil {
				return err
			}
			defer c.close()
			path, err := credentialsPath()
			if err != nil {
				return err
			}
			creds, err := loadCredentials(path)
			if err != nil {
				return err
			}
			key := c.base.String()
			l, ok := creds.Servers[key]
			if !ok {
				fmt.Fprintf(cmd.OutOrStdout(), "no login is stored for %s\n", key)
				return nil
			}
			// The session ends on the server first; the stored tokens are
			// forgotten whatever it answers (an expired login is over
			// anyway).
			_, serr := c.call(cmd.Context(), http.MethodPost, "/v1/auth/logout", nil, map[string]string{"refresh_token": l.RefreshToken}, nil)
			delete(creds.Servers, key)
			if err := creds.save(path); err != nil {
				return err
			}
			if serr != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "the server did not end the session: %v\n", serr)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "logged out of %s\n", key)
			return nil
		},
	}
	addClientFlags(cmd, &cf)
	return cmd
}
