package evidence

import (
	"regexp"
	"slices"
)

// Redacted replaces every secret the Redactor finds.
const Redacted = "[REDACTED]"

// MinSecretLen is the shortest configured secret value the Redactor looks for. Redacting a
// two- or three-character value would shred the evidence wherever those letters occur, and a
// value that short protects nothing anyway.
const MinSecretLen = 4

// patternWindow is how much text the streaming redactor keeps back between reads so that a
// pattern match (a PEM key block, a JWT, a long token) split across two reads is still seen
// whole. Matches longer than this may escape when they straddle a read boundary.
const patternWindow = 8 << 10

// Redactor removes secrets from text before it is stored or posted: the configured secret
// values themselves, wherever they occur, and the common shapes of secrets (see NewRedactor).
// It is safe for concurrent use.
type Redactor struct {
	literals []literal // the configured values in every form, longest first
	patterns []pattern
	starts   startIndex // where the patterns' matches may begin
	window   int        // bytes held back between reads by Reader
	chunk    int        // new bytes Reader takes per round: readChunk; smaller in tests
}

// NewRedactor returns a Redactor for the given secret values (those shorter than MinSecretLen
// are ignored), found as written, in any ASCII case, hex, URL- and JSON-escaped and base64 at
// any alignment, and, beyond extraPatterns, built-in patterns for AWS access key ids and secret
// keys, password=..., Authorization headers and bearer tokens, PEM private key blocks,
// PagerDuty user tokens (u+...), token=/secret=/api_key= assignments, --password X flags,
// mysql -pX, -D...password=, passwords in URLs, JWTs, GitHub, Slack and Stripe tokens and NATS
// nkey seeds (builtinPatterns); a shell variable referred to in a secret's place has its
// assigned value redacted too. An extra pattern with groups named "secret" has only those
// replaced; it runs over all text, so keep it cheap. Matches of extra patterns longer than
// 8 KiB may escape Reader.
func NewRedactor(secrets []string, extraPatterns ...*regexp.Regexp) *Redactor {
	r := &Redactor{patterns: slices.Clone(builtinPatterns), window: patternWindow, chunk: readChunk}
	for _, re := range extraPatterns {
		if re != nil {
			r.patterns = append(r.patterns, pattern{re: re})
		}
	}
	r.starts = newStartIndex(r.patterns)
	r.literals = literalSet(secrets)
	for _, l := range r.literals {
		r.window = max(r.window, len(l.text))
	}
	return r
}

// String returns s with every secret replaced by Redacted.
func (r *Redactor) String(s string) string {
	out, _ := r.redact([]byte(s), true)
	return string(out)
}
