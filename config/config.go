// Package config loads Alaya's one configuration file. Loading is strict (unknown keys fail with
// file:line:col), defaults are filled in, every value can be overridden from the environment
// (ALAYA_ plus the YAML path in upper snake case, e.g. ALAYA_PAGERDUTY_FROM), and the result is
// validated before any process starts. Secrets are read from files or the environment and have a
// type that never prints its value.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/alaya-sre/alaya/internal/yamlfile"
	"github.com/alaya-sre/alaya/queue"
)

// Config is the whole configuration of a receiver and a worker.
type Config struct {
	Log       Log       `yaml:"log"`
	NATS      NATS      `yaml:"nats"`
	Receiver  Receiver  `yaml:"receiver"`
	Worker    Worker    `yaml:"worker"`
	PagerDuty PagerDuty `yaml:"pagerduty"`
	Evidence  Evidence  `yaml:"evidence"`
	Safety    Safety    `yaml:"safety"`
	ELBv2     ELBv2     `yaml:"elbv2"`
	Approvals Approvals `yaml:"approvals"`
	Slack     Slack     `yaml:"slack"`

	file     string
	fromFile map[string]bool // secrets read from their *_file key, for messages
}

// Log configures the JSON logger.
type Log struct {
	Level string `yaml:"level"` // debug, info, warn, error
}

// NATS says where the queue and run state live.
type NATS struct {
	URLs       []string      `yaml:"urls"`
	Embedded   bool          `yaml:"embedded"`  // run an in-process JetStream server (small setups, demo)
	StoreDir   string        `yaml:"store_dir"` // for the embedded server
	Prefix     string        `yaml:"prefix"`    // names this installation's subjects, consumer and buckets
	Stream     string        `yaml:"stream"`
	Duplicates time.Duration `yaml:"duplicates"` // JetStream de-duplication window for webhook ids
	Replicas   int           `yaml:"replicas"`   // stream and bucket replicas: 3 on a three-node cluster

	// How this process proves who it is: at most one of a .creds file, an nkey seed file, or a
	// user with a password (inline, from the environment or from password_file). deploy/nats
	// instead maps the TLS client certificate to the user, so none of these is needed there.
	Credentials  string `yaml:"credentials"`    // NATS .creds file (JWT and seed)
	NKeySeedFile string `yaml:"nkey_seed_file"` // a file holding an nkey user seed (SU...)
	User         string `yaml:"user"`
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	// InboxPrefix is where replies to this process's requests arrive. Each role gets its own
	// (deploy/nats allows a user to subscribe only to its own), so no user can read the
	// replies another receives, such as the KV entries a worker reads.
	InboxPrefix string  `yaml:"inbox_prefix"`
	TLS         NATSTLS `yaml:"tls"`
}

// NATSTLS is the client side of TLS to NATS. Setting any of it turns TLS on.
type NATSTLS struct {
	CAFile     string `yaml:"ca_file"`     // CA that signed the servers' certificates (default: system roots)
	CertFile   string `yaml:"cert_file"`   // client certificate, for servers that verify clients
	KeyFile    string `yaml:"key_file"`    // its private key
	ServerName string `yaml:"server_name"` // expected name in the servers' certificates, when the URLs use addresses
}

// Receiver is the HTTP side: webhooks, the approval page, health and metrics.
type Receiver struct {
	Listen             string        `yaml:"listen"`       // webhooks: the only listener to expose to the internet
	AdminListen        string        `yaml:"admin_listen"` // /healthz, /readyz and /metrics: keep it internal
	PublicURL          string        `yaml:"public_url"`   // how people reach the receiver, for links in notes
	WebhookSecrets     []Secret      `yaml:"webhook_secrets"`
	WebhookSecretsFile string        `yaml:"webhook_secrets_file"` // one secret a line; several during rotation
	AlertmanagerToken  Secret        `yaml:"alertmanager_token"`
	PublishTimeout     time.Duration `yaml:"publish_timeout"`
	// PageListen is the approval page's own address, never the webhook listener's: only the
	// authenticating proxy should reach it. Empty: no page.
	PageListen string `yaml:"page_listen"`
	// PageURL is how people reach the page (the proxy's address), for links in notes;
	// public_url when empty.
	PageURL     string `yaml:"page_url"`
	Page        Page   `yaml:"page"`
	LinkKey     Secret `yaml:"link_key"` // signs evidence and approval links
	LinkKeyFile string `yaml:"link_key_file"`
	// MaxInflight bounds the webhooks being read or handled at once; beyond it the receiver
	// answers 503 with Retry-After before reading the body.
	MaxInflight int `yaml:"max_inflight"`

	// SourcesDir holds one YAML file per declared source (docs/SOURCES.md), each served at
	// /v1/webhooks/in/NAME. Empty: no declared sources.
	SourcesDir string `yaml:"sources_dir"`
}

// Page is how the approval page learns who is deciding: from a proxy that proves itself. Set
// one of jwt (a signed identity assertion) or mtls (the proxy's client certificate); header
// (a plain header trusted by peer address) is an opt-in for proxies that can do neither.
// None: the page shows plans and the command to post, and takes no decisions.
type Page struct {
	JWT    PageJWT    `yaml:"jwt"`
	MTLS   PageMTLS   `yaml:"mtls"`
	Header PageHeader `yaml:"header"`
}

// PageJWT verifies the identity assertion an authenticating proxy adds to each request.
type PageJWT struct {
	Header         string        `yaml:"header"`           // e.g. X-Pomerium-Jwt-Assertion, Cf-Access-Jwt-Assertion
	JWKSFile       string        `yaml:"jwks_file"`        // the proxy's public keys as a JWKS document
	PublicKeysFile string        `yaml:"public_keys_file"` // or as PEM PUBLIC KEY blocks
	Issuer         string        `yaml:"issuer"`
	Audience       string        `yaml:"audience"`
	MaxAge         time.Duration `yaml:"max_age"` // an assertion issued longer ago is refused (5m)
	Claim          string        `yaml:"claim"`   // the claim holding the email (email)
}

// PageMTLS serves the page over TLS and requires the proxy's client certificate; the identity
// header is trusted only on such connections.
type PageMTLS struct {
	CertFile       string `yaml:"cert_file"`
	KeyFile        string `yaml:"key_file"`
	ClientCAFile   string `yaml:"client_ca_file"`
	IdentityHeader string `yaml:"identity_header"` // X-Forwarded-Email
}

// PageHeader trusts IdentityHeader from peers in TrustedProxies (each at most a /24 or /64).
// Anyone who can send from those addresses can claim any identity: the receiver warns at start.
type PageHeader struct {
	TrustedProxies []string `yaml:"trusted_proxies"`
	IdentityHeader string   `yaml:"identity_header"` // X-Forwarded-Email
}

// Worker runs runbooks.
type Worker struct {
	Listen      string        `yaml:"listen"` // health and metrics
	Runbooks    string        `yaml:"runbooks"`
	Inventory   string        `yaml:"inventory"`
	Concurrency int           `yaml:"concurrency"` // events handled at once
	AckWait     time.Duration `yaml:"ack_wait"`
	MaxDeliver  int           `yaml:"max_deliver"`
	GateSweep   time.Duration `yaml:"gate_sweep"` // how often expired approval gates are noticed and reported
	// ShutdownGrace is how long a stopping worker lets running steps finish before cancelling
	// them; keep it under the service manager's stop timeout (deploy/systemd: 120 s).
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// HandlerTimeout bounds the handling of one event: a run still going then is stopped and
	// reported so. Keep it above the longest step (heap dumps, drains).
	HandlerTimeout time.Duration `yaml:"handler_timeout"`
}

// PagerDuty is the REST API Alaya reads incidents from and writes notes to. With no token the
// worker keeps notes locally (the embedded default).
type PagerDuty struct {
	APIURL    string `yaml:"api_url"`
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	From      string `yaml:"from"` // email of the PagerDuty user notes are posted as
}

// Evidence chooses where evidence is stored: S3 when bucket is set, otherwise a directory.
type Evidence struct {
	Dir       string        `yaml:"dir"`
	Bucket    string        `yaml:"bucket"`
	Prefix    string        `yaml:"prefix"`
	Region    string        `yaml:"region"`
	Endpoint  string        `yaml:"endpoint"`   // S3-compatible servers
	PathStyle bool          `yaml:"path_style"` // S3-compatible servers
	LinkTTL   time.Duration `yaml:"link_ttl"`
	// ObjectLock writes every evidence object with an S3 Object Lock retention, so that
	// evidence cannot be deleted before it ends. S3 only; the bucket must have Object Lock.
	ObjectLock ObjectLock `yaml:"object_lock"`
}

// ObjectLock is the retention of evidence objects; Mode empty: none.
type ObjectLock struct {
	Mode string `yaml:"mode"` // GOVERNANCE (bypass with s3:BypassGovernanceRetention) or COMPLIANCE (nobody)
	Days int    `yaml:"days"` // counted from each object's upload
}

// ELBv2 enables lb_detach/lb_attach with provider elbv2. Credentials come from the AWS default
// chain; without a region, elbv2 steps are refused with a clear reason.
type ELBv2 struct {
	Region   string `yaml:"region"`
	Endpoint string `yaml:"endpoint"` // for a VPC endpoint or a test stand-in
}

// Safety holds the switches and the fleet-wide limits. The switches here are a floor: `alaya
// switch` turns them on for every worker at run time, between steps.
type Safety struct {
	DryRun         bool          `yaml:"dry_run"`
	KillSwitch     bool          `yaml:"kill_switch"`
	StormIncidents int           `yaml:"storm_incidents"` // more incidents than this per storm_window: diagnostics only
	StormWindow    time.Duration `yaml:"storm_window"`
	MaxActions     int           `yaml:"max_actions"` // at most this many system changes per action_window
	ActionWindow   time.Duration `yaml:"action_window"`
}

// Approvals widens who may approve a gate whose runbook names no approvers. The default is
// the narrowest: a person on call now, at escalation level 1, for the escalation policy the
// incident had when the gate was posted.
type Approvals struct {
	OnCallLevels        int  `yaml:"on_call_levels"`        // levels 1..N of the escalation policy count (1)
	AssigneesMayApprove bool `yaml:"assignees_may_approve"` // an assignee who is not on call may approve (false)
}

// File is the path the config was loaded from ("" for defaults).
func (c *Config) File() string { return c.file }

// Load reads path (if not empty), applies environment overrides from getenv, fills defaults and
// validates. Relative paths in the file are resolved against the file's directory.
func Load(path string, getenv func(string) string) (*Config, error) {
	c := &Config{file: path}
	var doc *yamlfile.Doc
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if doc, err = yamlfile.Decode(path, data, c); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(c, getenv); err != nil {
		return nil, err
	}
	c.defaults()
	c.resolvePaths()
	if err := c.readSecrets(); err != nil {
		return nil, err
	}
	return c, c.validate(doc)
}

func (c *Config) resolvePaths() {
	if c.file == "" {
		return
	}
	dir := filepath.Dir(c.file)
	for _, p := range []*string{
		&c.NATS.StoreDir, &c.NATS.Credentials, &c.NATS.NKeySeedFile, &c.NATS.PasswordFile,
		&c.NATS.TLS.CAFile, &c.NATS.TLS.CertFile, &c.NATS.TLS.KeyFile, &c.Receiver.WebhookSecretsFile, &c.Receiver.LinkKeyFile,
		&c.Receiver.Page.JWT.JWKSFile, &c.Receiver.Page.JWT.PublicKeysFile, &c.Receiver.Page.MTLS.CertFile,
		&c.Receiver.Page.MTLS.KeyFile, &c.Receiver.Page.MTLS.ClientCAFile,
		&c.Worker.Runbooks, &c.Worker.Inventory, &c.PagerDuty.TokenFile, &c.Evidence.Dir,
		&c.Receiver.SourcesDir, &c.Slack.TokenFile,
	} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i, p := range c.Slack.SigningSecretFiles {
		if p != "" && !filepath.IsAbs(p) {
			c.Slack.SigningSecretFiles[i] = filepath.Join(dir, p)
		}
	}
}

func (c *Config) defaults() {
	setDefault(&c.Log.Level, "info")
	// The queue's defaults are written once, in package queue, with the reasons for them.
	setDefault(&c.NATS.Prefix, queue.DefaultPrefix)
	setDefault(&c.NATS.Stream, queue.StreamName(c.NATS.Prefix))
	setDefault(&c.NATS.Replicas, queue.DefaultReplicas)
	setDefault(&c.NATS.Duplicates, queue.DefaultDuplicates)
	if len(c.NATS.URLs) == 0 && !c.NATS.Embedded {
		c.NATS.URLs = []string{"nats://127.0.0.1:4222"}
	}
	setDefault(&c.Receiver.Listen, ":8080")
	setDefault(&c.Receiver.AdminListen, ":9091")
	setDefault(&c.Receiver.PublishTimeout, 3*time.Second)
	setDefault(&c.Receiver.Page.JWT.MaxAge, 5*time.Minute)
	setDefault(&c.Receiver.Page.JWT.Claim, "email")
	setDefault(&c.Receiver.Page.MTLS.IdentityHeader, "X-Forwarded-Email")
	setDefault(&c.Receiver.Page.Header.IdentityHeader, "X-Forwarded-Email")
	setDefault(&c.Receiver.MaxInflight, 128)
	setDefault(&c.Worker.Listen, ":9090")
	setDefault(&c.Worker.Concurrency, queue.DefaultWorkers)
	setDefault(&c.Worker.AckWait, queue.DefaultAckWait)
	setDefault(&c.Worker.MaxDeliver, queue.DefaultMaxDeliver)
	setDefault(&c.Worker.GateSweep, 10*time.Second)
	setDefault(&c.Worker.ShutdownGrace, 90*time.Second)
	setDefault(&c.Worker.HandlerTimeout, time.Hour)
	setDefault(&c.PagerDuty.APIURL, "https://api.pagerduty.com")
	setDefault(&c.Evidence.LinkTTL, 7*24*time.Hour)
	setDefault(&c.Safety.StormIncidents, 20)
	setDefault(&c.Safety.StormWindow, time.Minute)
	setDefault(&c.Safety.MaxActions, 30)
	setDefault(&c.Safety.ActionWindow, time.Hour)
	setDefault(&c.Evidence.Region, "us-east-1")
	setDefault(&c.Approvals.OnCallLevels, 1)
	c.Slack.defaults()
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
