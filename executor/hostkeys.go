package executor

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHostsDB loads each known_hosts file once and checks host keys against it.
type knownHostsDB struct {
	mu    sync.Mutex
	files map[string]ssh.HostKeyCallback
}

func newKnownHostsDB() *knownHostsDB {
	return &knownHostsDB{files: map[string]ssh.HostKeyCallback{}}
}

func (db *knownHostsDB) load(file string) (ssh.HostKeyCallback, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if cb, ok := db.files[file]; ok {
		return cb, nil
	}
	cb, err := knownhosts.New(file)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	db.files[file] = cb
	return cb, nil
}

// verifier returns the host key callback for one hop and the host key algorithms to offer.
//
// The algorithms matter: a server with several host keys (ECDSA and Ed25519, say) presents
// the one the client prefers, and x/crypto prefers ECDSA. If known_hosts lists only the
// Ed25519 key, the check would fail as a "mismatch" although the host is the right one.
// Offering only the algorithms known_hosts has for this address makes the server present a
// key we can verify, as OpenSSH's own client does.
func (db *knownHostsDB) verifier(h hop, file string) (ssh.HostKeyCallback, []string, error) {
	cb, err := db.load(file)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w: %w", h, ErrHostKey, err)
	}
	verify := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		if err := cb(hostname, remote, key); err != nil {
			return &hostKeyError{hop: h, file: file, key: key, cause: err}
		}
		return nil
	}
	return verify, knownAlgorithms(cb, h.addr), nil
}

// probeKey is a key no known_hosts file lists; checking it makes knownhosts return a
// KeyError whose Want holds every key recorded for the address.
var probeKey = func() ssh.PublicKey {
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public()
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return k
}()

// knownAlgorithms lists the host key algorithms for the keys known_hosts has for addr, or nil
// (the library's defaults) when it has none: the handshake then fails as "unknown".
func knownAlgorithms(cb ssh.HostKeyCallback, addr string) []string {
	var ke *knownhosts.KeyError
	if err := cb(addr, &net.TCPAddr{}, probeKey); !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	for _, k := range ke.Want {
		for _, a := range algorithmsFor(k.Key.Type()) {
			if !slices.Contains(algos, a) {
				algos = append(algos, a)
			}
		}
	}
	return algos
}

// algorithmsFor maps a key type to the signature algorithms a server may use with it.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}
