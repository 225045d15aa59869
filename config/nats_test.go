package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/alaya-sre/alaya/internal/testenv/certs"
	"github.com/alaya-sre/alaya/internal/yamlfile"
)

func TestNATSIdentityAndTLSLoad(t *testing.T) {
	ca := certs.NewCA(t, "alaya-test-ca")
	cert, key := ca.Issue(t, "alaya-worker", "alaya-worker", nil, nil)
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	seedFile := write("worker.nk", string(seed))
	cfgFile := write("config.yaml", strings.NewReplacer("CA", ca.File, "CERT", cert, "KEY", key, "SEED", seedFile).Replace(`
nats:
  urls: [tls://127.0.0.1:4222]
  nkey_seed_file: SEED
  inbox_prefix: _INBOX_worker
  tls: {ca_file: CA, cert_file: CERT, key_file: KEY, server_name: nats-1}
receiver:
  public_url: http://127.0.0.1:8080
evidence:
  dir: /tmp/x
`))
	c, err := Load(cfgFile, noenv)
	if err != nil {
		t.Fatal(err)
	}
	if !c.NATS.TLS.TLSEnabled() || c.NATS.TLS.ServerName != "nats-1" || c.NATS.NKeySeedFile != seedFile {
		t.Errorf("nats settings not loaded: %+v", c.NATS)
	}

	// A key that does not belong to the certificate is found at load, and the message names
	// the key path but never quotes the seed or key.
	_, otherKey := ca.Issue(t, "alaya-receiver", "alaya-receiver", nil, nil)
	_, err = Load(cfgFile, func(k string) string {
		return map[string]string{"ALAYA_NATS_TLS_KEY_FILE": otherKey}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "nats.tls.cert_file: tls: private key does not match public key") {
		t.Errorf("mismatched key: err = %v", err)
	}

	// A password from a file is a secret like the others.
	pw := write("password", "nats-password-do-not-leak\n")
	c, err = Load("", func(k string) string {
		return map[string]string{"ALAYA_NATS_USER": "alaya-worker", "ALAYA_NATS_PASSWORD_FILE": pw, "ALAYA_EVIDENCE_DIR": dir}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.NATS.Password.Reveal() != "nats-password-do-not-leak" || !strings.Contains(strings.Join(c.Secrets(), " "), "nats-password-do-not-leak") {
		t.Errorf("password not read from its file or not a known secret")
	}

	// Files that hold secrets but are not what the key expects are refused without quoting them.
	_, err = Load("testdata/bad_nats.yaml", noenv)
	if err == nil || strings.Contains(err.Error(), "rotating-") {
		t.Errorf("bad_nats.yaml: err = %v, want refused without the file's content", err)
	}
}

func TestPublicURLMayBeHTTPOnlyOnLoopback(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://alaya.example.com":  true,
		"http://127.0.0.1:8080":      true,
		"http://[::1]:8080":          true,
		"http://localhost:8080/":     true,
		"http://alaya.example.com":   false,
		"http://10.0.0.5:8080":       false,
		"http://127.0.0.1.nip.io/":   false,
		"ftp://alaya.example.com/x/": false,
	} {
		_, err := Load("", func(k string) string {
			return map[string]string{"ALAYA_RECEIVER_PUBLIC_URL": url, "ALAYA_EVIDENCE_DIR": "/tmp/x"}[k]
		})
		if (err == nil) != ok {
			t.Errorf("public_url %s: err = %v, want accepted = %v", url, err, ok)
		}
	}
}

// TestExampleConfigDecodes: deploy/config.example.yaml uses only keys Load knows (its files do
// not exist here, so it is decoded, not validated).
func TestExampleConfigDecodes(t *testing.T) {
	data, err := os.ReadFile("../deploy/config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	if _, err := yamlfile.Decode("config.example.yaml", data, &c); err != nil {
		t.Fatal(err)
	}
	if c.Receiver.AdminListen == "" || c.NATS.TLS.CertFile == "" || c.NATS.InboxPrefix == "" {
		t.Errorf("the example does not show receiver.admin_listen, nats.tls and nats.inbox_prefix")
	}
}
