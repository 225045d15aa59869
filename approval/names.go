package approval

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// pagerDutyID is the shape of PagerDuty object ids (P and six capitals or digits, the form
// of user and team ids). An approver entry of that shape is taken as an id; anything else is
// a name that must stand for exactly one id.
var pagerDutyID = regexp.MustCompile(`^[A-Z0-9]{7}$`)

// ErrUnknown: the directory has no such user or team (PagerDuty answered 404).
var ErrUnknown = errors.New("no such user or team")

// ErrDirectoryUnavailable wraps a lookup that failed (PagerDuty unreachable): the names could
// not be checked now, which is not the same as a wrong name.
var ErrDirectoryUnavailable = errors.New("approver names could not be checked")

// CheckApprovers resolves every approver a gate names against the directory: a user id must
// be a user, an email the one user that has it, a team name the one team that bears exactly
// it. It returns one error per entry that does not stand for exactly one id; a failed lookup
// comes back wrapped in ErrDirectoryUnavailable. The worker runs it at load and `alaya lint`
// when it has API access.
func CheckApprovers(ctx context.Context, dir Directory, a Approvers) []error {
	var errs []error
	for _, u := range a.Users {
		if err := checkUser(ctx, dir, u); err != nil {
			errs = append(errs, err)
		}
	}
	for _, t := range a.Teams {
		ids, err := dir.TeamsNamed(ctx, t)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("team %q: %w: %v", t, ErrDirectoryUnavailable, err))
		case len(ids) > 1:
			errs = append(errs, fmt.Errorf("team %q: %d teams bear this name; name the team by its PagerDuty id: %w", t, len(ids), ErrAmbiguousName))
		case len(ids) == 0 && !pagerDutyID.MatchString(t):
			errs = append(errs, fmt.Errorf("team %q: no team bears this name; name the team by its PagerDuty id: %w", t, ErrAmbiguousName))
		}
	}
	return errs
}

func checkUser(ctx context.Context, dir Directory, u string) error {
	var err error
	if strings.Contains(u, "@") {
		_, err = dir.UserByEmail(ctx, u)
	} else if pagerDutyID.MatchString(u) {
		_, err = dir.User(ctx, u)
	} else {
		return fmt.Errorf("user %q: neither a PagerDuty user id nor an email: %w", u, ErrAmbiguousName)
	}
	switch {
	case errors.Is(err, ErrUnknown):
		return fmt.Errorf("user %q: PagerDuty has no such user: %w", u, ErrAmbiguousName)
	case err != nil:
		return fmt.Errorf("user %q: %w: %v", u, ErrDirectoryUnavailable, err)
	}
	return nil
}
