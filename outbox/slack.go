package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/kvkey"
)

// A thread's top message is posted once; its ts goes into the bucket under
// "thread.<thread>", and every later delivery for the thread reads it there: an update of
// the top message becomes chat.update on that ts, a reply is posted with it as thread_ts.
// A reply that finds no ts yet (its top message still waiting, say behind a 429) waits for
// it up to threadWait, then goes to the channel's top level rather than nowhere.

// threadWait is how long a reply waits for its thread's top message before it is posted
// without a thread.
const threadWait = 10 * time.Minute

// threadRetry is how soon a reply waiting for its thread is tried again.
const threadRetry = 2 * time.Second

// Thread is where a thread's top message is in Slack.
type Thread struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	// Refused says why Slack refused the top message for good (a channel that does not
	// exist, a bot not in it): the thread's replies are dropped at once instead of each
	// waiting for a top message that will never come.
	Refused string `json:"refused,omitempty"`
}

func threadKey(thread string) string { return "thread." + kvkey.Token(thread) }

// buttonsKey holds where a message with buttons went and what it said, so that a decision
// can replace its buttons and keep its text.
func buttonsKey(id string) string { return "buttons." + kvkey.Token(id) }

// posted is a message with buttons as it was posted.
type posted struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	Content string `json:"content"`
}

// errNoThread delays a reply whose thread has no top message yet.
var errNoThread = errors.New("the thread's top message is not posted yet")

// Thread returns where thread's top message is, ok false while it is not posted.
func (o *Outbox) Thread(ctx context.Context, thread string) (Thread, bool, error) {
	e, err := o.kv.Get(ctx, threadKey(thread))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Thread{}, false, nil
	} else if err != nil {
		return Thread{}, false, err
	}
	var t Thread
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return Thread{}, false, fmt.Errorf("thread %s: %w", thread, err)
	}
	return t, t.TS != "", nil
}

// postSlack delivers one claimed Slack note: it resolves the thread, posts (or finds the
// message an earlier attempt posted: landed), and records the ts of a top message it posted.
func (o *Outbox) postSlack(ctx context.Context, id string, n pendingNote, now time.Time) (landed bool, err error) {
	if o.slack == nil {
		return false, Permanent(errors.New("slack is not configured on this worker"))
	}
	m := SlackMessage{Slack: *n.To.Slack, Incident: n.Incident, Content: n.Content, Note: noteRef(id, n)}
	if m.Edit != "" {
		return false, o.editSlack(ctx, m, n, now)
	}
	if m.ResponseURL == "" && m.Thread != "" {
		t, ok, err := o.Thread(ctx, m.Thread)
		switch {
		case err != nil:
			return false, err
		case ok && m.Top:
			m.Channel, m.UpdateTS = t.Channel, t.TS
		case ok:
			m.Channel, m.ThreadTS = t.Channel, t.TS
		case !m.Top && t.Refused != "":
			return false, Permanent(fmt.Errorf("slack: the thread's top message was refused: %s", t.Refused))
		case !m.Top && now.Sub(n.Created) < threadWait:
			return false, RetryAfter(errNoThread, threadRetry)
		}
	}
	fresh := m.Top && m.UpdateTS == "" // the thread's top message, posted now
	ts, landed, err := o.sendSlack(ctx, m, n)
	if err != nil {
		if fresh && IsPermanent(err) {
			data, _ := json.Marshal(Thread{Channel: m.Channel, Refused: err.Error()})
			_, _ = o.kv.Create(context.WithoutCancel(ctx), threadKey(m.Thread), data)
		}
		return false, err
	}
	if m.Buttons != nil && ts != "" {
		data, _ := json.Marshal(posted{Channel: m.Channel, TS: ts, Content: m.Content})
		if _, err := o.kv.Put(context.WithoutCancel(ctx), buttonsKey(id), data); err != nil {
			o.log.WarnContext(ctx, "slack message with buttons posted but not recorded; its buttons stay after the decision", "id", id, "err", err)
		}
	}
	if fresh && ts != "" {
		data, _ := json.Marshal(Thread{Channel: m.Channel, TS: ts})
		if _, err := o.kv.Put(context.WithoutCancel(ctx), threadKey(m.Thread), data); err != nil {
			o.log.ErrorContext(ctx, "slack thread posted but its ts not recorded; replies go to the channel", "thread", m.Thread, "err", err)
		}
	}
	return landed, nil
}

// editSlack replaces the buttons of the message m.Edit names by m's content, keeping its text.
// It waits for that message like a reply waits for its thread.
func (o *Outbox) editSlack(ctx context.Context, m SlackMessage, n pendingNote, now time.Time) error {
	e, err := o.kv.Get(ctx, buttonsKey(m.Edit))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound) && now.Sub(n.Created) < threadWait:
		return RetryAfter(errNoThread, threadRetry)
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return Permanent(fmt.Errorf("slack: the message %s to edit was never posted", m.Edit))
	case err != nil:
		return err
	}
	var p posted
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return Permanent(fmt.Errorf("slack: message %s: %w", m.Edit, err))
	}
	m.Channel, m.UpdateTS, m.Decided, m.Content = p.Channel, p.TS, m.Content, p.Content
	_, err = o.slack.PostSlack(ctx, m)
	return err
}
