package pagerduty

import (
	"context"
	"fmt"
	"regexp"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/alaya-sre/alaya/incident"
)

// pageSize is the largest page PagerDuty's classic pagination serves.
const pageSize = 100

// maxPages bounds a listing, so a server that always says "more" cannot keep a worker busy.
const maxPages = 100

// validID matches PagerDuty object ids. go-pagerduty pastes ids into the URL path unescaped,
// so anything else (a "/" or "?" from a crafted event) is refused before a request is made.
var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkID(kind, id string) error {
	if !validID.MatchString(id) {
		return fmt.Errorf("%s id %q: %w", kind, id, errInvalidArgument)
	}
	return nil
}

// Incident fetches the incident's current state: status, escalation policy, assignees,
// service, teams. Alerts are not included; see Alerts.
func (c *Client) Incident(ctx context.Context, id string) (*incident.Incident, error) {
	op := "get incident " + id
	if err := checkID("incident", id); err != nil {
		return nil, c.classify(ctx, op, err, nil)
	}
	var got *pd.Incident
	err := c.call(ctx, op, func(ctx context.Context) (err error) {
		got, err = c.pd.GetIncidentWithContext(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return toIncident(got), nil
}

func toIncident(p *pd.Incident) *incident.Incident {
	inc := &incident.Incident{
		ID:               p.ID,
		Number:           int(p.IncidentNumber),
		Title:            p.Title,
		Status:           p.Status,
		Urgency:          p.Urgency,
		Key:              p.IncidentKey,
		HTMLURL:          p.HTMLURL,
		CreatedAt:        parseTime(p.CreatedAt),
		Service:          toRef(p.Service),
		EscalationPolicy: toRef(p.EscalationPolicy),
	}
	if p.Priority != nil {
		inc.Priority = p.Priority.Summary
	}
	for _, a := range p.Assignments {
		inc.Assignees = append(inc.Assignees, toRef(a.Assignee))
	}
	for _, t := range p.Teams {
		inc.Teams = append(inc.Teams, toRef(t))
	}
	return inc
}

func toRef(o pd.APIObject) incident.Ref {
	return incident.Ref{ID: o.ID, Type: o.Type, Summary: o.Summary, HTMLURL: o.HTMLURL}
}

// parseTime reads PagerDuty's ISO 8601 timestamps; an absent or odd one is the zero time
// rather than a failed call, since no decision hangs on it.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Alerts fetches every alert grouped into the incident, following PagerDuty's pagination.
// Each alert's Details is described at alertDetails.
func (c *Client) Alerts(ctx context.Context, incidentID string) ([]incident.Alert, error) {
	op := "list alerts of incident " + incidentID
	if err := checkID("incident", incidentID); err != nil {
		return nil, c.classify(ctx, op, err, nil)
	}
	var out []incident.Alert
	err := c.call(ctx, op, func(ctx context.Context) error {
		return paginate(func(offset uint) (bool, error) {
			resp, err := c.pd.ListIncidentAlertsWithContext(ctx, incidentID,
				pd.ListIncidentAlertsOptions{Limit: pageSize, Offset: offset})
			if err != nil {
				return false, err
			}
			for _, a := range resp.Alerts {
				out = append(out, toAlert(a))
			}
			return resp.More && len(resp.Alerts) > 0, nil
		})
	})
	return out, err
}

// paginate calls page with offsets 0, pageSize, 2*pageSize... while it reports more.
func paginate(page func(offset uint) (more bool, err error)) error {
	for i := range uint(maxPages) {
		more, err := page(i * pageSize)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func toAlert(a pd.IncidentAlert) incident.Alert {
	return incident.Alert{
		ID:       a.ID,
		Summary:  a.Summary,
		Status:   a.Status,
		Severity: a.Severity,
		Key:      a.AlertKey,
		Details:  alertDetails(a.Body),
	}
}
