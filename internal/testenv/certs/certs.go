// Package certs makes a throw-away certificate authority and certificates for tests of TLS:
// NATS servers, cluster routes and clients that authenticate with a certificate. Keys are made
// at run time in the test's directory, so no private key is ever committed. The file names are
// the ones deploy/nats/gen-certs.sh writes (ca.pem, NAME.pem, NAME-key.pem).
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a certificate authority whose files live in Dir.
type CA struct {
	Dir  string
	File string // ca.pem
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA creates a CA valid for a day in a new temporary directory.
func NewCA(tb testing.TB, name string) *CA {
	tb.Helper()
	ca := &CA{Dir: tb.TempDir()}
	ca.key = newKey(tb)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(tb),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ca.key.PublicKey, ca.key)
	if err != nil {
		tb.Fatalf("certs: %v", err)
	}
	if ca.cert, err = x509.ParseCertificate(der); err != nil {
		tb.Fatalf("certs: %v", err)
	}
	ca.File = filepath.Join(ca.Dir, "ca.pem")
	writePEM(tb, ca.File, "CERTIFICATE", der)
	return ca
}

// Issue makes a certificate for commonName with the given DNS names and addresses, usable for
// both server and client authentication (NATS nodes are both on their routes), and returns
// the paths of the certificate and its key: NAME.pem and NAME-key.pem.
func (ca *CA) Issue(tb testing.TB, name, commonName string, dnsNames []string, ips []net.IP) (certFile, keyFile string) {
	tb.Helper()
	key := newKey(tb)
	tmpl := &x509.Certificate{
		SerialNumber: serial(tb),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     dnsNames,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		tb.Fatalf("certs: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatalf("certs: %v", err)
	}
	certFile = filepath.Join(ca.Dir, name+".pem")
	keyFile = filepath.Join(ca.Dir, name+"-key.pem")
	writePEM(tb, certFile, "CERTIFICATE", der)
	writePEM(tb, keyFile, "PRIVATE KEY", keyDER)
	return certFile, keyFile
}

func newKey(tb testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("certs: %v", err)
	}
	return k
}

func serial(tb testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		tb.Fatalf("certs: %v", err)
	}
	return n
}

func writePEM(tb testing.TB, path, typ string, der []byte) {
	tb.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatalf("certs: %v", err)
	}
}

// Load uses the CA in dir (ca.pem and ca-key.pem, as deploy/nats/gen-certs.sh writes them), so
// a test can add certificates to a set a script made.
func Load(tb testing.TB, dir string) *CA {
	tb.Helper()
	ca := &CA{Dir: dir, File: filepath.Join(dir, "ca.pem")}
	certPEM, err := os.ReadFile(ca.File)
	if err != nil {
		tb.Fatalf("certs: %v", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		tb.Fatalf("certs: %v", err)
	}
	cb, kb := pemBytes(tb, certPEM), pemBytes(tb, keyPEM)
	if ca.cert, err = x509.ParseCertificate(cb); err != nil {
		tb.Fatalf("certs: %v", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(kb)
	if err != nil {
		tb.Fatalf("certs: ca key: %v", err)
	}
	var ok bool
	if ca.key, ok = key.(*ecdsa.PrivateKey); !ok {
		tb.Fatalf("certs: ca key is %T, want ECDSA", key)
	}
	return ca
}

func pemBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		tb.Fatal("certs: no PEM block")
	}
	return blk.Bytes
}
