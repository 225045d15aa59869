package sources

import "time"

// The YAML shapes of a source file, kept apart from the checked Source the rest of Alaya sees.

type fileYAML struct {
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	Auth        authYAML    `yaml:"auth"`
	Mapping     mappingYAML `yaml:"mapping"`
}

// authYAML holds exactly one way to authenticate.
type authYAML struct {
	HMAC      *hmacYAML   `yaml:"hmac"`
	Bearer    *secretYAML `yaml:"bearer"`
	PathToken *secretYAML `yaml:"path_token"`
}

// secretYAML says where the secrets are: an environment variable or a file, holding one
// secret a line (several during a rotation; in a variable, commas separate them too).
type secretYAML struct {
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
}

type hmacYAML struct {
	Header   string `yaml:"header"`   // the header carrying the signature
	Hash     string `yaml:"hash"`     // sha256 (default), sha1, sha512
	Encoding string `yaml:"encoding"` // hex (default), base64
	Prefix   string `yaml:"prefix"`   // before the signature, e.g. "sha256="
	// TimestampHeader, when set, carries the Unix time the sender signed at; the signature is
	// then over "<timestamp>:<body>" (Grafana's format), and a time further than MaxAge from
	// now is refused, so a captured request cannot be replayed later.
	TimestampHeader string        `yaml:"timestamp_header"`
	MaxAge          time.Duration `yaml:"max_age"` // default 5m
	SecretEnv       string        `yaml:"secret_env"`
	SecretFile      string        `yaml:"secret_file"`
}

// mappingYAML holds one expr expression per field of the incident, each over `body`.
type mappingYAML struct {
	ID         string `yaml:"id"`
	DedupKey   string `yaml:"dedup_key"`
	Title      string `yaml:"title"`
	Status     string `yaml:"status"`
	Ignore     string `yaml:"ignore"`
	Service    string `yaml:"service"`
	Severity   string `yaml:"severity"`
	Urgency    string `yaml:"urgency"`
	Host       string `yaml:"host"`
	URL        string `yaml:"url"`
	OccurredAt string `yaml:"occurred_at"`
	Labels     string `yaml:"labels"`
	Details    string `yaml:"details"`
	// Alerts, when set, gives a list (a group's alerts); each element becomes one alert of
	// the incident, mapped by Alert with the element as `alert`.
	Alerts string    `yaml:"alerts"`
	Alert  alertYAML `yaml:"alert"`
}

// alertYAML maps one element of mapping.alerts, as `alert` (with `body` still in scope).
type alertYAML struct {
	ID       string `yaml:"id"`
	Summary  string `yaml:"summary"`
	Status   string `yaml:"status"`
	Severity string `yaml:"severity"`
	Host     string `yaml:"host"`
	Details  string `yaml:"details"`
}
