package webhook_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/webhook"
)

var amToken = []byte("am-token-5d1e")

// capture is a Publisher that keeps what it was given and reports repeats as duplicates,
// like the stream does.
type capture struct{ events map[string]*incident.Event }

func (c *capture) Publish(_ context.Context, ev *incident.Event) (uint64, bool, error) {
	_, dup := c.events[ev.ID]
	c.events[ev.ID] = ev
	return uint64(len(c.events)), dup, nil
}

func postAM(h http.Handler, body []byte, auth func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v1/webhooks/alertmanager", bytes.NewReader(body))
	if auth != nil {
		auth(req)
	}
	return recordServe(h, req)
}

func bearer(tok []byte) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+string(tok)) }
}

func TestAlertmanagerHandler(t *testing.T) {
	pub := &capture{events: map[string]*incident.Event{}}
	h := webhook.NewAlertmanagerHandler(webhook.AlertmanagerDeps{
		Publisher: pub, Authorize: webhook.BearerToken(func() [][]byte { return [][]byte{amToken} }),
		Registerer: prometheus.NewRegistry(),
	})
	firing, resolved, grown := fixture(t, "alertmanager.firing.json"), fixture(t, "alertmanager.resolved.json"), fixture(t, "alertmanager.firing2.json")
	for _, tc := range []struct {
		name   string
		body   []byte
		auth   func(*http.Request)
		status int
		want   string
	}{
		{"firing", firing, bearer(amToken), 202, `"duplicate":false`},
		{"the same notification again", firing, bearer(amToken), 202, `"duplicate":true`},
		{"a grown group is a new event", grown, bearer(amToken), 202, `"duplicate":false`},
		{"resolved", resolved, bearer(amToken), 202, `"duplicate":false`},
		{"no credentials", firing, nil, 401, "credentials"},
		{"wrong token", firing, bearer([]byte("guess")), 401, "credentials"},
		{"version 3", []byte(strings.Replace(string(firing), `"version":"4"`, `"version":"3"`, 1)), bearer(amToken), 400, "version"},
		{"no alerts", []byte(`{"version":"4","groupKey":"g","status":"firing","alerts":[]}`), bearer(amToken), 400, "no alerts"},
		{"not JSON", []byte("{"), bearer(amToken), 400, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := postAM(h, tc.body, tc.auth)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("%d %s, want %d with %s", rec.Code, rec.Body.String(), tc.status, tc.want)
			}
		})
	}
	if len(pub.events) != 3 {
		t.Fatalf("%d distinct events, want 3", len(pub.events))
	}
	checkAlertmanagerEvents(t, pub.events)
}

func checkAlertmanagerEvents(t *testing.T, events map[string]*incident.Event) {
	t.Helper()
	byType := map[string][]*incident.Event{}
	incidents := map[string]bool{}
	for _, ev := range events {
		byType[ev.Type] = append(byType[ev.Type], ev)
		incidents[ev.Incident.ID] = true
	}
	if len(incidents) != 1 {
		t.Errorf("one alert group must be one incident, got %v", incidents)
	}
	if len(byType[incident.TypeTriggered]) != 2 || len(byType[incident.TypeResolved]) != 1 {
		t.Fatalf("types: %v", byType)
	}
	res := byType[incident.TypeResolved][0]
	want := time.Date(2026, 3, 14, 3, 20, 0, 0, time.UTC)
	if res.Source != "alertmanager" || res.Incident.Status != incident.StatusResolved || !res.OccurredAt.Equal(want) {
		t.Errorf("resolved event: %+v", res)
	}
	for _, ev := range byType[incident.TypeTriggered] {
		if len(ev.Incident.Alerts) == 1 {
			inc := ev.Incident
			a := inc.Alerts[0]
			if inc.Title != "Disk on app-3 is 94% full" || inc.Labels["service"] != "checkout-api" || inc.Service.Summary != "checkout-api" {
				t.Errorf("incident: %+v", inc)
			}
			if a.ID != "a1b2c3d4e5f60718" || a.Severity != "critical" || a.Details["instance"] != "app-3.prod.example.net:9100" || a.Details["description"] == nil {
				t.Errorf("alert: %+v", a)
			}
		} else if ev.Incident.Title != "DiskAlmostFull" || len(ev.Incident.Alerts) != 2 {
			t.Errorf("grown group: title %q, %d alerts", ev.Incident.Title, len(ev.Incident.Alerts))
		}
	}
}

func TestAlertmanagerBasicAuth(t *testing.T) {
	pub := &capture{events: map[string]*incident.Event{}}
	h := webhook.NewAlertmanagerHandler(webhook.AlertmanagerDeps{
		Publisher: pub, Authorize: webhook.BasicAuth("alertmanager", func() [][]byte { return [][]byte{[]byte("old"), []byte("new")} }),
	})
	body := fixture(t, "alertmanager.firing.json")
	for _, tc := range []struct {
		user, pass string
		status     int
	}{{"alertmanager", "new", 202}, {"alertmanager", "old", 202}, {"alertmanager", "", 401}, {"other", "new", 401}} {
		rec := postAM(h, body, func(r *http.Request) { r.SetBasicAuth(tc.user, tc.pass) })
		if rec.Code != tc.status {
			t.Errorf("%s:%s → %d, want %d", tc.user, tc.pass, rec.Code, tc.status)
		}
	}
}
