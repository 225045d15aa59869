package queue

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
)

// TLSFiles is the client side of TLS to NATS. Any field set turns TLS on.
type TLSFiles struct {
	CAFile     string // CA of the servers' certificates; empty: the system roots
	CertFile   string // client certificate, for servers that verify (and map) clients
	KeyFile    string
	ServerName string // name expected in the servers' certificates, when URLs carry addresses
}

// authOptions turns the identity and TLS settings into connection options. At most one of
// Credentials, NKeySeedFile and User is set (config validates it; this repeats the check for
// callers that build a Config by hand).
func (c Config) authOptions() ([]nats.Option, error) {
	var opts []nats.Option
	n := 0
	if c.Credentials != "" {
		opts, n = append(opts, nats.UserCredentials(c.Credentials)), n+1
	}
	if c.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			// nats.go's message names the file, never the seed.
			return nil, fmt.Errorf("nkey seed: %w", err)
		}
		opts, n = append(opts, o), n+1
	}
	if c.User != "" {
		opts, n = append(opts, nats.UserInfo(c.User, c.Password)), n+1
	}
	if n > 1 {
		return nil, errors.New("set only one of credentials, nkey seed file, or user and password")
	}
	if c.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(c.InboxPrefix))
	}
	if c.TLS != (TLSFiles{}) {
		tc, err := c.TLS.config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

func (t TLSFiles) config() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("nats tls ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("nats tls ca: %s holds no PEM certificate", t.CAFile)
		}
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
