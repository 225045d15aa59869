package pdstandin

import (
	"crypto/rand"
	"fmt"
)

// The V3 webhook shapes, as in PagerDuty's published examples: an envelope {"event": {...}}
// whose data is an incident or an incident note.

type v3Envelope struct {
	Event v3Event `json:"event"`
}

type v3Event struct {
	ID           string    `json:"id"`
	EventType    string    `json:"event_type"`
	ResourceType string    `json:"resource_type"`
	OccurredAt   string    `json:"occurred_at"`
	Agent        *refJSON  `json:"agent"`
	Client       *v3Client `json:"client"`
	Data         any       `json:"data"`
}

type v3Client struct {
	Name string `json:"name"`
}

type v3Incident struct {
	ID               string    `json:"id"`
	Type             string    `json:"type"`
	Self             string    `json:"self"`
	HTMLURL          string    `json:"html_url"`
	Number           int       `json:"number"`
	Status           string    `json:"status"`
	IncidentKey      *string   `json:"incident_key"`
	CreatedAt        string    `json:"created_at"`
	Title            string    `json:"title"`
	IncidentType     nameJSON  `json:"incident_type"`
	Service          refJSON   `json:"service"`
	Assignees        []refJSON `json:"assignees"`
	EscalationPolicy refJSON   `json:"escalation_policy"`
	Teams            []refJSON `json:"teams"`
	Priority         *refJSON  `json:"priority"`
	Urgency          string    `json:"urgency"`
	ConferenceBridge *struct{} `json:"conference_bridge"`
	ResolveReason    *struct{} `json:"resolve_reason"`
}

type v3Note struct {
	Incident refJSON `json:"incident"`
	ID       string  `json:"id"`
	Content  string  `json:"content"`
	Trimmed  bool    `json:"trimmed"`
	Type     string  `json:"type"`
}

// publicAPI is where "self" links in webhooks point, as in PagerDuty's own payloads: a
// webhook has no request to take the stand-in's address from.
const publicAPI = "https://api.pagerduty.com"

func (s *Server) incidentData(st *incidentState) v3Incident {
	inc := st.inc
	rest := s.incidentJSON(publicAPI, st)
	d := v3Incident{
		ID: inc.ID, Type: "incident", Self: rest.Self, HTMLURL: rest.HTMLURL,
		Number: inc.Number, Status: inc.Status, IncidentKey: rest.IncidentKey,
		CreatedAt: rest.CreatedAt, Title: inc.Title, IncidentType: rest.IncidentType,
		Service: rest.Service, EscalationPolicy: rest.EscalationPolicy,
		Assignees: []refJSON{}, Teams: rest.Teams, Priority: rest.Priority, Urgency: rest.Urgency,
	}
	for _, a := range rest.Assignments {
		d.Assignees = append(d.Assignees, a.Assignee)
	}
	return d
}

func (s *Server) noteData(st *incidentState, n Note) v3Note {
	return v3Note{
		Incident: refJSON{
			ID: st.inc.ID, Type: "incident_reference", Summary: st.inc.Title,
			Self: publicAPI + "/incidents/" + st.inc.ID, HTMLURL: s.incidentHTML(st.inc),
		},
		ID: n.ID, Content: n.Content, Type: "incident_note",
	}
}

// integrationAgent is the agent of events caused by the monitoring integration (a trigger
// through the Events API, an auto-resolve), as PagerDuty reports it.
func (s *Server) integrationAgent(st *incidentState) *refJSON {
	svc := or(st.inc.Service.ID, "PSERVICE")
	return &refJSON{
		ID: "PINTEGR", Type: "inbound_integration_reference", Summary: "Events API V2",
		Self:    publicAPI + "/services/" + svc + "/integrations/PINTEGR",
		HTMLURL: s.htmlBase + "/services/" + svc + "/integrations/PINTEGR",
	}
}

func (s *Server) userRefJSON(u *User) *refJSON {
	r := s.refTo(publicAPI, s.userRef(u), "user", "users")
	return &r
}

// newEventLocked wraps data in a V3 envelope with a fresh event id.
func (s *Server) newEventLocked(eventType string, agent *refJSON, data any) v3Envelope {
	return v3Envelope{Event: v3Event{
		ID:           uuid(),
		EventType:    eventType,
		ResourceType: "incident",
		OccurredAt:   s.now().UTC().Format("2006-01-02T15:04:05.000Z"),
		Agent:        agent,
		Client:       &v3Client{Name: "PagerDuty"},
		Data:         data,
	}}
}

// uuid returns a random RFC 4122 version 4 UUID, the form of PagerDuty's event and webhook ids.
func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
