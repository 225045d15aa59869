package slack

import (
	"context"
	"sync"
	"time"
)

// channelLimiter spaces the messages this process sends to one channel: Slack allows about one
// chat.postMessage per second per channel and answers bursts with 429. Waiting here is cheaper
// than a 429 and keeps a storm of step results in order. A 429 pushes the channel's next slot
// back by its Retry-After, so other calls to that channel wait too instead of hitting it again.
type channelLimiter struct {
	every time.Duration

	mu   sync.Mutex
	next map[string]time.Time // channel → earliest start of its next call
}

func newChannelLimiter(every time.Duration) *channelLimiter {
	return &channelLimiter{every: every, next: map[string]time.Time{}}
}

// wait blocks until a call to channel may start, or ctx ends. The slot is taken when wait
// returns nil, so concurrent callers are spaced, not released together. When the slot lies
// beyond ctx's deadline, wait does not wait at all: it returns a *RateLimitedError saying how
// long, so the caller (the outbox) can come back then instead of holding a worker.
func (l *channelLimiter) wait(ctx context.Context, method, channel string) error {
	if l.every <= 0 {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	start := l.next[channel]
	if start.Before(now) {
		start = now
	}
	if dl, ok := ctx.Deadline(); ok && start.After(dl) {
		l.mu.Unlock()
		return &RateLimitedError{Method: method, RetryAfter: start.Sub(now)}
	}
	l.next[channel] = start.Add(l.every)
	l.pruneLocked(now)
	l.mu.Unlock()
	d := start.Sub(now)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		// The slot stays taken: giving it back could let two later callers start together.
		return &TransportError{Method: method, Err: ctx.Err()}
	}
}

// backOff keeps channel quiet until d from now, after Slack said 429.
func (l *channelLimiter) backOff(channel string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := time.Now().Add(d); until.After(l.next[channel]) {
		l.next[channel] = until
	}
}

// pruneLocked forgets channels whose slot has passed, so the map holds only channels in use.
func (l *channelLimiter) pruneLocked(now time.Time) {
	if len(l.next) < 64 {
		return
	}
	for ch, t := range l.next {
		if t.Before(now) {
			delete(l.next, ch)
		}
	}
}
