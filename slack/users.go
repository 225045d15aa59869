package slack

import (
	"context"
	"net/url"
)

type userAnswer struct {
	User struct {
		ID      string `json:"id"`
		Deleted bool   `json:"deleted"`
		Profile struct {
			Email string `json:"email"`
		} `json:"profile"`
	} `json:"user"`
}

// LookupUserByEmail returns the Slack user id of the person with this email
// (users.lookupByEmail, scope users:read.email). Slack answers users_not_found for an email
// it does not know: a permanent *APIError.
func (c *Client) LookupUserByEmail(ctx context.Context, email string) (string, error) {
	var ans userAnswer
	if err := c.get(ctx, "users.lookupByEmail", url.Values{"email": {email}}, &ans); err != nil {
		return "", err
	}
	if ans.User.ID == "" || ans.User.Deleted {
		return "", &APIError{Method: "users.lookupByEmail", Code: "users_not_found"}
	}
	return ans.User.ID, nil
}

// UserEmail returns the email of a Slack user (users.info, scopes users:read and
// users:read.email). A deactivated user, or one whose email Slack does not show, gets a
// permanent *APIError: such a person can be mapped to nobody, so may decide nothing.
func (c *Client) UserEmail(ctx context.Context, userID string) (string, error) {
	var ans userAnswer
	if err := c.get(ctx, "users.info", url.Values{"user": {userID}}, &ans); err != nil {
		return "", err
	}
	switch {
	case ans.User.Deleted:
		return "", &APIError{Method: "users.info", Code: "user_deleted"}
	case ans.User.Profile.Email == "":
		return "", &APIError{Method: "users.info", Code: "email_not_visible"}
	}
	return ans.User.Profile.Email, nil
}

// GroupMembers returns the user ids of a user group's members (usergroups.users.list, scope
// usergroups:read), for runbooks that let a group approve. An unknown group is Slack's
// no_such_subteam, a permanent *APIError.
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	var ans struct {
		Users []string `json:"users"`
	}
	if err := c.get(ctx, "usergroups.users.list", url.Values{"usergroup": {groupID}}, &ans); err != nil {
		return nil, err
	}
	return ans.Users, nil
}
