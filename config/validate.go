package config

import (
	"net/mail"
	"net/netip"
	"net/url"
	"strings"

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
	for i, u := range c.NATS.URLs {
		if _, err := url.Parse(u); err != nil || u == "" {
			errs.Add(at("nats.urls"), "nats.urls[%d] %q is not a URL", i, u)
		}
	}
	if c.Receiver.PublicURL != "" {
		if u, err := url.Parse(c.Receiver.PublicURL); err != nil || u.Scheme == "" || u.Host == "" {
			errs.Add(at("receiver.public_url"), "receiver.public_url %q: expected an absolute URL such as https://alaya.example.com", c.Receiver.PublicURL)
		}
	}
	for _, p := range c.Receiver.TrustedProxies {
		if _, ok := parseProxy(p); !ok {
			errs.Add(at("receiver.trusted_proxies"), "receiver.trusted_proxies: %q is neither a CIDR such as 10.0.0.0/8 nor an address", p)
		}
	}
	if c.PagerDuty.Token != "" {
		if _, err := mail.ParseAddress(c.PagerDuty.From); err != nil {
			errs.Add(at("pagerduty.from"), "pagerduty.from %q: PagerDuty notes need the email of a PagerDuty user", c.PagerDuty.From)
		}
	}
	if c.Evidence.Bucket == "" && c.Evidence.Dir == "" {
		errs.Add(at("evidence"), "evidence: set bucket (S3) or dir (local directory)")
	}
	if c.Approvals.OnCallLevels < 1 {
		errs.Add(at("approvals.on_call_levels"), "approvals.on_call_levels must be at least 1")
	}
	if c.Worker.Concurrency < 1 {
		errs.Add(at("worker.concurrency"), "worker.concurrency must be at least 1")
	}
	return errs.Err()
}

// TrustedProxyPrefixes returns receiver.trusted_proxies parsed; validate has checked them.
func (c *Config) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range c.Receiver.TrustedProxies {
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
		return p, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}
