package page

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
)

// PathPrefix is where the receiver mounts the handler.
const PathPrefix = "/approvals/"

// linkTokenBytes keeps the link short for a phone screen; 128 bits is far beyond guessing.
const linkTokenBytes = 16

// Token is the link token for one gate: an HMAC-SHA256 over (incident, code) under key,
// truncated to 128 bits. It does not expire: the gate does.
func Token(key []byte, incident, code string) string {
	return mac(key, linkTokenBytes, "link", incident, code)
}

// URL is the page's address for one gate, for the plan note. base is the receiver's public
// URL (https://alaya.example.com).
func URL(base string, key []byte, incident, code string) string {
	return strings.TrimRight(base, "/") + path(incident, code) + "?t=" + Token(key, incident, code)
}

func path(incident, code string) string {
	return PathPrefix + url.PathEscape(incident) + "/" + url.PathEscape(code)
}

func validToken(key []byte, incident, code, token string) bool {
	return hmac.Equal([]byte(token), []byte(Token(key, incident, code)))
}

// mac is a truncated, base64url HMAC-SHA256 over purpose and fields, NUL-separated so that
// no two field lists produce the same input.
func mac(key []byte, n int, purpose string, fields ...string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(purpose))
	for _, f := range fields {
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:n])
}
