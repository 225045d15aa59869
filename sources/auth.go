package sources

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Auth kinds, as written in a source file.
const (
	AuthHMAC      = "hmac"
	AuthBearer    = "bearer"
	AuthPathToken = "path_token"
)

// PathTokenName is the path wildcard that carries a path token: such a source is served at
// /v1/webhooks/in/NAME/{token}.
const PathTokenName = "token"

// Auth decides whether a request comes from the source. Every comparison is constant time and
// runs against every secret, so neither the time taken nor the answer says which one was close.
type Auth struct {
	Kind     string
	header   string // hmac: the signature header
	hash     func() hash.Hash
	encoding string
	prefix   string
	secrets  [][]byte
	// tsHeader, when set, names the header with the signing time; maxAge bounds its distance
	// from now (either way: a clock ahead is as suspect as a replay).
	tsHeader string
	maxAge   time.Duration
	now      func() time.Time
}

// DefaultMaxAge is how far a signed timestamp may be from the receiver's clock.
const DefaultMaxAge = 5 * time.Minute

// Authorize reports whether r (with its already read body) carries valid credentials.
func (a *Auth) Authorize(r *http.Request, body []byte) bool {
	switch a.Kind {
	case AuthHMAC:
		signedPrefix, ok := a.timestamp(r)
		return ok && a.signed(r.Header.Get(a.header), signedPrefix, body)
	case AuthBearer:
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return ok && anyEqual([]byte(got), a.secrets)
	case AuthPathToken:
		return anyEqual([]byte(r.PathValue(PathTokenName)), a.secrets)
	}
	return false
}

// timestamp returns what the signature covers before the body: "<timestamp>:" when the source
// signs a time, after checking the time is recent; nothing otherwise.
func (a *Auth) timestamp(r *http.Request) ([]byte, bool) {
	if a.tsHeader == "" {
		return nil, true
	}
	ts := r.Header.Get(a.tsHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, false
	}
	age := a.now().Sub(time.Unix(sec, 0))
	if age > a.maxAge || age < -a.maxAge {
		return nil, false
	}
	return []byte(ts + ":"), true
}

// signed checks every signature in header (comma-separated, as senders list one per secret
// during their own rotation) against the HMAC of signedPrefix and body under every secret.
func (a *Auth) signed(header string, signedPrefix, body []byte) bool {
	match := 0
	for _, sig := range strings.Split(header, ",") {
		sig, ok := strings.CutPrefix(strings.TrimSpace(sig), a.prefix)
		if !ok || sig == "" {
			continue
		}
		got, ok := a.decode(sig)
		if !ok {
			continue
		}
		for _, s := range a.secrets {
			m := hmac.New(a.hash, s)
			m.Write(signedPrefix)
			m.Write(body)
			if hmac.Equal(got, m.Sum(nil)) {
				match = 1
			}
		}
	}
	return match == 1
}

func (a *Auth) decode(sig string) ([]byte, bool) {
	if a.encoding == "base64" {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(sig); err == nil {
				return b, true
			}
		}
		return nil, false
	}
	b, err := hex.DecodeString(sig)
	return b, err == nil
}

// anyEqual compares got with every candidate without stopping early.
func anyEqual(got []byte, candidates [][]byte) bool {
	match := 0
	for _, c := range candidates {
		if len(c) > 0 && len(got) > 0 {
			match |= subtle.ConstantTimeCompare(got, c)
		}
	}
	return match == 1
}

var hashes = map[string]func() hash.Hash{"sha256": sha256.New, "sha1": sha1.New, "sha512": sha512.New}
