package bus

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// The accounts of the embedded server's TCP listener. Each is a user with
// the permissions its part needs and nothing more; a password account
// logs in under its role's name.
const (
	// AccountOrchestrator may do everything: another process that runs
	// the orchestrator, or an operator's tools.
	AccountOrchestrator = "orchestrator"
	// AccountWorker consumes step requests and publishes step results
	// (`dawsos worker`).
	AccountWorker = "worker"
	// AccountSubscriber follows run events, live or from the EVENTS
	// stream, and publishes nothing.
	AccountSubscriber = "subscriber"
)

// Account is one user of the listener: a password (Password) or an NKey
// (NKey, its public key, "U..."), and the role that gives its permissions.
type Account struct {
	Role     string
	Password string
	NKey     string
}

// InboxPrefix is where the replies of an account's requests arrive. Each
// account may read only its own, so no account sees another's replies;
// clients of the subscriber account set it with nats.CustomInboxPrefix.
func InboxPrefix(role string) string { return "_INBOX_" + role }

// internalUser is the in-process connection's own user, with every
// permission. Its password is drawn at start-up and never leaves the
// process, and the server accepts it on in-process connections only.
const internalUser = "dawsos-internal"

// permissions of each role. Nobody but the orchestrator publishes step
// requests or dead letters: a worker account cannot make another worker
// run anything, and a subscriber cannot fake a result.
func permissions(role string) (*server.Permissions, error) {
	switch role {
	case AccountOrchestrator:
		return nil, nil
	case AccountWorker:
		return &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{
				resultPrefix + ">",
				"$JS.API.INFO",
				"$JS.API.STREAM.INFO." + StreamSteps,
				"$JS.API.CONSUMER.CREATE." + StreamSteps + ".>",
				"$JS.API.CONSUMER.DURABLE.CREATE." + StreamSteps + ".>",
				"$JS.API.CONSUMER.INFO." + StreamSteps + ".>",
				"$JS.API.CONSUMER.MSG.NEXT." + StreamSteps + ".>",
				"$JS.ACK." + StreamSteps + ".>",
				// The cluster's breakers: read, compare-and-set, watch.
				"$JS.API.STREAM.INFO." + breakersStream,
				"$JS.API.DIRECT.GET." + breakersStream + ".>",
				"$JS.API.STREAM.MSG.GET." + breakersStream,
				"$JS.API.CONSUMER.CREATE." + breakersStream + ".>",
				"$JS.API.CONSUMER.DELETE." + breakersStream + ".>",
				"$JS.FC." + breakersStream + ".>",
				"$KV." + BreakersBucket + ".>",
			}},
			Subscribe: &server.SubjectPermission{Allow: []string{
				stepPrefix + ">", deliverPrefix + ">", InboxPrefix(AccountWorker) + ".>",
			}},
		}, nil
	case AccountSubscriber:
		return &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{
				"$JS.API.INFO",
				"$JS.API.STREAM.INFO." + StreamEvents,
				"$JS.API.CONSUMER.CREATE." + StreamEvents + ".>",
				"$JS.API.CONSUMER.INFO." + StreamEvents + ".>",
				"$JS.API.CONSUMER.DELETE." + StreamEvents + ".>",
				"$JS.API.CONSUMER.MSG.NEXT." + StreamEvents + ".>",
				"$JS.ACK." + StreamEvents + ".>",
			}},
			Subscribe: &server.SubjectPermission{Allow: []string{runPrefix + ">", InboxPrefix(AccountSubscriber) + ".>"}},
		}, nil
	}
	return nil, fmt.Errorf("nats account role %q is not %s, %s or %s", role, AccountOrchestrator, AccountWorker, AccountSubscriber)
}

// configureAuth gives the embedded server its users: the in-process one,
// and the listener's accounts. It returns the in-process connection's
// credentials, or "" when the server needs none (no listener).
func configureAuth(o *server.Options, cfg Config) (internalPassword string, err error) {
	if cfg.Listen == "" && len(cfg.Accounts) == 0 {
		return "", nil
	}
	if cfg.Listen != "" && len(cfg.Accounts) == 0 {
		return "", fmt.Errorf("nats listener %s has no accounts: it requires authentication, so configure at least one account (docs/security.md)", cfg.Listen)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("draw the in-process nats password: %w", err)
	}
	internalPassword = hex.EncodeToString(b)
	o.Users = []*server.User{{Username: internalUser, Password: internalPassword,
		AllowedConnectionTypes: map[string]struct{}{jwt.ConnectionTypeInProcess: {}}}}
	var errs []error
	seen := map[string]bool{}
	for _, a := range cfg.Accounts {
		perms, err := permissions(a.Role)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tcp := map[string]struct{}{jwt.ConnectionTypeStandard: {}}
		switch {
		case a.NKey != "":
			if !nkeys.IsValidPublicUserKey(a.NKey) {
				errs = append(errs, fmt.Errorf("nats account %s: %q is not an NKey user public key (U...)", a.Role, a.NKey))
				continue
			}
			o.Nkeys = append(o.Nkeys, &server.NkeyUser{Nkey: a.NKey, Permissions: perms, AllowedConnectionTypes: tcp})
		case a.Password != "":
			if seen[a.Role] {
				errs = append(errs, fmt.Errorf("nats account %s has two passwords", a.Role))
				continue
			}
			seen[a.Role] = true
			o.Users = append(o.Users, &server.User{Username: a.Role, Password: a.Password, Permissions: perms, AllowedConnectionTypes: tcp})
		default:
			errs = append(errs, fmt.Errorf("nats account %s has neither a password nor an NKey", a.Role))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return internalPassword, nil
}

// configureTLS puts TLS on the listener when a certificate is configured.
// In-process connections never use it.
func configureTLS(o *server.Options, cfg Config) error {
	if cfg.TLSCertFile == "" && cfg.TLSKeyFile == "" {
		return nil
	}
	if cfg.TLSCertFile == "" || cfg.TLSKeyFile == "" {
		return errors.New("nats listener TLS needs both a certificate and its key")
	}
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cfg.TLSCertFile, KeyFile: cfg.TLSKeyFile, Timeout: 2})
	if err != nil {
		return fmt.Errorf("nats listener TLS: %w", err)
	}
	o.TLSConfig = tc
	o.TLS = true
	o.TLSTimeout = 2
	return nil
}

// connOptions are the options of every connection this process opens:
// to the embedded server in-process with the internal user, or to an
// external server with the configured credentials.
func (b *Bus) connOptions(name string) ([]nats.Option, error) {
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	if b.srv != nil {
		opts = append(opts, nats.InProcessServer(b.srv))
		if b.internalPassword != "" {
			opts = append(opts, nats.UserInfo(internalUser, b.internalPassword))
		}
		return opts, nil
	}
	c := b.cfg
	if c.User != "" || c.Password != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("nats nkey seed file: %w", err)
		}
		opts = append(opts, o)
	}
	if c.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(c.TLSCAFile))
	}
	if c.Worker {
		opts = append(opts, nats.CustomInboxPrefix(InboxPrefix(AccountWorker)))
	}
	return opts, nil
}
