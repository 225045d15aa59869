package executor

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Sentinel errors say what the caller should do; test them with errors.Is.
var (
	// ErrHostKey: a hop presented a host key that its known_hosts file does not list (unknown)
	// or lists differently (mismatch, possibly a man in the middle). Permanent: never retry,
	// never prompt; someone has to check the host and fix known_hosts.
	ErrHostKey = errors.New("host key not trusted")
	// ErrAuth: a hop refused our user and key, or the key could not be loaded. Permanent.
	ErrAuth = errors.New("authentication failed")
	// ErrConnect: the network, a dial through a bastion, a handshake or an established
	// connection failed. Retryable; note that a command whose connection broke may have run.
	ErrConnect = errors.New("connection failed")
	// ErrTimeout: the command exceeded its timeout (or the caller's deadline). The remote
	// process was sent SIGKILL and its session closed; the partial output is in the Result.
	ErrTimeout = errors.New("command timed out")
	// ErrClosed: the executor was closed.
	ErrClosed = errors.New("executor closed")
)

// Retryable reports whether err is transient, so that trying again later may succeed. Whether
// a step may be re-run is still the caller's decision: a command whose connection broke
// may already have changed the system.
func Retryable(err error) bool {
	return errors.Is(err, ErrConnect) && !errors.Is(err, ErrHostKey) && !errors.Is(err, ErrAuth)
}

// hop names one SSH hop in errors and logs, e.g. `target app-1 (198.18.0.6:22)`.
type hop struct {
	role string // "bastion" or "target"
	name string
	addr string
}

func (h hop) String() string { return fmt.Sprintf("%s %s (%s)", h.role, h.name, h.addr) }

// hostKeyError is returned by the host key callback, so that it survives the handshake's
// wrapping and says which hop and which known_hosts file were involved.
type hostKeyError struct {
	hop   hop
	file  string
	key   ssh.PublicKey
	cause error
}

func (e *hostKeyError) Error() string {
	offered := e.key.Type() + " " + ssh.FingerprintSHA256(e.key)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(e.cause, &re):
		return fmt.Sprintf("%s: host key is revoked in %s (offered %s)", e.hop, e.file, offered)
	case errors.As(e.cause, &ke) && len(ke.Want) == 0:
		return fmt.Sprintf("%s: host key is unknown: %s has no entry for it (offered %s)", e.hop, e.file, offered)
	case errors.As(e.cause, &ke):
		return fmt.Sprintf("%s: host key mismatch: %s lists another key (offered %s; possible man in the middle)", e.hop, e.file, offered)
	}
	return fmt.Sprintf("%s: host key check: %v", e.hop, e.cause)
}

func (e *hostKeyError) Unwrap() []error { return []error{ErrHostKey, e.cause} }

// classifyHandshake turns an error from ssh.NewClientConn into one of the sentinels.
func classifyHandshake(h hop, user string, err error) error {
	var hk *hostKeyError
	if errors.As(err, &hk) {
		return hk
	}
	if strings.Contains(err.Error(), "unable to authenticate") {
		return fmt.Errorf("%s: user %q was refused: %w", h, user, ErrAuth)
	}
	return fmt.Errorf("%s: handshake: %w: %w", h, ErrConnect, err)
}

// classifyDial wraps a failed dial of a hop.
func classifyDial(h hop, err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%s: dial timed out: %w: %w", h, ErrConnect, err)
	}
	return fmt.Errorf("%s: dial: %w: %w", h, ErrConnect, err)
}
