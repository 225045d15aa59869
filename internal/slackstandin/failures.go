package slackstandin

import (
	"net/http"
	"strconv"
	"time"
)

// Failure is an answer a test injects instead of the normal one.
type Failure struct {
	// Status is the HTTP status: 429 comes with Retry-After, 5xx with an empty body, 0 drops
	// the connection. 200 (or 0 with Error set) answers {"ok": false, "error": Error}.
	Status int
	// Error is Slack's error code for an ok:false answer: ratelimited, internal_error,
	// channel_not_found, invalid_auth, ….
	Error string
	// RetryAfter is the Retry-After seconds of a 429 (default 1).
	RetryAfter int
}

// outage is a failure answered until a moment.
type outage struct {
	method string
	f      Failure
	until  time.Time
}

// FailNext makes the next n calls of method ("chat.postMessage", "response_url", or "*" for
// any) answer f, in order with earlier ones.
func (s *Server) FailNext(method string, n int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[method] = append(s.failures[method], f)
	}
}

// FailFor makes every call of method answer f until d has passed, as during an outage or a
// rate-limit storm. Queued FailNext failures are used first.
func (s *Server) FailFor(method string, d time.Duration, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outages = append(s.outages, outage{method: method, f: f, until: time.Now().Add(d)})
}

// LoseNextAnswer makes the next call of method that succeeds take effect (a message is
// stored, as Slack would) and then answer f instead of its success: a connection cut
// (Status 0) or a 5xx after Slack took the message, the case where the caller cannot know
// whether it landed.
func (s *Server) LoseNextAnswer(method string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost[method] = append(s.lost[method], f)
}

// takeLost is the failure to answer instead of body, a success of method, if one is queued.
func (s *Server) takeLost(method string, body map[string]any) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.lost[method]
	if body["ok"] != true || len(q) == 0 {
		return Failure{}, false
	}
	s.lost[method] = q[1:]
	return q[0], true
}

func (s *Server) takeFailure(method string) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{method, "*"} {
		if q := s.failures[key]; len(q) > 0 {
			s.failures[key] = q[1:]
			return q[0], true
		}
	}
	for _, o := range s.outages {
		if (o.method == method || o.method == "*") && time.Now().Before(o.until) {
			return o.f, true
		}
	}
	return Failure{}, false
}

func (s *Server) writeFailure(w http.ResponseWriter, method string, f Failure) {
	switch {
	case f.Status == 0 && f.Error == "":
		s.record(method, 0, "")
		dropConnection(w)
	case f.Status == http.StatusTooManyRequests:
		if f.RetryAfter < 1 {
			f.RetryAfter = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		s.fail(w, method, f.Status, "ratelimited")
	case f.Error != "":
		s.fail(w, method, http.StatusOK, f.Error)
	default:
		s.record(method, f.Status, "")
		w.WriteHeader(f.Status)
	}
}

// record notes a request whose answer is not Slack's JSON.
func (s *Server) record(method string, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: method, Status: status, Error: code})
	s.notifyLocked()
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
