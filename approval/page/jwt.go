package page

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtLeeway absorbs clock differences between the proxy and Alaya in exp, nbf and iat.
const jwtLeeway = 30 * time.Second

// asymmetricAlgs are the only signing algorithms an assertion may use. HMAC is left out on
// purpose: with a public key configured, an HMAC "signature" could be made by anyone who
// knows the public key; "none" is never accepted.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// JWTIdentity trusts the identity in a signed assertion an authenticating proxy adds to each
// request (Pomerium's X-Pomerium-Jwt-Assertion, Cloudflare Access's Cf-Access-Jwt-Assertion,
// Google IAP's X-Goog-Iap-Jwt-Assertion, the AWS ALB's X-Amzn-Oidc-Data). Whoever reaches the
// page without passing the proxy cannot make one: it needs the proxy's private key.
type JWTIdentity struct {
	Header string
	// Keys verify the assertion: those whose id is the token's kid, or else those without an
	// id. Public keys only (see LoadKeys).
	Keys     []Key
	Issuer   string
	Audience string
	// MaxAge bounds how old an assertion may be (its iat), however long its exp says.
	MaxAge time.Duration
	// Claim holds the email (default "email").
	Claim string
	Now   func() time.Time
}

// Identify returns the email the assertion vouches for.
func (j *JWTIdentity) Identify(r *http.Request) (string, error) {
	vals := r.Header.Values(j.Header)
	if len(vals) != 1 {
		return "", fmt.Errorf("%d %s headers, want exactly one", len(vals), j.Header)
	}
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	p := jwt.NewParser(jwt.WithValidMethods(asymmetricAlgs), jwt.WithIssuer(j.Issuer), jwt.WithAudience(j.Audience),
		jwt.WithLeeway(jwtLeeway), jwt.WithIssuedAt(), jwt.WithExpirationRequired(), jwt.WithTimeFunc(now))
	claims := jwt.MapClaims{}
	if _, err := p.ParseWithClaims(strings.TrimSpace(vals[0]), claims, j.key); err != nil {
		return "", fmt.Errorf("identity assertion: %w", err)
	}
	iat, err := claims.GetIssuedAt()
	if err != nil || iat == nil {
		return "", errors.New("identity assertion: no iat")
	}
	if age := now().Sub(iat.Time); age > j.MaxAge+jwtLeeway {
		return "", fmt.Errorf("identity assertion: issued %s ago, more than %s", age.Round(time.Second), j.MaxAge)
	}
	claim := j.Claim
	if claim == "" {
		claim = "email"
	}
	email, _ := claims[claim].(string)
	if email == "" || strings.ContainsAny(email, " ,\r\n") {
		return "", fmt.Errorf("identity assertion: claim %q is not an email", claim)
	}
	return email, nil
}

// Key is a public key that verifies assertions, with its key id ("" when it has none).
type Key struct {
	ID     string
	Public crypto.PublicKey
}

// key picks the verification keys by the token's kid, keeping only keys of the kind the
// algorithm needs (an RSA key never verifies an ES256 token, and no key verifies HMAC).
func (j *JWTIdentity) key(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	var set jwt.VerificationKeySet
	for _, pass := range []string{kid, ""} {
		for _, k := range j.Keys {
			if k.ID == pass && fits(k.Public, t.Method.Alg()) {
				set.Keys = append(set.Keys, k.Public)
			}
		}
		if len(set.Keys) > 0 || kid == "" {
			break
		}
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("no key with id %q verifies %s", kid, t.Method.Alg())
	}
	return set, nil
}

func fits(k crypto.PublicKey, alg string) bool {
	switch k.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}
