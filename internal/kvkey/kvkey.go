// Package kvkey makes arbitrary names (incident ids, host names, runbook names) safe as one
// token of a JetStream KeyValue key. Plain names stay readable, so an operator looking at a
// bucket sees PagerDuty ids as they are; anything else is base64url-encoded behind "=", which no
// plain name starts with, so no name can inject separators or wildcards into a key.
package kvkey

import (
	"encoding/base64"
	"regexp"
)

var plain = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Token returns s as one key token.
func Token(s string) string {
	if plain.MatchString(s) {
		return s
	}
	return "=" + base64.RawURLEncoding.EncodeToString([]byte(s))
}
