package executor

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHostsDB reads known_hosts files and checks host keys against them. A file is read
// again when it changes (its size, modification time or inode, checked with one stat per
// dial and per reuse of a pooled connection), so a key an operator revokes or replaces takes
// effect at the next command, without a restart.
type knownHostsDB struct {
	mu    sync.Mutex
	files map[string]*knownHostsFile
}

// knownHostsFile is one file as last read.
type knownHostsFile struct {
	cb      ssh.HostKeyCallback
	info    os.FileInfo
	version uint64 // counts reads that found the file changed
}

func newKnownHostsDB() *knownHostsDB {
	return &knownHostsDB{files: map[string]*knownHostsFile{}}
}

// load returns file as it is now, reading it only if it changed since the last read.
func (db *knownHostsDB) load(file string) (*knownHostsFile, error) {
	info, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	old := db.files[file]
	if old != nil && unchanged(old.info, info) {
		return old, nil
	}
	cb, err := knownhosts.New(file)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	f := &knownHostsFile{cb: cb, info: info, version: 1}
	if old != nil {
		f.version = old.version + 1
	}
	db.files[file] = f
	return f, nil
}

func unchanged(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// verifier returns the host key callback for one hop, the host key algorithms to offer, and
// the trust the handshake establishes (filled in when the callback accepts a key), so that a
// pooled connection can be checked again when the file changes.
//
// The algorithms matter: a server with several host keys (ECDSA and Ed25519, say) presents
// the one the client prefers, and x/crypto prefers ECDSA. If known_hosts lists only the
// Ed25519 key, the check would fail as a "mismatch" although the host is the right one.
// Offering only the algorithms known_hosts has for this address makes the server present a
// key we can verify, as OpenSSH's own client does.
func (db *knownHostsDB) verifier(h hop, file string) (ssh.HostKeyCallback, []string, *hostTrust, error) {
	f, err := db.load(file)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w: %w", h, ErrHostKey, err)
	}
	trust := &hostTrust{db: db, file: file}
	verify := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		if err := f.cb(hostname, remote, key); err != nil {
			return &hostKeyError{hop: h, file: file, key: key, cause: err}
		}
		trust.hostname, trust.remote, trust.key = hostname, remote, key
		trust.version.Store(f.version)
		return nil
	}
	return verify, knownAlgorithms(f.cb, h.addr), trust, nil
}

// hostTrust is the key a connection's handshake accepted and the version of the known_hosts
// file that accepted it.
type hostTrust struct {
	db       *knownHostsDB
	file     string
	hostname string
	remote   net.Addr
	key      ssh.PublicKey
	version  atomic.Uint64
}

// still reports whether the file, as it is now, still accepts the key: true at once while the
// file is unchanged; after a change the key is checked again (a revoked or replaced key is
// refused, an unrelated edit is not).
func (t *hostTrust) still() bool {
	if t == nil {
		return true
	}
	f, err := t.db.load(t.file)
	if err != nil {
		return false
	}
	if f.version == t.version.Load() {
		return true
	}
	if f.cb(t.hostname, t.remote, t.key) != nil {
		return false
	}
	t.version.Store(f.version)
	return true
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
