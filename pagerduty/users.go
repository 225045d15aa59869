package pagerduty

import (
	"context"
	"fmt"
	"strings"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/alaya-sre/alaya/incident"
)

// OnCallUserIDs returns the ids of the users on call now for the escalation policy, at every
// level or up to Config.OnCallMaxLevel, each once, in PagerDuty's order (by level). Approval
// checks ask this at the moment of the decision, since on-call changes at hand-over.
func (c *Client) OnCallUserIDs(ctx context.Context, escalationPolicyID string) ([]string, error) {
	op := "list on-calls of escalation policy " + escalationPolicyID
	if err := checkID("escalation policy", escalationPolicyID); err != nil {
		return nil, c.classify(ctx, op, err, nil)
	}
	var ids []string
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
				if c.maxLvl > 0 && int(oc.EscalationLevel) > c.maxLvl {
					continue
				}
				if id := oc.User.ID; id != "" && !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
			return resp.More && len(resp.OnCalls) > 0, nil
		})
	})
	return ids, err
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
