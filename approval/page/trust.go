package page

import (
	"net/http"
	"net/netip"
	"strings"
)

// DefaultIdentityHeader is what oauth2-proxy sets with --set-xauthrequest / --pass-user-headers.
const DefaultIdentityHeader = "X-Forwarded-Email"

// identity returns the email the trusted proxy vouches for, or "" when the request did not
// come straight from a trusted proxy address or carries no identity. Only the TCP peer
// (RemoteAddr) counts: X-Forwarded-For is written by whoever sends the request.
func (h *handler) identity(r *http.Request) string {
	v := strings.TrimSpace(r.Header.Get(h.cfg.IdentityHeader))
	if v == "" || strings.ContainsAny(v, " ,\r\n") || !h.trustedPeer(r.RemoteAddr) {
		return ""
	}
	return v
}

func (h *handler) trustedPeer(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, p := range h.cfg.TrustedProxyCIDRs {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
