package page_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/alaya-sre/alaya/approval/page"
)

// Each way an assertion can be wrong is refused; only the proxy's own, fresh, for this
// audience, names a person.
func TestJWTIdentity(t *testing.T) {
	now := time.Now()
	id := testIdentity(func() time.Time { return now })
	pub, _ := x509.MarshalPKIXPublicKey(&proxyKey.PublicKey)
	tests := []struct {
		name   string
		header []string
		want   string
	}{
		{"the proxy's assertion", []string{assertion("oncall@example.com", now, nil)}, "oncall@example.com"},
		{"no assertion", nil, ""},
		{"two assertions", []string{assertion("dev@example.com", now, nil), assertion("oncall@example.com", now, nil)}, ""},
		{"another issuer", []string{assertion("oncall@example.com", now, func(c jwt.MapClaims, _ *jwt.Token) { c["iss"] = "https://evil.example" })}, ""},
		{"another audience", []string{assertion("oncall@example.com", now, func(c jwt.MapClaims, _ *jwt.Token) { c["aud"] = "grafana" })}, ""},
		{"expired", []string{assertion("oncall@example.com", now.Add(-10*time.Minute), nil)}, ""},
		{"older than max age though exp is far", []string{assertion("oncall@example.com", now, func(c jwt.MapClaims, _ *jwt.Token) {
			c["iat"], c["exp"] = now.Add(-time.Hour).Unix(), now.Add(time.Hour).Unix()
		})}, ""},
		{"no exp", []string{assertion("oncall@example.com", now, func(c jwt.MapClaims, _ *jwt.Token) { delete(c, "exp") })}, ""},
		{"not yet valid", []string{assertion("oncall@example.com", now, func(c jwt.MapClaims, _ *jwt.Token) { c["nbf"] = now.Add(time.Hour).Unix() })}, ""},
		{"no email claim", []string{assertion("", now, nil)}, ""},
		{"alg none", []string{unsigned(jwt.MapClaims{"iss": proxyIssuer, "aud": proxyAudience, "email": "oncall@example.com", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})}, ""},
		{"HMAC keyed with the public key", []string{hmacWith(pub, jwt.MapClaims{"iss": proxyIssuer, "aud": proxyAudience, "email": "oncall@example.com", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})}, ""},
		{"signed by another key", []string{otherKeyAssertion(now)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, v := range tt.header {
				r.Header.Add(assertionHeader, v)
			}
			got, err := id.Identify(r)
			if got != tt.want || (tt.want == "") != (err != nil) {
				t.Fatalf("Identify = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func unsigned(c jwt.MapClaims) string {
	s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	return s
}

func hmacWith(key []byte, c jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = "k1"
	s, _ := tok.SignedString(key)
	return s
}

func otherKeyAssertion(now time.Time) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": proxyIssuer, "aud": proxyAudience,
		"email": "oncall@example.com", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	tok.Header["kid"] = "k1"
	s, _ := tok.SignedString(mustKey())
	return s
}

// The plain-header opt-in: narrow ranges only, the TCP peer only, one value only.
func TestHeaderIdentity(t *testing.T) {
	for _, wide := range []string{"10.0.0.0/8", "192.168.0.0/16", "0.0.0.0/0", "2001:db8::/48"} {
		if _, err := page.NewHeaderIdentity("", []netip.Prefix{netip.MustParsePrefix(wide)}); err == nil {
			t.Errorf("%s accepted as a trusted proxy range", wide)
		}
	}
	id, err := page.NewHeaderIdentity("", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("2001:db8::/64")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote string
		values       []string
		want         string
	}{
		{"from the proxy", "127.0.0.1:1234", []string{"oncall@example.com"}, "oncall@example.com"},
		{"from elsewhere", "10.1.2.3:1234", []string{"oncall@example.com"}, ""},
		{"the client's header and the proxy's", "127.0.0.1:1234", []string{"oncall@example.com", "dev@example.com"}, ""},
		{"a list in one header", "127.0.0.1:1234", []string{"oncall@example.com, dev@example.com"}, ""},
		{"none", "127.0.0.1:1234", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.values {
				r.Header.Add(page.DefaultIdentityHeader, v)
			}
			if got, _ := id.Identify(r); got != tt.want {
				t.Fatalf("Identify = %q, want %q", got, tt.want)
			}
		})
	}
}

// mTLS: the header counts only on a connection with a verified client certificate.
func TestMTLSIdentity(t *testing.T) {
	id := &page.MTLSIdentity{Header: page.DefaultIdentityHeader}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(page.DefaultIdentityHeader, "oncall@example.com")
	if got, err := id.Identify(r); err == nil || got != "" {
		t.Fatalf("without TLS: %q, %v", got, err)
	}
	r.TLS = &tls.ConnectionState{}
	if got, err := id.Identify(r); err == nil || got != "" {
		t.Fatalf("TLS without a verified client certificate: %q, %v", got, err)
	}
	r.TLS.VerifiedChains = [][]*x509.Certificate{{{}}}
	if got, err := id.Identify(r); err != nil || got != "oncall@example.com" {
		t.Fatalf("verified mTLS: %q, %v", got, err)
	}
	r.Header.Add(page.DefaultIdentityHeader, "dev@example.com")
	if got, _ := id.Identify(r); got != "" || strings.Contains(got, "dev") {
		t.Fatalf("two headers over mTLS: %q", got)
	}
}
