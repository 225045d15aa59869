package page

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
)

// Requests reads approval requests and the time workers agree on; *approval.Store
// implements it.
type Requests interface {
	Get(ctx context.Context, incident, code string) (*approval.Request, uint64, error)
	Now(ctx context.Context) (time.Time, error)
}

// Publisher puts an event on the queue and returns once the stream acknowledged it; the
// queue package's *Queue implements it.
type Publisher interface {
	Publish(ctx context.Context, ev *incident.Event) (seq uint64, duplicate bool, err error)
}

// Incidents fetches the incident as PagerDuty has it now (status, assignees, escalation
// policy); the pagerduty package's client implements it.
type Incidents interface {
	Incident(ctx context.Context, id string) (*incident.Incident, error)
}

// Config configures the page. Key is required; the rest has safe defaults (no trusted proxy:
// the page is read-only).
type Config struct {
	// Key signs link and form tokens. Share it with whatever renders the note links (URL).
	Key []byte
	// Identity says who the person is, on the word of a proxy that proves itself
	// (JWTIdentity, MTLSIdentity; HeaderIdentity only as an opt-in). Nil: no one may decide
	// on the page.
	Identity Identifier
	// Publisher takes decisions to the worker. Nil: the page is read-only.
	Publisher Publisher
	// Incidents lets the page check a decision before publishing it, so the person sees a
	// refusal at once. Nil: the page publishes and the worker's check alone decides.
	Incidents Incidents
	// Now is the clock (time.Now).
	Now func() time.Time
	// Timeout bounds the lookups and the publish of one request (3 s, inside a proxy's
	// usual deadline).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Handler serves GET and POST /approvals/<incident>/<code>. Mount it at PathPrefix.
func Handler(store Requests, policy *approval.Policy, cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{store: store, policy: policy, cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathPrefix+"{incident}/{code}", h.show)
	mux.Handle("POST "+PathPrefix+"{incident}/{code}", http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.submit)))
	return mux
}

type handler struct {
	store  Requests
	policy *approval.Policy
	cfg    Config
}

// canDecide reports whether this deployment can take decisions on the page at all.
func (h *handler) canDecide() bool {
	return h.cfg.Identity != nil && h.cfg.Publisher != nil && h.policy != nil && h.policy.Dir != nil
}
