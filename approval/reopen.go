package approval

import (
	"context"
	"time"
)

// Reopening says why an approved gate goes back to pending and for how long it then waits.
type Reopening struct {
	// Reason is why the approved change could not start (a cooldown, a busy host, the action
	// cap), kept on the request for the page and the record.
	Reason string
	// NotBefore is when the change may be tried again, if known (a cooldown's end): the gate
	// waits Window from then, not from now, so it does not expire before it could run.
	NotBefore time.Time
	// Window is how long the gate waits for the new decision (the gate's expiry).
	Window time.Duration
}

// Reopen gives an approval back: an approved gate whose run could not start a single change
// (the fleet's limits refused it, and nothing else had changed) returns to pending, with
// compare-and-swap on the entry's revision, so a person can approve it again later. The code
// stays the same (the gate is the same gate, and the plan note that shows it is still on the
// incident); the note that approved it is spent, so that note delivered again decides nothing
// (ErrSpent). The new expiry is measured on the server's clock. A gate that is not approved
// (decided otherwise meanwhile) is refused with ErrNotPending.
func (s *Store) Reopen(ctx context.Context, incident, code string, o Reopening) (*Request, error) {
	now, err := s.Now(ctx)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, incident, code, "reopen", func(r *Request) error {
		if r.State != StateApproved {
			return refuse(ErrNotPending, r, "%s", describeDecision(r))
		}
		if r.DecidedNote != "" {
			r.Spent = append(r.Spent, r.DecidedNote)
		}
		r.State, r.Reason, r.Settled, r.Reopens, r.Reopened = StatePending, o.Reason, false, r.Reopens+1, now
		r.DecidedBy, r.DecidedByName, r.DecidedAt, r.DecidedNote, r.StartBy = "", "", time.Time{}, "", time.Time{}
		r.Expires = later(now, o.NotBefore).Add(o.Window)
		return nil
	})
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
