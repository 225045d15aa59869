package page

import (
	"fmt"
	"time"

	"github.com/alaya-sre/alaya/approval"
)

// view is everything the template shows; the template decides nothing.
type view struct {
	Nonce string
	Req   *approval.Request

	Command       string // the note that approves
	RejectCommand string
	Pending       bool
	Status        string // "Waiting for approval", "Approved by …"
	ExpiresISO    string // for the countdown script
	ExpiresText   string // fallback without script

	Identity string
	Decide   bool   // show the buttons
	NoDecide string // why there are none
	Action   string
	Token    string
	Form     string

	Sent  string
	Error string
}

func (h *handler) newView(req *approval.Request, identity string) *view {
	now := h.cfg.Now()
	v := &view{
		Req:           req,
		Command:       fmt.Sprintf("%s %s %s", approval.CommandPrefix, approval.VerbApprove, req.Code),
		RejectCommand: fmt.Sprintf("%s %s %s <reason>", approval.CommandPrefix, approval.VerbReject, req.Code),
		Pending:       req.State == approval.StatePending && !req.Expired(now),
		Status:        status(req, now),
		ExpiresISO:    req.Expires.UTC().Format(time.RFC3339),
		ExpiresText:   expiresText(req.Expires, now),
		Identity:      identity,
		Action:        path(req.Incident, req.Code),
		Token:         Token(h.cfg.Key, req.Incident, req.Code),
	}
	v.Decide, v.NoDecide = h.decidable(v.Pending, identity)
	if v.Decide {
		v.Form = formToken(h.cfg.Key, identity, req.Incident, req.Code, now)
	}
	return v
}

// decidable says whether to show the buttons and, if not, why (shown in their place).
func (h *handler) decidable(pending bool, identity string) (bool, string) {
	switch {
	case !pending:
		return false, ""
	case !h.canDecide():
		return false, "Approving on this page is not enabled here: post the note on the incident."
	case identity == "":
		return false, "You are not signed in through the approval proxy, so this page cannot tell who you are: post the note on the incident."
	}
	return true, ""
}

func status(r *approval.Request, now time.Time) string {
	who := r.DecidedByName
	if who == "" {
		who = r.DecidedBy
	}
	switch {
	case r.State == approval.StatePending && r.Expired(now):
		return "Expired: no decision in time"
	case r.State == approval.StatePending:
		return "Waiting for approval"
	case r.State == approval.StateApproved:
		return "Approved by " + who
	case r.State == approval.StateRejected:
		return "Rejected by " + who
	case r.State == approval.StateCancelled:
		return "Cancelled: " + r.Reason
	}
	return "Expired: no decision in time"
}

func expiresText(exp, now time.Time) string {
	at := exp.UTC().Format("15:04 UTC")
	if !now.Before(exp) {
		return "expired at " + at
	}
	return fmt.Sprintf("expires at %s (in %d min)", at, int(exp.Sub(now).Round(time.Minute)/time.Minute))
}
