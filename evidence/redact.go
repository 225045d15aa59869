package evidence

import (
	"cmp"
	"net/url"
	"regexp"
	"slices"
	"strings"
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

// pattern is a secret shape. Where re has groups named "secret", only those are replaced, so
// the evidence still shows which setting held a secret (password=[REDACTED]); otherwise the
// whole match is.
//
// Go's regular expressions are slow when searching (a few MB/s for these), so a built-in
// pattern names the texts its matches start with: those are found with a substring search,
// and re, anchored, is tried only there, over the rest of the line (or of the buffer when
// multiline). A pattern without starts is searched for everywhere.
type pattern struct {
	re        *regexp.Regexp
	starts    []string // lower case
	multiline bool
}

// at compiles expr anchored, to be tried where one of starts occurs.
func at(expr string, multiline bool, starts ...string) pattern {
	return pattern{re: regexp.MustCompile(`^(?:` + expr + `)`), starts: starts, multiline: multiline}
}

// builtinPatterns are the common shapes of secrets in command output and logs.
var builtinPatterns = []pattern{
	// PEM private key blocks of any kind (RSA, EC, OPENSSH, ENCRYPTED, PKCS#8).
	at(`-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY-----`, true, "-----begin"),
	// AWS access key ids (long-term and temporary).
	at(`(?:AKIA|ASIA)[A-Z0-9]{16}\b`, false, "akia", "asia"),
	// AWS secret keys and session tokens by their usual setting names.
	at(`(?i)aws_?(?:secret_?access_?key|session_?token)["']?[ \t]*[:=][ \t]*`+value, false, "aws"),
	// HTTP Authorization headers: Bearer, Basic, PagerDuty's "Token token=...".
	at(`(?i)authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:bearer|basic|token|digest)[ \t]+)?(?P<secret>[^\s"',;]+)`, false, "authorization"),
	at(`(?i)bearer[ \t]+(?P<secret>[A-Za-z0-9._~+/=-]{8,})`, false, "bearer"),
	// PagerDuty user API tokens.
	at(`u\+[A-Za-z0-9_+-]{16,}`, false, "u+"),
	// JSON Web Tokens.
	at(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, false, "eyj"),
	// Passwords in URLs: scheme://user:password@host.
	at(`://[^\s/:@]+:(?P<secret>[^\s/@]+)@`, false, "://"),
	// Assignments of anything named like a password, token, secret or key: password=...,
	// "api_key": "...", DB_PASSWORD: ..., client_secret=..., X-Api-Key: ...
	at(`(?i)(?:passw(?:or)?d|pwd|passphrase|token|secret|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[a-z0-9_.-]*["']?[ \t]*[:=][ \t]*`+value,
		false, "pass", "pwd", "token", "secret", "api", "access", "private", "credential"),
}

// value is an assigned value: quoted (spaces allowed) or bare, up to white space or a quote.
// A bare value also takes a following "&user=..." or ";Database=...": redacting a neighbour
// is better than leaving the end of a password that contains '&' or ';'.
const value = `(?:"(?P<secret>[^"\n]+)"|'(?P<secret>[^'\n]+)'|(?P<secret>[^\s"']+))`

// Redactor removes secrets from text before it is stored or posted: the configured secret
// values themselves, wherever they occur, and the common shapes of secrets (see NewRedactor).
// It is safe for concurrent use.
type Redactor struct {
	literals [][]byte // the configured values, longest first
	patterns []pattern
	window   int // bytes held back between reads by Reader
}

// NewRedactor returns a Redactor for the given secret values (those shorter than MinSecretLen
// are ignored) and, beyond extraPatterns, built-in patterns for AWS access key ids and secret
// keys, password=..., Authorization headers and bearer tokens, PEM private key blocks,
// PagerDuty user tokens (u+...), token=/secret=/api_key= assignments, passwords in URLs and
// JWTs. An extra pattern with groups named "secret" has only those replaced; it runs over all
// text, so keep it cheap. Matches of extra patterns longer than 8 KiB may escape Reader.
func NewRedactor(secrets []string, extraPatterns ...*regexp.Regexp) *Redactor {
	r := &Redactor{patterns: slices.Clone(builtinPatterns), window: patternWindow}
	for _, re := range extraPatterns {
		if re != nil {
			r.patterns = append(r.patterns, pattern{re: re})
		}
	}
	for _, s := range literalSet(secrets) {
		r.literals = append(r.literals, []byte(s))
		r.window = max(r.window, len(s))
	}
	return r
}

// literalSet is the distinct secret values worth looking for, with their URL-encoded forms
// (a password in a query string or a URL), longest first so that the longest match wins.
func literalSet(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if len(s) < MinSecretLen {
			continue
		}
		out = append(out, s)
		if q := url.QueryEscape(s); q != s {
			out = append(out, q)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	return slices.Compact(out)
}

// String returns s with every secret replaced by Redacted.
func (r *Redactor) String(s string) string {
	out, _ := r.redact([]byte(s), true)
	return string(out)
}
