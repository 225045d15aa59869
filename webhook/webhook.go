// Package webhook turns incoming HTTP webhooks into queued incident events.
//
// A webhook handler has one promise to keep: answer 2xx only once the event is safely in
// JetStream, and answer in a way that makes the sender do the right thing otherwise. PagerDuty
// retries 5xx and timeouts but never 4xx, and disables a subscription after repeated failures,
// so every outcome is chosen deliberately: a request that can never succeed (bad signature,
// malformed body, too large, a signed event outside the replay window) gets a 4xx with a short
// JSON reason; a request that failed only because the queue was unavailable, or because too
// many bodies were in flight, gets 503 and Retry-After within PublishTimeout (PagerDuty gives
// up on a delivery after 5 s). Signatures are checked over the raw bytes before anything is
// parsed, and no buffer is sized by what a client declares. Which source-specific pieces verify and decode is injected, so this package knows
// HTTP and the queue, and the source packages know their formats.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

// Publisher stores an event durably; *queue.Queue implements it. Publish returns only after the
// store acknowledged the event; duplicate reports that the event id was already stored.
type Publisher interface {
	Publish(ctx context.Context, ev *incident.Event) (seq uint64, duplicate bool, err error)
}

const (
	// DefaultPublishTimeout leaves PagerDuty (which waits 5 s) time to receive our 503.
	DefaultPublishTimeout = 3 * time.Second
	// DefaultMaxBody is the largest body accepted: PagerDuty's V3 payloads are a few KiB.
	DefaultMaxBody = 256 << 10
	// retryAfter is sent with 503: when to try again, in seconds.
	retryAfter = "5"
)

// readBody reads the whole body, refusing more than limit bytes without reading them all.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errTooLarge(limit)
	}
	// The buffer grows as bytes arrive, never to the declared length: 800 idle connections
	// that each declared 256 KiB took the heap to 218 MiB before a byte was read.
	var buf bytes.Buffer
	buf.Grow(int(min(max(r.ContentLength, 0), firstRead)) + bytes.MinRead)
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, errTooLarge(limit)
		}
		return nil, &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("reading body: %v", err)}
	}
	return buf.Bytes(), nil
}
