package pagerduty_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/pagerduty"
)

// testToken is the API token every test uses, so leaks can be searched for.
const testToken = "u+SECRETtok3n-DoNotLeak"

const fromEmail = "alaya-bot@example.com"

// fixture is a client wired to a stand-in, with its waits and log captured.
type fixture struct {
	pd     *pdstandin.Server
	url    string
	client *pagerduty.Client
	logs   *syncBuffer
	mu     sync.Mutex
	waits  []time.Duration
}

func newFixture(t *testing.T, mutate ...func(*pagerduty.Config)) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, mutate...)
}

// newFixtureWith also configures the stand-in.
func newFixtureWith(t *testing.T, opts []pdstandin.Option, mutate ...func(*pagerduty.Config)) *fixture {
	t.Helper()
	opts = append([]pdstandin.Option{pdstandin.WithToken(testToken)}, opts...)
	f := &fixture{pd: pdstandin.New(opts...), logs: &syncBuffer{}}
	srv := httptest.NewServer(f.pd.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(f.pd.Close)
	f.url = srv.URL
	f.pd.AddUser("PBOT001", "Alaya", fromEmail)
	cfg := pagerduty.Config{Token: testToken, APIURL: srv.URL, From: fromEmail, UserAgent: "alaya-test/1"}
	for _, m := range mutate {
		m(&cfg)
	}
	f.client = f.newClient(t, cfg)
	return f
}

func (f *fixture) newClient(t *testing.T, cfg pagerduty.Config) *pagerduty.Client {
	t.Helper()
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := pagerduty.New(cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	pagerduty.SetSleep(c, func(ctx context.Context, d time.Duration) error {
		f.mu.Lock()
		f.waits = append(f.waits, d)
		f.mu.Unlock()
		return ctx.Err()
	})
	pagerduty.SetJitter(c, func() float64 { return 0.5 })
	return c
}

func (f *fixture) recordedWaits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// requestsTo counts the requests the stand-in received for path.
func (f *fixture) requestsTo(path string) int {
	n := 0
	for _, r := range f.pd.Requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

func (f *fixture) addIncident(t *testing.T) string {
	t.Helper()
	return f.pd.AddIncident(incident.Incident{
		Title:            "Disk full on app-3",
		Service:          incident.Ref{ID: "PSVC001", Summary: "Checkout"},
		EscalationPolicy: incident.Ref{ID: "PEP0001", Summary: "Checkout on-call"},
		Assignees:        []incident.Ref{{ID: "PUSER01", Summary: "Ada"}},
		Alerts:           []incident.Alert{{Summary: "disk /var 98%", Details: map[string]any{"host": "app-3"}}},
	})
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type syncBuffer = testenv.LogBuffer

func readOptional(path string) ([]byte, error) { return os.ReadFile(path) }
