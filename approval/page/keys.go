package page

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
)

// LoadKeys reads the keys that verify identity assertions: a JWKS document (as Pomerium,
// Cloudflare Access and Google IAP publish; fetch it and keep it in a file so a page never
// depends on reaching the proxy's vendor) and/or PEM "PUBLIC KEY" blocks (the AWS ALB's
// per-key files). Private keys and symmetric ("oct") keys are refused.
func LoadKeys(jwksFile, pemFile string) ([]Key, error) {
	var keys []Key
	if jwksFile != "" {
		k, err := loadJWKS(jwksFile)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	if pemFile != "" {
		k, err := loadPEM(pemFile)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	if len(keys) == 0 {
		return nil, errors.New("identity assertion: no verification keys")
	}
	return keys, nil
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
}

func loadJWKS(path string) ([]Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("jwks %s: %w", path, err)
	}
	var out []Key
	for i, k := range doc.Keys {
		pub, err := k.public()
		if err != nil {
			return nil, fmt.Errorf("jwks %s: key %d (%q): %w", path, i, k.Kid, err)
		}
		out = append(out, Key{ID: k.Kid, Public: pub})
	}
	return out, nil
}

func (k jwk) public() (any, error) {
	if k.D != "" {
		return nil, errors.New("a private key; give the page public keys only")
	}
	switch k.Kty {
	case "RSA":
		n, e := b64int(k.N), b64int(k.E)
		if n == nil || e == nil || !e.IsInt64() || n.BitLen() < 2048 {
			return nil, errors.New("bad RSA key (n, e, or shorter than 2048 bits)")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		return ecKey(k)
	case "OKP":
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad OKP key (only Ed25519)")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("key type %q is not accepted (RSA, EC, OKP)", k.Kty)
}

func ecKey(k jwk) (any, error) {
	curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
	c, ok := curves[k.Crv]
	x, y := b64int(k.X), b64int(k.Y)
	if !ok || x == nil || y == nil {
		return nil, errors.New("bad EC key")
	}
	// Round-trip through the uncompressed encoding so a point off the curve is refused.
	byteLen := (c.Params().BitSize + 7) / 8
	raw := append([]byte{4}, append(x.FillBytes(make([]byte, byteLen)), y.FillBytes(make([]byte, byteLen))...)...)
	pub, err := ecdsa.ParseUncompressedPublicKey(c, raw)
	if err != nil {
		return nil, fmt.Errorf("bad EC key: %w", err)
	}
	return pub, nil
}

func b64int(s string) *big.Int {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil
	}
	return new(big.Int).SetBytes(b)
}

func loadPEM(path string) ([]Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public keys: %w", err)
	}
	var out []Key
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("public keys %s: a %q block; give the page public keys only", path, b.Type)
		}
		pub, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public keys %s: %w", path, err)
		}
		out = append(out, Key{Public: pub})
	}
	return out, nil
}
