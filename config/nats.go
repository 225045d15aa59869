package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/nats-io/nkeys"

	"github.com/alaya-sre/alaya/internal/yamlfile"
)

// validateNATS checks the NATS identity and TLS settings at load, reading every file they
// name, so a wrong path or a key that does not match its certificate stops the process at
// start with the key's path, not at the first reconnect. Messages never quote file contents.
func (c *Config) validateNATS(errs *yamlfile.List, at func(string) yamlfile.Pos) {
	n := c.NATS
	methods := 0
	for _, set := range []bool{n.Credentials != "", n.NKeySeedFile != "", n.User != ""} {
		if set {
			methods++
		}
	}
	if methods > 1 {
		errs.Add(at("nats"), "nats: set only one of credentials, nkey_seed_file, or user and password")
	}
	if n.Password != "" && n.User == "" {
		errs.Add(at("nats.password"), "nats.password: set nats.user too")
	}
	if n.User != "" && n.Password == "" {
		errs.Add(at("nats.user"), "nats.user: set nats.password or nats.password_file too")
	}
	if n.Credentials != "" {
		if _, err := os.Stat(n.Credentials); err != nil {
			errs.Add(at("nats.credentials"), "nats.credentials: %v", err)
		}
	}
	if n.NKeySeedFile != "" {
		if err := checkSeedFile(n.NKeySeedFile); err != nil {
			errs.Add(at("nats.nkey_seed_file"), "nats.nkey_seed_file: %v", err)
		}
	}
	c.validateNATSTLS(errs, at)
}

func (c *Config) validateNATSTLS(errs *yamlfile.List, at func(string) yamlfile.Pos) {
	t := c.NATS.TLS
	if t.CAFile != "" {
		if _, err := LoadCAFile(t.CAFile); err != nil {
			errs.Add(at("nats.tls.ca_file"), "nats.tls.ca_file: %v", err)
		}
	}
	switch {
	case t.KeyFile == "" && t.CertFile != "":
		errs.Add(at("nats.tls.cert_file"), "nats.tls.key_file: required with nats.tls.cert_file")
	case t.CertFile == "" && t.KeyFile != "":
		errs.Add(at("nats.tls.key_file"), "nats.tls.cert_file: required with nats.tls.key_file")
	case t.CertFile != "":
		if _, err := os.Stat(t.CertFile); err != nil {
			errs.Add(at("nats.tls.cert_file"), "nats.tls.cert_file: %v", err)
		} else if _, err := os.Stat(t.KeyFile); err != nil {
			errs.Add(at("nats.tls.key_file"), "nats.tls.key_file: %v", err)
		} else if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
			errs.Add(at("nats.tls.cert_file"), "nats.tls.cert_file: %v", err)
		}
	}
}

// TLSEnabled says whether any nats.tls setting asks for TLS.
func (t NATSTLS) TLSEnabled() bool { return t != NATSTLS{} }

// LoadCAFile reads a PEM bundle of CA certificates.
func LoadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in the file", path)
	}
	return pool, nil
}

// checkSeedFile makes sure the file holds a user nkey seed, without ever printing it.
func checkSeedFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	kp, err := nkeys.ParseDecoratedNKey(b)
	if err != nil {
		return fmt.Errorf("%s: not an nkey seed", path)
	}
	defer kp.Wipe()
	if _, err := kp.Seed(); err != nil {
		return fmt.Errorf("%s: holds a public key, not a seed", path)
	}
	return nil
}
