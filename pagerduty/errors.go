package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	pd "github.com/PagerDuty/go-pagerduty"
)

// ErrNotFound matches (errors.Is) an *Error for an object PagerDuty does not know: a wrong or
// deleted incident or user. Retrying cannot help.
var ErrNotFound = errors.New("pagerduty: not found")

// errInvalidArgument marks a call refused before any request was made.
var errInvalidArgument = errors.New("invalid argument")

// Error is a failed PagerDuty API call, classified where it happened. Its text carries what
// Alaya was doing and PagerDuty's answer, never the API token.
type Error struct {
	// Op is what Alaya was doing, for example "add note to Q1ABC".
	Op string
	// Status is the HTTP status of PagerDuty's final answer; 0 if none arrived.
	Status int
	// Code is PagerDuty's error code (2001 invalid input, 2100 not found, 2020 rate
	// limited, ...); 0 if the body carried none.
	Code int
	// Message is PagerDuty's message with its details.
	Message string
	// Err is the cause when no answer arrived (network failure, context ended) or the answer
	// could not be read.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("pagerduty: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true for PagerDuty's 404 answers.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && (e.Status == http.StatusNotFound || e.Code == 2100)
}

// Retryable reports whether the same call may succeed later.
func (e *Error) Retryable() bool {
	switch {
	case errors.Is(e.Err, errInvalidArgument), errors.Is(e.Err, ErrNotFound):
		return false
	case e.Status == http.StatusTooManyRequests, e.Status >= 500:
		return true
	case e.Status >= 400:
		return false
	}
	// No answer (network failure, timeout, context ended) or an unreadable one: PagerDuty
	// has not said no, so the caller should try again.
	return true
}

// Retryable reports whether err, from this package, is worth retrying later: rate limiting,
// PagerDuty server errors, network failures and timeouts are; 4xx answers (bad input,
// bad token, forbidden, not found) and malformed webhooks are not. Errors this package did
// not produce are treated as transient. Retryable(nil) is false.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrMalformed) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable()
	}
	return true
}

// classify turns a go-pagerduty error into an *Error. cause is the last transport failure the
// retry transport saw during the call, which go-pagerduty flattens into a string.
func (c *Client) classify(ctx context.Context, op string, err, cause error) *Error {
	e := &Error{Op: op}
	var apiErr pd.APIError
	switch {
	case errors.As(err, &apiErr):
		e.Status = apiErr.StatusCode
		if apiErr.APIError.Valid {
			e.Code = apiErr.APIError.ErrorObject.Code
			e.Message = joinMessage(apiErr.APIError.ErrorObject)
		} else {
			// A proxy or load balancer answered, not the API.
			e.Message = "answer without a PagerDuty error body"
		}
	case errors.Is(err, errInvalidArgument):
		e.Err = err
	case ctx.Err() != nil:
		e.Err = ctx.Err()
	case cause != nil:
		e.Err = cause
	default:
		e.Err = err
	}
	return c.redactError(e)
}

// joinMessage flattens PagerDuty's error object: "Invalid Input Provided: From header missing".
func joinMessage(o pd.APIErrorObject) string {
	parts := append([]string{o.Message}, o.Errors...)
	return strings.Join(nonEmpty(parts), ": ")
}

func nonEmpty(ss []string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// redactError removes the token from e's text if a server echoed it. The cause is replaced
// by its redacted text in that case, giving up its chain rather than leaking the secret.
func (c *Client) redactError(e *Error) *Error {
	redact := tokenRedactor(c.token)
	e.Message = redact(e.Message)
	if e.Err != nil && strings.Contains(e.Err.Error(), c.token) {
		e.Err = errors.New(redact(e.Err.Error()))
	}
	return e
}

// callState carries, for one client call, the last failure the transport saw. go-pagerduty
// formats transport errors with %v, which loses their type; this keeps it.
type callState struct {
	mu  sync.Mutex
	err error
}

func (s *callState) set(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func (s *callState) get() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

type callStateKey struct{}

func withCallState(ctx context.Context, st *callState) context.Context {
	return context.WithValue(ctx, callStateKey{}, st)
}

func callStateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}
