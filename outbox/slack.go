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
}

func threadKey(thread string) string { return "thread." + kvkey.Token(thread) }

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

// postSlack delivers one claimed Slack note: it resolves the thread, posts, and records
// the ts of a top message it posted.
func (o *Outbox) postSlack(ctx context.Context, n pendingNote, now time.Time) error {
	if o.slack == nil {
		return Permanent(errors.New("slack is not configured on this worker"))
	}
	m := SlackMessage{Slack: *n.To.Slack, Incident: n.Incident, Content: n.Content}
	if m.ResponseURL == "" && m.Thread != "" {
		t, ok, err := o.Thread(ctx, m.Thread)
		switch {
		case err != nil:
			return err
		case ok && m.Top:
			m.Channel, m.UpdateTS = t.Channel, t.TS
		case ok:
			m.Channel, m.ThreadTS = t.Channel, t.TS
		case !m.Top && now.Sub(n.Created) < threadWait:
			return RetryAfter(errNoThread, threadRetry)
		}
	}
	ts, err := o.slack.PostSlack(ctx, m)
	if err != nil {
		return err
	}
	if m.Top && m.UpdateTS == "" && ts != "" {
		data, _ := json.Marshal(Thread{Channel: m.Channel, TS: ts})
		if _, err := o.kv.Put(context.WithoutCancel(ctx), threadKey(m.Thread), data); err != nil {
			o.log.ErrorContext(ctx, "slack thread posted but its ts not recorded; replies go to the channel", "thread", m.Thread, "err", err)
		}
	}
	return nil
}
