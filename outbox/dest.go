package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Dest says where a note goes. The zero Dest is the incident itself (PagerDuty, or the local
// notes of the embedded default); a Dest with Slack set is a Slack message.
type Dest struct {
	Slack *Slack `json:"slack,omitempty"`
}

// Slack is a note's place in Slack: a run's thread (its top message, or a reply in it), or an
// ephemeral answer to the one person who pressed a button.
type Slack struct {
	Channel string `json:"channel,omitempty"`
	// Thread names the thread (a run id). The ts of its top message is kept in the bucket
	// once posted, so a reply from any worker, or after a crash, lands under it.
	Thread string `json:"thread,omitempty"`
	// Top marks the thread's top message: the first content is posted, newer content
	// updates it in place.
	Top bool `json:"top,omitempty"`
	// Mention, on a top message: whom to mention.
	Mention *Mention `json:"mention,omitempty"`
	// Buttons, on a reply: the gate whose Approve and Reject buttons it carries.
	Buttons *Buttons `json:"buttons,omitempty"`
	// Edit names (by outbox id) an earlier message with buttons: it is updated to keep its
	// text, its buttons giving way to this note's content (the decision).
	Edit string `json:"edit,omitempty"`
	// ResponseURL sends the note as an ephemeral answer through the interaction's
	// response_url instead of into a thread.
	ResponseURL string `json:"response_url,omitempty"`
}

// Mention is whom a top message mentions: the people on call now for an escalation policy
// (looked up when the message is posted or updated) and user groups.
type Mention struct {
	EscalationPolicy string   `json:"escalation_policy,omitempty"`
	Groups           []string `json:"groups,omitempty"`
}

// Buttons are a gate's Approve and Reject buttons.
type Buttons struct {
	Incident string `json:"incident"`
	Code     string `json:"code"`
}

// SlackMessage is one delivery to Slack as the outbox resolved it: the thread's parent ts
// for a reply, the ts to update for a top message already posted.
type SlackMessage struct {
	Slack
	Incident string
	Content  string
	// ThreadTS is the top message's ts for a reply ("" posts at the channel's top level).
	ThreadTS string
	// UpdateTS is the ts of the message to update; "" posts it.
	UpdateTS string
	// Decided, on an edit of a message with buttons, replaces its buttons (Content is then
	// the message's text as it was posted).
	Decided string
	// Note names the note (its outbox id and when it was created): a posted message carries
	// it (as Slack message metadata) so that SlackReader can find it again.
	Note string
}

// SlackPoster delivers Slack messages and returns the ts of a message it posted (or
// updated). Errors are classified with RetryAfter and Permanent; anything else is retried
// with the outbox's back-off.
type SlackPoster interface {
	PostSlack(ctx context.Context, m SlackMessage) (ts string, err error)
}

// SlackReader finds the message an earlier attempt posted for m.Note, among m's thread's
// replies (m.ThreadTS) or the channel's top-level messages, since the time given. A
// SlackPoster that is also a SlackReader lets the outbox check, before it posts a message
// again, that an earlier attempt whose answer never came did not land: Reader's counterpart
// for Slack.
type SlackReader interface {
	FindSlack(ctx context.Context, m SlackMessage, since time.Time) (ts string, found bool, err error)
}

// retryAfter is a failure that says when to try again (Slack's 429 Retry-After).
type retryAfter struct {
	err   error
	after time.Duration
}

func (e *retryAfter) Error() string { return fmt.Sprintf("%v (retry after %s)", e.err, e.after) }
func (e *retryAfter) Unwrap() error { return e.err }

// RetryAfter marks err as a failure to retry after d, not sooner.
func RetryAfter(err error, d time.Duration) error { return &retryAfter{err: err, after: d} }

// permanent is a failure that trying again cannot fix (a channel that does not exist, a bot
// not in the channel, a revoked token).
type permanent struct{ err error }

func (e *permanent) Error() string { return e.err.Error() }
func (e *permanent) Unwrap() error { return e.err }

// Permanent marks err as a failure no retry can fix: the note is logged and dropped, counted
// in the metrics, instead of being retried for ever.
func Permanent(err error) error { return &permanent{err: err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanent
	return errors.As(err, &p)
}

// retryDelay is the delay a RetryAfter error asks for, if any.
func retryDelay(err error) (time.Duration, bool) {
	var r *retryAfter
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}
