package ingress

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// tokenIssuer is the iss of every access token; a token from another
// issuer sharing the key is refused.
const tokenIssuer = "dawsos"

// MinSecretBytes is the shortest HS256 secret accepted: 256 bits, the
// size of the hash, as RFC 7518 §3.2 asks.
const MinSecretBytes = 32

// Signer issues and verifies access tokens: JWTs signed with HS256 and a
// shared secret, or with EdDSA and an Ed25519 key. Every process serving
// the API must use the same key.
type Signer struct {
	method jwt.SigningMethod
	sign   any
	verify any
}

// NewHS256Signer signs with a shared secret of at least MinSecretBytes.
func NewHS256Signer(secret []byte) (*Signer, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("the JWT secret has %d bytes; at least %d are needed", len(secret), MinSecretBytes)
	}
	key := append([]byte(nil), secret...)
	return &Signer{method: jwt.SigningMethodHS256, sign: key, verify: key}, nil
}

// NewEdDSASigner signs with an Ed25519 private key in PEM (PKCS #8, as
// `openssl genpkey -algorithm ed25519` writes it).
func NewEdDSASigner(pemKey []byte) (*Signer, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return nil, errors.New("the JWT key file holds no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse the JWT key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the JWT key is a %T; an Ed25519 key is needed", k)
	}
	return &Signer{method: jwt.SigningMethodEdDSA, sign: priv, verify: priv.Public()}, nil
}

// RandomSigner signs with a secret drawn for this process alone: its
// tokens end with it (serve --demo without a configured secret).
func RandomSigner() (*Signer, error) {
	b := make([]byte, MinSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("draw a JWT secret: %w", err)
	}
	return NewHS256Signer(b)
}

// accessClaims are the claims of an access token: the user (sub), the role
// when it was issued (informational: the role in force is read at every
// request), and the login session (sid) whose revocation ends the token.
type accessClaims struct {
	jwt.RegisteredClaims
	Role      string `json:"role"`
	SessionID string `json:"sid,omitempty"`
}

// Mint issues an access token for a user, valid for ttl. sessionID ties it
// to a login session (uuid.Nil for none: such a token ends only at its
// expiry). Tests use it to act as a user without logging in.
func (s *Signer) Mint(userID uuid.UUID, role string, sessionID uuid.UUID, ttl time.Duration) (string, time.Time, error) {
	now := time.Now()
	exp := now.Add(ttl)
	c := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: tokenIssuer, Subject: userID.String(), ID: uuid.NewString(),
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Second)), ExpiresAt: jwt.NewNumericDate(exp),
		},
		Role: role,
	}
	if sessionID != uuid.Nil {
		c.SessionID = sessionID.String()
	}
	tok, err := jwt.NewWithClaims(s.method, c).SignedString(s.sign)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign an access token: %w", err)
	}
	return tok, exp, nil
}

// errTokenExpired is a well-formed, well-signed token past its expiry.
var errTokenExpired = errors.New("the access token has expired")

// parse verifies a token's signature, algorithm, issuer and times and
// returns its user and session.
func (s *Signer) parse(token string) (user, session uuid.UUID, err error) {
	var c accessClaims
	_, err = jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.verify, nil },
		jwt.WithValidMethods([]string{s.method.Alg()}), jwt.WithIssuer(tokenIssuer),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(5*time.Second))
	if errors.Is(err, jwt.ErrTokenExpired) {
		return uuid.Nil, uuid.Nil, errTokenExpired
	}
	if err != nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("verify access token: %w", err)
	}
	if user, err = uuid.Parse(c.Subject); err != nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("access token subject %q is not a user id", c.Subject)
	}
	if c.SessionID != "" {
		if session, err = uuid.Parse(c.SessionID); err != nil {
			return uuid.Nil, uuid.Nil, fmt.Errorf("access token session %q is not a session id", c.SessionID)
		}
	}
	return user, session, nil
}

// Prefixes of the opaque secrets, so a leaked one is recognised for what
// it is (and secret scanners can find them) and the Authorization header
// tells a key from a JWT.
const (
	apiKeyPrefix       = "dwk_"
	refreshTokenPrefix = "dwr_"
)

// newSecret draws a 256-bit secret with a prefix and returns it with the
// hash that is stored in its place. SHA-256 suffices for secrets this
// large: there is nothing to guess, so no slow hash is needed.
func newSecret(prefix string) (secret string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("draw a secret: %w", err)
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret), nil
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
