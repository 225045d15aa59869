package approval

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/alaya-sre/alaya/incident"
)

// Authorize decides whether author may decide r at all, before anything about the gate's
// state is said. The rules, strictest first:
//   - the author is not Alaya itself and is a person (a user_reference, not a service,
//     integration or bot);
//   - the incident is still on the escalation policy recorded when the gate was posted
//     (moving an incident to a policy where you are on call must not make you an approver);
//   - when the runbook names approvers, the author is one of them, by PagerDuty id; a name
//     counts only if it stands for exactly one id;
//   - otherwise the author is on call now for that escalation policy, at level 1 (or up to
//     MaxLevel), or, when the config opts in, an assignee of the incident.
func (p *Policy) Authorize(ctx context.Context, r *Request, author incident.Ref, inc *incident.Incident) error {
	switch {
	case p.IsSelf(ctx, author):
		return refuse(ErrSelf, r, "")
	case r == nil || inc == nil || r.Incident != inc.ID:
		return refuse(ErrNotFound, nil, "there is no approval with this code on this incident")
	case author.ID == "":
		return refuse(ErrNotAllowed, r, "the author is unknown")
	case !author.IsPerson():
		return refuse(ErrNotAllowed, r, "%s is not a person (%s); only a PagerDuty user may decide", Name(author), orNone(author.Type))
	case r.EscalationPolicy == "":
		return refuse(ErrNotAllowed, r, "the gate recorded no escalation policy to check who is on call")
	case inc.EscalationPolicy.ID != r.EscalationPolicy:
		return refuse(ErrNotAllowed, r, "the incident's escalation policy changed from %s to %s since the gate was posted; a new gate is needed",
			r.EscalationPolicy, orNone(inc.EscalationPolicy.ID))
	}
	if !r.Approvers.Empty() {
		return p.namedAllowed(ctx, r, author)
	}
	if p.Assignees && slices.ContainsFunc(inc.Assignees, func(a incident.Ref) bool { return a.ID == author.ID }) {
		return nil
	}
	return p.onCallAllowed(ctx, r, author)
}

func (p *Policy) maxLevel() int { return max(p.MaxLevel, 1) }

func (p *Policy) onCallAllowed(ctx context.Context, r *Request, author incident.Ref) error {
	if p.OnCall == nil {
		return refuse(ErrNotAllowed, r, "no on-call lookup is configured")
	}
	duty, err := p.OnCall.OnCalls(ctx, r.EscalationPolicy)
	if err != nil {
		return fmt.Errorf("check approval: on-call lookup for %s: %w", r.EscalationPolicy, err)
	}
	if slices.ContainsFunc(duty, func(d OnDuty) bool { return d.UserID == author.ID && d.Level >= 1 && d.Level <= p.maxLevel() }) {
		return nil
	}
	levels := "level 1"
	if p.maxLevel() > 1 {
		levels = fmt.Sprintf("levels 1-%d", p.maxLevel())
	}
	return refuse(ErrNotAllowed, r, "%s is not on call (%s) for escalation policy %s", Name(author), levels, r.EscalationPolicy)
}

// namedAllowed matches the author against the runbook's users and teams by PagerDuty id. An
// email stands for the one user PagerDuty has with it; a team name for the one team that
// bears exactly that name. A name that stands for no id, or for several, matches nobody: a
// look-alike team ("Checkout-Oncall" next to "checkout-oncall") is another id.
func (p *Policy) namedAllowed(ctx context.Context, r *Request, author incident.Ref) error {
	if slices.Contains(r.Approvers.Users, author.ID) {
		return nil
	}
	deny := refuse(ErrNotAllowed, r, "this runbook allows only %s; %s is not one of them", describeApprovers(r.Approvers), Name(author))
	if p.Dir == nil {
		return deny
	}
	for _, u := range r.Approvers.Users {
		if !strings.Contains(u, "@") {
			continue
		}
		found, err := p.Dir.UserByEmail(ctx, u)
		if err == nil && found.ID == author.ID {
			return nil
		}
	}
	if len(r.Approvers.Teams) == 0 {
		return deny
	}
	u, err := p.Dir.User(ctx, author.ID)
	if err != nil {
		return fmt.Errorf("check approval: look up user %s: %w", author.ID, err)
	}
	ok, err := p.inTeams(ctx, r.Approvers.Teams, u)
	if err != nil || ok {
		return err
	}
	return deny
}

// inTeams reports whether u belongs to one of teams, each an id or a name resolved to
// exactly one id.
func (p *Policy) inTeams(ctx context.Context, teams []string, u User) (bool, error) {
	member := func(id string) bool {
		return slices.ContainsFunc(u.Teams, func(t incident.Ref) bool { return t.ID == id })
	}
	for _, t := range teams {
		if member(t) {
			return true, nil
		}
		id, err := p.TeamID(ctx, t)
		if errors.Is(err, ErrAmbiguousName) {
			continue
		}
		if err != nil {
			return false, err
		}
		if member(id) {
			return true, nil
		}
	}
	return false, nil
}

// ErrAmbiguousName: a runbook names an approver by a name that stands for no PagerDuty id,
// or for several. The worker says so at load; at decision time such an entry matches nobody.
var ErrAmbiguousName = errors.New("approver name does not stand for exactly one PagerDuty id")

// TeamID resolves a team named in a runbook to its one id.
func (p *Policy) TeamID(ctx context.Context, name string) (string, error) {
	if p.Dir == nil {
		return "", fmt.Errorf("team %q: no directory: %w", name, ErrAmbiguousName)
	}
	ids, err := p.Dir.TeamsNamed(ctx, name)
	if err != nil {
		return "", fmt.Errorf("look up team %q: %w", name, err)
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("team %q matches %d teams: %w", name, len(ids), ErrAmbiguousName)
	}
	return ids[0], nil
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
