package pagerduty

import (
	"context"
	"fmt"
	"slices"
	"strings"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/alaya-sre/alaya/incident"
)

// OnCall is one user on call now at one level of an escalation policy.
type OnCall struct {
	UserID string
	Level  int
}

// OnCalls returns who is on call now for the escalation policy: each user once, at the lowest
// level they hold, in PagerDuty's order (by level). The approval policy asks this at the moment
// of a decision, since on-call changes at hand-over, and decides itself which levels count.
func (c *Client) OnCalls(ctx context.Context, escalationPolicyID string) ([]OnCall, error) {
	op := "list on-calls of escalation policy " + escalationPolicyID
	if err := checkID("escalation policy", escalationPolicyID); err != nil {
		return nil, c.classify(ctx, op, err, nil)
	}
	var out []OnCall
	seen := map[string]bool{}
	err := c.call(ctx, op, func(ctx context.Context) error {
		return paginate(func(offset uint) (bool, error) {
			resp, err := c.pd.ListOnCallsWithContext(ctx, pd.ListOnCallOptions{
				EscalationPolicyIDs: []string{escalationPolicyID}, Limit: pageSize, Offset: offset,
			})
			if err != nil {
				return false, err
			}
			for _, oc := range resp.OnCalls {
				if id := oc.User.ID; id != "" && !seen[id] {
					seen[id] = true
					out = append(out, OnCall{UserID: id, Level: int(oc.EscalationLevel)})
				}
			}
			return resp.More && len(resp.OnCalls) > 0, nil
		})
	})
	slices.SortStableFunc(out, func(a, b OnCall) int { return a.Level - b.Level })
	return out, err
}

// User returns a reference to the user (Summary is the name) and the user's email.
func (c *Client) User(ctx context.Context, id string) (Person, error) {
	op := "get user " + id
	if err := checkID("user", id); err != nil {
		return Person{}, c.classify(ctx, op, err, nil)
	}
	var u *pd.User
	err := c.call(ctx, op, func(ctx context.Context) (err error) {
		u, err = c.pd.GetUserWithContext(ctx, id, pd.GetUserOptions{})
		return err
	})
	if err != nil {
		return Person{}, err
	}
	return person(u), nil
}

// person keeps what the approval policy needs of a PagerDuty user object.
func person(u *pd.User) Person {
	p := Person{Ref: userRef(u), Email: u.Email}
	for _, t := range u.Teams {
		name := t.Summary // a user's teams come as references; a full team object has a name
		if name == "" {
			name = t.Name
		}
		p.Teams = append(p.Teams, incident.Ref{ID: t.ID, Type: "team_reference", Summary: name})
	}
	return p
}

// Person is a PagerDuty user as the approval policy needs them: who they are, their email, and
// the teams they belong to (a runbook may name approvers by team).
type Person struct {
	Ref   incident.Ref
	Email string
	Teams []incident.Ref // team id in ID, name in Summary
}

func userRef(u *pd.User) incident.Ref {
	name := u.Name
	if name == "" {
		name = u.Summary
	}
	return incident.Ref{ID: u.ID, Type: "user_reference", Summary: name, HTMLURL: u.HTMLURL}
}

// FromUserID returns the id of the PagerDuty user whose email is Config.From, so the worker
// can recognise the notes Alaya wrote itself when they come back as incident.annotated. The
// answer is cached for the client's lifetime once found.
func (c *Client) FromUserID(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.fromUserID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	u, err := c.findUserByEmail(ctx, c.from)
	if err != nil {
		return "", err
	}
	id = u.ID
	c.mu.Lock()
	c.fromUserID = id
	c.mu.Unlock()
	return id, nil
}

// findUserByEmail searches users by query (PagerDuty matches names and emails) and keeps the
// exact, case-insensitive email match. The listing holds whole user objects, teams included,
// so no second request is needed.
func (c *Client) findUserByEmail(ctx context.Context, email string) (*pd.User, error) {
	op := "find user by from email"
	var found *pd.User
	err := c.call(ctx, op, func(ctx context.Context) error {
		return paginate(func(offset uint) (bool, error) {
			resp, err := c.pd.ListUsersWithContext(ctx, pd.ListUsersOptions{Query: email, Limit: pageSize, Offset: offset})
			if err != nil {
				return false, err
			}
			for _, u := range resp.Users {
				if strings.EqualFold(u.Email, email) {
					found = &u
					return false, nil
				}
			}
			return resp.More && len(resp.Users) > 0, nil
		})
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, &Error{Op: op, Err: fmt.Errorf("no user has the email %q: %w", email, ErrNotFound)}
	}
	return found, nil
}

// UserByEmail returns the user whose email is email (exact, case-insensitive), for turning
// an identity vouched for by an authenticating proxy into a PagerDuty user.
func (c *Client) UserByEmail(ctx context.Context, email string) (Person, error) {
	u, err := c.findUserByEmail(ctx, email)
	if err != nil {
		return Person{}, err
	}
	return person(u), nil
}

// TeamsNamed returns the ids of the teams whose name is exactly name. PagerDuty's search
// matches parts of names, ignoring case; a runbook that names a team must mean one team, so
// only exact matches count and the caller refuses anything but one.
func (c *Client) TeamsNamed(ctx context.Context, name string) ([]string, error) {
	op := "find teams named " + name
	var ids []string
	err := c.call(ctx, op, func(ctx context.Context) error {
		ids = nil
		return paginate(func(offset uint) (bool, error) {
			resp, err := c.pd.ListTeamsWithContext(ctx, pd.ListTeamOptions{Query: name, Limit: pageSize, Offset: offset})
			if err != nil {
				return false, err
			}
			for _, t := range resp.Teams {
				if t.Name == name {
					ids = append(ids, t.ID)
				}
			}
			return resp.More && len(resp.Teams) > 0, nil
		})
	})
	return ids, err
}
