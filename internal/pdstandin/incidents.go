package pdstandin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/alaya-sre/alaya/incident"
)

// maxNoteLen is PagerDuty's limit on a note's content, in characters.
const maxNoteLen = 65535

// getIncident answers GET /incidents/{id} with {"incident": {...}}.
func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st, ok := s.incidents[r.PathValue("id")]
	var body incidentJSON
	if ok {
		body = s.incidentJSON(apiBase(r), st)
	}
	s.mu.Unlock()
	if !ok {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"incident": body})
}

func (s *Server) incidentJSON(base string, st *incidentState) incidentJSON {
	inc := st.inc
	out := incidentJSON{
		ID: inc.ID, Type: "incident",
		Summary:            fmt.Sprintf("[#%d] %s", inc.Number, inc.Title),
		Self:               base + "/incidents/" + inc.ID,
		HTMLURL:            s.incidentHTML(inc),
		IncidentNumber:     inc.Number,
		Title:              inc.Title,
		CreatedAt:          stamp(inc.CreatedAt),
		UpdatedAt:          stamp(st.updatedAt),
		Status:             inc.Status,
		IncidentKey:        nullable(inc.Key),
		Service:            s.refTo(base, inc.Service, "service", "services"),
		AssignedVia:        "escalation_policy",
		LastStatusChangeAt: stamp(st.statusAt),
		IsMergeable:        true,
		IncidentType:       nameJSON{Name: "incident_default"},
		EscalationPolicy:   s.refTo(base, inc.EscalationPolicy, "escalation_policy", "escalation_policies"),
		Teams:              []refJSON{},
		Urgency:            or(inc.Urgency, "high"),
		AlertCounts:        countAlerts(inc.Alerts),
	}
	if !st.resolvedAt.IsZero() && inc.Status == incident.StatusResolved {
		out.ResolvedAt = nullable(stamp(st.resolvedAt))
	}
	for _, a := range inc.Assignees {
		out.Assignments = append(out.Assignments, assignmentJSON{At: stamp(inc.CreatedAt), Assignee: s.refTo(base, a, "user", "users")})
	}
	for _, t := range inc.Teams {
		out.Teams = append(out.Teams, s.refTo(base, t, "team", "teams"))
	}
	if inc.Priority != "" {
		p := refJSON{ID: "PPRIO" + inc.Priority, Type: "priority_reference", Summary: inc.Priority, Self: base + "/priorities/PPRIO" + inc.Priority}
		out.Priority = &p
	}
	return out
}

func (s *Server) incidentHTML(inc incident.Incident) string {
	return or(inc.HTMLURL, s.htmlBase+"/incidents/"+inc.ID)
}

func countAlerts(alerts []incident.Alert) alertCountsJSON {
	c := alertCountsJSON{All: len(alerts)}
	for _, a := range alerts {
		if a.Status == incident.StatusResolved {
			c.Resolved++
		} else {
			c.Triggered++
		}
	}
	return c
}

// listAlerts answers GET /incidents/{id}/alerts, one page at a time.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	limit, offset := page(r)
	s.mu.Lock()
	st, ok := s.incidents[r.PathValue("id")]
	var alerts []alertJSON
	var more bool
	if ok {
		lo, hi, m := window(len(st.inc.Alerts), limit, offset)
		for _, a := range st.inc.Alerts[lo:hi] {
			alerts = append(alerts, s.alertJSON(apiBase(r), st, a))
		}
		more = m
	}
	s.mu.Unlock()
	if !ok {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Alerts []alertJSON `json:"alerts"`
		listJSON
	}{Alerts: orEmpty(alerts), listJSON: listJSON{Limit: limit, Offset: offset, More: more}})
}

func (s *Server) alertJSON(base string, st *incidentState, a incident.Alert) alertJSON {
	sev := or(a.Severity, "critical")
	cef := map[string]any{"details": a.Details, "message": a.Summary, "severity": sev}
	if src, ok := a.Details["source"]; ok {
		cef["source_origin"] = src
	}
	return alertJSON{
		ID: a.ID, Type: "alert", Summary: a.Summary,
		Self:      base + "/incidents/" + st.inc.ID + "/alerts/" + a.ID,
		HTMLURL:   s.htmlBase + "/alerts/" + a.ID,
		CreatedAt: stamp(st.alertCreated),
		Status:    or(a.Status, incident.StatusTriggered),
		AlertKey:  or(a.Key, st.inc.Key),
		Service:   s.refTo(base, st.inc.Service, "service", "services"),
		Body:      alertBodyJSON{Type: "alert_body", Contexts: []any{}, Details: a.Details, CEFDetails: cef},
		Incident:  refJSON{ID: st.inc.ID, Type: "incident_reference", Self: base + "/incidents/" + st.inc.ID},
		Severity:  sev,
	}
}

// listNotes answers GET /incidents/{id}/notes.
func (s *Server) listNotes(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st, ok := s.incidents[r.PathValue("id")]
	notes := []noteJSON{}
	if ok {
		for _, n := range st.notes {
			notes = append(notes, s.noteJSON(apiBase(r), n))
		}
	}
	s.mu.Unlock()
	if !ok {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"notes": notes})
}

func (s *Server) noteJSON(base string, n Note) noteJSON {
	return noteJSON{
		ID:        n.ID,
		User:      s.refTo(base, n.User, "user", "users"),
		Channel:   channelJSON{Summary: "The PagerDuty website or APIs"},
		Content:   n.Content,
		CreatedAt: stamp(n.CreatedAt),
		UpdatedAt: stamp(n.CreatedAt),
	}
}

// createNote answers POST /incidents/{id}/notes. Like PagerDuty it needs the From header to
// name a known user's email, and refuses empty or over-long content with 400.
func (s *Server) createNote(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Note struct {
			Content string `json:"content"`
		} `json:"note"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeInvalid(w, "Request body is not valid JSON")
		return
	}
	status, body := s.storeNote(r, req.Note.Content)
	writeJSON(w, status, body)
}

// storeNote stores a note posted through the API and returns the answer to send. The answer
// is written after s.mu is released: recording its status takes the lock too.
func (s *Server) storeNote(r *http.Request, content string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.incidents[r.PathValue("id")]
	if !ok {
		return http.StatusNotFound, apiError{Error: apiErrorObject{Message: "Not Found", Code: codeNotFound}}
	}
	u, problem := s.checkNoteLocked(strings.TrimSpace(r.Header.Get("From")), content)
	if problem != "" {
		return http.StatusBadRequest, apiError{Error: apiErrorObject{Message: "Invalid Input Provided", Code: codeInvalidInput, Errors: []string{problem}}}
	}
	n := s.addNoteLocked(st, u, content)
	return http.StatusOK, map[string]any{"note": s.noteJSON(apiBase(r), n)}
}

// checkNoteLocked returns the author named by from, or why the note is refused.
func (s *Server) checkNoteLocked(from, content string) (*User, string) {
	switch {
	case from == "":
		return nil, `You must specify a user's email address in the "From" header to perform this action`
	case content == "":
		return nil, "Note content can't be blank"
	case utf8.RuneCountInString(content) > maxNoteLen:
		return nil, fmt.Sprintf("Note content is too long (maximum is %d characters)", maxNoteLen)
	}
	u := s.userByEmailLocked(from)
	if u == nil {
		return nil, `The "From" header must be the email address of a valid user`
	}
	return u, ""
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// orEmpty makes a nil list encode as [] as PagerDuty's does.
func orEmpty[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
