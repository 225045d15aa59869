package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Requests from Slack (button presses) are signed: X-Slack-Signature is
// "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp + ":" + body)),
// over the raw body as received. The timestamp is inside the signature, so an old request
// cannot be made fresh; refusing old ones bounds how long a captured request can be replayed.

// Header names Slack signs requests with.
const (
	HeaderSignature = "X-Slack-Signature"
	HeaderTimestamp = "X-Slack-Request-Timestamp"
)

// MaxSkew is how far a request's timestamp may be from our clock, either way (Slack's advice:
// five minutes).
const MaxSkew = 5 * time.Minute

// Errors of Verify. Each means 401 for the request; they differ so that the log says which
// side to look at (a missing header: not Slack, or a proxy dropping it; stale: clocks or a
// replay; bad signature: a rotated secret on one side only, or a forgery).
var (
	ErrNoSignature  = errors.New("slack: missing X-Slack-Signature or X-Slack-Request-Timestamp header")
	ErrBadTimestamp = errors.New("slack: X-Slack-Request-Timestamp is not a Unix time")
	ErrStale        = errors.New("slack: request timestamp more than 5 minutes from now")
	ErrBadSignature = errors.New("slack: signature does not match any signing secret")
)

// Verifier checks Slack's request signatures against one or more signing secrets: during a
// rotation both the old and the new secret are configured.
type Verifier struct {
	// Secrets returns the signing secrets; it is called per request, so a reload takes effect.
	Secrets func() [][]byte
	// Now is the clock (time.Now when nil); tests inject one.
	Now func() time.Time
}

// Verify checks the signature headers h over body.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	sig, ts := h.Get(HeaderSignature), h.Get(HeaderTimestamp)
	if sig == "" || ts == "" {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if d := now().Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStale
	}
	got, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return ErrBadSignature
	}
	raw, err := hex.DecodeString(got)
	if err != nil {
		return ErrBadSignature
	}
	for _, s := range v.Secrets() {
		if len(s) > 0 && hmac.Equal(raw, Sign(s, ts, body)) {
			return nil
		}
	}
	return ErrBadSignature
}

// Sign is the raw HMAC Slack sends (hex-encoded, after "v0=") for a request with this
// timestamp and body, under secret.
func Sign(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("v0:" + timestamp + ":"))
	m.Write(body)
	return m.Sum(nil)
}

// SignatureHeader is the X-Slack-Signature value for Sign's HMAC.
func SignatureHeader(secret []byte, timestamp string, body []byte) string {
	return "v0=" + hex.EncodeToString(Sign(secret, timestamp, body))
}
