package webhook

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// AlertmanagerDeps is what the Alertmanager handler needs. Alertmanager does not sign its
// webhooks; it sends a bearer token or basic auth (http_config in its receiver), which
// Authorize checks.
type AlertmanagerDeps struct {
	Publisher      Publisher
	Authorize      func(r *http.Request) bool // see BearerToken
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	PublishTimeout time.Duration // default 3 s
	MaxBody        int64         // default 256 KiB
	// Limiter bounds webhooks in flight; share one between the handlers of a receiver.
	// nil: a limiter of DefaultMaxInflight for this handler alone.
	Limiter *Limiter
}

// NewAlertmanagerHandler returns the handler for POST /v1/webhooks/alertmanager (webhook
// version 4). Each notification becomes one event: firing → incident.triggered, resolved →
// incident.resolved, for the incident of its alert group. Status codes as for PagerDuty (405,
// 413, 401, 400, 202, 503); Alertmanager retries 5xx, so a 503 is retried like PagerDuty's.
// It panics if a dependency is missing.
func NewAlertmanagerHandler(deps AlertmanagerDeps) http.Handler {
	if deps.Authorize == nil {
		panic("webhook: Alertmanager handler needs Authorize")
	}
	h := &alertmanager{authorize: deps.Authorize}
	h.rc = newReceiver(SourceAlertmanager, deps.Publisher, deps.Logger, deps.Registerer, deps.PublishTimeout, deps.MaxBody, deps.Limiter)
	return h
}

type alertmanager struct {
	authorize func(*http.Request) bool
	rc        *receiver
}

func (h *alertmanager) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.rc.serve(w, r, h.handle) }

func (h *alertmanager) handle(w http.ResponseWriter, r *http.Request) (int, error) {
	if r.Method != http.MethodPost {
		return 0, errMethod
	}
	if !h.authorize(r) {
		return 0, errUnauthorized
	}
	body, err := readBody(w, r, h.rc.maxBody)
	if err != nil {
		return 0, err
	}
	ev, err := decodeAlertmanager(body)
	if err != nil {
		return 0, errMalformed(err)
	}
	return h.rc.publish(w, r, ev)
}

// BearerToken authorizes requests whose Authorization header is "Bearer <token>" for one of
// the tokens in effect (several during a rotation), compared in constant time. No tokens:
// nothing is authorized.
func BearerToken(tokens func() [][]byte) func(*http.Request) bool {
	return func(r *http.Request) bool {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return ok && anyEqual([]byte(got), tokens())
	}
}

// BasicAuth authorizes requests with HTTP basic credentials for user and one of the passwords
// in effect, compared in constant time.
func BasicAuth(user string, passwords func() [][]byte) func(*http.Request) bool {
	return func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		userOK := subtle.ConstantTimeCompare([]byte(u), []byte(user)) == 1
		return ok && anyEqual([]byte(p), passwords()) && userOK
	}
}

// anyEqual compares got with every candidate without stopping early.
func anyEqual(got []byte, candidates [][]byte) bool {
	match := 0
	for _, c := range candidates {
		if len(c) > 0 {
			match |= subtle.ConstantTimeCompare(got, c)
		}
	}
	return match == 1
}
