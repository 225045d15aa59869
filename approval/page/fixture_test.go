package page_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/approval/internal/approvaltest"
	"github.com/alaya-sre/alaya/approval/page"
	"github.com/alaya-sre/alaya/incident"
)

// fakePublisher records events and, like JetStream's duplicate window, stores an id once.
type fakePublisher struct {
	mu     sync.Mutex
	events []*incident.Event
	seen   map[string]bool
	err    error
}

func (p *fakePublisher) Publish(_ context.Context, ev *incident.Event) (uint64, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return 0, false, p.err
	}
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	if p.seen[ev.ID] {
		return uint64(len(p.events)), true, nil
	}
	p.seen[ev.ID] = true
	p.events = append(p.events, ev)
	return uint64(len(p.events)), false, nil
}

func (p *fakePublisher) Events() []*incident.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*incident.Event(nil), p.events...)
}

type fakeOnCall map[string][]string

func (f fakeOnCall) OnCalls(_ context.Context, ep string) ([]approval.OnDuty, error) {
	var out []approval.OnDuty
	for _, id := range f[ep] {
		out = append(out, approval.OnDuty{UserID: id, Level: 1})
	}
	return out, nil
}

type fakeDir []approval.User

func (d fakeDir) User(_ context.Context, id string) (approval.User, error) {
	for _, u := range d {
		if u.ID == id {
			return u, nil
		}
	}
	return approval.User{}, errors.New("no such user")
}

func (d fakeDir) UserByEmail(_ context.Context, email string) (approval.User, error) {
	for _, u := range d {
		if u.Email == email {
			return u, nil
		}
	}
	return approval.User{}, errors.New("no such user")
}

func (d fakeDir) TeamsNamed(context.Context, string) ([]string, error) { return nil, nil }

type fakeIncidents map[string]*incident.Incident

func (f fakeIncidents) Incident(_ context.Context, id string) (*incident.Incident, error) {
	inc, ok := f[id]
	if !ok {
		return nil, errors.New("no such incident")
	}
	c := *inc
	return &c, nil
}

var (
	_ page.Publisher     = (*fakePublisher)(nil)
	_ page.Incidents     = fakeIncidents(nil)
	_ approval.OnCall    = fakeOnCall(nil)
	_ approval.Directory = fakeDir(nil)
	_ page.Requests      = (*approval.Store)(nil)
)

var testKey = []byte("test-page-key-not-a-secret")

// planText is incident data on purpose: the page must show it as text, never run it.
const planText = "1. heap_dump app on app-3.prod ($(reboot))\n2. lb_detach app-3 from be_app\n3. restart app.service\n4. lb_attach app-3\n<script>alert('x')</script>"

type fixture struct {
	policy *approval.Policy
	store  *approval.Store
	pub    *fakePublisher
	incs   fakeIncidents
	req    *approval.Request
	h      http.Handler
}

// newFixture stores one pending gate on incident Q1PAGE and builds the page handler trusting
// assertions signed by the test proxy's key. now is the page's and the store's clock.
func newFixture(t *testing.T, now func() time.Time) *fixture {
	t.Helper()
	f := &fixture{store: approval.NewStore(approvaltest.NewKV(t), now), pub: &fakePublisher{}}
	f.req = &approval.Request{
		Incident: "Q1PAGE", IncidentTitle: "app-3: OutOfMemoryError", IncidentURL: "https://example.pagerduty.com/incidents/Q1PAGE",
		Run: "run-1", Runbook: "jvm-oom", RunbookVersion: "9f3c2ab", Gate: "restart", EscalationPolicy: "PEP",
		PlanHash: "sha256:6b1f0c9d2e", PlanText: planText, Targets: []string{"app-3.prod"},
		EvidenceLinks: []approval.Link{{Title: "app-3 diagnostics", URL: "https://evidence.example.com/Q1PAGE/run-1"}, {Title: "bad", URL: "javascript:alert(1)"}},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := f.store.Create(ctx, f.req); err != nil {
		t.Fatal(err)
	}
	f.incs = fakeIncidents{"Q1PAGE": {ID: "Q1PAGE", Status: incident.StatusTriggered, EscalationPolicy: incident.Ref{ID: "PEP"}}}
	policy := &approval.Policy{
		OnCall: fakeOnCall{"PEP": {"PONCALL"}},
		Dir: fakeDir{
			{ID: "PONCALL", Name: "Ada On-Call", Email: "oncall@example.com"},
			{ID: "PDEV", Name: "Dev Eloper", Email: "dev@example.com"},
			{ID: "PNEXT", Name: "Nat Next", Email: "next@example.com"},
		},
		Self: func(_ context.Context, id string) bool { return id == "PALAYA" },
	}
	f.policy = policy
	f.h = page.Handler(f.store, policy, page.Config{
		Key:       testKey,
		Identity:  testIdentity(time.Now),
		Publisher: f.pub,
		Incidents: f.incs,
		Now:       now,
	})
	return f
}

// url is the page's path with its signed token, as a note would link it.
func (f *fixture) url() string {
	return page.URL("", testKey, f.req.Incident, f.req.Code)
}

// The test proxy's signing key, its issuer and the page's audience.
var (
	proxyKey      = mustKey()
	proxyIssuer   = "https://proxy.example.test"
	proxyAudience = "alaya-approvals"
)

const assertionHeader = "X-Pomerium-Jwt-Assertion"

func mustKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func testIdentity(now func() time.Time) *page.JWTIdentity {
	return &page.JWTIdentity{Header: assertionHeader, Keys: []page.Key{{ID: "k1", Public: &proxyKey.PublicKey}},
		Issuer: proxyIssuer, Audience: proxyAudience, MaxAge: 5 * time.Minute, Now: now}
}

// assertion is what the proxy adds for email: an ES256 token, adjusted by mod.
func assertion(email string, now time.Time, mod func(jwt.MapClaims, *jwt.Token)) string {
	claims := jwt.MapClaims{"iss": proxyIssuer, "aud": proxyAudience, "email": email,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "sub": email}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = "k1"
	if mod != nil {
		mod(claims, tok)
	}
	s, err := tok.SignedString(proxyKey)
	if err != nil {
		panic(err)
	}
	return s
}
