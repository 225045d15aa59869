package slackthread

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/alaya-sre/alaya/outbox"
)

// A top message is updated four or five times in a run, and every update says who is on call.
// Asking PagerDuty and Slack again each time would multiply the calls by the number of runs in
// a storm, for an answer that changes at a shift's end: the line is kept for a minute.

// mentionTTL is how long a mention line is reused.
const mentionTTL = time.Minute

type mentionCache struct {
	mu    sync.Mutex
	lines map[string]cachedLine
}

type cachedLine struct {
	line string
	at   time.Time
}

// cachedMentions is mentions, reused for mentionTTL per escalation policy and groups.
func (p *Poster) cachedMentions(ctx context.Context, m *outbox.Mention) (string, error) {
	if m == nil {
		return "", nil
	}
	key := m.EscalationPolicy + "|" + strings.Join(m.Groups, ",")
	now := p.breaker.clock()
	c := &p.mentionC
	c.mu.Lock()
	got, ok := c.lines[key]
	c.mu.Unlock()
	if ok && now.Sub(got.at) < mentionTTL {
		return got.line, nil
	}
	line, err := p.mentions(ctx, m)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lines == nil {
		c.lines = map[string]cachedLine{}
	}
	for k, v := range c.lines { // few policies: forgetting the stale ones keeps it small
		if now.Sub(v.at) >= mentionTTL {
			delete(c.lines, k)
		}
	}
	c.lines[key] = cachedLine{line: line, at: now}
	return line, nil
}
