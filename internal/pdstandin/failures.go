package pdstandin

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// failure is one injected answer.
type failure struct {
	status int
}

// FailNext makes the next n requests to path answer status instead, with PagerDuty's error
// body: 429 comes with ratelimit-reset (WithRateLimitReset), 5xx with a server error, 4xx
// with the matching PagerDuty error. Status 0 drops the connection without an answer, as a
// network failure would. path is a URL path ("/incidents/PI00001/notes"), "*" for any path,
// or a prefix ending in "*" ("/incidents/*"). Failures for one path are used in order.
func (s *Server) FailNext(path string, status int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[path] = append(s.failures[path], failure{status: status})
	}
}

// FailFor makes every request to path answer status until d has passed, as during an outage
// or a rate-limit storm. Queued FailNext failures are used first.
func (s *Server) FailFor(path string, status int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outages = append(s.outages, outage{path: path, failure: failure{status: status}, until: time.Now().Add(d)})
}

// outage is a failure answered to every matching request until a moment.
type outage struct {
	path string
	failure
	until time.Time
}

// injectFailures answers with an injected failure when one is queued for the request's path.
func (s *Server) injectFailures(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := s.takeFailure(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		s.writeFailure(w, f)
	})
}

func (s *Server) takeFailure(path string) (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, queue := range s.failures {
		if len(queue) == 0 || !matchPath(key, path) {
			continue
		}
		s.failures[key] = queue[1:]
		return queue[0], true
	}
	for _, o := range s.outages {
		if time.Now().Before(o.until) && matchPath(o.path, path) {
			return o.failure, true
		}
	}
	return failure{}, false
}

func matchPath(pattern, path string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	return pattern == path
}

func (s *Server) writeFailure(w http.ResponseWriter, f failure) {
	switch {
	case f.status == 0:
		dropConnection(w) // recorded with status 0: no answer
	case f.status == http.StatusTooManyRequests:
		h := w.Header()
		h.Set("Ratelimit-Limit", "960")
		h.Set("Ratelimit-Remaining", "0")
		h.Set("Ratelimit-Reset", strconv.Itoa(s.rateReset))
		writeError(w, f.status, "Rate Limit Exceeded", codeRateLimited)
	case f.status == http.StatusUnauthorized:
		writeError(w, f.status, "Unauthorized", codeAuthFailed)
	case f.status == http.StatusForbidden:
		writeError(w, f.status, "Access Denied", codeAccessDenied)
	case f.status == http.StatusNotFound:
		writeNotFound(w)
	case f.status == http.StatusBadRequest:
		writeInvalid(w, "injected failure")
	default:
		writeError(w, f.status, http.StatusText(f.status), 0)
	}
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Cannot hijack (HTTP/2): abort the handler, which resets the stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
