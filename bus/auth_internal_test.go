package bus

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestInternalUserIsInProcessOnly: the in-process connection's user,
// password and all, is refused over TCP, so even a leak of its password
// opens nothing.
func TestInternalUserIsInProcessOnly(t *testing.T) {
	t.Parallel()
	b, err := Start(context.Background(), Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:0",
		Accounts: []Account{{Role: AccountSubscriber, Password: "subscriber-pw"}}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.internalPassword == "" {
		t.Fatal("a server with a listener has no in-process user")
	}
	nc, err := nats.Connect(b.ClientURL(), nats.UserInfo(internalUser, b.internalPassword), nats.MaxReconnects(0))
	if err == nil {
		nc.Close()
		t.Fatal("the in-process user connected over TCP")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("connect as the in-process user over TCP: %v; want an authorization violation", err)
	}
}
