package approval

import (
	"context"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

// OnDuty is one person on call now at one level of an escalation policy.
type OnDuty struct {
	UserID string
	Level  int
}

// OnCall answers who is on call now. An adapter over the pagerduty client implements it.
type OnCall interface {
	OnCalls(ctx context.Context, escalationPolicyID string) ([]OnDuty, error)
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
	return incident.Ref{ID: u.ID, Type: incident.AuthorUser, Summary: name}
}

// Directory looks people and teams up: by id to check a runbook's named approvers, by email
// to turn the approval page's proxy identity into a user, and team names to the one team id
// they must stand for. An adapter over the pagerduty client.
type Directory interface {
	User(ctx context.Context, id string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	// TeamsNamed returns the ids of the teams whose name is exactly name.
	TeamsNamed(ctx context.Context, name string) ([]string, error)
}

// Policy decides whether a decision is accepted. It holds no state: everything it checks is
// read at decision time, because who is on call, the incident's status and the plan can all
// have changed since the gate was posted.
type Policy struct {
	OnCall OnCall
	// Dir is needed for runbooks that name approvers, and by the page.
	Dir Directory
	// MaxLevel is the deepest escalation level whose on-call may approve; 0 means 1: the
	// people paged first, not whoever a long policy happens to reach.
	MaxLevel int
	// Assignees lets an assignee approve without being on call. Off by default: anyone can
	// assign an incident to themselves.
	Assignees bool
	// Self reports whether a user id is Alaya's own; its notes are never commands.
	Self func(ctx context.Context, userID string) bool
}

// Check verifies everything before a decision on r by author is accepted, authorization
// first: the author is Alaya itself (ErrSelf: ignore silently); there is no such gate on
// this incident (ErrNotPending); the author is not a person, the incident's escalation
// policy changed since the gate, or the author is not allowed (ErrNotAllowed); and only
// then the gate's state: already decided (ErrAlreadyDecided), incident resolved
// (ErrResolved), expired at now (ErrExpired), plan changed (ErrPlanChanged). Someone who may
// not decide learns nothing about the gate. Refusals are *Refusal with a Detail fit for the
// note; any other error is an infrastructure failure (an on-call lookup that failed) to retry.
//
// inc must be fresh from the API: PagerDuty's incident.annotated webhook carries neither the
// status nor the assignees.
func (p *Policy) Check(ctx context.Context, r *Request, author incident.Ref, inc *incident.Incident, currentPlanHash string, now time.Time) error {
	if err := p.Authorize(ctx, r, author, inc); err != nil {
		return err
	}
	return CheckGate(r, inc, currentPlanHash, now)
}

// IsSelf reports whether author is Alaya's own user.
func (p *Policy) IsSelf(ctx context.Context, author incident.Ref) bool {
	return p.Self != nil && author.ID != "" && p.Self(ctx, author.ID)
}

// CheckGate checks the gate's own state for a decision that was authorized: pending, the
// incident open, not expired at now, and the plan still the one that was hashed.
func CheckGate(r *Request, inc *incident.Incident, currentPlanHash string, now time.Time) error {
	switch {
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

// Name is how a decision names its author: the name PagerDuty gave, else the id.
func Name(author incident.Ref) string {
	if author.Summary != "" {
		return author.Summary
	}
	return author.ID
}
