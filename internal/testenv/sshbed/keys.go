package sshbed

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// NewKeyFile writes a fresh Ed25519 private key (OpenSSH format, mode 0600) to dir/name and
// returns its path and public key. Tests use it for a key no server authorizes.
func NewKeyFile(tb testing.TB, dir, name string) (string, ssh.PublicKey) {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return writePrivateKey(tb, filepath.Join(dir, name), priv)
}

// newECDSAKeyFile writes a P-256 key, the second host key type of every node.
func newECDSAKeyFile(tb testing.TB, path string) ssh.PublicKey {
	tb.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	_, pub := writePrivateKey(tb, path, priv)
	return pub
}

func writePrivateKey(tb testing.TB, path string, priv any) (string, ssh.PublicKey) {
	tb.Helper()
	block, err := ssh.MarshalPrivateKey(priv, "alaya-testbed")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		tb.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem.EncodeToMemory(block))
	if err != nil {
		tb.Fatal(err)
	}
	return path, signer.PublicKey()
}

// knownHostsLine formats one known_hosts entry the way OpenSSH writes it: bare address for
// port 22, [address]:port otherwise.
func knownHostsLine(addr string, port int, key ssh.PublicKey) string {
	host := addr
	if port != 22 {
		host = "[" + addr + "]:" + strconv.Itoa(port)
	}
	return host + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

func writeFile(tb testing.TB, path string, mode os.FileMode, lines ...string) string {
	tb.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), mode); err != nil {
		tb.Fatal(fmt.Errorf("sshbed: %w", err))
	}
	return path
}

func mustEd25519(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return priv
}
