package webhook

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/incident"
)

// ErrIgnored, returned by a source's Decode, means the body is understood and deliberately
// not an incident event: answered 200 and not queued, so the tool does not retry it.
var ErrIgnored = errors.New("not an incident event")

// ErrForbidden, returned by a Decode, means the sender proved who it is but may not send this
// (a Slack press from a workspace Alaya does not serve): answered 403 and not queued.
var ErrForbidden = errors.New("not allowed from this sender")

// SourceDeps is what the handler of a declared source (package sources) needs.
type SourceDeps struct {
	Name      string // the source's name: Event.Source, the metrics label and the log's source
	Publisher Publisher
	// Authorize checks the credentials (a signature over body, a bearer token, a token in the
	// path) in constant time.
	Authorize func(r *http.Request, body []byte) bool
	// Decode maps a verified body to an event; an error wrapping ErrIgnored is answered 200,
	// any other error means the body does not fit the mapping (400).
	Decode         func(body []byte) (*incident.Event, error)
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	PublishTimeout time.Duration // default 3 s
	MaxBody        int64         // default 256 KiB
	// Limiter bounds webhooks in flight; share one between the handlers of a receiver.
	Limiter *Limiter
}

// NewSourceHandler returns the handler for POST /v1/webhooks/in/NAME. It answers like the
// PagerDuty handler: 405, 413 over MaxBody, 401 on bad credentials (checked over the raw body
// before it is parsed), 400 when the mapping cannot take the body, and 202 only after
// JetStream acknowledged the event, whose id (from the mapping's dedup key) is the message
// id; 503 with Retry-After if that did not happen within PublishTimeout. It never logs the
// request's path, which may carry the source's token. It panics if a dependency is missing.
func NewSourceHandler(deps SourceDeps) http.Handler {
	if deps.Name == "" || deps.Authorize == nil || deps.Decode == nil {
		panic("webhook: source handler needs Name, Authorize and Decode")
	}
	h := &source{authorize: deps.Authorize, decode: deps.Decode}
	h.rc = newReceiver(deps.Name, deps.Publisher, deps.Logger, deps.Registerer, deps.PublishTimeout, deps.MaxBody, deps.Limiter)
	return h
}

type source struct {
	authorize func(*http.Request, []byte) bool
	decode    func([]byte) (*incident.Event, error)
	rc        *receiver
}

func (h *source) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.rc.serve(w, r, h.handle) }

func (h *source) handle(w http.ResponseWriter, r *http.Request) (int, error) {
	if r.Method != http.MethodPost {
		return 0, errMethod
	}
	body, err := readBody(w, r, h.rc.maxBody)
	if err != nil {
		return 0, err
	}
	if !h.authorize(r, body) {
		return 0, errUnauthorized
	}
	ev, err := h.decode(body)
	if errors.Is(err, ErrIgnored) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ignored"})
		return http.StatusOK, nil
	}
	if err != nil {
		return 0, errMalformed(err)
	}
	if ev == nil || ev.ID == "" {
		return 0, errMalformed(errors.New("no event id"))
	}
	return h.rc.publish(w, r, ev)
}
