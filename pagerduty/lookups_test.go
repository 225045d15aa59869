package pagerduty_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/pagerduty"
)

func TestIncident(t *testing.T) {
	f := newFixture(t)
	created := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)
	id := f.pd.AddIncident(incident.Incident{
		ID: "Q1ABCDE", Number: 42, Title: "Heap exhausted", Status: incident.StatusAcknowledged,
		Urgency: "low", Priority: "P2", Key: "checkout/heap", CreatedAt: created,
		Service:          incident.Ref{ID: "PSVC001", Summary: "Checkout"},
		EscalationPolicy: incident.Ref{ID: "PEP0001", Summary: "Checkout on-call"},
		Assignees:        []incident.Ref{{ID: "PUSER01", Summary: "Ada"}},
		Teams:            []incident.Ref{{ID: "PTEAM01", Summary: "Payments"}},
	})

	got, err := f.client.Incident(testContext(t), id)
	if err != nil {
		t.Fatalf("Incident: %v", err)
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"id", got.ID, "Q1ABCDE"},
		{"number", got.Number, 42},
		{"title", got.Title, "Heap exhausted"},
		{"status", got.Status, incident.StatusAcknowledged},
		{"urgency", got.Urgency, "low"},
		{"priority", got.Priority, "P2"},
		{"key", got.Key, "checkout/heap"},
		{"created", got.CreatedAt.Equal(created), true},
		{"service", got.Service.ID + "/" + got.Service.Summary, "PSVC001/Checkout"},
		{"policy", got.EscalationPolicy.ID, "PEP0001"},
		{"assignee", fmt.Sprintf("%d %s", len(got.Assignees), got.Assignees[0].ID), "1 PUSER01"},
		{"team", got.Teams[0].Summary, "Payments"},
		{"html", got.HTMLURL != "", true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
}

func TestIncidentNotFound(t *testing.T) {
	f := newFixture(t)
	_, err := f.client.Incident(testContext(t), "PNOPE01")
	if !errors.Is(err, pagerduty.ErrNotFound) || pagerduty.Retryable(err) {
		t.Fatalf("err = %v, want ErrNotFound, permanent", err)
	}
}

func TestAlertsFollowsPagination(t *testing.T) {
	tests := []struct {
		name      string
		alerts    int
		wantPages int
	}{
		{"none", 0, 1},
		{"one page", 3, 1},
		{"exactly a page", 100, 1},
		{"three pages", 250, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var alerts []incident.Alert
			for i := range tt.alerts {
				alerts = append(alerts, incident.Alert{
					Summary: fmt.Sprintf("alert %d", i), Key: fmt.Sprintf("k%d", i),
					Severity: "warning", Details: map[string]any{"host": fmt.Sprintf("app-%d", i)},
				})
			}
			id := f.pd.AddIncident(incident.Incident{Title: "many", Alerts: alerts})

			got, err := f.client.Alerts(testContext(t), id)
			if err != nil {
				t.Fatalf("Alerts: %v", err)
			}
			if len(got) != tt.alerts {
				t.Fatalf("%d alerts, want %d", len(got), tt.alerts)
			}
			for i, a := range got {
				if a.Details["host"] != fmt.Sprintf("app-%d", i) || a.Key != fmt.Sprintf("k%d", i) || a.Severity != "warning" || a.Status != "triggered" {
					t.Fatalf("alert %d = %+v, out of order or fields lost", i, a)
				}
			}
			if n := f.requestsTo("/incidents/" + id + "/alerts"); n != tt.wantPages {
				t.Errorf("%d page requests, want %d", n, tt.wantPages)
			}
		})
	}
}

func TestOnCalls(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		want   []pagerduty.OnCall
	}{
		{"each user once, at the lowest level", "PEP0001", []pagerduty.OnCall{{"PUSER01", 1}, {"PUSER02", 1}, {"PUSER03", 2}}},
		{"other policy", "PEP0002", []pagerduty.OnCall{{"PUSER09", 1}}},
		{"nobody on call", "PEP0404", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.pd.SetOnCall("PEP0001", "PUSER01", "PUSER02")
			f.pd.SetOnCallLevel("PEP0001", 2, "PUSER03", "PUSER01")
			f.pd.SetOnCall("PEP0002", "PUSER09")

			got, err := f.client.OnCalls(testContext(t), tt.policy)
			if err != nil {
				t.Fatalf("OnCalls: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("on call = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOnCallsPaginates(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := range 130 {
		ids = append(ids, fmt.Sprintf("PU%05d", i))
	}
	f.pd.SetOnCall("PEP0001", ids...)
	got, err := f.client.OnCalls(testContext(t), "PEP0001")
	if err != nil || len(got) != len(ids) || got[129].UserID != ids[129] {
		t.Fatalf("got %d on-calls, err %v; want all 130", len(got), err)
	}
}

func TestUser(t *testing.T) {
	f := newFixture(t)
	f.pd.AddUser("PUSER01", "Ada Lovelace", "ada@example.com")
	f.pd.SetTeams("PUSER01", incident.Ref{ID: "PTEAM01", Summary: "checkout-oncall"})
	p, err := f.client.User(testContext(t), "PUSER01")
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if p.Ref.ID != "PUSER01" || p.Ref.Summary != "Ada Lovelace" || p.Ref.Type != "user_reference" || p.Email != "ada@example.com" {
		t.Errorf("User = %+v", p)
	}
	if len(p.Teams) != 1 || p.Teams[0].ID != "PTEAM01" || p.Teams[0].Summary != "checkout-oncall" {
		t.Errorf("teams = %+v, want the user's team so runbooks can name approvers by team", p.Teams)
	}
	if _, err := f.client.User(testContext(t), "PNOBODY"); !errors.Is(err, pagerduty.ErrNotFound) {
		t.Errorf("unknown user err = %v, want ErrNotFound", err)
	}
}

func TestFromUserID(t *testing.T) {
	f := newFixture(t)
	f.pd.AddUser("PUSER01", "Alaya Bot Impostor", "alaya-bot@example.com.evil")
	for range 3 {
		id, err := f.client.FromUserID(testContext(t))
		if err != nil || id != "PBOT001" {
			t.Fatalf("FromUserID = %q, %v; want PBOT001", id, err)
		}
	}
	if n := f.requestsTo("/users"); n != 1 {
		t.Errorf("%d user searches, want 1 (cached)", n)
	}
}

func TestFromUserIDUnknown(t *testing.T) {
	f := newFixture(t, func(c *pagerduty.Config) { c.From = "ghost@example.com" })
	_, err := f.client.FromUserID(testContext(t))
	if !errors.Is(err, pagerduty.ErrNotFound) || pagerduty.Retryable(err) {
		t.Fatalf("err = %v, want ErrNotFound, permanent", err)
	}
}

func TestUserByEmailIsOneRequestWithTeams(t *testing.T) {
	f := newFixture(t)
	f.pd.AddUser("PUSER02", "Mia Member", "mia@example.com")
	f.pd.SetTeams("PUSER02", incident.Ref{ID: "PTEAM02", Summary: "web-oncall"})
	before := len(f.pd.Requests())
	p, err := f.client.UserByEmail(testContext(t), "MIA@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if p.Ref.ID != "PUSER02" || len(p.Teams) != 1 || p.Teams[0].Summary != "web-oncall" {
		t.Errorf("UserByEmail = %+v", p)
	}
	if n := len(f.pd.Requests()) - before; n != 1 {
		t.Errorf("UserByEmail made %d requests; the listing already holds the user", n)
	}
}
