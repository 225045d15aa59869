package webhook

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/incident"
)

// receiver is what every source's handler shares: the body limit, the publish with its
// deadline, the answer, the log line and the metrics.
type receiver struct {
	source  string
	pub     Publisher
	log     *slog.Logger
	metrics *metrics
	timeout time.Duration
	maxBody int64
	limiter *Limiter
}

func newReceiver(source string, pub Publisher, log *slog.Logger, reg prometheus.Registerer, timeout time.Duration, maxBody int64, limiter *Limiter) *receiver {
	if pub == nil {
		panic("webhook: " + source + " handler needs a Publisher")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if timeout <= 0 {
		timeout = DefaultPublishTimeout
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	if limiter == nil {
		limiter = NewLimiter(DefaultMaxInflight, reg)
	}
	return &receiver{
		source: source, pub: pub, log: log.With("source", source), metrics: newMetrics(reg),
		timeout: timeout, maxBody: maxBody, limiter: limiter,
	}
}

// accepted is the 202 body: the id the event was queued under, and whether it had been queued
// before (a redelivery).
type accepted struct {
	Status    string `json:"status"`
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate"`
}

// serve runs a source's handling step and counts the answer. handle returns the status it
// wrote, or an error for serve to answer.
func (rc *receiver) serve(w http.ResponseWriter, r *http.Request, handle func(http.ResponseWriter, *http.Request) (int, error)) {
	status, err := rc.admit(w, r, handle)
	if reason := reasonOf(err); reason != "" {
		rc.metrics.refused.WithLabelValues(rc.source, reason).Inc()
	}
	if err != nil {
		status = writeError(w, err)
		if status >= http.StatusInternalServerError {
			rc.log.Error("webhook not accepted", "status", status, "err", err)
		} else {
			rc.log.Warn("webhook refused", "status", status, "err", err, "remote", r.RemoteAddr)
		}
	}
	rc.metrics.requests.WithLabelValues(rc.source, strconv.Itoa(status)).Inc()
}

// admit runs handle if a slot is free, and refuses with 503 before reading the body if not.
func (rc *receiver) admit(w http.ResponseWriter, r *http.Request, handle func(http.ResponseWriter, *http.Request) (int, error)) (int, error) {
	if !rc.limiter.tryAcquire() {
		// Close rather than drain: reading a body we refused is the cost we are avoiding.
		w.Header().Set("Connection", "close")
		return 0, errBusy
	}
	defer rc.limiter.release()
	return handle(w, r)
}

// publish queues ev within the publish deadline and answers 202 once JetStream acknowledged it.
// A failure is unavailable: 503 with Retry-After, so the sender tries again.
func (rc *receiver) publish(w http.ResponseWriter, r *http.Request, ev *incident.Event) (int, error) {
	dup, err := rc.enqueue(r, ev)
	if err != nil {
		return 0, err
	}
	writeJSON(w, http.StatusAccepted, accepted{Status: "accepted", ID: ev.ID, Duplicate: dup})
	return http.StatusAccepted, nil
}

// enqueue publishes ev within the publish deadline; the caller answers.
func (rc *receiver) enqueue(r *http.Request, ev *incident.Event) (bool, error) {
	ctx, cancel := context.WithTimeout(r.Context(), rc.timeout)
	defer cancel()
	start := time.Now()
	_, dup, err := rc.pub.Publish(ctx, ev)
	rc.metrics.publishSeconds.WithLabelValues(rc.source).Observe(time.Since(start).Seconds())
	if err != nil {
		rc.log.Error("publish failed", "event_id", ev.ID, "event_type", ev.Type, "err", err)
		return false, errUnavailable
	}
	rc.log.Debug("webhook accepted", "event_id", ev.ID, "event_type", ev.Type, "duplicate", dup)
	return dup, nil
}
