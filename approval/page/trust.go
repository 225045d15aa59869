package page

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Identifier says who the person behind a request is, on the word of a proxy that proves
// itself, or fails. The page offers decisions only to an identified person.
type Identifier interface {
	Identify(r *http.Request) (email string, err error)
}

// DefaultIdentityHeader is what oauth2-proxy sets with --set-xauthrequest / --pass-user-headers.
const DefaultIdentityHeader = "X-Forwarded-Email"

// MTLSIdentity trusts the identity header only on a connection whose client certificate was
// verified against the configured proxy CA (the listener requires and verifies it): only the
// proxy holds a key for such a certificate.
type MTLSIdentity struct {
	Header string
}

// Identify returns the one email in the header of a request that came over verified mTLS.
func (m *MTLSIdentity) Identify(r *http.Request) (string, error) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return "", errors.New("no verified client certificate")
	}
	return oneValue(r, m.Header)
}

// HeaderIdentity trusts a plain identity header from a peer address in Proxies. It is an
// explicit opt-in for proxies that can do neither signed assertions nor mTLS: anyone who can
// send from those addresses can claim to be anyone. NewHeaderIdentity keeps the ranges narrow.
type HeaderIdentity struct {
	Header  string
	Proxies []netip.Prefix
}

// Narrowest ranges a HeaderIdentity accepts: a /8 trusts a whole network (and, behind a load
// balancer on it, the internet).
const (
	MinIPv4Bits = 24
	MinIPv6Bits = 64
)

// NewHeaderIdentity refuses proxy ranges wider than /24 (IPv4) or /64 (IPv6).
func NewHeaderIdentity(header string, proxies []netip.Prefix) (*HeaderIdentity, error) {
	if len(proxies) == 0 {
		return nil, errors.New("header identity: no trusted proxies")
	}
	for _, p := range proxies {
		if NarrowEnough(p) != nil {
			return nil, NarrowEnough(p)
		}
	}
	if header == "" {
		header = DefaultIdentityHeader
	}
	return &HeaderIdentity{Header: header, Proxies: proxies}, nil
}

// NarrowEnough refuses a range wider than MinIPv4Bits or MinIPv6Bits.
func NarrowEnough(p netip.Prefix) error {
	min := MinIPv6Bits
	if p.Addr().Unmap().Is4() {
		min = MinIPv4Bits
	}
	if p.Bits() < min {
		return fmt.Errorf("trusted proxy range %s is wider than /%d: list the proxies' own addresses", p, min)
	}
	return nil
}

// Identify returns the one email in the header of a request whose TCP peer is a trusted
// proxy. Only the peer counts: X-Forwarded-For is written by whoever sends the request.
func (h *HeaderIdentity) Identify(r *http.Request) (string, error) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return "", fmt.Errorf("peer %q: %w", r.RemoteAddr, err)
	}
	addr := ap.Addr().Unmap()
	for _, p := range h.Proxies {
		if p.Contains(addr) {
			return oneValue(r, h.Header)
		}
	}
	return "", fmt.Errorf("peer %s is not a trusted proxy", addr)
}

// oneValue returns the header's one value; two values (a client's own plus the proxy's) or a
// list in one value are refused rather than guessed between.
func oneValue(r *http.Request, header string) (string, error) {
	vals := r.Header.Values(header)
	if len(vals) != 1 {
		return "", fmt.Errorf("%d %s headers, want exactly one", len(vals), header)
	}
	v := strings.TrimSpace(vals[0])
	if v == "" || strings.ContainsAny(v, " ,;\r\n") {
		return "", fmt.Errorf("%s is not one email", header)
	}
	return v, nil
}

// identity returns the email of the person behind r, or "" when nobody the page trusts vouches
// for one (the reason is logged: it is what an operator needs when the buttons do not show).
func (h *handler) identity(r *http.Request) string {
	if h.cfg.Identity == nil {
		return ""
	}
	email, err := h.cfg.Identity.Identify(r)
	if err != nil {
		h.cfg.Logger.Info("approval page: no trusted identity", "reason", err.Error())
		return ""
	}
	return email
}
