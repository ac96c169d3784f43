package ingress_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/storage"
)

// The tests act as users by minting access tokens with the signer the
// server under test verifies with; nothing in the server is switched off
// for them.
var testSigner = mustSigner("ingress-tests-secret-of-at-least-32-bytes")

func mustSigner(secret string) *ingress.Signer {
	s, err := ingress.NewHS256Signer([]byte(secret))
	if err != nil {
		panic(err)
	}
	return s
}

// withAuth gives a test's ingress configuration the test signer.
func withAuth(cfg ingress.Config) ingress.Config {
	if cfg.Auth.Signer == nil {
		cfg.Auth.Signer = testSigner
	}
	return cfg
}

// testUser is a user of a test database with a password and a token.
type testUser struct {
	ID       uuid.UUID
	Email    string
	Password string
	Role     string
	Token    string
}

// bearer is the user's Authorization header.
func (u testUser) bearer() string { return "Bearer " + u.Token }

// people are the users every test database gets: one of each role, and a
// second USER who owns nothing of the first's.
type people struct {
	viewer, owner, other, manager, admin testUser
}

// newPeople creates the users (with bcrypt's lowest cost, so the tests
// stay fast) and mints each an hour-long token.
func newPeople(t *testing.T, db *storage.DB) people {
	t.Helper()
	mk := func(name, role string) testUser {
		u := testUser{Email: name + "@test.example", Password: name + "-password-long-enough", Role: role}
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		var stored storage.User
		err = db.Tx(context.Background(), func(tx pgx.Tx) error {
			var err error
			stored, err = storage.CreateUser(context.Background(), tx, u.Email, string(hash), role)
			return err
		})
		if err != nil {
			t.Fatalf("create user %s: %v", u.Email, err)
		}
		u.ID = stored.ID
		u.Token = mint(t, u.ID, role, time.Hour)
		return u
	}
	return people{
		viewer: mk("viewer", storage.RoleViewer), owner: mk("owner", storage.RoleUser), other: mk("other", storage.RoleUser),
		manager: mk("manager", storage.RoleManager), admin: mk("admin", storage.RoleAdmin),
	}
}

// mint is an access token for a user, signed with the test signer.
func mint(t *testing.T, id uuid.UUID, role string, ttl time.Duration) string {
	t.Helper()
	tok, _, err := testSigner.Mint(id, role, uuid.Nil, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// asUser is the header map that makes e.do send u's token.
func asUser(u testUser) map[string]string { return map[string]string{"Authorization": u.bearer()} }

// anonymous is the header map that makes e.do send no credential.
var anonymous = map[string]string{"Authorization": ""}

// rawAs is rawRequest with an Authorization header.
func rawAs(u testUser, method, path, cid, body string) string {
	r := rawRequest(method, path, cid, body)
	i := strings.Index(r, "\r\n")
	return r[:i+2] + fmt.Sprintf("Authorization: %s\r\n", u.bearer()) + r[i+2:]
}
