package approval

import (
	"context"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

// OnCall answers who is on call now. The pagerduty package's client implements it.
type OnCall interface {
	OnCallUserIDs(ctx context.Context, escalationPolicyID string) ([]string, error)
}

// User is what the policy needs to know about a person to match a runbook's named approvers.
type User struct {
	ID    string
	Name  string
	Email string
	// Teams carry the team id in ID and its name in Summary.
	Teams []incident.Ref
}

// Ref is the user as an incident reference (author of a note, agent of an event).
func (u User) Ref() incident.Ref {
	name := u.Name
	if name == "" {
		name = u.Email
	}
	return incident.Ref{ID: u.ID, Type: "user_reference", Summary: name}
}

// Directory looks people up: by id to match a runbook's emails and teams, by email to turn the
// approval page's proxy identity into a user. An adapter over the pagerduty client.
type Directory interface {
	User(ctx context.Context, id string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
}

// Policy decides whether a decision is accepted. It holds no state: everything it checks is
// read at decision time, because who is on call, the incident's status and the plan can all
// have changed since the gate was posted.
type Policy struct {
	OnCall OnCall
	// Dir is needed only for runbooks that name approvers by email or team, and by the page.
	Dir Directory
	// SelfUserID is the PagerDuty user Alaya writes notes as; its notes are never commands.
	SelfUserID string
}

// Check verifies everything before a decision on r by author is accepted, in this order:
// the author is not Alaya itself (ErrSelf: ignore silently), r is a pending gate of inc
// (ErrNotPending / ErrAlreadyDecided), inc is not resolved (ErrResolved), the gate has not
// expired at now (ErrExpired), the plan as recomputed now still has r's hash (ErrPlanChanged),
// and the author is allowed (ErrNotAllowed). The cheap checks come first so that a refusal
// costs no API call. Refusals are *Refusal with a Detail fit for the note; any other error is
// an infrastructure failure (an on-call lookup that failed) to retry.
//
// inc must be fresh from the API: PagerDuty's incident.annotated webhook carries neither the
// status nor the assignees.
func (p *Policy) Check(ctx context.Context, r *Request, author incident.Ref, inc *incident.Incident, currentPlanHash string, now time.Time) error {
	if p.IsSelf(author) {
		return refuse(ErrSelf, r, "")
	}
	if err := checkGate(r, inc, currentPlanHash, now); err != nil {
		return err
	}
	return p.allowed(ctx, r, author, inc)
}

// IsSelf reports whether author is Alaya's own user.
func (p *Policy) IsSelf(author incident.Ref) bool {
	return p.SelfUserID != "" && author.ID == p.SelfUserID
}

func checkGate(r *Request, inc *incident.Incident, currentPlanHash string, now time.Time) error {
	switch {
	case r == nil || inc == nil || r.Incident != inc.ID:
		return refuse(ErrNotPending, r, "no pending approval with this code on this incident")
	case r.State.Final():
		return refuse(ErrAlreadyDecided, r, "%s", describeDecision(r))
	case !inc.Open():
		return refuse(ErrResolved, r, "the incident is resolved")
	case r.Expired(now):
		return refuse(ErrExpired, r, "the gate expired at %s", r.Expires.UTC().Format(time.RFC3339))
	case currentPlanHash == "" || currentPlanHash != r.PlanHash:
		return refuse(ErrPlanChanged, r, "the plan approved as %s would now be %s", short(r.PlanHash), orNone(short(currentPlanHash)))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func name(author incident.Ref) string {
	if author.Summary != "" {
		return author.Summary
	}
	return author.ID
}
