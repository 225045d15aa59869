package actions

import (
	"context"
	"errors"
	"fmt"
)

// Sentinels say what the caller should do; wrap them with %w and test with errors.Is.
var (
	// ErrRefused: the action was refused before touching anything (capacity guard, bad
	// parameters, size limit). Permanent: repeating it changes nothing.
	ErrRefused = errors.New("refused")
	// ErrNotFound: the thing to act on does not exist (no such server, no matching process).
	// Permanent.
	ErrNotFound = errors.New("not found")
	// ErrVerify: the action ran but its result could not be confirmed (service not active,
	// health check failing, checksum mismatch). Permanent for this run: a person must look.
	ErrVerify = errors.New("verification failed")
	// ErrTimeout: waiting for a state (drained, healthy, active) took longer than allowed.
	// Retryable in principle, but the pipeline runs mutating steps at most once.
	ErrTimeout = errors.New("timed out")
)

// Error is a failed action step, classified where it happened.
type Error struct {
	Op    string // what was being done, e.g. "haproxy set server"
	Err   error
	Retry bool // a later attempt may succeed (transport errors, timeouts)
}

func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// permanent and retryable build classified errors.
func permanent(op string, err error) error { return &Error{Op: op, Err: err} }
func retryable(op string, err error) error { return &Error{Op: op, Err: err, Retry: true} }

// Permanent returns err classified as not worth retrying, for providers in sub-packages.
func Permanent(op string, err error) error { return permanent(op, err) }

// Retryable returns err classified as worth retrying, for providers in sub-packages.
func Retryable(op string, err error) error { return retryable(op, err) }

// IsRetryable reports whether a later attempt of the failed action might succeed. Errors that
// carry no classification are treated as retryable unless they wrap a permanent sentinel, since
// they are usually transport failures.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrRefused) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrVerify) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Retry
	}
	return !errors.Is(err, context.Canceled)
}

// Refusal is a refused action; its message is the reason shown on the incident, as is.
type Refusal struct{ Reason string }

func (r *Refusal) Error() string        { return r.Reason }
func (r *Refusal) Is(target error) bool { return target == ErrRefused }

// refusef builds a Refusal from a format.
func refusef(format string, args ...any) error {
	return &Refusal{Reason: fmt.Sprintf(format, args...)}
}
