package runbooks

import (
	"time"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/inventory"
)

// The expression environments. They are plain structs with snake_case expr tags so that every
// rule is type-checked against them at load (a misspelt field fails the load) and so that the
// names SREs write match PagerDuty's JSON. They have no methods on purpose: expr looks up
// methods by name on every access to a type that has any, which would slow matching down.
// Lists hold pointers so that iterating them (any(alerts, ...)) does not copy each element.

// Env is what match rules and target expressions see. It is built once per event and shared
// by every runbook evaluated for that event.
type Env struct {
	Event    EventEnv          `expr:"event"`
	Incident IncidentEnv       `expr:"incident"`
	Alerts   []*AlertEnv       `expr:"alerts"`
	Service  string            `expr:"service"`  // incident.service.name
	Labels   map[string]string `expr:"labels"`   // incident.labels
	Priority string            `expr:"priority"` // incident.priority, e.g. "P1"
	Urgency  string            `expr:"urgency"`  // incident.urgency, "high" or "low"
}

// EventEnv is the delivery that triggered the evaluation.
type EventEnv struct {
	ID         string    `expr:"id"`
	Type       string    `expr:"type"`
	Source     string    `expr:"source"`
	OccurredAt time.Time `expr:"occurred_at"`
	Agent      RefEnv    `expr:"agent"`
}

// RefEnv is a reference to a user, service, team or escalation policy. PagerDuty calls the
// human-readable name "summary"; both spellings work.
type RefEnv struct {
	ID      string `expr:"id"`
	Name    string `expr:"name"`
	Summary string `expr:"summary"`
	HTMLURL string `expr:"html_url"`
}

// IncidentEnv is the incident as rules see it.
type IncidentEnv struct {
	ID               string            `expr:"id"`
	Number           int               `expr:"number"`
	Title            string            `expr:"title"`
	Status           string            `expr:"status"`
	Urgency          string            `expr:"urgency"`
	Priority         string            `expr:"priority"`
	Key              string            `expr:"key"`
	HTMLURL          string            `expr:"html_url"`
	CreatedAt        time.Time         `expr:"created_at"`
	Service          RefEnv            `expr:"service"`
	EscalationPolicy RefEnv            `expr:"escalation_policy"`
	Assignees        []*RefEnv         `expr:"assignees"`
	Teams            []*RefEnv         `expr:"teams"`
	Labels           map[string]string `expr:"labels"`
}

// AlertEnv is one alert of the incident. Details is free-form: alerts[0].details.host.
type AlertEnv struct {
	ID       string         `expr:"id"`
	Summary  string         `expr:"summary"`
	Status   string         `expr:"status"`
	Severity string         `expr:"severity"`
	Key      string         `expr:"key"`
	Details  map[string]any `expr:"details"`
}

// HostEnv is the inventory host a template is rendered for.
type HostEnv struct {
	Name    string            `expr:"name"`
	Address string            `expr:"address"`
	Port    int               `expr:"port"`
	User    string            `expr:"user"`
	Bastion string            `expr:"bastion"`
	Labels  map[string]string `expr:"labels"`
}

// TemplateEnv is what command templates and action parameters see: the incident and the host.
type TemplateEnv struct {
	Env
	Host HostEnv `expr:"host"`
}

// WhenEnv is what `when` conditions see: the incident and the earlier results on the host.
type WhenEnv struct {
	Env
	Steps map[string]StepResult `expr:"steps"`
}

// StepResult is the outcome of an earlier step on the same host, for `when` conditions.
type StepResult struct {
	OK       bool   `expr:"ok" json:"ok"`
	ExitCode int    `expr:"exit_code" json:"exit_code"`
	Stdout   string `expr:"stdout" json:"stdout"`
	Stderr   string `expr:"stderr" json:"stderr"`
	Skipped  bool   `expr:"skipped" json:"skipped"`
}

// NewEnv builds the rule environment for an event. Catalog.Evaluate calls it once per event.
func NewEnv(ev *incident.Event) *Env {
	inc := &ev.Incident
	env := &Env{
		Event: EventEnv{
			ID: ev.ID, Type: ev.Type, Source: ev.Source, OccurredAt: ev.OccurredAt, Agent: refEnv(ev.Agent),
		},
		Incident: IncidentEnv{
			ID: inc.ID, Number: inc.Number, Title: inc.Title, Status: inc.Status, Urgency: inc.Urgency,
			Priority: inc.Priority, Key: inc.Key, HTMLURL: inc.HTMLURL, CreatedAt: inc.CreatedAt,
			Service: refEnv(inc.Service), EscalationPolicy: refEnv(inc.EscalationPolicy),
			Assignees: refEnvs(inc.Assignees), Teams: refEnvs(inc.Teams), Labels: nonNil(inc.Labels),
		},
		Alerts:   make([]*AlertEnv, len(inc.Alerts)),
		Service:  inc.Service.Summary,
		Priority: inc.Priority,
		Urgency:  inc.Urgency,
	}
	env.Labels = env.Incident.Labels
	for i, a := range inc.Alerts {
		env.Alerts[i] = &AlertEnv{ID: a.ID, Summary: a.Summary, Status: a.Status, Severity: a.Severity, Key: a.Key, Details: a.Details}
		if env.Alerts[i].Details == nil {
			env.Alerts[i].Details = map[string]any{}
		}
	}
	return env
}

func hostEnv(h *inventory.Host) HostEnv {
	return HostEnv{
		Name: h.Name, Address: h.Address, Port: h.Port, User: h.User, Bastion: h.Bastion, Labels: nonNil(h.Labels),
	}
}

func refEnv(r incident.Ref) RefEnv {
	return RefEnv{ID: r.ID, Name: r.Summary, Summary: r.Summary, HTMLURL: r.HTMLURL}
}

func refEnvs(rs []incident.Ref) []*RefEnv {
	out := make([]*RefEnv, len(rs))
	for i, r := range rs {
		ref := refEnv(r)
		out[i] = &ref
	}
	return out
}

// nonNil keeps `labels.team == "x"` false instead of an error when a source has no labels.
func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
