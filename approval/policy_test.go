package approval_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
)

// fakeOnCall answers from a map and counts lookups.
type fakeOnCall struct {
	byPolicy map[string][]string
	err      error
	calls    int
}

func (f *fakeOnCall) OnCallUserIDs(_ context.Context, ep string) ([]string, error) {
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
		if u.Email == email {
			return u, nil
		}
	}
	return approval.User{}, errors.New("no such user")
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
		"PDEV":    {ID: "PDEV", Email: "dev@example.com", Teams: []incident.Ref{{ID: "PTEAMDEV", Summary: "Dev"}}},
	}
	pending := func(mod func(*approval.Request)) *approval.Request {
		r := &approval.Request{
			Incident: "Q1INC", Code: "K7Q2XA", PlanHash: "h1", State: approval.StatePending,
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
	tests := []struct {
		name   string
		r      *approval.Request
		author string
		inc    *incident.Incident
		hash   string
		want   error
	}{
		{"on-call user", pending(nil), "PONCALL", open(nil), "h1", nil},
		{"assignee", pending(nil), "PASSIGN", open(nil), "h1", nil},
		{"not on call, not assigned", pending(nil), "PDEV", open(nil), "h1", approval.ErrNotAllowed},
		{"unknown author", pending(nil), "", open(nil), "h1", approval.ErrNotAllowed},
		{"alaya itself", pending(nil), "PALAYA", open(nil), "h1", approval.ErrSelf},
		{"named user by id", named([]string{"PDEV"}, nil), "PDEV", open(nil), "h1", nil},
		{"named user by email", named([]string{"Dev@Example.com"}, nil), "PDEV", open(nil), "h1", nil},
		{"named team by name", named(nil, []string{"sre"}), "PSRE", open(nil), "h1", nil},
		{"named team by id", named(nil, []string{"PTEAMSRE"}), "PSRE", open(nil), "h1", nil},
		{"named excludes on-call", named(nil, []string{"SRE"}), "PONCALL", open(nil), "h1", approval.ErrNotAllowed},
		{"named excludes assignee", named([]string{"PDEV"}, nil), "PASSIGN", open(nil), "h1", approval.ErrNotAllowed},
		{"resolved incident", pending(nil), "PONCALL", open(func(i *incident.Incident) { i.Status = incident.StatusResolved }), "h1", approval.ErrResolved},
		{"expired", pending(func(r *approval.Request) { r.Expires = now }), "PONCALL", open(nil), "h1", approval.ErrExpired},
		{"plan hash changed", pending(nil), "PONCALL", open(nil), "h2", approval.ErrPlanChanged},
		{"plan hash unknown", pending(nil), "PONCALL", open(nil), "", approval.ErrPlanChanged},
		{"already approved", pending(func(r *approval.Request) { r.State = approval.StateApproved }), "PONCALL", open(nil), "h1", approval.ErrNotPending},
		{"cancelled", pending(func(r *approval.Request) { r.State = approval.StateCancelled }), "PONCALL", open(nil), "h1", approval.ErrNotPending},
		{"no such gate", nil, "PONCALL", open(nil), "h1", approval.ErrNotPending},
		{"gate of another incident", pending(func(r *approval.Request) { r.Incident = "Q2OTHER" }), "PONCALL", open(nil), "h1", approval.ErrNotPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oc := &fakeOnCall{byPolicy: map[string][]string{"PEP": {"PONCALL"}}}
			p := &approval.Policy{OnCall: oc, Dir: dir, SelfUserID: "PALAYA"}
			err := p.Check(t.Context(), tt.r, incident.Ref{ID: tt.author, Summary: tt.author}, tt.inc, tt.hash, now)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if tt.want != nil && approval.Reason(err) == "error" {
				t.Fatalf("refusal %v has no reason code", err)
			}
			if tt.want != nil && tt.want != approval.ErrNotAllowed && oc.calls > 0 {
				t.Fatalf("refusal %q looked up the on-call schedule", approval.Reason(err))
			}
		})
	}
}

func TestPolicyOnCallLookupFailureIsNotARefusal(t *testing.T) {
	p := &approval.Policy{OnCall: &fakeOnCall{err: errors.New("429 rate limited")}}
	r := &approval.Request{Incident: "Q1", PlanHash: "h", State: approval.StatePending, Expires: time.Now().Add(time.Hour)}
	inc := &incident.Incident{ID: "Q1", Status: incident.StatusAcknowledged, EscalationPolicy: incident.Ref{ID: "PEP"}}
	err := p.Check(t.Context(), r, incident.Ref{ID: "PX"}, inc, "h", time.Now())
	if err == nil || approval.Refused(err) || approval.Reason(err) != "error" {
		t.Fatalf("a failed lookup must be retried, not reported as a refusal: %v (%s)", err, approval.Reason(err))
	}
}
