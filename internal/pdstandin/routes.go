package pdstandin

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// routes is every path the stand-in answers, in one place, behind the same checks PagerDuty
// makes: authentication first, then (for tests) injected failures.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /incidents/{id}", s.getIncident)
	mux.HandleFunc("GET /incidents/{id}/alerts", s.listAlerts)
	mux.HandleFunc("GET /incidents/{id}/notes", s.listNotes)
	mux.HandleFunc("POST /incidents/{id}/notes", s.createNote)
	mux.HandleFunc("GET /oncalls", s.listOnCalls)
	mux.HandleFunc("GET /users", s.listUsers)
	mux.HandleFunc("GET /users/{id}", s.getUser)
	mux.HandleFunc("GET /teams", s.listTeams)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeNotFound(w) })
	return s.record(s.authenticate(s.injectFailures(mux)))
}

// record keeps every request for Requests. The request and its status are recorded before
// the answer goes out, so a client that saw the answer (or a dropped connection) always
// finds it recorded.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.reqMu.Lock()
		i := len(s.requests)
		s.requests = append(s.requests, Request{
			Method:     r.Method,
			Path:       r.URL.Path,
			Query:      r.URL.RawQuery,
			From:       r.Header.Get("From"),
			UserAgent:  r.UserAgent(),
			Authorized: s.authorized(r.Header.Get("Authorization")),
			At:         s.now(),
		})
		s.reqMu.Unlock()
		rec := &statusRecorder{ResponseWriter: w, onStatus: func(code int) {
			s.reqMu.Lock()
			s.requests[i].Status = code
			s.reqMu.Unlock()
		}}
		next.ServeHTTP(rec, r)
	})
}

// authenticate requires "Authorization: Token token=<token>" (REST API keys) or
// "Bearer <token>" (OAuth), as PagerDuty does, and answers 401 with its error body.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r.Header.Get("Authorization")) {
			writeError(w, http.StatusUnauthorized, "Unauthorized", 2006)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) authorized(h string) bool {
	tok, ok := strings.CutPrefix(h, "Token token=")
	if !ok {
		tok, ok = strings.CutPrefix(h, "Bearer ")
	}
	tok = strings.TrimSpace(tok)
	return ok && tok != "" && (s.token == "" || tok == s.token)
}

// apiError is PagerDuty's error body: {"error":{"message":..,"code":..,"errors":[..]}}.
type apiError struct {
	Error apiErrorObject `json:"error"`
}

type apiErrorObject struct {
	Message string   `json:"message"`
	Code    int      `json:"code,omitempty"`
	Errors  []string `json:"errors,omitempty"`
}

// PagerDuty error codes the stand-in uses.
const (
	codeInvalidInput = 2001
	codeAuthFailed   = 2006
	codeAccessDenied = 2010
	codeRateLimited  = 2020
	codeNotFound     = 2100
)

func writeError(w http.ResponseWriter, status int, message string, code int, details ...string) {
	writeJSON(w, status, apiError{Error: apiErrorObject{Message: message, Code: code, Errors: details}})
}

func writeNotFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "Not Found", codeNotFound)
}

func writeInvalid(w http.ResponseWriter, details ...string) {
	writeError(w, http.StatusBadRequest, "Invalid Input Provided", codeInvalidInput, details...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// page reads PagerDuty's classic pagination: limit (default 25, at most 100) and offset.
func page(r *http.Request) (limit, offset int) {
	limit, offset = 25, 0
	if v, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && v > 0 {
		limit = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("offset")); err == nil && v > 0 {
		offset = v
	}
	return limit, offset
}

// window returns the slice bounds of one page of n items and whether more follow.
func window(n, limit, offset int) (lo, hi int, more bool) {
	lo = min(offset, n)
	hi = min(lo+limit, n)
	return lo, hi, hi < n
}

// statusRecorder reports the status of an answer before sending it.
type statusRecorder struct {
	http.ResponseWriter
	onStatus func(int)
	wrote    bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.wrote = true
		r.onStatus(code)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (to drop it for FailNext(.., 0, ..)).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
