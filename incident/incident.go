// Package incident is Alaya's vocabulary for what happened: the normalized event that every
// source (PagerDuty V3 webhooks, Alertmanager, a generic signed webhook) is turned into, and the
// incident model that runbook rules are written against. It imports no infrastructure, so the
// receiver, the worker and the offline tools (`alaya plan`, `alaya test`) all share one model.
package incident

import "time"

// Event types Alaya acts on. Others are accepted, queued and ignored by the worker.
const (
	TypeTriggered    = "incident.triggered"
	TypeAcknowledged = "incident.acknowledged"
	TypeResolved     = "incident.resolved"
	TypeAnnotated    = "incident.annotated"
	TypeReopened     = "incident.reopened"
	TypePing         = "pagey.ping"
)

// Incident statuses as PagerDuty spells them.
const (
	StatusTriggered    = "triggered"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
)

// Ref points at another object (user, service, team, escalation policy) by id, with the
// human-readable summary PagerDuty sends alongside it.
type Ref struct {
	ID      string `json:"id,omitempty"`
	Type    string `json:"type,omitempty"`
	Summary string `json:"summary,omitempty"`
	HTMLURL string `json:"html_url,omitempty"`
}

// Event is one delivery from a source, normalized. ID is the source's delivery id (PagerDuty's
// event.id / X-Webhook-Id), which makes redeliveries recognisable end to end.
type Event struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Source     string    `json:"source"`
	OccurredAt time.Time `json:"occurred_at"`
	Agent      Ref       `json:"agent"`
	Incident   Incident  `json:"incident"`
	// Note is set for incident.annotated: the note that was added.
	Note *Note `json:"note,omitempty"`
	// Chat is set for a decision taken in a chat (a Slack button press): where it was taken
	// and how to answer the person. The receiver signs it with the note.
	Chat *ChatAction `json:"chat,omitempty"`
}

// ChatAction is a press of a button in a chat message, as the receiver verified it: who
// pressed (the chat's own user id, not yet a PagerDuty user), on which message, and the URL
// that answers them privately.
type ChatAction struct {
	Team        string `json:"team"`
	User        string `json:"user"`
	Channel     string `json:"channel"`
	MessageTS   string `json:"message_ts"`
	ThreadTS    string `json:"thread_ts,omitempty"`
	ResponseURL string `json:"response_url,omitempty"`
}

// Incident is what runbook rules see. Alerts are filled in by the worker (PagerDuty's V3
// webhooks do not carry them); Labels are free-form tags from sources that have them
// (Alertmanager's common labels) and are empty for PagerDuty.
type Incident struct {
	ID               string            `json:"id"`
	Number           int               `json:"number,omitempty"`
	Title            string            `json:"title"`
	Status           string            `json:"status"`
	Urgency          string            `json:"urgency,omitempty"`
	Priority         string            `json:"priority,omitempty"`
	Key              string            `json:"incident_key,omitempty"`
	HTMLURL          string            `json:"html_url,omitempty"`
	CreatedAt        time.Time         `json:"created_at"`
	Service          Ref               `json:"service"`
	EscalationPolicy Ref               `json:"escalation_policy"`
	Assignees        []Ref             `json:"assignees,omitempty"`
	Teams            []Ref             `json:"teams,omitempty"`
	Alerts           []Alert           `json:"alerts,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
}

// Alert is one alert grouped into the incident. Details is the free-form body of the alert
// (for PagerDuty Events API v2: custom_details plus source/component/group/class), where host
// names usually live.
type Alert struct {
	ID       string         `json:"id"`
	Summary  string         `json:"summary"`
	Status   string         `json:"status,omitempty"`
	Severity string         `json:"severity,omitempty"`
	Key      string         `json:"alert_key,omitempty"`
	Details  map[string]any `json:"details,omitempty"`
}

// Note is a note on an incident, as delivered by incident.annotated.
type Note struct {
	ID      string `json:"id"`
	Content string `json:"content"`
	Author  Ref    `json:"author"`
	// Trimmed is set when the webhook carried only the start of the content; the whole note
	// is read from the API.
	Trimmed bool `json:"trimmed,omitempty"`
	// Signature is set on decisions the receiver took in (the approval page, a Slack button):
	// its HMAC over the decision, so that a worker believes only decisions the receiver
	// verified (see approval.SignNote).
	Signature string `json:"signature,omitempty"`
}

// Open reports whether the incident still needs attention.
func (i *Incident) Open() bool { return i.Status != StatusResolved }
