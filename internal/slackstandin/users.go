package slackstandin

import (
	"net/http"
	"strings"
)

func (s *Server) lookupByEmail(w http.ResponseWriter, c call) {
	email := str(c.params, "email")
	s.mu.Lock()
	var found *User
	for _, u := range s.users {
		if strings.EqualFold(u.Email, email) {
			found = &u
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		s.fail(w, c.method, http.StatusOK, "users_not_found")
		return
	}
	s.answer(w, c.method, http.StatusOK, map[string]any{"ok": true, "user": s.userJSON(*found)})
}

func (s *Server) usersInfo(w http.ResponseWriter, c call) {
	id := str(c.params, "user")
	s.mu.Lock()
	u, ok := s.users[id]
	s.mu.Unlock()
	if !ok {
		s.fail(w, c.method, http.StatusOK, "user_not_found")
		return
	}
	s.answer(w, c.method, http.StatusOK, map[string]any{"ok": true, "user": s.userJSON(u)})
}

// userJSON is the user object (objs_user) with the fields a client of these methods reads.
func (s *Server) userJSON(u User) map[string]any {
	name := u.Name
	if name == "" {
		name, _, _ = strings.Cut(u.Email, "@")
	}
	return map[string]any{
		"id": u.ID, "team_id": s.team, "name": name, "deleted": u.Deleted, "is_bot": false,
		"profile": map[string]any{"email": u.Email, "real_name": name, "display_name": name},
	}
}

func (s *Server) groupMembers(w http.ResponseWriter, c call) {
	s.mu.Lock()
	members, ok := s.groups[str(c.params, "usergroup")]
	s.mu.Unlock()
	if !ok {
		s.fail(w, c.method, http.StatusOK, "no_such_subteam")
		return
	}
	s.answer(w, c.method, http.StatusOK, map[string]any{"ok": true, "users": append([]string{}, members...)})
}
