package pdstandin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

// AddIncident stores inc (with its Alerts, Service, EscalationPolicy, Assignees) and returns
// its id. Missing ids, number, status and creation time are filled in. Adding an incident
// with a known id replaces it and keeps its notes. No webhook is sent; see Trigger.
func (s *Server) AddIncident(inc incident.Incident) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addIncidentLocked(inc).inc.ID
}

// Trigger is AddIncident followed by an incident.triggered webhook to every subscription.
func (s *Server) Trigger(inc incident.Incident) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.addIncidentLocked(inc)
	s.emitLocked("incident.triggered", s.integrationAgent(st), s.incidentData(st))
	return st.inc.ID
}

func (s *Server) addIncidentLocked(inc incident.Incident) *incidentState {
	now := s.now().UTC()
	if inc.ID == "" {
		inc.ID = s.nextIDLocked('I')
	}
	if inc.Number == 0 {
		s.seq['#']++
		inc.Number = s.seq['#']
	}
	if inc.Status == "" {
		inc.Status = incident.StatusTriggered
	}
	if inc.CreatedAt.IsZero() {
		inc.CreatedAt = now
	}
	inc.Alerts = slices.Clone(inc.Alerts)
	for i := range inc.Alerts {
		if inc.Alerts[i].ID == "" {
			inc.Alerts[i].ID = s.nextIDLocked('A')
		}
	}
	st, ok := s.incidents[inc.ID]
	if !ok {
		st = &incidentState{}
		s.incidents[inc.ID] = st
		s.incOrder = append(s.incOrder, inc.ID)
	}
	st.inc, st.updatedAt, st.statusAt, st.alertCreated = inc, now, now, inc.CreatedAt
	return st
}

// SetStatus changes an incident's status and sends the matching webhook: incident.resolved,
// incident.acknowledged, incident.unacknowledged, or incident.reopened when a resolved
// incident triggers again. It reports whether the incident exists.
func (s *Server) SetStatus(id, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.incidents[id]
	if !ok {
		return false
	}
	old := st.inc.Status
	if old == status {
		return true
	}
	now := s.now().UTC()
	st.inc.Status, st.updatedAt, st.statusAt = status, now, now
	if status == incident.StatusResolved {
		st.resolvedAt = now
	}
	if ev := statusEvent(old, status); ev != "" {
		s.emitLocked(ev, s.integrationAgent(st), s.incidentData(st))
	}
	return true
}

func statusEvent(old, status string) string {
	switch {
	case status == incident.StatusResolved:
		return incident.TypeResolved
	case status == incident.StatusAcknowledged:
		return incident.TypeAcknowledged
	case old == incident.StatusResolved:
		return incident.TypeReopened
	case old == incident.StatusAcknowledged:
		return "incident.unacknowledged"
	}
	return ""
}

// AddUser adds (or replaces) a user. Notes posted with From: email are attributed to it.
func (s *Server) AddUser(id, name, email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[id]; !ok {
		s.userOrder = append(s.userOrder, id)
	}
	s.users[id] = &User{ID: id, Name: name, Email: email}
}

// SetTeams puts a user in teams (id in ID, name in Summary); their user object lists them.
func (s *Server) SetTeams(userID string, teams ...incident.Ref) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[userID]; ok {
		u.Teams = teams
	}
	for _, t := range teams {
		s.teams[t.ID] = t.Summary
	}
}

// SetOnCall makes exactly userIDs on call at level 1 of the escalation policy (none clears it).
func (s *Server) SetOnCall(escalationPolicyID string, userIDs ...string) {
	s.SetOnCallLevel(escalationPolicyID, 1, userIDs...)
}

// SetOnCallLevel makes exactly userIDs on call at one level of the escalation policy.
func (s *Server) SetOnCallLevel(escalationPolicyID string, level int, userIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	levels := s.oncalls[escalationPolicyID]
	if levels == nil {
		levels = map[int][]string{}
		s.oncalls[escalationPolicyID] = levels
	}
	levels[level] = slices.Clone(userIDs)
}

// AddNoteAs posts a note as a person would in PagerDuty's UI (for example "/alaya approve
// K7Q2") and sends incident.annotated with that user as the agent.
func (s *Server) AddNoteAs(incidentID, userID, content string) (Note, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.incidents[incidentID]
	if !ok {
		return Note{}, fmt.Errorf("pdstandin: no incident %q", incidentID)
	}
	u, ok := s.users[userID]
	if !ok {
		return Note{}, fmt.Errorf("pdstandin: no user %q", userID)
	}
	return s.addNoteLocked(st, u, content), nil
}

// addNoteLocked stores a note, wakes WaitNotes and sends incident.annotated, as PagerDuty
// does for every note including those Alaya writes.
func (s *Server) addNoteLocked(st *incidentState, u *User, content string) Note {
	n := Note{
		ID:         s.nextIDLocked('N'),
		IncidentID: st.inc.ID,
		Content:    content,
		User:       s.userRef(u),
		CreatedAt:  s.now().UTC(),
	}
	st.notes = append(st.notes, n)
	s.notifyLocked()
	s.emitLocked(incident.TypeAnnotated, s.userRefJSON(u), s.noteData(st, n))
	return n
}

// Notes returns the notes on an incident, oldest first.
func (s *Server) Notes(incidentID string) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.incidents[incidentID]; ok {
		return slices.Clone(st.notes)
	}
	return nil
}

// WaitNotes blocks until the incident has at least n notes, or ctx ends.
func (s *Server) WaitNotes(ctx context.Context, incidentID string, n int) ([]Note, error) {
	err := s.waitFor(ctx, func() bool {
		st, ok := s.incidents[incidentID]
		return ok && len(st.notes) >= n
	})
	if err != nil {
		return s.Notes(incidentID), fmt.Errorf("pdstandin: waiting for %d notes on %s: %w", n, incidentID, err)
	}
	return s.Notes(incidentID), nil
}

// Incident returns the stored incident, with its alerts.
func (s *Server) Incident(id string) (incident.Incident, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.incidents[id]
	if !ok {
		return incident.Incident{}, false
	}
	inc := st.inc
	inc.Alerts = slices.Clone(inc.Alerts)
	return inc, true
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return slices.Clone(s.requests)
}

// userByEmailLocked finds a user by email, ignoring case as PagerDuty does.
func (s *Server) userByEmailLocked(email string) *User {
	for _, id := range s.userOrder {
		if u := s.users[id]; strings.EqualFold(u.Email, email) {
			return u
		}
	}
	return nil
}

// stamp formats a time as PagerDuty does.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
