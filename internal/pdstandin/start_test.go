package pdstandin_test

import (
	"testing"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/pagerduty"
)

// TestStartServesTheRealClient is how the demo uses the stand-in: on a real port, through
// Alaya's client over go-pagerduty.
func TestStartServesTheRealClient(t *testing.T) {
	pd := pdstandin.New()
	base, err := pd.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pd.Close()
	pd.AddUser("PBOT001", "Alaya", "alaya@example.com")
	id := pd.AddIncident(incident.Incident{Title: "Disk full", Alerts: []incident.Alert{{Summary: "disk", Details: map[string]any{"host": "app-3"}}}})

	c, err := pagerduty.New(pagerduty.Config{Token: "any", APIURL: base, From: "alaya@example.com", MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := c.Alerts(ctx(t), id)
	if err != nil || len(alerts) != 1 || alerts[0].Details["host"] != "app-3" {
		t.Fatalf("Alerts = %+v, %v", alerts, err)
	}
	if _, err := c.AddNote(ctx(t), id, "found it"); err != nil {
		t.Fatal(err)
	}
	if notes, err := pd.WaitNotes(ctx(t), id, 1); err != nil || notes[0].Content != "found it" {
		t.Fatalf("notes = %+v, %v", notes, err)
	}
	pd.Close()
	if _, err := c.Incident(ctx(t), id); err == nil {
		t.Error("request after Close succeeded")
	}
}
