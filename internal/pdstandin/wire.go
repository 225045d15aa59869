package pdstandin

import (
	"net/http"

	"github.com/alaya-sre/alaya/incident"
)

// The REST API's JSON shapes, as PagerDuty's OpenAPI document and samples show them, limited
// to the fields a client of these endpoints reads. Nullable fields are pointers so they
// encode as null the way PagerDuty sends them.

type refJSON struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary,omitempty"`
	Self    string `json:"self,omitempty"`
	HTMLURL string `json:"html_url,omitempty"`
}

type incidentJSON struct {
	ID                 string           `json:"id"`
	Type               string           `json:"type"`
	Summary            string           `json:"summary"`
	Self               string           `json:"self"`
	HTMLURL            string           `json:"html_url"`
	IncidentNumber     int              `json:"incident_number"`
	Title              string           `json:"title"`
	CreatedAt          string           `json:"created_at"`
	UpdatedAt          string           `json:"updated_at"`
	Status             string           `json:"status"`
	IncidentKey        *string          `json:"incident_key"`
	Service            refJSON          `json:"service"`
	Assignments        []assignmentJSON `json:"assignments"`
	AssignedVia        string           `json:"assigned_via"`
	LastStatusChangeAt string           `json:"last_status_change_at"`
	ResolvedAt         *string          `json:"resolved_at"`
	AlertCounts        alertCountsJSON  `json:"alert_counts"`
	IsMergeable        bool             `json:"is_mergeable"`
	IncidentType       nameJSON         `json:"incident_type"`
	EscalationPolicy   refJSON          `json:"escalation_policy"`
	Teams              []refJSON        `json:"teams"`
	Priority           *refJSON         `json:"priority"`
	Urgency            string           `json:"urgency"`
}

type assignmentJSON struct {
	At       string  `json:"at"`
	Assignee refJSON `json:"assignee"`
}

type alertCountsJSON struct {
	All       int `json:"all"`
	Triggered int `json:"triggered"`
	Resolved  int `json:"resolved"`
}

type nameJSON struct {
	Name string `json:"name"`
}

type alertJSON struct {
	ID         string        `json:"id"`
	Type       string        `json:"type"`
	Summary    string        `json:"summary"`
	Self       string        `json:"self"`
	HTMLURL    string        `json:"html_url"`
	CreatedAt  string        `json:"created_at"`
	Status     string        `json:"status"`
	AlertKey   string        `json:"alert_key"`
	Service    refJSON       `json:"service"`
	Body       alertBodyJSON `json:"body"`
	Incident   refJSON       `json:"incident"`
	Suppressed bool          `json:"suppressed"`
	Severity   string        `json:"severity"`
}

// alertBodyJSON is an Events API v2 alert's body: the custom details as sent, and the
// normalized PEP-CEF view that repeats them.
type alertBodyJSON struct {
	Type       string         `json:"type"`
	Contexts   []any          `json:"contexts"`
	Details    map[string]any `json:"details"`
	CEFDetails map[string]any `json:"cef_details"`
}

type noteJSON struct {
	ID        string      `json:"id"`
	User      refJSON     `json:"user"`
	Channel   channelJSON `json:"channel"`
	Content   string      `json:"content"`
	CreatedAt string      `json:"created_at"`
	UpdatedAt string      `json:"updated_at"`
}

type channelJSON struct {
	Summary string `json:"summary"`
}

type userJSON struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Summary  string    `json:"summary"`
	Self     string    `json:"self"`
	HTMLURL  string    `json:"html_url"`
	Name     string    `json:"name"`
	Email    string    `json:"email"`
	TimeZone string    `json:"time_zone"`
	Role     string    `json:"role"`
	Teams    []refJSON `json:"teams"`
}

type onCallJSON struct {
	User             refJSON  `json:"user"`
	Schedule         *refJSON `json:"schedule"`
	EscalationPolicy refJSON  `json:"escalation_policy"`
	EscalationLevel  int      `json:"escalation_level"`
	Start            *string  `json:"start"`
	End              *string  `json:"end"`
}

// listJSON is the classic pagination envelope; the list itself is added by embedding.
type listJSON struct {
	Limit  int  `json:"limit"`
	Offset int  `json:"offset"`
	More   bool `json:"more"`
	Total  *int `json:"total"`
}

// apiBase is the API's own URL as the client reached it, for "self" links.
func apiBase(r *http.Request) string { return "http://" + r.Host }

// refTo turns a model reference into PagerDuty's reference JSON, filling in what PagerDuty
// always sends (type, self, html_url).
func (s *Server) refTo(base string, ref incident.Ref, kind, collection string) refJSON {
	out := refJSON{ID: ref.ID, Type: ref.Type, Summary: ref.Summary, HTMLURL: ref.HTMLURL}
	if out.Type == "" {
		out.Type = kind + "_reference"
	}
	if base != "" && ref.ID != "" {
		out.Self = base + "/" + collection + "/" + ref.ID
	}
	if out.HTMLURL == "" && ref.ID != "" {
		out.HTMLURL = s.htmlBase + "/" + collection + "/" + ref.ID
	}
	return out
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
