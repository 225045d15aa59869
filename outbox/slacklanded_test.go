package outbox_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/slackstandin"
	"github.com/alaya-sre/alaya/outbox"
	"github.com/alaya-sre/alaya/slack"
	"github.com/alaya-sre/alaya/slackthread"
)

const channel = "C0OPS0001"

var (
	topDest   = outbox.Dest{Slack: &outbox.Slack{Channel: channel, Thread: "run1", Top: true}}
	replyDest = outbox.Dest{Slack: &outbox.Slack{Channel: channel, Thread: "run1"}}
	// lost is Slack taking a message and the answer not reaching Alaya.
	lost = slackstandin.Failure{Status: http.StatusInternalServerError}
)

// logBuffer is a log destination safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// slackOutbox is an outbox on real NATS delivering to the Slack stand-in through the real
// client and poster.
func slackOutbox(t *testing.T) (*outbox.Outbox, *slackstandin.Server, *logBuffer) {
	t.Helper()
	sl := slackstandin.New(t)
	c, err := slack.New(slack.Config{Token: slack.Token(sl.Token()), APIURL: sl.URL(), ChannelInterval: -1}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	o := outbox.New(outbox.NewKV(t), nil, log, outbox.NewMetrics(prometheus.NewRegistry())).
		WithSlack(&slackthread.Poster{API: c, Log: log})
	return o, sl, logs
}

func enqueue(t *testing.T, o *outbox.Outbox, id string, d outbox.Dest, content string) {
	t.Helper()
	if err := o.EnqueueTo(t.Context(), id, d, "PINC1", content); err != nil {
		t.Fatal(err)
	}
}

// postTop posts the thread's top message and returns its ts.
func postTop(t *testing.T, o *outbox.Outbox, sl *slackstandin.Server) string {
	t.Helper()
	enqueue(t, o, "run1.top", topDest, "diagnosing")
	if err := o.Deliver(t.Context(), "run1.top"); err != nil {
		t.Fatal(err)
	}
	top := sl.TopLevel(channel)
	if len(top) != 1 {
		t.Fatalf("top-level messages %+v", top)
	}
	return top[0].TS
}

// A reply Slack took but whose answer was lost is found in the thread before it is tried
// again, and not posted twice.
func TestSlackReplyWhoseAnswerWasLostIsNotPostedTwice(t *testing.T) {
	o, sl, _ := slackOutbox(t)
	parent := postTop(t, o, sl)
	enqueue(t, o, "run1.diag", replyDest, "2/2 hosts ok")
	sl.LoseNextAnswer("chat.postMessage", lost)
	if err := o.Deliver(t.Context(), "run1.diag"); err == nil {
		t.Fatal("the lost answer was not seen as a failure")
	}
	outbox.Drain(t, o, "run1.diag")
	if got := sl.Thread(channel, parent); len(got) != 1 {
		t.Errorf("the thread has %d replies, want 1: %+v", len(got), got)
	}
	if n := outbox.SlackCount(t, o, "landed"); n != 1 {
		t.Errorf("landed = %v, want 1", n)
	}
}

// A top message whose answer was lost is found in the channel: it is not posted twice, and
// its ts becomes the thread's, so the replies land under it.
func TestSlackTopMessageWhoseAnswerWasLostIsNotPostedTwice(t *testing.T) {
	o, sl, _ := slackOutbox(t)
	enqueue(t, o, "run1.top", topDest, "diagnosing")
	sl.LoseNextAnswer("chat.postMessage", lost)
	if err := o.Deliver(t.Context(), "run1.top"); err == nil {
		t.Fatal("the lost answer was not seen as a failure")
	}
	outbox.Drain(t, o, "run1.top")
	top := sl.TopLevel(channel)
	if len(top) != 1 {
		t.Fatalf("the channel has %d top-level messages, want 1: %+v", len(top), top)
	}
	enqueue(t, o, "run1.diag", replyDest, "2/2 hosts ok")
	outbox.Drain(t, o, "run1.diag")
	if got := sl.Thread(channel, top[0].TS); len(got) != 1 || got[0].Text != "2/2 hosts ok" {
		t.Errorf("the thread's replies are %+v, want the reply", got)
	}
}

// Without the history scope Slack refuses the read-back: the message is posted again (a
// duplicate, never a loss), and the fallback is logged with its reason and counted.
func TestSlackReadBackRefusedPostsAgain(t *testing.T) {
	o, sl, logs := slackOutbox(t)
	parent := postTop(t, o, sl)
	enqueue(t, o, "run1.diag", replyDest, "2/2 hosts ok")
	sl.LoseNextAnswer("chat.postMessage", lost)
	sl.FailNext("conversations.replies", 1, slackstandin.Failure{Error: "missing_scope"})
	_ = o.Deliver(t.Context(), "run1.diag")
	outbox.Drain(t, o, "run1.diag")
	if got := sl.Thread(channel, parent); len(got) != 2 {
		t.Errorf("the thread has %d replies, want the reply twice", len(got))
	}
	if n := outbox.SlackCount(t, o, "readback_failed"); n != 1 {
		t.Errorf("readback_failed = %v, want 1", n)
	}
	if n := strings.Count(logs.String(), "missing_scope"); n != 1 {
		t.Errorf("the reason is logged %d times, want once:\n%s", n, logs)
	}
}

// A slot whose message was posted takes its next message as a new one: when that one's first
// try fails before Slack took it, the read-back does not mistake the slot's earlier message
// for it, and both stay in the thread.
func TestSlackReadBackTellsASlotsMessagesApart(t *testing.T) {
	o, sl, _ := slackOutbox(t)
	parent := postTop(t, o, sl)
	enqueue(t, o, "run1.diag", replyDest, "1/2 hosts ok")
	if err := o.Deliver(t.Context(), "run1.diag"); err != nil {
		t.Fatal(err)
	}
	enqueue(t, o, "run1.diag", replyDest, "2/2 hosts ok")
	sl.FailNext("chat.postMessage", 1, slackstandin.Failure{Error: "internal_error"})
	_ = o.Deliver(t.Context(), "run1.diag")
	outbox.Drain(t, o, "run1.diag")
	got := sl.Thread(channel, parent)
	if len(got) != 2 || got[0].Text != "1/2 hosts ok" || got[1].Text != "2/2 hosts ok" {
		t.Errorf("the thread's replies are %+v, want both messages", got)
	}
}
