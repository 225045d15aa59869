package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// httpError is a failure that already knows its HTTP status. Each is chosen for what the
// sender does with it: 4xx are final for PagerDuty, 503 is retried.
type httpError struct {
	status int
	msg    string // safe to show the sender: never a secret, never the body
	// reason labels alaya_webhook_refused_total for refusals an operator should see
	// (busy, stale, future); "" for the rest, which the status code says enough about.
	reason string
}

func (e *httpError) Error() string { return e.msg }

var (
	// errMethod: only POST delivers webhooks.
	errMethod = &httpError{status: http.StatusMethodNotAllowed, msg: "method not allowed: use POST"}
	// errNoSignature and errBadSignature: 401, the sender is not who it claims, or a secret was
	// rotated on one side only.
	errNoSignature  = &httpError{status: http.StatusUnauthorized, msg: "missing X-PagerDuty-Signature header"}
	errBadSignature = &httpError{status: http.StatusUnauthorized, msg: "signature does not match any configured secret"}
	errUnauthorized = &httpError{status: http.StatusUnauthorized, msg: "missing or wrong credentials"}
	// errUnavailable: 503, the queue could not take the event in time; the sender retries and
	// the stream's de-duplication absorbs a publish that got through late.
	errUnavailable = &httpError{status: http.StatusServiceUnavailable, msg: "event queue unavailable, retry later"}
)

// errTooLarge: 413, the body exceeds the limit; retrying cannot help.
func errTooLarge(limit int64) error {
	return &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("body larger than %d bytes", limit)}
}

// errMalformed: 400, the body is not a webhook we understand; retrying cannot help.
func errMalformed(err error) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("malformed webhook: %v", err)}
}

// statusOf maps any error to the status to answer: the one place where that is decided.
// Errors that did not come from this package are our fault and retryable: 503.
func statusOf(err error) (int, string) {
	if he := (*httpError)(nil); errors.As(err, &he) {
		return he.status, he.msg
	}
	return errUnavailable.status, errUnavailable.msg
}

// reasonOf is err's refusal reason for alaya_webhook_refused_total, or "".
func reasonOf(err error) string {
	if he := (*httpError)(nil); errors.As(err, &he) {
		return he.reason
	}
	return ""
}

// writeError answers with err's status and a short JSON reason.
func writeError(w http.ResponseWriter, err error) int {
	status, msg := statusOf(err)
	switch status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, status, errorBody{Error: msg})
	return status
}

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // our own response types always encode
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
