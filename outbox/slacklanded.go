package outbox

import (
	"context"
	"strconv"
	"time"
)

// clockSlack widens the window a Slack read-back looks in: a note's Created is the NATS
// server's time, a message's ts Slack's, and the two clocks need not agree.
const clockSlack = 5 * time.Minute

// noteRef names one note of slot id in a message's metadata: a slot whose message was posted
// takes newer content as a new message, which the earlier one must not pass for. The note's
// nonce tells them apart (two notes of a slot may be created in the same millisecond) and
// stays the same while newer content replaces a note not yet posted. Notes queued before
// nonces existed fall back to their creation time.
func noteRef(id string, n pendingNote) string {
	if n.Nonce != "" {
		return id + "@" + n.Nonce
	}
	return id + "@" + strconv.FormatInt(n.Created.UnixMilli(), 10)
}

// sendSlack posts m, unless an earlier attempt whose answer was lost posted it already: then
// it brings that message up to m's content (newer content may have replaced the note since),
// and reports it landed.
func (o *Outbox) sendSlack(ctx context.Context, m SlackMessage, n pendingNote) (ts string, landed bool, err error) {
	ts, landed, err = o.slackLanded(ctx, m, n)
	if err != nil {
		return "", false, err
	}
	if landed {
		m.ThreadTS, m.UpdateTS = "", ts
	}
	ts, err = o.slack.PostSlack(ctx, m)
	return ts, landed, err
}

// slackLanded looks for the message an earlier attempt at n posted, as landed does for notes.
// Only posts are looked for (an update or an ephemeral answer does no harm twice), and only
// on a later attempt. When it cannot look, it says no, logged and counted: the message is
// posted again rather than lost. A rate-limited look is tried again later instead.
func (o *Outbox) slackLanded(ctx context.Context, m SlackMessage, n pendingNote) (string, bool, error) {
	r, ok := o.slack.(SlackReader)
	if !ok || n.Attempts < 2 || m.UpdateTS != "" || m.ResponseURL != "" || m.Channel == "" {
		return "", false, nil
	}
	ts, found, err := r.FindSlack(ctx, m, n.Created.Add(-clockSlack))
	if _, named := retryDelay(err); err == nil || named {
		return ts, found, err
	}
	o.metrics.slack.WithLabelValues("readback_failed").Inc()
	o.log.WarnContext(ctx, "slack: cannot look for a message whose answer was lost; posting it again, it may appear twice",
		"id", m.Note, "channel", m.Channel, "err", err)
	return "", false, nil
}
