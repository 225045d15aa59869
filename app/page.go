package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/alaya-sre/alaya/approval/page"
	"github.com/alaya-sre/alaya/config"
)

// The approval page is served on its own listener (receiver.page_listen), which only the
// authenticating proxy should reach: it never shares an address with the public webhooks,
// where any client on the internet could send an identity header.

// pageIdentity builds how the page learns who is deciding, from receiver.page. nil: the page
// takes no decisions. The plain-header mode is logged as a warning every start.
func pageIdentity(cfg *config.Config, log *slog.Logger) (page.Identifier, error) {
	p := cfg.Receiver.Page
	switch cfg.PageMode() {
	case "jwt":
		keys, err := page.LoadKeys(p.JWT.JWKSFile, p.JWT.PublicKeysFile)
		if err != nil {
			return nil, fmt.Errorf("receiver.page.jwt: %w", err)
		}
		return &page.JWTIdentity{Header: p.JWT.Header, Keys: keys, Issuer: p.JWT.Issuer, Audience: p.JWT.Audience,
			MaxAge: p.JWT.MaxAge, Claim: p.JWT.Claim}, nil
	case "mtls":
		return &page.MTLSIdentity{Header: p.MTLS.IdentityHeader}, nil
	case "header":
		log.Warn("approval page trusts a plain identity header by peer address: anyone who can send from "+
			"these addresses can approve as anyone; prefer receiver.page.jwt or receiver.page.mtls",
			"trusted_proxies", p.Header.TrustedProxies, "header", p.Header.IdentityHeader)
		return page.NewHeaderIdentity(p.Header.IdentityHeader, cfg.PageProxies())
	}
	return nil, nil
}

// pageListener opens receiver.page_listen, with TLS requiring the proxy's client certificate
// in mtls mode.
func pageListener(cfg *config.Config) (net.Listener, error) {
	l, err := net.Listen("tcp", cfg.Receiver.PageListen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.Receiver.PageListen, err)
	}
	if cfg.PageMode() != "mtls" {
		return l, nil
	}
	tc, err := mtlsConfig(cfg.Receiver.Page.MTLS)
	if err != nil {
		l.Close()
		return nil, err
	}
	return tls.NewListener(l, tc), nil
}

func mtlsConfig(m config.PageMTLS) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(m.CertFile, m.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("receiver.page.mtls: %w", err)
	}
	pem, err := os.ReadFile(m.ClientCAFile)
	if err != nil {
		return nil, fmt.Errorf("receiver.page.mtls: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("receiver.page.mtls: no certificate in %s", m.ClientCAFile)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}, nil
}

// serveWithPage serves ls and, when the page is enabled, the page on its own listener, until
// ctx ends or one of them fails.
func (r *Receiver) serveWithPage(ctx context.Context, ls ...listener) error {
	if r.page != nil {
		pl, err := pageListener(r.cfg)
		if err != nil {
			for _, l := range ls {
				l.ln.Close()
			}
			return err
		}
		r.log.Info("approval page listening", "addr", pl.Addr().String(), "trust", r.cfg.PageMode())
		mux := http.NewServeMux()
		mux.Handle(page.PathPrefix, r.page)
		ls = append(ls, listener{pl, mux})
	}
	return serveAll(ctx, r.log, ls...)
}
