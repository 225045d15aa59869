package executor

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/crypto/ssh"
)

// keyring loads private keys once and keeps them, so that a burst of connections does not
// read and parse the same files again. Key material and passphrases never reach an error
// or a log line: errors name the file only.
type keyring struct {
	mu      sync.Mutex
	signers map[string]ssh.Signer
}

func newKeyring() *keyring { return &keyring{signers: map[string]ssh.Signer{}} }

// signer returns the signer for the private key in path. Failures are not cached, so a key
// file fixed by an operator is picked up without a restart.
func (k *keyring) signer(path string) (ssh.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, ok := k.signers[path]; ok {
		return s, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, fmt.Errorf("private key %s is protected by a passphrase, which is not supported: use an unencrypted key readable only by the worker", path)
	case err != nil:
		// The parser's messages describe the format, never the bytes.
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	k.signers[path] = s
	return s, nil
}
