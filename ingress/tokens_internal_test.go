package ingress

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// TestSignersAcceptOnlyTheirOwnTokens: HS256 and EdDSA signers verify
// what they issued, refuse each other's tokens, expired ones, and a token
// whose header names another algorithm (an HS256 token keyed with the
// EdDSA public key, the classic confusion).
func TestSignersAcceptOnlyTheirOwnTokens(t *testing.T) {
	t.Parallel()
	hs, err := NewHS256Signer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := NewEdDSASigner(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	user, session := uuid.New(), uuid.New()
	for name, s := range map[string]*Signer{"HS256": hs, "EdDSA": ed} {
		tok, _, err := s.Mint(user, "USER", session, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if u, sid, err := s.parse(tok); err != nil || u != user || sid != session {
			t.Errorf("%s: parse its own token: %v %v %v", name, u, sid, err)
		}
		old, _, _ := s.Mint(user, "USER", uuid.Nil, -time.Minute)
		if _, _, err := s.parse(old); !errors.Is(err, errTokenExpired) {
			t.Errorf("%s: expired token: %v", name, err)
		}
	}
	hsTok, _, _ := hs.Mint(user, "USER", uuid.Nil, time.Minute)
	edTok, _, _ := ed.Mint(user, "USER", uuid.Nil, time.Minute)
	if _, _, err := ed.parse(hsTok); err == nil {
		t.Error("the EdDSA signer accepted an HS256 token")
	}
	if _, _, err := hs.parse(edTok); err == nil {
		t.Error("the HS256 signer accepted an EdDSA token")
	}
	confused, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Issuer: tokenIssuer, Subject: user.String(),
		IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute))}).SignedString([]byte(pub))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ed.parse(confused); err == nil {
		t.Error("the EdDSA signer accepted an HS256 token keyed with its public key")
	}
	if _, err := NewHS256Signer([]byte("short")); err == nil {
		t.Error("a short HS256 secret was accepted")
	}
	if _, err := NewEdDSASigner([]byte("not pem")); err == nil {
		t.Error("a key file without PEM was accepted")
	}
}
