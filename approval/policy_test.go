package approval_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
)

// fakeOnCall answers from a map and counts lookups.
type fakeOnCall struct {
	byPolicy map[string][]approval.OnDuty
	err      error
	calls    int
}

func (f *fakeOnCall) OnCalls(_ context.Context, ep string) ([]approval.OnDuty, error) {
	f.calls++
	return f.byPolicy[ep], f.err
}

// fakeDir is a user directory held in a map.
type fakeDir map[string]approval.User

func (d fakeDir) User(_ context.Context, id string) (approval.User, error) {
	u, ok := d[id]
	if !ok {
		return approval.User{}, errors.New("no such user")
	}
	return u, nil
}

func (d fakeDir) UserByEmail(_ context.Context, email string) (approval.User, error) {
	for _, u := range d {
		if strings.EqualFold(u.Email, email) {
			return u, nil
		}
	}
	return approval.User{}, errors.New("no such user")
}

// TeamsNamed finds teams by exact name among the users' teams.
func (d fakeDir) TeamsNamed(_ context.Context, name string) ([]string, error) {
	var ids []string
	for _, u := range d {
		for _, t := range u.Teams {
			if t.Summary == name && !slices.Contains(ids, t.ID) {
				ids = append(ids, t.ID)
			}
		}
	}
	return ids, nil
}

var (
	_ approval.OnCall    = (*fakeOnCall)(nil)
	_ approval.Directory = fakeDir(nil)
)

func TestPolicyCheck(t *testing.T) {
	now := time.Date(2026, 3, 14, 3, 10, 0, 0, time.UTC)
	dir := fakeDir{
		"PONCALL": {ID: "PONCALL", Email: "oncall@example.com"},
		"PASSIGN": {ID: "PASSIGN", Email: "assignee@example.com"},
		"PSRE":    {ID: "PSRE", Email: "sre@example.com", Teams: []incident.Ref{{ID: "PTEAMSRE", Summary: "SRE"}}},
		"PFAKE":   {ID: "PFAKE", Email: "fake@example.com", Teams: []incident.Ref{{ID: "PTEAMFAKE", Summary: "sre"}}},
		"PDEV":    {ID: "PDEV", Email: "dev@example.com", Teams: []incident.Ref{{ID: "PTEAMDEV", Summary: "Dev"}}},
	}
	pending := func(mod func(*approval.Request)) *approval.Request {
		r := &approval.Request{
			Incident: "Q1INC", Code: "K7Q2XA", PlanHash: "h1", State: approval.StatePending, EscalationPolicy: "PEP",
			Created: now.Add(-10 * time.Minute), Expires: now.Add(20 * time.Minute),
		}
		if mod != nil {
			mod(r)
		}
		return r
	}
	open := func(mod func(*incident.Incident)) *incident.Incident {
		inc := &incident.Incident{
			ID: "Q1INC", Status: incident.StatusTriggered,
			EscalationPolicy: incident.Ref{ID: "PEP"}, Assignees: []incident.Ref{{ID: "PASSIGN"}},
		}
		if mod != nil {
			mod(inc)
		}
		return inc
	}
	named := func(users, teams []string) *approval.Request {
		return pending(func(r *approval.Request) { r.Approvers = approval.Approvers{Users: users, Teams: teams} })
	}
	user := func(id string) incident.Ref { return incident.Ref{ID: id, Type: incident.AuthorUser, Summary: id} }
	tests := []struct {
		name   string
		r      *approval.Request
		author incident.Ref
		inc    *incident.Incident
		hash   string
		want   error
	}{
		{"on-call user at level 1", pending(nil), user("PONCALL"), open(nil), "h1", nil},
		{"on call at level 2 only", pending(nil), user("PLEVEL2"), open(nil), "h1", approval.ErrNotAllowed},
		{"assignee not on call", pending(nil), user("PASSIGN"), open(nil), "h1", approval.ErrNotAllowed},
		{"not on call, not assigned", pending(nil), user("PDEV"), open(nil), "h1", approval.ErrNotAllowed},
		{"unknown author", pending(nil), user(""), open(nil), "h1", approval.ErrNotAllowed},
		{"a service with the on-call's id", pending(nil), incident.Ref{ID: "PONCALL", Type: "service_reference"}, open(nil), "h1", approval.ErrNotAllowed},
		{"an author of no type", pending(nil), incident.Ref{ID: "PONCALL"}, open(nil), "h1", approval.ErrNotAllowed},
		{"escalation policy moved", pending(nil), user("PEVIL"), open(func(i *incident.Incident) { i.EscalationPolicy.ID = "PEPEVIL" }), "h1", approval.ErrNotAllowed},
		{"no escalation policy at the gate", pending(func(r *approval.Request) { r.EscalationPolicy = "" }), user("PONCALL"), open(nil), "h1", approval.ErrNotAllowed},
		{"alaya itself", pending(nil), user("PALAYA"), open(nil), "h1", approval.ErrSelf},
		{"named user by id", named([]string{"PDEV"}, nil), user("PDEV"), open(nil), "h1", nil},
		{"named user by email", named([]string{"dev@example.com"}, nil), user("PDEV"), open(nil), "h1", nil},
		{"named team by its one name", named(nil, []string{"SRE"}), user("PSRE"), open(nil), "h1", nil},
		{"named team by id", named(nil, []string{"PTEAMSRE"}), user("PSRE"), open(nil), "h1", nil},
		{"look-alike team name", named(nil, []string{"SRE"}), user("PFAKE"), open(nil), "h1", approval.ErrNotAllowed},
		{"named excludes on-call", named(nil, []string{"SRE"}), user("PONCALL"), open(nil), "h1", approval.ErrNotAllowed},
		{"resolved incident", pending(nil), user("PONCALL"), open(func(i *incident.Incident) { i.Status = incident.StatusResolved }), "h1", approval.ErrResolved},
		{"expired", pending(func(r *approval.Request) { r.Expires = now }), user("PONCALL"), open(nil), "h1", approval.ErrExpired},
		{"plan hash changed", pending(nil), user("PONCALL"), open(nil), "h2", approval.ErrPlanChanged},
		{"plan hash unknown", pending(nil), user("PONCALL"), open(nil), "", approval.ErrPlanChanged},
		{"already approved", pending(func(r *approval.Request) { r.State = approval.StateApproved }), user("PONCALL"), open(nil), "h1", approval.ErrAlreadyDecided},
		{"already approved, asked by someone not on call", pending(func(r *approval.Request) { r.State = approval.StateApproved }), user("PDEV"), open(nil), "h1", approval.ErrNotAllowed},
		{"cancelled", pending(func(r *approval.Request) { r.State = approval.StateCancelled }), user("PONCALL"), open(nil), "h1", approval.ErrNotPending},
		{"no such gate", nil, user("PONCALL"), open(nil), "h1", approval.ErrNotFound},
		{"gate of another incident", pending(func(r *approval.Request) { r.Incident = "Q2OTHER" }), user("PONCALL"), open(nil), "h1", approval.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oc := &fakeOnCall{byPolicy: map[string][]approval.OnDuty{
				"PEP":     {{UserID: "PONCALL", Level: 1}, {UserID: "PLEVEL2", Level: 2}},
				"PEPEVIL": {{UserID: "PEVIL", Level: 1}},
			}}
			p := &approval.Policy{OnCall: oc, Dir: dir, Self: func(_ context.Context, id string) bool { return id == "PALAYA" }}
			err := p.Check(t.Context(), tt.r, tt.author, tt.inc, tt.hash, now)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if tt.want != nil && approval.Reason(err) == "error" {
				t.Fatalf("refusal %v has no reason code", err)
			}
		})
	}
}

// Levels beyond the first and assignees count only when the config says so.
func TestPolicyOptIns(t *testing.T) {
	now := time.Now()
	r := &approval.Request{Incident: "Q1", PlanHash: "h", State: approval.StatePending, EscalationPolicy: "PEP", Expires: now.Add(time.Hour)}
	inc := &incident.Incident{ID: "Q1", Status: incident.StatusTriggered, EscalationPolicy: incident.Ref{ID: "PEP"}, Assignees: []incident.Ref{{ID: "PASSIGN"}}}
	oc := &fakeOnCall{byPolicy: map[string][]approval.OnDuty{"PEP": {{UserID: "PLEVEL2", Level: 2}}}}
	p := &approval.Policy{OnCall: oc, MaxLevel: 2, Assignees: true}
	for _, id := range []string{"PLEVEL2", "PASSIGN"} {
		if err := p.Check(t.Context(), r, incident.Ref{ID: id, Type: incident.AuthorUser}, inc, "h", now); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

func TestPolicyOnCallLookupFailureIsNotARefusal(t *testing.T) {
	p := &approval.Policy{OnCall: &fakeOnCall{err: errors.New("429 rate limited")}}
	r := &approval.Request{Incident: "Q1", PlanHash: "h", State: approval.StatePending, EscalationPolicy: "PEP", Expires: time.Now().Add(time.Hour)}
	inc := &incident.Incident{ID: "Q1", Status: incident.StatusAcknowledged, EscalationPolicy: incident.Ref{ID: "PEP"}}
	err := p.Check(t.Context(), r, incident.Ref{ID: "PX", Type: incident.AuthorUser}, inc, "h", time.Now())
	if err == nil || approval.Refused(err) || approval.Reason(err) != "error" {
		t.Fatalf("a failed lookup must be retried, not reported as a refusal: %v (%s)", err, approval.Reason(err))
	}
}
