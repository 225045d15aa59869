package slackstandin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxRequest bounds a request body; Slack refuses far smaller ones than this anyway.
const maxRequest = 1 << 20

// routes is every path the stand-in answers: the Web API under /api/ and response URLs
// under /actions/.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.webAPI)
	mux.HandleFunc("/actions/", s.respond)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.violate(r.URL.Path, "no such path")
		http.NotFound(w, r)
	})
	return mux
}

// call is one Web API request that passed the checks.
type call struct {
	method string
	params map[string]any
}

// webAPI checks a request against the description, then (unless a failure is injected)
// hands it to the method's handler.
func (s *Server) webAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	m, ok := spec.Methods[method]
	if !ok {
		s.violate(method, "method not in the description subset (testdata/webapi.json)")
		s.fail(w, method, http.StatusOK, "unknown_method")
		return
	}
	if code := s.checkAuth(r, method); code != "" {
		s.fail(w, method, http.StatusOK, code)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest))
	if err != nil {
		s.fail(w, method, http.StatusBadRequest, "request_timeout")
		return
	}
	params, problems := m.params(r, body)
	if len(problems) > 0 {
		s.violate(method, "%s", strings.Join(problems, "; "))
		s.fail(w, method, http.StatusOK, "invalid_arguments", problems...)
		return
	}
	if f, ok := s.takeFailure(method); ok {
		s.writeFailure(w, method, f)
		return
	}
	c := call{method: method, params: params}
	switch method {
	case "chat.postMessage":
		s.postMessage(w, c)
	case "chat.update":
		s.update(w, c)
	case "users.lookupByEmail":
		s.lookupByEmail(w, c)
	case "users.info":
		s.usersInfo(w, c)
	case "usergroups.users.list":
		s.groupMembers(w, c)
	case "conversations.history":
		s.history(w, c)
	case "conversations.replies":
		s.replies(w, c)
	}
}

// checkAuth requires "Authorization: Bearer <token>". The description also allows the token
// as a parameter; the stand-in refuses that, since a token in a URL or body ends up in logs.
func (s *Server) checkAuth(r *http.Request, method string) string {
	if r.URL.Query().Has("token") {
		s.violate(method, "token in the query string")
		return "invalid_auth"
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	switch {
	case h == "":
		s.violate(method, "no Authorization header")
		return "not_authed"
	case !ok || tok != s.token:
		s.violate(method, "Authorization is not Bearer with the bot token")
		return "invalid_auth"
	}
	return ""
}

// fail answers Slack's error shape: {"ok": false, "error": code}, with the reasons in
// response_metadata.messages as Slack gives them for invalid_arguments.
func (s *Server) fail(w http.ResponseWriter, method string, status int, code string, messages ...string) {
	body := map[string]any{"ok": false, "error": code}
	if len(messages) > 0 {
		ms := make([]string, len(messages))
		for i, m := range messages {
			ms[i] = "[ERROR] " + m
		}
		body["response_metadata"] = map[string]any{"messages": ms}
	}
	s.answer(w, method, status, body)
}

// answer writes body as JSON and records the request.
func (s *Server) answer(w http.ResponseWriter, method string, status int, body map[string]any) {
	code, _ := body["error"].(string)
	if m, ok := spec.Methods[method]; ok && body["ok"] == true {
		for _, f := range m.ResponseRequired {
			if _, ok := body[f]; !ok {
				s.tb.Errorf("slackstandin: %s: own answer lacks %q, which the description requires", method, f)
			}
		}
	}
	if lost, ok := s.takeLost(method, body); ok {
		s.writeFailure(w, method, lost)
		return
	}
	s.record(method, status, code)
	data, err := json.Marshal(body)
	if err != nil {
		panic(fmt.Sprintf("slackstandin: answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(data)
}
