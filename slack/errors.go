package slack

import (
	"errors"
	"fmt"
	"time"
)

// Every failure of a call is one of the types below, decided where the answer is read, so a
// caller (the outbox) turns it into behaviour in one place: retry a Temporary one (after
// RetryAfter when Slack said how long), give up on the rest and say why.

// APIError is Slack's answer {"ok": false, "error": Code} to Method. Slack answers HTTP 200 for
// these; Code is one of the documented error strings, never anything secret.
type APIError struct {
	Method string
	Code   string
}

func (e *APIError) Error() string { return fmt.Sprintf("slack: %s: %s", e.Method, e.Code) }

// Temporary reports whether Slack documents Code as a passing condition.
func (e *APIError) Temporary() bool { return transientCodes[e.Code] }

// transientCodes are the error codes Slack documents as worth retrying: its own failures and
// rate limits. Every other code (invalid_auth, not_authed, account_inactive, token_revoked,
// missing_scope, channel_not_found, not_in_channel, is_archived, msg_too_long, no_text,
// invalid_blocks, message_not_found, cant_update_message, users_not_found, user_not_found,
// no_such_subteam, …) needs a person to change something and is permanent: retrying would only
// repeat it.
var transientCodes = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
	"team_added_to_org":   true, // Slack: "retry after a short delay" while a workspace migrates
}

// RateLimitedError is HTTP 429: Slack wants no more calls of Method (to this channel) for
// RetryAfter, from its Retry-After header.
type RateLimitedError struct {
	Method     string
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("slack: %s: rate limited, retry after %s", e.Method, e.RetryAfter)
}

// Temporary is always true: the limit passes.
func (e *RateLimitedError) Temporary() bool { return true }

// StatusError is an HTTP answer other than 200 and 429: 5xx is Slack's trouble and passes,
// other 4xx (a response URL that expired or was used up) do not.
type StatusError struct {
	Method string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("slack: %s: HTTP %d", e.Method, e.Status)
}

// Temporary reports whether the status is a server error.
func (e *StatusError) Temporary() bool { return e.Status >= 500 }

// TransportError is a call that got no usable answer: no connection, a timeout, a body cut
// short or not JSON. The message may or may not have been posted; Slack's answer is lost.
type TransportError struct {
	Method string
	Err    error
}

func (e *TransportError) Error() string { return fmt.Sprintf("slack: %s: %v", e.Method, e.Err) }
func (e *TransportError) Unwrap() error { return e.Err }

// Temporary is always true: the network or Slack may answer next time.
func (e *TransportError) Temporary() bool { return true }

// ErrResponseURLRefused is returned by Respond for a response URL outside the allow-list:
// an interaction payload must not be able to make Alaya call an arbitrary URL. Permanent.
var ErrResponseURLRefused = errors.New("slack: response URL not in slack.response_url_hosts")

// Temporary reports whether err is worth retrying: a rate limit, a transport failure, a 5xx,
// or one of Slack's transient error codes. Anything else, including errors not from this
// package, is permanent.
func Temporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// RetryAfter returns how long Slack asked to wait, when err is a rate limit.
func RetryAfter(err error) (time.Duration, bool) {
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return rl.RetryAfter, true
	}
	return 0, false
}
