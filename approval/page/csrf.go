package page

import (
	"crypto/hmac"
	"strconv"
	"strings"
	"time"
)

// formTokenTTL is how long a rendered form may be submitted: long enough to read a plan,
// short enough that a leaked token is soon worthless.
const formTokenTTL = time.Hour

// formToken binds a form to the identity that was shown it, the gate and the time it was
// rendered: "<unix>.<mac>". A page on another origin cannot read it, so it cannot forge a POST
// that the victim's proxy would decorate with the victim's identity.
func formToken(key []byte, identity, incident, code string, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return ts + "." + mac(key, 32, "form", ts, strings.ToLower(identity), incident, code)
}

func validFormToken(key []byte, token, identity, incident, code string, now time.Time) bool {
	ts, _, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	issued := time.Unix(sec, 0)
	if now.Before(issued.Add(-time.Minute)) || now.After(issued.Add(formTokenTTL)) {
		return false
	}
	want := ts + "." + mac(key, 32, "form", ts, strings.ToLower(identity), incident, code)
	return hmac.Equal([]byte(token), []byte(want))
}
