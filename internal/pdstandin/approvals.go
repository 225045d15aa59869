package pdstandin

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/alaya-sre/alaya/incident"
)

// The helpers in this file let approval tests play the parts that attack an approval: an
// incident moved to another escalation policy, a note written by something that is not a
// person, and a signed webhook for a note PagerDuty never stored.

// SetEscalationPolicy moves the incident to another escalation policy, as a responder can in
// PagerDuty's UI. No webhook is sent (PagerDuty sends incident.escalation_policy_updated,
// which Alaya does not act on).
func (s *Server) SetEscalationPolicy(incidentID string, ep incident.Ref) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.incidents[incidentID]
	if ok {
		st.inc.EscalationPolicy = ep
		st.updatedAt = s.now().UTC()
	}
	return ok
}

// SetAssignees replaces the incident's assignees.
func (s *Server) SetAssignees(incidentID string, assignees ...incident.Ref) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.incidents[incidentID]
	if ok {
		st.inc.Assignees = slices.Clone(assignees)
	}
	return ok
}

// AddNoteBy stores a note whose author is any reference (a service, a bot user): PagerDuty
// shows notes added through integrations that way. The webhook's agent is the same
// reference.
func (s *Server) AddNoteBy(incidentID string, author incident.Ref, content string) (Note, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.incidents[incidentID]
	if !ok {
		return Note{}, fmt.Errorf("pdstandin: no incident %q", incidentID)
	}
	n := Note{ID: s.nextIDLocked('N'), IncidentID: incidentID, Content: content, User: author, CreatedAt: s.now().UTC()}
	st.notes = append(st.notes, n)
	s.notifyLocked()
	agent := s.refTo(publicAPI, author, "user", "users")
	s.emitLocked(incident.TypeAnnotated, &agent, s.noteData(st, n))
	return n, nil
}

// ForgeNoteWebhook sends a correctly signed incident.annotated for a note that PagerDuty does
// not have, with userID as the agent: what anyone holding the webhook secret can do. It
// returns the made-up note id.
func (s *Server) ForgeNoteWebhook(incidentID, userID, content string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.incidents[incidentID]
	if !ok {
		return "", fmt.Errorf("pdstandin: no incident %q", incidentID)
	}
	u, ok := s.users[userID]
	if !ok {
		return "", fmt.Errorf("pdstandin: no user %q", userID)
	}
	n := Note{ID: "PFORGED" + s.nextIDLocked('N'), IncidentID: incidentID, Content: content, User: s.userRef(u)}
	s.emitLocked(incident.TypeAnnotated, s.userRefJSON(u), s.noteData(st, n))
	return n.ID, nil
}

// AddTeam makes a team known to GET /teams. Teams named in SetTeams are added too.
func (s *Server) AddTeam(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.teams[id] = name
}

// listTeams answers GET /teams, filtered by query (a case-insensitive substring of the name,
// as PagerDuty's search is: callers must pick the exact match themselves).
func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) {
	limit, offset := page(r)
	q := strings.ToLower(r.URL.Query().Get("query"))
	s.mu.Lock()
	var all []teamJSON
	for _, id := range slices.Sorted(maps.Keys(s.teams)) {
		name := s.teams[id]
		if q == "" || strings.Contains(strings.ToLower(name), q) {
			all = append(all, teamJSON{ID: id, Type: "team", Summary: name, Name: name,
				Self: apiBase(r) + "/teams/" + id, HTMLURL: s.htmlBase + "/teams/" + id})
		}
	}
	s.mu.Unlock()
	lo, hi, more := window(len(all), limit, offset)
	writeJSON(w, http.StatusOK, struct {
		Teams []teamJSON `json:"teams"`
		listJSON
	}{Teams: orEmpty(all[lo:hi]), listJSON: listJSON{Limit: limit, Offset: offset, More: more}})
}

type teamJSON struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	Name    string `json:"name"`
	Self    string `json:"self"`
	HTMLURL string `json:"html_url"`
}
