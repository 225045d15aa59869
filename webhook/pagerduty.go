package webhook

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/incident"
)

// Header names PagerDuty V3 webhooks carry.
const (
	HeaderSignature = "X-PagerDuty-Signature"
	HeaderWebhookID = "X-Webhook-Id"
)

// Deps is what the PagerDuty handler needs. Verify and Decode come from the pagerduty
// package (pagerduty.VerifySignature, pagerduty.DecodeWebhook); tests inject their own.
type Deps struct {
	Publisher Publisher
	// Secrets returns the signing secrets in effect now; during a rotation there are two and
	// either may match. It is called per request, so secrets can change without a restart.
	Secrets func() [][]byte
	// Verify reports whether the X-PagerDuty-Signature header holds a valid signature of body
	// under one of secrets, in constant time.
	Verify func(header string, body []byte, secrets [][]byte) bool
	// Decode turns a verified V3 webhook body into an event; any error means the body is
	// malformed (400).
	Decode         func(body []byte) (*incident.Event, error)
	Logger         *slog.Logger
	Registerer     prometheus.Registerer // metrics; nil: not registered
	PublishTimeout time.Duration         // default 3 s
	MaxBody        int64                 // default 256 KiB
	// Limiter bounds webhooks in flight; share one between the handlers of a receiver.
	// nil: a limiter of DefaultMaxInflight for this handler alone.
	Limiter *Limiter
	// MaxAge is how old event.occurred_at may be: the stream's de-duplication window
	// (nats.duplicates). Default DefaultMaxAge.
	MaxAge time.Duration
	Now    func() time.Time // default time.Now
}

// NewPagerDutyHandler returns the handler for POST /v1/webhooks/pagerduty. In order: beyond the
// in-flight limit 503 before the body is read; only POST (405); body capped at MaxBody (413);
// signature verified over the raw body before it is parsed (401); body decoded (400);
// pagey.ping answered 200 and not queued; a signed occurred_at older than MaxAge or more than
// MaxFutureSkew ahead refused with 422 (a replay: PagerDuty does not retry it); the event published with
// its id as the message id and 202 answered after JetStream's acknowledgement, or 503 with
// Retry-After if that did not happen within PublishTimeout.
//
// The message id is the event's id (event.id in the body), not the X-Webhook-Id header.
// PagerDuty repeats both on every delivery attempt of one webhook, so either de-duplicates
// retries; event.id is better on two counts: it is covered by the signature (a replayed
// request cannot change it), and it is the same when two subscriptions (a service's and a
// team's) deliver the same event, which must still produce one run. X-Webhook-Id is used only
// if the decoder leaves the event id empty.
//
// It panics if a dependency is missing: that is a wiring mistake, found at start-up.
func NewPagerDutyHandler(deps Deps) http.Handler {
	if deps.Secrets == nil || deps.Verify == nil || deps.Decode == nil {
		panic("webhook: PagerDuty handler needs Secrets, Verify and Decode")
	}
	h := &pagerDuty{deps: deps, clock: newClock(deps.Now, deps.MaxAge)}
	h.rc = newReceiver("pagerduty", deps.Publisher, deps.Logger, deps.Registerer, deps.PublishTimeout, deps.MaxBody, deps.Limiter)
	return h
}

type pagerDuty struct {
	deps  Deps
	rc    *receiver
	clock clock
}

func (h *pagerDuty) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.rc.serve(w, r, h.handle) }

func (h *pagerDuty) handle(w http.ResponseWriter, r *http.Request) (int, error) {
	if r.Method != http.MethodPost {
		return 0, errMethod
	}
	body, err := readBody(w, r, h.rc.maxBody)
	if err != nil {
		return 0, err
	}
	if err := h.verify(r.Header.Get(HeaderSignature), body); err != nil {
		return 0, err
	}
	ev, err := h.decode(body, r.Header.Get(HeaderWebhookID))
	if err != nil {
		return 0, err
	}
	if ev.Type == incident.TypePing {
		writeJSON(w, http.StatusOK, map[string]string{"status": "pong"})
		return http.StatusOK, nil
	}
	if err := h.clock.check(ev.OccurredAt); err != nil {
		return 0, err
	}
	return h.rc.publish(w, r, ev)
}

func (h *pagerDuty) verify(header string, body []byte) error {
	if header == "" {
		return errNoSignature
	}
	secrets := h.deps.Secrets()
	if len(secrets) == 0 {
		h.rc.log.Error("no PagerDuty webhook secret configured: every webhook is refused")
	}
	if !h.deps.Verify(header, body, secrets) {
		return errBadSignature
	}
	return nil
}

// decode runs the injected decoder and completes the event. A ping is recognised even if the
// decoder refuses it (it carries no incident).
func (h *pagerDuty) decode(body []byte, webhookID string) (*incident.Event, error) {
	ev, err := h.deps.Decode(body)
	if err != nil {
		if isPing(body) {
			return &incident.Event{Type: incident.TypePing}, nil
		}
		return nil, errMalformed(err)
	}
	if ev == nil {
		return nil, errMalformed(errors.New("no event"))
	}
	if ev.ID == "" {
		ev.ID = webhookID
	} else if webhookID != "" && webhookID != ev.ID {
		h.rc.log.Debug("event id differs from X-Webhook-Id; using the signed event id", "event_id", ev.ID, "webhook_id", webhookID)
	}
	if ev.ID == "" && ev.Type != incident.TypePing {
		return nil, errMalformed(errors.New("event id missing"))
	}
	if ev.Source == "" {
		ev.Source = "pagerduty"
	}
	return ev, nil
}

// isPing reports whether body is PagerDuty's test event.
func isPing(body []byte) bool {
	var probe struct {
		Event struct {
			Type string `json:"event_type"`
		} `json:"event"`
	}
	return json.Unmarshal(body, &probe) == nil && probe.Event.Type == incident.TypePing
}
