package webhook

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/incident"
)

// SlackTimeout bounds the publish of a press: Slack shows the person an error when the answer
// takes more than 3 seconds, so the queue gets what is left after reading and verifying.
const SlackTimeout = 2500 * time.Millisecond

// SlackDeps is what the Slack interactivity handler needs. The Slack specifics (signature,
// payload, buttons) are injected, so this package stays free of them.
type SlackDeps struct {
	Publisher Publisher
	// Verify checks Slack's request signature over the raw body (slack.Verifier.Verify); its
	// error is answered 401 and its text logged, never the body.
	Verify func(h http.Header, body []byte) error
	// Decode turns a verified body into the press's event; an error wrapping ErrIgnored (not
	// a press of ours) is answered 200 and nothing is queued; any other error is 400.
	Decode         func(body []byte) (*incident.Event, error)
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	PublishTimeout time.Duration // default and at most SlackTimeout
	MaxBody        int64         // default 256 KiB
	Limiter        *Limiter
}

// NewSlackHandler returns the handler for POST /v1/slack/interactions. It answers like the
// other sources (405, 413, 401 on a bad or stale signature, checked over the raw body before
// it is parsed, 400 for a payload that is not Slack's, 503 when the queue did not take the
// press in time) except that success is 200 with an empty body, which is what Slack expects:
// anything in the body would replace the message that was pressed. Nothing is answered until
// the stream has the event. It panics if a dependency is missing.
func NewSlackHandler(deps SlackDeps) http.Handler {
	if deps.Verify == nil || deps.Decode == nil {
		panic("webhook: Slack handler needs Verify and Decode")
	}
	timeout := deps.PublishTimeout
	if timeout <= 0 || timeout > SlackTimeout {
		timeout = SlackTimeout
	}
	h := &slackHandler{verify: deps.Verify, decode: deps.Decode}
	h.rc = newReceiver(incident.SourceSlack, deps.Publisher, deps.Logger, deps.Registerer, timeout, deps.MaxBody, deps.Limiter)
	return h
}

type slackHandler struct {
	verify func(http.Header, []byte) error
	decode func([]byte) (*incident.Event, error)
	rc     *receiver
}

func (h *slackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.rc.serve(w, r, h.handle)
}

func (h *slackHandler) handle(w http.ResponseWriter, r *http.Request) (int, error) {
	if r.Method != http.MethodPost {
		return 0, errMethod
	}
	body, err := readBody(w, r, h.rc.maxBody)
	if err != nil {
		return 0, err
	}
	if err := h.verify(r.Header, body); err != nil {
		return 0, &httpError{status: http.StatusUnauthorized, msg: err.Error()}
	}
	ev, err := h.decode(body)
	if errors.Is(err, ErrIgnored) {
		h.rc.log.Info("slack interaction ignored", "reason", err)
		w.WriteHeader(http.StatusOK)
		return http.StatusOK, nil
	}
	if errors.Is(err, ErrForbidden) {
		return 0, &httpError{status: http.StatusForbidden, msg: err.Error()}
	}
	if err != nil {
		return 0, errMalformed(err)
	}
	if ev == nil || ev.ID == "" {
		return 0, errMalformed(errors.New("no event id"))
	}
	if _, err := h.rc.enqueue(r, ev); err != nil {
		return 0, err
	}
	w.WriteHeader(http.StatusOK)
	return http.StatusOK, nil
}
