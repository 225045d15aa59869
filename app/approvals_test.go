package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/runbooks"
)

// TestTeamApproversThroughPagerDuty proves a runbook that names approvers by team works with
// the real client: team membership comes from PagerDuty's user object.
func TestTeamApproversThroughPagerDuty(t *testing.T) {
	pd, url := pdstandin.StartTest(t, pdstandin.WithToken("tok"))
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

// Runbooks name approvers by PagerDuty id; a name is accepted only if it stands for exactly
// one id, and the worker says so at load with the gate's file and line.
func TestApproverNamesResolveAtLoad(t *testing.T) {
	pd, url := pdstandin.StartTest(t, pdstandin.WithToken("tok"))
	pd.AddUser("PBOT001", "Alaya", "bot@example.com")
	pd.AddUser("PMEMBER", "Mia Member", "mia@example.com")
	pd.AddTeam("PTEAM01", "checkout-oncall")
	pd.AddTeam("PTEAM02", "sre")
	pd.AddTeam("PTEAM03", "sre")
	client, err := pagerduty.New(pagerduty.Config{Token: "tok", APIURL: url, From: "bot@example.com"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, approvers, want string
	}{
		{"ids", "{users: [PMEMBER], teams: [PTEAM09]}", ""},
		{"a unique team name and an email", "{users: [mia@example.com], teams: [checkout-oncall]}", ""},
		{"two teams bear the name", "{teams: [sre]}", `2 teams bear this name`},
		{"no team bears the name", "{teams: [Checkout-Oncall]}", `no team bears this name`},
		{"unknown email", "{users: [nobody@example.com]}", "no such user"},
		{"unknown user id", "{users: [PNOBODY]}", "no such user"},
		{"a user by name", "{users: [Mia Member]}", "neither a PagerDuty user id nor an email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			rb := "name: gated\nowner: sre\nmatch: \"true\"\ntargets:\n  expr: '[\"here\"]'\nsteps:\n  - name: approve\n    gate:\n      approvers: " +
				tt.approvers + "\n  - name: restart\n    restart: {service: demo}\n"
			if err := os.WriteFile(filepath.Join(dir, "gated.yaml"), []byte(rb), 0o644); err != nil {
				t.Fatal(err)
			}
			cat, err := runbooks.LoadDir(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = checkApprovers(context.Background(), cat, directory{client}, slog.New(slog.DiscardHandler))
			if (tt.want == "") != (err == nil) || (err != nil && (!strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "gated.yaml:7"))) {
				t.Fatalf("checkApprovers: %v, want %q at gated.yaml:7", err, tt.want)
			}
		})
	}
}

// A runbook reload (SIGHUP) whose approvers do not resolve is refused whole; the set in force
// stays.
func TestReloadChecksApproverNames(t *testing.T) {
	pd, url := pdstandin.StartTest(t, pdstandin.WithToken("tok"))
	pd.AddUser("PBOT001", "Alaya", "bot@example.com")
	pd.AddTeam("PTEAM02", "sre")
	pd.AddTeam("PTEAM03", "sre")
	client, err := pagerduty.New(pagerduty.Config{Token: "tok", APIURL: url, From: "bot@example.com"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gated := func(approvers string) string {
		return "name: gated\nowner: sre\nmatch: \"true\"\ntargets:\n  expr: '[\"here\"]'\nsteps:\n  - name: approve\n    gate:\n      approvers: " +
			approvers + "\n  - name: restart\n    restart: {service: demo}\n"
	}
	writeTestFile(t, filepath.Join(dir, "gated.yaml"), gated("{teams: [PTEAM02]}"))
	c, err := loadCatalog(dir, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c.check = func(cat *runbooks.Catalog) error {
		return checkApprovers(context.Background(), cat, directory{client}, slog.New(slog.DiscardHandler))
	}
	before := c.Current()
	writeTestFile(t, filepath.Join(dir, "gated.yaml"), gated("{teams: [sre]}"))
	if err := c.Reload(); err == nil || !strings.Contains(err.Error(), "2 teams bear this name") {
		t.Fatalf("reload: %v", err)
	}
	if c.Current() != before {
		t.Fatal("a set with an ambiguous approver was put in force")
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
