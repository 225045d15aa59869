package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

// SourceAlertmanager is the Event.Source of events from Alertmanager.
const SourceAlertmanager = "alertmanager"

// AlertmanagerIncidentPrefix starts the ids of incidents made from Alertmanager groups, so
// the worker can tell them from PagerDuty incidents.
const AlertmanagerIncidentPrefix = "am-"

// amMessage is Alertmanager's webhook payload, version 4 (notify/webhook in Alertmanager).
// Fields we do not use (truncatedAlerts, notification_reason, routeLabels) are ignored.
type amMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []amAlert         `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// decodeAlertmanager maps one notification to one event. Alertmanager notifies a group again
// when it changes, and repeats an unchanged one every repeat_interval; the event id hashes
// what identifies the notification's content (group, status, and each alert's fingerprint and
// start), so a retry or a repeat is a duplicate and a changed group is a new event. The
// incident id hashes the group key alone: every notification of a group is one incident.
func decodeAlertmanager(body []byte) (*incident.Event, error) {
	var m amMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	ev := &incident.Event{
		ID:         "am-" + m.eventHash(),
		Type:       incident.TypeTriggered,
		Source:     SourceAlertmanager,
		OccurredAt: m.occurredAt(),
		Agent:      incident.Ref{Type: "alertmanager_receiver", Summary: m.Receiver},
		Incident:   m.incident(),
	}
	if m.Status == "resolved" {
		ev.Type = incident.TypeResolved
	}
	return ev, nil
}

func (m *amMessage) validate() error {
	switch {
	case m.Version != "4":
		return fmt.Errorf("webhook version %q, want 4", m.Version)
	case m.GroupKey == "":
		return errors.New("groupKey missing")
	case m.Status != "firing" && m.Status != "resolved":
		return fmt.Errorf("status %q, want firing or resolved", m.Status)
	case len(m.Alerts) == 0:
		return errors.New("no alerts")
	}
	return nil
}

func (m *amMessage) incident() incident.Incident {
	inc := incident.Incident{
		ID:      AlertmanagerIncidentPrefix + shortHash(m.GroupKey),
		Title:   m.title(),
		Status:  incident.StatusTriggered,
		Urgency: "high",
		Key:     m.GroupKey,
		HTMLURL: m.ExternalURL,
		Service: incident.Ref{Summary: m.CommonLabels["service"]},
		Labels:  m.CommonLabels,
	}
	if m.Status == "resolved" {
		inc.Status = incident.StatusResolved
	}
	for _, a := range m.Alerts {
		if inc.CreatedAt.IsZero() || a.StartsAt.Before(inc.CreatedAt) {
			inc.CreatedAt = a.StartsAt
		}
		inc.Alerts = append(inc.Alerts, a.alert())
	}
	return inc
}

func (m *amMessage) title() string {
	for _, t := range []string{m.CommonAnnotations["summary"], m.CommonLabels["alertname"], m.GroupLabels["alertname"]} {
		if t != "" {
			return t
		}
	}
	return m.GroupKey
}

// alert carries labels and annotations as details, where runbook rules look for hosts;
// a label wins over an annotation of the same name.
func (a amAlert) alert() incident.Alert {
	details := make(map[string]any, len(a.Labels)+len(a.Annotations))
	for k, v := range a.Annotations {
		details[k] = v
	}
	for k, v := range a.Labels {
		details[k] = v
	}
	summary := a.Annotations["summary"]
	if summary == "" {
		summary = a.Labels["alertname"]
	}
	return incident.Alert{
		ID: a.Fingerprint, Summary: summary, Status: a.Status,
		Severity: a.Labels["severity"], Key: a.Fingerprint, Details: details,
	}
}

// occurredAt is derived from the payload, never the clock, so a retried notification decodes
// to the identical event: the latest start (firing) or end (resolved).
func (m *amMessage) occurredAt() time.Time {
	var t time.Time
	for _, a := range m.Alerts {
		at := a.StartsAt
		if m.Status == "resolved" && !a.EndsAt.IsZero() {
			at = a.EndsAt
		}
		if at.After(t) {
			t = at
		}
	}
	return t
}

func (m *amMessage) eventHash() string {
	parts := make([]string, len(m.Alerts))
	for i, a := range m.Alerts {
		parts[i] = a.Fingerprint + "@" + a.StartsAt.UTC().Format(time.RFC3339Nano)
	}
	slices.Sort(parts)
	return shortHash(append([]string{m.GroupKey, m.Status}, parts...)...)
}

// shortHash is 128 bits of SHA-256 over the NUL-separated parts, in hex.
func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
