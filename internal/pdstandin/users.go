package pdstandin

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/alaya-sre/alaya/incident"
)

// getUser answers GET /users/{id}.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u, ok := s.users[r.PathValue("id")]
	var body userJSON
	if ok {
		body = s.userJSON(apiBase(r), u)
	}
	s.mu.Unlock()
	if !ok {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": body})
}

// listUsers answers GET /users, filtered by query (a case-insensitive match on name or email).
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	limit, offset := page(r)
	q := strings.ToLower(r.URL.Query().Get("query"))
	s.mu.Lock()
	var all []userJSON
	for _, id := range s.userOrder {
		u := s.users[id]
		if q == "" || strings.Contains(strings.ToLower(u.Name), q) || strings.Contains(strings.ToLower(u.Email), q) {
			all = append(all, s.userJSON(apiBase(r), u))
		}
	}
	s.mu.Unlock()
	lo, hi, more := window(len(all), limit, offset)
	writeJSON(w, http.StatusOK, struct {
		Users []userJSON `json:"users"`
		listJSON
	}{Users: orEmpty(all[lo:hi]), listJSON: listJSON{Limit: limit, Offset: offset, More: more}})
}

func (s *Server) userJSON(base string, u *User) userJSON {
	return userJSON{
		ID: u.ID, Type: "user", Summary: u.Name, Name: u.Name, Email: u.Email,
		Self:     base + "/users/" + u.ID,
		HTMLURL:  s.htmlBase + "/users/" + u.ID,
		TimeZone: "Etc/UTC",
		Role:     "user",
		Teams:    s.teamRefs(base, u.Teams),
	}
}

func (s *Server) teamRefs(base string, teams []incident.Ref) []refJSON {
	out := []refJSON{}
	for _, t := range teams {
		out = append(out, refJSON{ID: t.ID, Type: "team_reference", Summary: t.Summary,
			Self: base + "/teams/" + t.ID, HTMLURL: s.htmlBase + "/teams/" + t.ID})
	}
	return out
}

// userRef is the model's reference to a user.
func (s *Server) userRef(u *User) incident.Ref {
	return incident.Ref{ID: u.ID, Type: "user_reference", Summary: u.Name, HTMLURL: s.htmlBase + "/users/" + u.ID}
}

// listOnCalls answers GET /oncalls, filtered by escalation_policy_ids[] and user_ids[], ordered
// by policy and level. Every entry is "now": the stand-in has no schedules.
func (s *Server) listOnCalls(w http.ResponseWriter, r *http.Request) {
	limit, offset := page(r)
	q := r.URL.Query()
	eps := append(q["escalation_policy_ids[]"], q["escalation_policy_ids"]...)
	users := append(q["user_ids[]"], q["user_ids"]...)
	s.mu.Lock()
	all := s.onCallsLocked(apiBase(r), eps, users)
	s.mu.Unlock()
	lo, hi, more := window(len(all), limit, offset)
	writeJSON(w, http.StatusOK, struct {
		OnCalls []onCallJSON `json:"oncalls"`
		listJSON
	}{OnCalls: orEmpty(all[lo:hi]), listJSON: listJSON{Limit: limit, Offset: offset, More: more}})
}

func (s *Server) onCallsLocked(base string, eps, users []string) []onCallJSON {
	var out []onCallJSON
	for _, ep := range slices.Sorted(maps.Keys(s.oncalls)) {
		if len(eps) > 0 && !slices.Contains(eps, ep) {
			continue
		}
		levels := s.oncalls[ep]
		for _, lvl := range slices.Sorted(maps.Keys(levels)) {
			for _, uid := range levels[lvl] {
				if len(users) > 0 && !slices.Contains(users, uid) {
					continue
				}
				out = append(out, onCallJSON{
					User:             s.refTo(base, s.userRefByID(uid), "user", "users"),
					EscalationPolicy: s.refTo(base, incident.Ref{ID: ep}, "escalation_policy", "escalation_policies"),
					EscalationLevel:  lvl,
				})
			}
		}
	}
	return out
}

// userRefByID refers to a user by id, with its name when the user is known.
func (s *Server) userRefByID(id string) incident.Ref {
	if u, ok := s.users[id]; ok {
		return s.userRef(u)
	}
	return incident.Ref{ID: id, Type: "user_reference", Summary: id}
}
