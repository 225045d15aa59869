package slackthread

import (
	"errors"
	"sync"
	"time"

	"github.com/alaya-sre/alaya/slack"
)

// The pipeline tries each Slack message once as it is written, inside the run. When Slack
// hangs, every such try would hold the run up to the client's timeout (10 s), message after
// message. After a call that got no answer, the breaker makes the calls of the next
// breakerOpen fail at once with a retryable error: the outbox keeps the messages and its
// sweeper tries again later, while the run goes on.

// breakerOpen is how long calls fail fast after Slack did not answer.
const breakerOpen = 30 * time.Second

// errSlackAway is the fast failure while the breaker is open.
var errSlackAway = errors.New("slack: not answering lately; the message waits in the outbox")

type breaker struct {
	mu    sync.Mutex
	until time.Time
	now   func() time.Time // time.Now; tests move it
}

// allow reports whether a call may go to Slack now.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.clock().Before(b.until)
}

// record opens the breaker after a call that got no answer.
func (b *breaker) record(err error) {
	var te *slack.TransportError
	if !errors.As(err, &te) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.until = b.clock().Add(breakerOpen)
}

func (b *breaker) clock() time.Time {
	if b.now != nil {
		return b.now()
	}
	return time.Now()
}
