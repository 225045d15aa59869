package runbooks

import (
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/incident"
)

func event(mut func(*incident.Incident)) *incident.Event {
	ev := &incident.Event{
		ID: "EV1", Type: incident.TypeTriggered, Source: "pagerduty",
		Incident: incident.Incident{
			ID: "PINC1", Number: 42, Title: "Checkout latency high", Status: "triggered", Urgency: "high",
			Priority: "P2", Service: incident.Ref{ID: "PSVC", Summary: "checkout"},
			Alerts: []incident.Alert{
				{ID: "A1", Summary: "p99 latency", Severity: "critical", Details: map[string]any{"host": "app-1", "check": "latency"}},
				{ID: "A2", Summary: "p99 latency", Severity: "critical", Details: map[string]any{"host": "app-2"}},
			},
		},
	}
	if mut != nil {
		mut(&ev.Incident)
	}
	return ev
}

func loadMatch(t *testing.T) *Catalog {
	t.Helper()
	c, err := LoadDir("testdata/match", testInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type outcome struct {
	name, why, skipped string
	matched            bool
}

func decisions(ds []Decision) []outcome {
	var out []outcome
	for _, d := range ds {
		out = append(out, outcome{name: d.Runbook.Name, why: d.Why, skipped: d.Skipped, matched: d.Matched})
	}
	return out
}

func TestEvaluateOrderAndWhy(t *testing.T) {
	c := loadMatch(t)
	got := decisions(c.Evaluate(event(nil)))
	want := []outcome{
		{name: "disk", why: `any(alerts, .details.check == "disk") is false (.details.check of alerts is ["latency",null]) and incident.title contains "disk" is false (incident.title is "Checkout latency high")`},
		{name: "checkout-high", matched: true, why: `service == "checkout" is true (service is "checkout") and urgency == "high" is true (urgency is "high") and priority in ["P4", "P5"] is false (priority is "P2")`},
		{name: "same-order", skipped: "an earlier runbook (checkout-high) stopped matching"},
		{name: "basics", skipped: "an earlier runbook (checkout-high) stopped matching"},
	}
	if len(got) != len(want) {
		t.Fatalf("decisions = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("decision %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestEvaluateDecidingSubexpression(t *testing.T) {
	c := loadMatch(t)
	ev := event(func(i *incident.Incident) { i.Urgency = "low"; i.Title = "disk full on app-1" })
	ds := c.Evaluate(ev)
	if !ds[0].Matched || ds[0].Why != `incident.title contains "disk" is true (incident.title is "disk full on app-1")` {
		t.Errorf("disk: %+v", ds[0])
	}
	if ds[1].Matched || ds[1].Why != `urgency == "high" is false (urgency is "low")` {
		t.Errorf("checkout-high: %+v", ds[1])
	}
	if !ds[2].Matched || !ds[3].Matched {
		t.Errorf("without a stop, later runbooks match: %+v %+v", ds[2], ds[3])
	}
}

func TestMatchOnlyMatched(t *testing.T) {
	c := loadMatch(t)
	ev := event(func(i *incident.Incident) { i.Urgency = "low" })
	var names []string
	for _, d := range c.Match(ev) {
		names = append(names, d.Runbook.Name)
	}
	if strings.Join(names, ",") != "same-order,basics" {
		t.Errorf("matched %v", names)
	}
}

func TestRuleRuntimeErrorDoesNotMatch(t *testing.T) {
	c := loadMatch(t)
	ev := event(func(i *incident.Incident) { i.Alerts = nil; i.Urgency = "low" })
	for _, d := range c.Evaluate(ev) {
		if d.Runbook.Name != "same-order" {
			continue
		}
		if d.Matched || d.Err == nil || !strings.HasPrefix(d.Why, "rule failed: ") {
			t.Errorf("same-order: %+v", d)
		}
	}
}

// TestMatchConcurrent: the worker matches events from several goroutines on one catalog.
func TestMatchConcurrent(t *testing.T) {
	c := loadMatch(t)
	want := decisions(c.Evaluate(event(nil)))
	done := make(chan []outcome)
	for range 8 {
		go func() {
			var got []outcome
			for range 50 {
				got = decisions(c.Evaluate(event(nil)))
			}
			done <- got
		}()
	}
	for range 8 {
		if got := <-done; len(got) != len(want) || got[1] != want[1] {
			t.Errorf("concurrent evaluation differs: %+v", got)
		}
	}
}
