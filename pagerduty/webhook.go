package pagerduty

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/alaya-sre/alaya/incident"
)

// ErrMalformed is wrapped by DecodeWebhook for a body that is not a PagerDuty V3 webhook Alaya
// can act on. A receiver answers 400: PagerDuty does not retry 4xx, and resending the same
// bytes cannot help.
var ErrMalformed = errors.New("pagerduty: malformed webhook")

// Source is the incident.Event.Source of everything decoded here.
const Source = incident.SourcePagerDuty

// v3Envelope and the types below are the parts of PagerDuty's V3 webhook payload Alaya reads;
// go-pagerduty has no types for it. Unknown fields are ignored, since PagerDuty adds fields
// without notice, and nullable fields (priority, incident_key, agent) decode to zero values.
type v3Envelope struct {
	Event *v3Event `json:"event"`
}

type v3Event struct {
	ID           string          `json:"id"`
	EventType    string          `json:"event_type"`
	ResourceType string          `json:"resource_type"`
	OccurredAt   string          `json:"occurred_at"`
	Agent        *v3Ref          `json:"agent"`
	Data         json.RawMessage `json:"data"`
}

type v3Ref struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	HTMLURL string `json:"html_url"`
}

// v3Incident is event.data for data.type "incident".
type v3Incident struct {
	ID               string  `json:"id"`
	HTMLURL          string  `json:"html_url"`
	Number           int     `json:"number"`
	Status           string  `json:"status"`
	Title            string  `json:"title"`
	Urgency          string  `json:"urgency"`
	IncidentKey      string  `json:"incident_key"`
	CreatedAt        string  `json:"created_at"`
	Priority         *v3Ref  `json:"priority"`
	Service          v3Ref   `json:"service"`
	EscalationPolicy v3Ref   `json:"escalation_policy"`
	Assignees        []v3Ref `json:"assignees"`
	Teams            []v3Ref `json:"teams"`
}

// v3Note is event.data for data.type "incident_note" (incident.annotated).
type v3Note struct {
	ID       string `json:"id"`
	Content  string `json:"content"`
	Trimmed  bool   `json:"trimmed"`
	Incident *v3Ref `json:"incident"`
}

// v3Related is any other event.data: Alaya keeps only which incident it concerns, found in
// data.incident or, for role assignments, in the first assignment.
type v3Related struct {
	Incident    *v3Ref `json:"incident"`
	Assignments []struct {
		Incident *v3Ref `json:"incident"`
	} `json:"incident_role_assignments"`
}

// DecodeWebhook decodes a PagerDuty V3 webhook body into an incident.Event.
//
// ID is event.id (PagerDuty keeps it across redeliveries), Type is event_type, Agent is who
// caused it (a user, an integration, or empty). For data.type "incident" the incident's
// fields are filled in; for incident.annotated (data.type "incident_note") Incident has only
// ID, Title and HTMLURL, and Note carries the note with the agent as its author. For other
// events only the incident's id is kept when the data names one; pagey.ping carries none.
// Alerts are never in a V3 webhook: the worker fetches them (Client.Alerts).
//
// Errors wrap ErrMalformed: invalid JSON, no event object, no event.id or event_type, or
// incident data without the incident's id.
func DecodeWebhook(body []byte) (*incident.Event, error) {
	// One pass over the body decodes every shape Alaya acts on (this runs for every webhook,
	// within PagerDuty's 5 s deadline). An event type whose data has a field of another shape
	// fails that pass; the slower per-type path below handles it, so no valid webhook is
	// refused for carrying data Alaya ignores.
	var fast struct {
		Event *struct {
			v3Event
			Data *v3Data `json:"data"`
		} `json:"event"`
	}
	if json.Unmarshal(body, &fast) != nil || fast.Event == nil || fast.Event.Data == nil {
		return decodeWebhookByType(body)
	}
	ev := fast.Event
	out, err := header(&ev.v3Event)
	if err != nil {
		return nil, err
	}
	switch ev.Data.Type {
	case "incident":
		err = ev.Data.v3Incident.fill(out)
	case "incident_note":
		note := v3Note{ID: ev.Data.ID, Content: ev.Data.Content, Trimmed: ev.Data.Trimmed, Incident: ev.Data.Incident}
		err = note.fill(out)
	default:
		return decodeWebhookByType(body)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// v3Data is event.data for the kinds Alaya acts on, decoded in one pass: an incident, or a
// note (whose "id" is the note's and whose "incident" names the incident).
type v3Data struct {
	Type string `json:"type"`
	v3Incident
	Content  string `json:"content"`
	Trimmed  bool   `json:"trimmed"`
	Incident *v3Ref `json:"incident"`
}

// decodeWebhookByType decodes the envelope, then event.data according to its type.
func decodeWebhookByType(body []byte) (*incident.Event, error) {
	var env v3Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, malformed("invalid json: %v", err)
	}
	if env.Event == nil {
		return nil, malformed("no event object")
	}
	out, err := header(env.Event)
	if err != nil {
		return nil, err
	}
	if err := decodeData(out, env.Event.Data); err != nil {
		return nil, err
	}
	return out, nil
}

// header checks and copies what every event has.
func header(ev *v3Event) (*incident.Event, error) {
	switch {
	case ev.ID == "":
		return nil, malformed("no event.id")
	case ev.EventType == "":
		return nil, malformed("no event.event_type")
	}
	return &incident.Event{
		ID:         ev.ID,
		Type:       ev.EventType,
		Source:     Source,
		OccurredAt: parseTime(ev.OccurredAt),
		Agent:      ev.Agent.ref(),
	}, nil
}

// decodeData fills out from event.data according to data.type.
func decodeData(out *incident.Event, data json.RawMessage) error {
	if len(bytes.TrimSpace(data)) == 0 || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil
	}
	var kind struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &kind); err != nil {
		return malformed("event.data: %v", err)
	}
	switch kind.Type {
	case "incident":
		return decodeIncident(out, data)
	case "incident_note":
		return decodeNote(out, data)
	}
	var rel v3Related
	if err := json.Unmarshal(data, &rel); err != nil {
		return malformed("event.data: %v", err)
	}
	if ref := rel.incident(); ref != nil {
		out.Incident = incident.Incident{ID: ref.ID, Title: ref.Summary, HTMLURL: ref.HTMLURL}
	}
	return nil
}

func decodeIncident(out *incident.Event, data json.RawMessage) error {
	var d v3Incident
	if err := json.Unmarshal(data, &d); err != nil {
		return malformed("incident data: %v", err)
	}
	return d.fill(out)
}

func (d *v3Incident) fill(out *incident.Event) error {
	if d.ID == "" {
		return malformed("incident data without id")
	}
	out.Incident = incident.Incident{
		ID:               d.ID,
		Number:           d.Number,
		Title:            d.Title,
		Status:           d.Status,
		Urgency:          d.Urgency,
		Key:              d.IncidentKey,
		HTMLURL:          d.HTMLURL,
		CreatedAt:        parseTime(d.CreatedAt),
		Service:          d.Service.ref(),
		EscalationPolicy: d.EscalationPolicy.ref(),
		Assignees:        refs(d.Assignees),
		Teams:            refs(d.Teams),
	}
	if d.Priority != nil {
		out.Incident.Priority = d.Priority.Summary
	}
	return nil
}

func decodeNote(out *incident.Event, data json.RawMessage) error {
	var d v3Note
	if err := json.Unmarshal(data, &d); err != nil {
		return malformed("note data: %v", err)
	}
	return d.fill(out)
}

func (d *v3Note) fill(out *incident.Event) error {
	if d.Incident == nil || d.Incident.ID == "" {
		return malformed("note data without incident.id")
	}
	out.Incident = incident.Incident{ID: d.Incident.ID, Title: d.Incident.Summary, HTMLURL: d.Incident.HTMLURL}
	out.Note = &incident.Note{ID: d.ID, Content: d.Content, Author: out.Agent, Trimmed: d.Trimmed}
	return nil
}

func (r *v3Related) incident() *v3Ref {
	if r.Incident != nil && r.Incident.ID != "" {
		return r.Incident
	}
	for _, a := range r.Assignments {
		if a.Incident != nil && a.Incident.ID != "" {
			return a.Incident
		}
	}
	return nil
}

func (r *v3Ref) ref() incident.Ref {
	if r == nil {
		return incident.Ref{}
	}
	return incident.Ref{ID: r.ID, Type: r.Type, Summary: r.Summary, HTMLURL: r.HTMLURL}
}

func refs(rs []v3Ref) []incident.Ref {
	if len(rs) == 0 {
		return nil
	}
	out := make([]incident.Ref, len(rs))
	for i := range rs {
		out[i] = rs[i].ref()
	}
	return out
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
