// Package pdstandin is a small PagerDuty that runs in-process: the REST endpoints Alaya calls
// and the V3 webhooks PagerDuty sends, for tests and for the offline demo.
//
// PagerDuty is a SaaS and cannot run on a developer's machine, yet Alaya's behaviour at its
// boundary (the From header, 400s that must not be retried, 429 with ratelimit-reset, alert
// pagination, webhooks signed per subscription, notes coming back as incident.annotated)
// is exactly what tests must exercise through the real go-pagerduty client. The stand-in
// answers the documented paths with the documented bodies and error shapes, lets a test seed
// incidents, users and on-call, inject failures, and inspect what Alaya posted.
//
// It is deliberately not a fake of go-pagerduty or of Alaya's own client: it speaks HTTP, so
// everything between Alaya and the wire is tested too.
package pdstandin

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	token      string
	now        func() time.Time
	htmlBase   string
	rateReset  int
	hookTries  int
	hookDelay  time.Duration
	hookClient *http.Client

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced whenever notes or deliveries change
	seq       map[byte]int
	incidents map[string]*incidentState
	incOrder  []string
	users     map[string]*User
	userOrder []string
	oncalls   map[string]map[int][]string // escalation policy → level → user ids
	teams     map[string]string           // team id → name
	failures  map[string][]failure
	outages   []outage
	subs      []*subscription
	deliv     []Delivery
	pending   int

	// reqMu guards requests apart from mu, so handlers may answer while holding mu.
	reqMu    sync.Mutex
	requests []Request

	handler http.Handler
	httpSrv *http.Server
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// incidentState is one incident as the stand-in keeps it.
type incidentState struct {
	inc          incident.Incident
	notes        []Note
	updatedAt    time.Time
	statusAt     time.Time
	resolvedAt   time.Time
	alertCreated time.Time
}

// User is a PagerDuty user known to the stand-in.
type User struct {
	ID    string
	Name  string
	Email string
	Teams []incident.Ref // team id in ID, name in Summary
}

// Note is a note on an incident, as the stand-in stored it.
type Note struct {
	ID         string
	IncidentID string
	Content    string
	// User is the author, resolved from the From header (or given to AddNoteAs).
	User      incident.Ref
	CreatedAt time.Time
}

// Request is one request the stand-in received, for assertions. The Authorization header is
// deliberately not kept.
type Request struct {
	Method     string
	Path       string
	Query      string
	From       string
	UserAgent  string
	Authorized bool
	Status     int
	At         time.Time
}

// Option configures a Server.
type Option func(*Server)

// WithToken makes the stand-in accept only this API token. Without it any non-empty token is
// accepted, but an absent or malformed Authorization header is still refused.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithRateLimitReset sets the ratelimit-reset seconds sent with injected 429s (default 1).
func WithRateLimitReset(seconds int) Option { return func(s *Server) { s.rateReset = seconds } }

// WithWebhookRetry sets how often a failed webhook delivery (no answer, 408, 429 or 5xx) is
// retried and the pause between tries (default 3 retries, 1 s apart). PagerDuty itself retries
// over minutes; tests want it quick.
func WithWebhookRetry(retries int, delay time.Duration) Option {
	return func(s *Server) { s.hookTries, s.hookDelay = retries, delay }
}

// New returns a stand-in with no incidents, users or subscriptions.
func New(opts ...Option) *Server {
	s := &Server{
		now:        time.Now,
		htmlBase:   "https://pdstandin.invalid",
		rateReset:  1,
		hookTries:  3,
		hookDelay:  time.Second,
		hookClient: &http.Client{Timeout: 5 * time.Second},
		changed:    make(chan struct{}),
		seq:        map[byte]int{},
		incidents:  map[string]*incidentState{},
		users:      map[string]*User{},
		oncalls:    map[string]map[int][]string{},
		teams:      map[string]string{},
		failures:   map[string][]failure{},
	}
	for _, o := range opts {
		o(s)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()
	return s
}

// Handler returns the REST API as an http.Handler, for httptest.NewServer.
func (s *Server) Handler() http.Handler { return s.handler }

// ServeHTTP makes the Server itself an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Start listens on addr ("127.0.0.1:0" for any free port) and serves the API until Close. It
// returns the base URL to give the client as its API URL.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("pdstandin: listen: %w", err)
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.httpSrv = srv
	s.mu.Unlock()
	// Serve's error after Close is http.ErrServerClosed; there is nothing else to report.
	s.wg.Go(func() { _ = srv.Serve(ln) })
	return "http://" + ln.Addr().String(), nil
}

// StartTest starts a stand-in for a test on a free loopback port, closed when the test ends,
// and returns it with its base URL.
func StartTest(tb testing.TB, opts ...Option) (*Server, string) {
	tb.Helper()
	s := New(opts...)
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s, url
}

// Close stops the server started by Start and the webhook deliveries still pending.
func (s *Server) Close() {
	s.cancel()
	s.mu.Lock()
	srv := s.httpSrv
	s.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	s.wg.Wait()
}

// notifyLocked wakes everyone waiting for a change. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until cond (called with s.mu held) is true or ctx ends.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// nextIDLocked returns a PagerDuty-looking id: "P", a kind letter, five digits.
func (s *Server) nextIDLocked(kind byte) string {
	s.seq[kind]++
	return fmt.Sprintf("P%c%05d", kind, s.seq[kind])
}
