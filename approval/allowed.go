package approval

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/alaya-sre/alaya/incident"
)

// allowed decides who may decide: the runbook's named approvers when it names any (and then
// only them), otherwise an assignee of the incident or whoever is on call for its escalation
// policy right now.
func (p *Policy) allowed(ctx context.Context, r *Request, author incident.Ref, inc *incident.Incident) error {
	if author.ID == "" {
		return refuse(ErrNotAllowed, r, "the author is unknown")
	}
	if !r.Approvers.Empty() {
		return p.namedAllowed(ctx, r, author)
	}
	if slices.ContainsFunc(inc.Assignees, func(a incident.Ref) bool { return a.ID == author.ID }) {
		return nil
	}
	return p.onCallAllowed(ctx, r, author, inc)
}

func (p *Policy) onCallAllowed(ctx context.Context, r *Request, author incident.Ref, inc *incident.Incident) error {
	ep := inc.EscalationPolicy.ID
	if ep == "" {
		ep = r.EscalationPolicy
	}
	if ep == "" || p.OnCall == nil {
		return refuse(ErrNotAllowed, r, "%s is not assigned and there is no escalation policy to check who is on call", name(author))
	}
	ids, err := p.OnCall.OnCallUserIDs(ctx, ep)
	if err != nil {
		return fmt.Errorf("check approval: on-call lookup for %s: %w", ep, err)
	}
	if slices.Contains(ids, author.ID) {
		return nil
	}
	return refuse(ErrNotAllowed, r, "%s is neither assigned to the incident nor on call for escalation policy %s", name(author), ep)
}

// namedAllowed matches the author against the runbook's users (ids or emails) and teams (ids
// or names). The directory is asked only when an id alone cannot decide.
func (p *Policy) namedAllowed(ctx context.Context, r *Request, author incident.Ref) error {
	if slices.Contains(r.Approvers.Users, author.ID) {
		return nil
	}
	deny := refuse(ErrNotAllowed, r, "this runbook allows only %s", describeApprovers(r.Approvers))
	if !needsDirectory(r.Approvers) {
		return deny
	}
	if p.Dir == nil {
		return refuse(ErrNotAllowed, r, "this runbook names approvers by email or team and no user directory is configured")
	}
	u, err := p.Dir.User(ctx, author.ID)
	if err != nil {
		return fmt.Errorf("check approval: look up user %s: %w", author.ID, err)
	}
	if matchesUser(r.Approvers.Users, u) || matchesTeam(r.Approvers.Teams, u) {
		return nil
	}
	return deny
}

func needsDirectory(a Approvers) bool {
	return len(a.Teams) > 0 || slices.ContainsFunc(a.Users, func(s string) bool { return strings.Contains(s, "@") })
}

func matchesUser(users []string, u User) bool {
	return u.Email != "" && slices.ContainsFunc(users, func(s string) bool { return strings.EqualFold(s, u.Email) })
}

func matchesTeam(teams []string, u User) bool {
	for _, t := range u.Teams {
		if slices.ContainsFunc(teams, func(s string) bool { return s == t.ID || strings.EqualFold(s, t.Summary) }) {
			return true
		}
	}
	return false
}

func describeApprovers(a Approvers) string {
	var parts []string
	if len(a.Users) > 0 {
		parts = append(parts, "users "+strings.Join(a.Users, ", "))
	}
	if len(a.Teams) > 0 {
		parts = append(parts, "teams "+strings.Join(a.Teams, ", "))
	}
	return strings.Join(parts, " and ")
}
