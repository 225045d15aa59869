package config

import (
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/internal/yamlfile"
)

// validate checks the loaded config. Problems found in the file point at their line; problems
// in values that came from defaults or the environment point at the file itself.
func (c *Config) validate(doc *yamlfile.Doc) error {
	var errs yamlfile.List
	at := func(path string) yamlfile.Pos {
		if doc == nil {
			return yamlfile.Pos{File: "config"}
		}
		return doc.Pos(path)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs.Add(at("log.level"), "log.level %q: expected debug, info, warn or error", c.Log.Level)
	}
	if !validPrefix.MatchString(c.NATS.Prefix) {
		errs.Add(at("nats.prefix"), "nats.prefix %q: use letters, digits, - and _ (it names subjects, the consumer and buckets)", c.NATS.Prefix)
	}
	for i, u := range c.NATS.URLs {
		if _, err := url.Parse(u); err != nil || u == "" {
			errs.Add(at("nats.urls"), "nats.urls[%d] %q is not a URL", i, u)
		}
	}
	if c.Receiver.PublicURL != "" {
		if u, err := url.Parse(c.Receiver.PublicURL); err != nil || u.Scheme == "" || u.Host == "" {
			errs.Add(at("receiver.public_url"), "receiver.public_url %q: expected an absolute URL such as https://alaya.example.com", c.Receiver.PublicURL)
		} else if u.Scheme != "https" && !isLoopback(u.Hostname()) {
			errs.Add(at("receiver.public_url"), "receiver.public_url %q: must be https (links carry signed approval and evidence tokens); http is allowed only for a loopback address", c.Receiver.PublicURL)
		}
	}
	c.validatePage(&errs, at)
	if c.Receiver.AdminListen == c.Receiver.Listen && !strings.HasSuffix(c.Receiver.Listen, ":0") {
		errs.Add(at("receiver.admin_listen"), "receiver.admin_listen %q: must differ from receiver.listen, which faces the internet", c.Receiver.AdminListen)
	}
	if c.Receiver.AdminListen == c.Receiver.PageListen && !strings.HasSuffix(c.Receiver.PageListen, ":0") {
		errs.Add(at("receiver.admin_listen"), "receiver.admin_listen %q: must differ from receiver.page_listen", c.Receiver.AdminListen)
	}
	c.validateSecretLengths(&errs, at)
	c.validateSlack(&errs, at)
	c.validateNATS(&errs, at)
	if c.PagerDuty.Token != "" {
		if _, err := mail.ParseAddress(c.PagerDuty.From); err != nil {
			errs.Add(at("pagerduty.from"), "pagerduty.from %q: PagerDuty notes need the email of a PagerDuty user", c.PagerDuty.From)
		}
	}
	if c.Evidence.Bucket == "" && c.Evidence.Dir == "" {
		errs.Add(at("evidence"), "evidence: set bucket (S3) or dir (local directory)")
	}
	c.validateObjectLock(&errs, at)
	if c.Approvals.OnCallLevels < 1 {
		errs.Add(at("approvals.on_call_levels"), "approvals.on_call_levels must be at least 1")
	}
	if c.Receiver.MaxInflight < 1 {
		errs.Add(at("receiver.max_inflight"), "receiver.max_inflight must be at least 1")
	}
	if c.Worker.Concurrency < 1 {
		errs.Add(at("worker.concurrency"), "worker.concurrency must be at least 1")
	}
	return errs.Err()
}

// validateObjectLock checks evidence.object_lock: a mode S3 knows, a retention in days, and
// an S3 bucket to apply it to.
func (c *Config) validateObjectLock(errs *yamlfile.List, at func(string) yamlfile.Pos) {
	l := c.Evidence.ObjectLock
	if l == (ObjectLock{}) {
		return
	}
	switch strings.ToUpper(l.Mode) {
	case "GOVERNANCE", "COMPLIANCE":
	default:
		errs.Add(at("evidence.object_lock.mode"), "evidence.object_lock.mode %q: expected GOVERNANCE or COMPLIANCE", l.Mode)
	}
	if l.Days < 1 || l.Days > evidence.MaxLockDays {
		errs.Add(at("evidence.object_lock.days"), "evidence.object_lock.days %d: expected 1 to %d", l.Days, evidence.MaxLockDays)
	}
	if c.Evidence.Bucket == "" {
		errs.Add(at("evidence.object_lock"), "evidence.object_lock needs evidence.bucket: Object Lock is an S3 feature")
	}
}

// Shortest accepted secrets. The link key signs approval links with HMAC-SHA256, so it gets the
// hash's full 32 bytes; shared webhook secrets and bearer tokens get 16 bytes (128 bits), beyond
// guessing even at PagerDuty's delivery rate.
const (
	minLinkKey      = 32
	minSharedSecret = 16
)

// validateSecretLengths refuses secrets short enough to guess. Messages give lengths, never
// values.
func (c *Config) validateSecretLengths(errs *yamlfile.List, at func(string) yamlfile.Pos) {
	r := c.Receiver
	if n := len(r.LinkKey); n > 0 && n < minLinkKey {
		key := c.secretSource("receiver.link_key")
		errs.Add(at(key), "%s: %d bytes, need at least %d (e.g. openssl rand -hex 32)", key, n, minLinkKey)
	}
	for i, s := range r.WebhookSecrets {
		if n := len(s); n < minSharedSecret {
			key := c.secretSource("receiver.webhook_secrets")
			errs.Add(at(key), "%s[%d]: %d bytes, need at least %d", key, i, n, minSharedSecret)
		}
	}
	if n := len(r.AlertmanagerToken); n > 0 && n < minSharedSecret {
		errs.Add(at("receiver.alertmanager_token"), "receiver.alertmanager_token: %d bytes, need at least %d", n, minSharedSecret)
	}
}

// secretSource names the key a secret came from: its *_file key when readSecrets read it from
// that file, else the key itself (inline or environment).
func (c *Config) secretSource(key string) string {
	if c.fromFile[key] {
		return key + "_file"
	}
	return key
}

// isLoopback reports whether host (a name or an address) never leaves the machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// PageMode is how the approval page trusts an identity: "jwt", "mtls", "header", or "" (the
// page takes no decisions).
func (c *Config) PageMode() string {
	if m := c.Receiver.Page.modes(); len(m) > 0 {
		return m[0]
	}
	return ""
}

// modes lists the identity modes that have any setting.
func (p Page) modes() []string {
	var out []string
	if p.JWT.Issuer != "" || p.JWT.Audience != "" || p.JWT.JWKSFile != "" || p.JWT.PublicKeysFile != "" || p.JWT.Header != "" {
		out = append(out, "jwt")
	}
	if p.MTLS.ClientCAFile != "" || p.MTLS.CertFile != "" || p.MTLS.KeyFile != "" {
		out = append(out, "mtls")
	}
	if len(p.Header.TrustedProxies) > 0 {
		out = append(out, "header")
	}
	return out
}

// validatePage checks that the page has its own listener and that exactly one way of trusting
// an identity is configured, completely.
func (c *Config) validatePage(errs *yamlfile.List, at func(string) yamlfile.Pos) {
	r, p := c.Receiver, c.Receiver.Page
	if r.PageListen != "" && r.PageListen == r.Listen {
		errs.Add(at("receiver.page_listen"), "receiver.page_listen must differ from receiver.listen: the page is for the proxy, the webhooks for the internet")
	}
	if len(p.modes()) > 1 {
		errs.Add(at("receiver.page"), "receiver.page: set one of jwt, mtls or header")
	}
	switch c.PageMode() {
	case "jwt":
		if p.JWT.Header == "" || p.JWT.Issuer == "" || p.JWT.Audience == "" || (p.JWT.JWKSFile == "" && p.JWT.PublicKeysFile == "") {
			errs.Add(at("receiver.page.jwt"), "receiver.page.jwt needs header, issuer, audience and jwks_file or public_keys_file")
		}
		if p.JWT.MaxAge <= 0 || p.JWT.MaxAge > time.Hour {
			errs.Add(at("receiver.page.jwt.max_age"), "receiver.page.jwt.max_age must be between 1s and 1h")
		}
	case "mtls":
		if p.MTLS.CertFile == "" || p.MTLS.KeyFile == "" || p.MTLS.ClientCAFile == "" {
			errs.Add(at("receiver.page.mtls"), "receiver.page.mtls needs cert_file, key_file and client_ca_file")
		}
	case "header":
		for _, s := range p.Header.TrustedProxies {
			pfx, ok := parseProxy(s)
			if !ok {
				errs.Add(at("receiver.page.header.trusted_proxies"), "receiver.page.header.trusted_proxies: %q is neither a CIDR nor an address", s)
			} else if err := narrowEnough(pfx); err != nil {
				errs.Add(at("receiver.page.header.trusted_proxies"), "receiver.page.header.trusted_proxies: %v", err)
			}
		}
	}
	if c.PageMode() != "" && r.PageListen == "" {
		errs.Add(at("receiver.page"), "receiver.page is set but receiver.page_listen is not: the page has no listener")
	}
}

// narrowEnough refuses a trusted proxy range wider than a /24 (IPv4) or /64 (IPv6).
func narrowEnough(p netip.Prefix) error {
	min := 64
	if p.Addr().Unmap().Is4() {
		min = 24
	}
	if p.Bits() < min {
		return fmt.Errorf("%s is wider than /%d: list the proxies' own addresses", p, min)
	}
	return nil
}

// validPrefix matches what queue accepts as an installation prefix.
var validPrefix = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// PageProxies returns receiver.page.header.trusted_proxies parsed; validate has checked them.
func (c *Config) PageProxies() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range c.Receiver.Page.Header.TrustedProxies {
		if pfx, ok := parseProxy(p); ok {
			out = append(out, pfx)
		}
	}
	return out
}

// parseProxy reads a CIDR, or a single address as a prefix of its full length.
func parseProxy(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}
