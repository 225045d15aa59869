package webhook

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/promreg"
)

const (
	// DefaultMaxInflight bounds the webhooks being read or handled at once, across sources.
	// Each holds at most MaxBody (256 KiB) of body, so the worst case is 32 MiB; PagerDuty
	// delivers a subscription's webhooks one at a time, so even a busy account stays far below.
	DefaultMaxInflight = 128

	// DefaultMaxAge is how old a signed event may be: the stream's de-duplication window
	// (queue.DefaultDuplicates). A delivery older than that could no longer be recognised as a
	// duplicate by the stream, and PagerDuty stops retrying after 48 hours anyway.
	DefaultMaxAge = 72 * time.Hour

	// MaxFutureSkew is how far ahead of our clock an event may claim to be: clocks of
	// PagerDuty and of the receiver disagree by seconds, not minutes.
	MaxFutureSkew = 5 * time.Minute

	// firstRead is the buffer a body starts with, whatever length it declares: PagerDuty's
	// payloads are a few KiB, and a declared length is a promise the client need not keep.
	firstRead = 4 << 10
)

// Limiter bounds the webhook bodies in flight. One Limiter is shared by every source's
// handler of a receiver, so the bound holds for the process, not per path.
type Limiter struct {
	slots chan struct{}
}

// NewLimiter returns a limiter of max concurrent webhooks (DefaultMaxInflight if max < 1). With
// reg it exports alaya_webhook_inflight.
func NewLimiter(max int, reg prometheus.Registerer) *Limiter {
	if max < 1 {
		max = DefaultMaxInflight
	}
	l := &Limiter{slots: make(chan struct{}, max)}
	promreg.Register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "alaya_webhook_inflight",
		Help: "Webhooks being read or handled now; at receiver.max_inflight further ones get 503.",
	}, func() float64 { return float64(len(l.slots)) }))
	return l
}

// tryAcquire takes a slot without waiting: a receiver that is full says so at once rather
// than queueing connections it cannot serve.
func (l *Limiter) tryAcquire() bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l *Limiter) release() { <-l.slots }

// errBusy: 503, too many webhooks in flight; the sender retries after Retry-After.
var errBusy = &httpError{status: http.StatusServiceUnavailable, msg: "too many webhooks in flight, retry later", reason: "busy"}

// clock decides whether a signed event's time is acceptable.
type clock struct {
	now    func() time.Time
	maxAge time.Duration
}

func newClock(now func() time.Time, maxAge time.Duration) clock {
	if now == nil {
		now = time.Now
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	return clock{now: now, maxAge: maxAge}
}

// check refuses an event older than the replay window or from the future with 422: the
// request is authentic and well formed, but will never be acceptable, and PagerDuty does not
// retry a 4xx. (400 would say "malformed", 401 "check your secret".) An event without a time
// cannot be placed in the window and is refused too.
func (c clock) check(at time.Time) error {
	now := c.now()
	switch {
	case at.IsZero():
		return &httpError{status: http.StatusUnprocessableEntity, msg: "occurred_at missing: cannot tell a replay from a new event", reason: "stale"}
	case at.Before(now.Add(-c.maxAge)):
		return &httpError{status: http.StatusUnprocessableEntity, msg: fmt.Sprintf(
			"occurred_at %s is older than the %s replay window", at.UTC().Format(time.RFC3339), c.maxAge), reason: "stale"}
	case at.After(now.Add(MaxFutureSkew)):
		return &httpError{status: http.StatusUnprocessableEntity, msg: fmt.Sprintf(
			"occurred_at %s is more than %s in the future", at.UTC().Format(time.RFC3339), MaxFutureSkew), reason: "future"}
	}
	return nil
}
