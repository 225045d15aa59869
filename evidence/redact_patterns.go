package evidence

import "regexp"

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
	starts    []string // lower case, unless exact
	multiline bool
	exact     bool // starts are searched case-sensitively (they are common in lower case)
}

// at compiles expr anchored, to be tried where one of starts occurs in any case.
func at(expr string, multiline bool, starts ...string) pattern {
	return pattern{re: regexp.MustCompile(`^(?:` + expr + `)`), starts: starts, multiline: multiline}
}

// atExact is at for starts that must occur exactly as given.
func atExact(expr string, starts ...string) pattern {
	p := at(expr, false, starts...)
	p.exact = true
	return p
}

// secretWord names settings and flags that hold a secret.
const secretWord = `passw(?:or)?d|pwd|passphrase|token|secret|api[_-]?key|access[_-]?key|private[_-]?key|credentials?`

// builtinPatterns are the common shapes of secrets in command output, command lines and logs.
// TestRedactorPatterns holds a positive and a negative case for each.
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
	// JSON Web Tokens, NATS user JWTs (.creds files) among them.
	at(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, false, "eyj"),
	// Passwords in URLs: scheme://user:password@host, and scheme://:password@host (Redis).
	at(`://[^\s/:@]*:(?P<secret>[^\s/@]+)@`, false, "://"),
	// Assignments of anything named like a password, token, secret or key: password=...,
	// "api_key": "...", DB_PASSWORD: ..., client_secret=..., X-Api-Key: ...
	at(`(?i)(?:`+secretWord+`)[a-z0-9_.-]*["']?[ \t]*[:=][ \t]*`+value,
		false, "pass", "pwd", "token", "secret", "api", "access", "private", "credential"),
	// Command-line flags followed by their value: --password X, --db-password=X, --token X.
	// The flag's name must end with the word (--password-file /path is kept), and a value
	// that is the next flag (--password --verbose: a prompt) is not taken.
	at(`(?i)--(?:[a-z0-9]+[-_])*(?:`+secretWord+`)(?:=|[ \t]+)`+flagValue, false, "--"),
	// MySQL and MariaDB clients take the password glued to -p (-pX). Elsewhere -p is a port
	// (ssh -p22), parents (mkdir -p) or a pid (ps -p1), so -pX is redacted only on the same
	// command as a client's name, up to a pipe or command separator. -P (port) is not -p.
	at(`(?i:mysql[a-z_]*|mariadb[a-z-]*)[^\n|;&]*?[ \t]-p`+value, false, "mysql", "mariadb"),
	// JVM system properties whose last name part is a secret word: -Ddb.pass=, -DdbPassword=,
	// -Dspring.datasource.password=. -Dfile.encoding= and -Dpassenger.count= are kept.
	at(`-D[A-Za-z0-9_.-]*?(?i:pass(?:w(?:or)?d)?|pwd|secret|token|credentials?|api[._-]?key|private[._-]?key)=`+value, false, "-d"),
	// GitHub tokens: classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained (github_pat_).
	at(`gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}`, false, "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
	// Slack tokens: bot, user, app-level, legacy and refresh.
	at(`xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[0-9]+-[A-Za-z0-9-]{10,}`, false, "xox", "xapp-"),
	// Stripe secret and restricted keys.
	at(`[sr]k_(?:live|test)_[A-Za-z0-9]{16,}`, false, "sk_live_", "rk_live_", "sk_test_", "rk_test_"),
	// NATS nkey seeds (user, account, operator, server, cluster, curve): 'S', the key type,
	// then base32, 58 characters in all. Public keys (U..., A...) are not secret and kept.
	atExact(`S[UAONCX][A-Z2-7]{56}`, "SU", "SA", "SO", "SN", "SC", "SX"),
}

// value is an assigned value: quoted (spaces allowed) or bare, up to white space or a quote.
// A bare value also takes a following "&user=..." or ";Database=...": redacting a neighbour
// is better than leaving the end of a password that contains '&' or ';'.
const value = `(?:"(?P<secret>[^"\n]+)"|'(?P<secret>[^'\n]+)'|(?P<secret>[^\s"']+))`

// flagValue is value for a flag's argument: a bare one may not start with "-".
const flagValue = `(?:"(?P<secret>[^"\n]+)"|'(?P<secret>[^'\n]+)'|(?P<secret>[^\s"'-][^\s"']*))`
