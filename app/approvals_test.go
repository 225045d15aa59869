package app

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/pagerduty"
)

// TestTeamApproversThroughPagerDuty proves a runbook that names approvers by team works with
// the real client: team membership comes from PagerDuty's user object.
func TestTeamApproversThroughPagerDuty(t *testing.T) {
	pd := pdstandin.New(pdstandin.WithToken("tok"))
	url, err := pd.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pd.Close()
	pd.AddUser("PBOT001", "Alaya", "bot@example.com")
	pd.AddUser("PMEMBER", "Mia Member", "mia@example.com")
	pd.AddUser("POTHER1", "Otto Other", "otto@example.com")
	pd.SetTeams("PMEMBER", incident.Ref{ID: "PTEAM01", Summary: "checkout-oncall"})
	pd.SetTeams("POTHER1", incident.Ref{ID: "PTEAM99", Summary: "Checkout-Oncall"}) // looks alike, is another team
	client, err := pagerduty.New(pagerduty.Config{Token: "tok", APIURL: url, From: "bot@example.com"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	policy := &approval.Policy{OnCall: onCall{client}, Dir: directory{client}}
	now := time.Now()
	req := &approval.Request{Incident: "PINC1", Code: "K7Q2XA", PlanHash: "h", State: approval.StatePending, EscalationPolicy: "PEP1",
		Expires: now.Add(time.Hour), Approvers: approval.Approvers{Teams: []string{"checkout-oncall"}}}
	inc := &incident.Incident{ID: "PINC1", Status: incident.StatusTriggered, EscalationPolicy: incident.Ref{ID: "PEP1"}}
	ctx := context.Background()
	if err := policy.Check(ctx, req, incident.Ref{ID: "PMEMBER", Type: incident.AuthorUser}, inc, "h", now); err != nil {
		t.Errorf("a member of the named team was refused: %v", err)
	}
	if err := policy.Check(ctx, req, incident.Ref{ID: "POTHER1", Type: incident.AuthorUser}, inc, "h", now); !errors.Is(err, approval.ErrNotAllowed) {
		t.Errorf("someone outside the named team: err = %v, want ErrNotAllowed", err)
	}
}
