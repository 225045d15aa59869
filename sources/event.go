package sources

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

// IncidentPrefix starts the id of every incident made by a source, so the worker can tell
// them from PagerDuty incidents (which it may look up and write notes on).
const IncidentPrefix = "src-"

// Limits on what a mapping may produce: text bound for notes and logs.
const (
	maxTitle = 1024
	maxField = 256
)

// ErrIgnored is returned by Decode for a body the mapping's ignore expression set aside (an
// event about an alert that is no incident change, such as a note added in the tool).
var ErrIgnored = errors.New("ignored by the source's mapping")

// Decode turns a verified body into an event: the JSON is decoded (numbers kept exact), the
// mapping runs, and its results are checked. Any error means the body does not fit the
// mapping (400); ErrIgnored means it fits and is deliberately not an incident event.
func (s *Source) Decode(body []byte) (*incident.Event, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	vals, err := s.mapping.run(obj)
	if err != nil {
		return nil, err
	}
	if ignore, _ := vals["ignore"].(bool); ignore {
		return nil, ErrIgnored
	}
	return s.event(vals)
}

// decodeObject decodes a JSON object; numbers become float64 as expr expects, but are first
// checked to be finite.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("body: expected a JSON object: %w", err)
	}
	if obj == nil {
		return nil, errors.New("body: expected a JSON object, found null")
	}
	if dec.More() {
		return nil, errors.New("body: more than one JSON value")
	}
	return obj, nil
}

func (s *Source) event(vals map[string]any) (*incident.Event, error) {
	var c converter
	id := c.text(vals, "id", maxField)
	dedup := c.text(vals, "dedup_key", maxTitle)
	status := c.text(vals, "status", maxField)
	if c.err == nil && (id == "" || dedup == "") {
		c.err = errors.New("mapping.id and mapping.dedup_key must not be empty")
	}
	typ, ok := eventTypes[status]
	if c.err == nil && !ok {
		c.err = fmt.Errorf("mapping.status: %q, want triggered, acknowledged or resolved", status)
	}
	at := c.time(vals["occurred_at"])
	inc := s.incident(&c, vals, id, status, at)
	inc.Alerts = c.alerts(vals, incident.Alert{ID: id, Summary: inc.Title, Status: status, Key: dedup})
	if c.err != nil {
		return nil, c.err
	}
	return &incident.Event{
		ID: IncidentPrefix + s.Name + "-" + shortHash(dedup), Type: typ, Source: s.Name, OccurredAt: at,
		Agent: incident.Ref{Type: "source", Summary: s.Name}, Incident: inc,
	}, nil
}

// incident is the incident the mapped values describe, without its alerts.
func (s *Source) incident(c *converter, vals map[string]any, id, status string, at time.Time) incident.Incident {
	inc := incident.Incident{
		ID:        IncidentPrefix + s.Name + "-" + safeID(id),
		Title:     c.text(vals, "title", maxTitle),
		Status:    status,
		Urgency:   c.text(vals, "urgency", maxField),
		Key:       id,
		HTMLURL:   c.text(vals, "url", maxTitle),
		CreatedAt: at,
		Service:   incident.Ref{Summary: c.text(vals, "service", maxField)},
		Labels:    c.labels(vals["labels"]),
	}
	if inc.Urgency == "" {
		inc.Urgency = "high"
	}
	return inc
}

// alerts is the one alert made of the incident-level fields, or, when the mapping has a
// non-empty group, one alert per element with those fields as defaults. There is always at
// least one: the worker must find the alert in the event, never ask PagerDuty for it.
func (c *converter) alerts(vals map[string]any, one incident.Alert) []incident.Alert {
	one.Severity, one.Details = c.text(vals, "severity", maxField), c.details(vals["details"])
	if host := c.text(vals, "host", maxField); host != "" {
		one.Details["host"] = host
	}
	if list, ok := vals["alerts"].([]map[string]any); ok && len(list) > 0 {
		one.ID, one.Key = "", ""
		return c.groupAlerts(list, one)
	}
	return []incident.Alert{one}
}

var eventTypes = map[string]string{
	incident.StatusTriggered:    incident.TypeTriggered,
	incident.StatusAcknowledged: incident.TypeAcknowledged,
	incident.StatusResolved:     incident.TypeResolved,
}

// converter turns mapped values into the model's types, keeping the first problem.
type converter struct{ err error }

func (c *converter) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

// text is a mapped value as a string: strings as they are, numbers and booleans spelt out,
// nil as "", anything else a problem; longer than limit is refused.
func (c *converter) text(vals map[string]any, key string, limit int) string {
	s, ok := scalar(vals[key])
	if !ok {
		c.fail("mapping.%s: expected a string, found %s", key, kindOf(vals[key]))
		return ""
	}
	if len(s) > limit {
		c.fail("mapping.%s: %d bytes, at most %d", key, len(s), limit)
		return ""
	}
	return s
}

func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	}
	return "", false
}

func (c *converter) labels(v any) map[string]string {
	m, ok := v.(map[string]any)
	if v == nil || !ok {
		if v != nil {
			c.fail("mapping.labels: expected a map, found %s", kindOf(v))
		}
		return nil
	}
	out := make(map[string]string, len(m))
	for k, val := range m {
		s, ok := scalar(val)
		if !ok {
			c.fail("mapping.labels.%s: expected a string, found %s", k, kindOf(val))
			continue
		}
		out[k] = s
	}
	return out
}

func (c *converter) details(v any) map[string]any {
	if v == nil {
		return map[string]any{}
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.fail("mapping.details: expected a map, found %s", kindOf(v))
		return map[string]any{}
	}
	return m
}

// time reads occurred_at: an RFC 3339 string, or a Unix time in seconds or (when it is too
// large to be seconds) milliseconds, as tools spell it. Missing: the zero time.
func (c *converter) time(v any) time.Time {
	switch v := v.(type) {
	case nil:
		return time.Time{}
	case string:
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			c.fail("mapping.occurred_at: %q is not an RFC 3339 time", v)
		}
		return t.UTC()
	case float64:
		if math.IsNaN(v) || v < 0 || v > 1e15 {
			c.fail("mapping.occurred_at: %v is not a Unix time", v)
			return time.Time{}
		}
		if v > 1e11 { // milliseconds: 1e11 seconds is the year 5138
			return time.UnixMilli(int64(v)).UTC()
		}
		return time.Unix(int64(v), 0).UTC()
	case int:
		return c.time(float64(v))
	}
	c.fail("mapping.occurred_at: expected a time, found %s", kindOf(v))
	return time.Time{}
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

var safeIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// safeID keeps a readable id as it is and hashes anything else, so incident ids stay short
// and safe in evidence paths and logs.
func safeID(id string) string {
	if safeIDRe.MatchString(id) {
		return id
	}
	return shortHash(id)
}

// shortHash is 128 bits of SHA-256 in hex.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}
