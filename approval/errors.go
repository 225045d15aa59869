package approval

import (
	"errors"
	"fmt"
)

// Sentinel errors. Each comment says what the caller should do.
var (
	// ErrNotFound: no request under that incident and code. Tell the author the code is
	// unknown (this is the "wrong code" refusal).
	ErrNotFound = errors.New("approval not found")
	// ErrExists: Create found the key taken. Create retries with a fresh code by itself when
	// it chose the code; a caller-chosen code must be changed.
	ErrExists = errors.New("approval code already in use")
	// ErrNotPending: the request is not waiting for a decision (any final state). Report,
	// do nothing else.
	ErrNotPending = errors.New("approval is not pending")
	// ErrAlreadyDecided is ErrNotPending for a request someone else decided first; it is what
	// the loser of a race, or a replayed note, gets. errors.Is(err, ErrNotPending) holds.
	ErrAlreadyDecided = fmt.Errorf("%w: already decided", ErrNotPending)
	// ErrNotAllowed: the author may not decide this gate. Report the reason on the incident.
	ErrNotAllowed = errors.New("not allowed to decide this approval")
	// ErrExpired: the gate's time is up. ExpireDue reports it; refuse the decision.
	ErrExpired = errors.New("approval expired")
	// ErrResolved: the incident is resolved; its gates are cancelled.
	ErrResolved = errors.New("incident is resolved")
	// ErrPlanChanged: the plan differs from the one that was shown and hashed. Refuse; a new
	// gate with a new code must be posted.
	ErrPlanChanged = errors.New("plan changed since it was shown")
	// ErrSpent: the note's approval was used and given back (Reopen: the change could not
	// start yet); a new note must approve again. Report, do nothing else.
	ErrSpent = errors.New("approval already used")
	// ErrSelf: the note was written by Alaya itself. Ignore silently: answering it would
	// write another note, which would come back as another webhook.
	ErrSelf = errors.New("note written by alaya")
)

// Refusal is the error Store.Decide and Policy.Check return when a decision is not accepted.
// It unwraps to one of the sentinels above, carries a sentence fit for an incident note, and
// the request as it was found (nil when there is none).
type Refusal struct {
	Err     error
	Detail  string
	Request *Request
}

func (r *Refusal) Error() string {
	if r.Detail == "" {
		return r.Err.Error()
	}
	return r.Err.Error() + ": " + r.Detail
}

func (r *Refusal) Unwrap() error { return r.Err }

func refuse(err error, req *Request, format string, args ...any) *Refusal {
	return &Refusal{Err: err, Request: req, Detail: fmt.Sprintf(format, args...)}
}

// Reason is a short, stable code for a refusal, fit for a metric label or a log field:
// "not_found", "not_pending", "already_decided", "not_allowed", "expired", "resolved",
// "plan_changed", "spent", "self"; "" for nil and "error" for anything else (an I/O failure that
// should be retried rather than reported as a refusal).
func Reason(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{ErrSelf, "self"}, {ErrNotFound, "not_found"}, {ErrAlreadyDecided, "already_decided"},
		{ErrNotPending, "not_pending"}, {ErrNotAllowed, "not_allowed"}, {ErrExpired, "expired"},
		{ErrResolved, "resolved"}, {ErrSpent, "spent"}, {ErrPlanChanged, "plan_changed"}, {ErrExists, "exists"},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	if err == nil {
		return ""
	}
	return "error"
}

// Refused reports whether err is a refusal to report on the incident (as opposed to an
// infrastructure failure to retry, or ErrSelf to ignore).
func Refused(err error) bool {
	r := Reason(err)
	return r != "" && r != "error" && r != "self" && r != "exists"
}
