// Package elbv2standin is a stand-in for the AWS Elastic Load Balancing v2 API, for tests that
// drive the real aws-sdk-go-v2 client (with BaseEndpoint pointing here). ELBv2 exists only in
// AWS, so the project keeps this small server instead.
//
// It speaks the real protocol (AWS Query: form-encoded POST with Action and Version=2015-12-01,
// XML responses and ErrorResponse documents in the shapes the SDK's deserializers read) for the
// three calls Alaya makes: RegisterTargets, DeregisterTargets and DescribeTargetHealth. Target
// states follow AWS's life cycle on a timeline the test controls: registered targets are
// "initial" for HealthyDelay and then "healthy"; deregistered targets are "draining" for
// DrainDelay and then gone ("unused", Target.NotRegistered, when asked for by id). Hold freezes
// a target in its current state; Advance moves the clock.
package elbv2standin

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Server is a running stand-in.
type Server struct {
	URL string
	// DrainDelay and HealthyDelay are how long deregistration and registration take.
	DrainDelay   time.Duration
	HealthyDelay time.Duration

	mu     sync.Mutex
	groups map[string]map[string]*target // ARN -> "id:port" -> target
	calls  []string
}

type target struct {
	id    string
	port  int32
	state string // initial, healthy, unhealthy, draining
	since time.Time
}

// Start serves the stand-in until the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{groups: map[string]map[string]*target{}, DrainDelay: 300 * time.Millisecond, HealthyDelay: 300 * time.Millisecond}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// AddGroup creates a target group whose targets (ids, on port) are healthy already.
func (s *Server) AddGroup(arn string, port int32, ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := map[string]*target{}
	for _, id := range ids {
		t := &target{id: id, port: port, state: "healthy", since: time.Now()}
		g[t.key()] = t
	}
	s.groups[arn] = g
}

// SetState forces a target's state ("unhealthy", "healthy"...), e.g. to make a member fail.
func (s *Server) SetState(arn, id, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.groups[arn] {
		if t.id == id {
			t.state, t.since = state, time.Now()
		}
	}
}

// Calls returns the Actions received, in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}
