// Package slackstandin is a small Slack for tests: the Web API methods Alaya calls, the
// response_url endpoint interactions answer through, and button presses signed exactly as
// Slack signs them.
//
// Slack is a SaaS and cannot run here, yet what Alaya sends it must be right the first time in
// production. So the stand-in checks every Web API request against Slack's published API
// description (a subset of it kept in testdata/webapi.json, see testdata/README.md): an
// unknown method, a missing or wrong bearer token, a missing required parameter, an unknown
// one, a wrong type, or Block Kit beyond Slack's limits is refused with Slack's own error
// shape and recorded as a test failure. It keeps what was posted per channel and thread, with
// every update and its message metadata, and reads it back through conversations.history and
// conversations.replies. It has a user directory a test seeds, and can answer 429 with
// Retry-After or any Slack error on demand, as internal/pdstandin does for PagerDuty, or lose
// the answer of a call that took effect.
package slackstandin

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	tb      testing.TB
	report  bool // violations fail tb; false with ExpectRefusals
	token   string
	secret  []byte
	team    string
	every   time.Duration // least gap between messages to one channel; 0: not enforced
	retryIn int           // Retry-After seconds of 429s

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change
	seq        int
	messages   map[string][]*Message // channel → messages in posting order
	lastPost   map[string]time.Time  // channel → when its last message was accepted
	users      map[string]User       // id → user
	groups     map[string][]string   // user group id → member ids
	responses  []Response
	violations []string
	requests   []Request
	failures   map[string][]Failure
	lost       map[string][]Failure // answers to lose after the call took effect
	outages    []outage
	limited    int

	srv *httptest.Server
}

// User is a Slack user in the directory.
type User struct {
	ID      string
	Email   string
	Name    string
	Deleted bool
}

// Request is one Web API or response_url request, for assertions. The token is not kept.
type Request struct {
	Method string // chat.postMessage, …; "response_url" for the response endpoint
	Status int
	Error  string // Slack's error code when ok was false
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the bot token the stand-in accepts (default DefaultToken).
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithSigningSecret sets the secret SignedInteraction signs with (default DefaultSigningSecret).
func WithSigningSecret(secret string) Option { return func(s *Server) { s.secret = []byte(secret) } }

// WithTeam sets the workspace id interactions come from (default DefaultTeam).
func WithTeam(id string) Option { return func(s *Server) { s.team = id } }

// EnforceChannelRate answers 429 to a chat.postMessage or chat.update arriving sooner than
// half of every after the previous accepted one to the same channel (Slack allows one a
// second; half, so that the scheduling jitter of a loaded test machine is not mistaken for a
// burst). retryAfter is the Retry-After sent.
func EnforceChannelRate(every time.Duration, retryAfter int) Option {
	return func(s *Server) { s.every, s.retryIn = every, retryAfter }
}

// ExpectRefusals keeps refusals out of the test's failures, for tests that send bad requests
// on purpose; Violations still lists them.
func ExpectRefusals() Option { return func(s *Server) { s.report = false } }

// Defaults of the options.
const (
	DefaultToken         = "xoxb-0000000000-0000000000000-standinstandinstandin"
	DefaultSigningSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	DefaultTeam          = "T0STANDIN"
)

// New starts a stand-in on a loopback port; it stops when the test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		tb: tb, report: true, token: DefaultToken, secret: []byte(DefaultSigningSecret), team: DefaultTeam,
		retryIn: 1, changed: make(chan struct{}), messages: map[string][]*Message{},
		lastPost: map[string]time.Time{}, users: map[string]User{}, groups: map[string][]string{}, failures: map[string][]Failure{}, lost: map[string][]Failure{},
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(s.routes())
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the Web API's base URL, for the client's api_url.
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// ResponseOrigin is the origin of the response URLs the stand-in hands out, for the client's
// allow-list.
func (s *Server) ResponseOrigin() string { return s.srv.URL }

// Token is the bot token the stand-in accepts.
func (s *Server) Token() string { return s.token }

// SigningSecret is the secret interactions are signed with.
func (s *Server) SigningSecret() string { return string(s.secret) }

// Violations lists every request refused for not following Slack's API description.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// Requests lists every request in the order received.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RateLimited counts the 429s EnforceChannelRate answered.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// violate records a refusal and, unless ExpectRefusals, fails the test.
func (s *Server) violate(method, format string, args ...any) {
	msg := fmt.Sprintf("slackstandin: %s: ", method) + fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.notifyLocked()
	s.mu.Unlock()
	if s.report {
		s.tb.Errorf("%s", msg)
	}
}

// notifyLocked wakes everyone waiting for a change. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor blocks until cond is true or ctx ends. cond may call the Server's accessors; it is
// called again after every change.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("slackstandin: %w", ctx.Err())
		}
	}
}
