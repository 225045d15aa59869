package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/servertime"
)

// fakeSlack records deliveries; fail, when set, answers the next call instead.
type fakeSlack struct {
	mu    sync.Mutex
	got   []SlackMessage
	calls int
	fail  []error
}

func (f *fakeSlack) PostSlack(_ context.Context, m SlackMessage) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		return "", err
	}
	f.got = append(f.got, m)
	if m.UpdateTS != "" {
		return m.UpdateTS, nil
	}
	return fmt.Sprintf("1700000000.%06d", len(f.got)), nil
}

func top(channel string) Dest {
	return Dest{Slack: &Slack{Channel: channel, Thread: "run1", Top: true}}
}

func reply(channel string) Dest { return Dest{Slack: &Slack{Channel: channel, Thread: "run1"}} }

func enqueueTo(t *testing.T, o *Outbox, id string, d Dest, content string) {
	t.Helper()
	if err := o.EnqueueTo(t.Context(), id, d, "PINC1", content); err != nil {
		t.Fatal(err)
	}
}

// The top message is posted once and updated in place; replies go under it, whichever
// outbox (worker) delivers them, because its ts is in the bucket.
func TestSlackThreadTopPostedThenUpdatedRepliesUnderIt(t *testing.T) {
	kv := outboxKV(t)
	s := &fakeSlack{}
	first := newOutboxOn(kv).WithSlack(s)
	second := newOutboxOn(kv).WithSlack(s)
	ctx := t.Context()
	enqueueTo(t, first, "run1.top", top("#payments"), "diagnosing")
	drain(t, first, "run1.top")
	enqueueTo(t, second, "run1.diag", reply("#payments"), "2/2 hosts ok")
	drain(t, second, "run1.diag")
	enqueueTo(t, second, "run1.top", top("#payments"), "done")
	drain(t, second, "run1.top")
	if len(s.got) != 3 {
		t.Fatalf("delivered %d messages, want 3: %+v", len(s.got), s.got)
	}
	parent := "1700000000.000001"
	if s.got[0].UpdateTS != "" || s.got[0].ThreadTS != "" || s.got[0].Content != "diagnosing" {
		t.Errorf("top = %+v, want a new message", s.got[0])
	}
	if s.got[1].ThreadTS != parent || s.got[1].Channel != "#payments" {
		t.Errorf("reply = %+v, want thread_ts %s", s.got[1], parent)
	}
	if s.got[2].UpdateTS != parent || s.got[2].Content != "done" {
		t.Errorf("update = %+v, want chat.update of %s", s.got[2], parent)
	}
	if th, ok, err := second.Thread(ctx, "run1"); err != nil || !ok || th.TS != parent {
		t.Errorf("thread = %+v %v %v", th, ok, err)
	}
}

// A decision replaces the buttons of the gate's message: the message is updated with its own
// text, which the outbox kept when it posted it.
func TestSlackEditReplacesButtonsKeepingText(t *testing.T) {
	s := &fakeSlack{}
	o := newOutbox(t, nil).WithSlack(s)
	enqueueTo(t, o, "run1.top", top("C0OPS0001"), "waiting")
	drain(t, o, "run1.top")
	gate := Dest{Slack: &Slack{Thread: "run1", Buttons: &Buttons{Incident: "PINC1", Code: "K7Q2XA"}}}
	enqueueTo(t, o, "run1.gate", gate, "plan: restart app-3")
	drain(t, o, "run1.gate")
	enqueueTo(t, o, "run1.gate.decided", Dest{Slack: &Slack{Thread: "run1", Edit: "run1.gate"}}, "approved by Dana")
	drain(t, o, "run1.gate.decided")
	if len(s.got) != 3 {
		t.Fatalf("delivered %+v", s.got)
	}
	e := s.got[2]
	if e.UpdateTS != "1700000000.000002" || e.Content != "plan: restart app-3" || e.Decided != "approved by Dana" || e.Buttons != nil || e.Channel != "C0OPS0001" {
		t.Errorf("edit = %+v", e)
	}
}

// A reply whose top message is not posted yet waits for it rather than landing outside the
// thread, and without counting as a failed attempt.
func TestSlackReplyWaitsForItsThread(t *testing.T) {
	s := &fakeSlack{}
	o := newOutbox(t, nil).WithSlack(s)
	enqueueTo(t, o, "run1.diag", reply("#payments"), "2/2 hosts ok")
	if err := o.Deliver(t.Context(), "run1.diag"); !errors.Is(err, errNoThread) {
		t.Fatalf("deliver = %v, want it waiting for the thread", err)
	}
	enqueueTo(t, o, "run1.top", top("#payments"), "diagnosing")
	drain(t, o, "run1.top")
	advance(o, threadRetry+time.Second)
	if err := o.Deliver(t.Context(), "run1.diag"); err != nil {
		t.Fatal(err)
	}
	if len(s.got) != 2 || s.got[1].ThreadTS == "" {
		t.Errorf("delivered %+v, want the reply in the thread", s.got)
	}
}

// A 429 waits the Retry-After Slack named: not sooner, and the message is posted once.
func TestSlackRateLimitWaitsRetryAfter(t *testing.T) {
	s := &fakeSlack{fail: []error{RetryAfter(errors.New("slack: 429 ratelimited"), 30*time.Second)}}
	o := newOutbox(t, nil).WithSlack(s)
	enqueueTo(t, o, "run1.top", top("#payments"), "diagnosing")
	_ = o.Deliver(t.Context(), "run1.top")
	advance(o, 20*time.Second)
	_ = o.Deliver(t.Context(), "run1.top")
	if s.calls != 1 {
		t.Fatalf("tried %d times within Retry-After, want 1", s.calls)
	}
	advance(o, 11*time.Second)
	if err := o.Deliver(t.Context(), "run1.top"); err != nil {
		t.Fatal(err)
	}
	if len(s.got) != 1 || slackCount(t, o, "rate_limited") != 1 {
		t.Errorf("posted %d, rate_limited %v", len(s.got), slackCount(t, o, "rate_limited"))
	}
}

// A permanent failure (a channel that does not exist) is dropped and counted, not retried
// for ever, and the same message queued again is not sent again.
func TestSlackPermanentFailureIsDroppedAndCounted(t *testing.T) {
	s := &fakeSlack{fail: []error{Permanent(errors.New("slack: channel_not_found"))}}
	o := newOutbox(t, nil).WithSlack(s)
	enqueueTo(t, o, "run1.top", top("#nowhere"), "diagnosing")
	if err := o.Deliver(t.Context(), "run1.top"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.kv.Get(t.Context(), noteKey("run1.top")); err == nil {
		t.Error("the dropped message is still in the outbox")
	}
	enqueueTo(t, o, "run1.top", top("#nowhere"), "diagnosing")
	_ = o.Deliver(t.Context(), "run1.top")
	// Its thread's replies go the same way at once, without waiting for the top message.
	enqueueTo(t, o, "run1.diag", reply("#nowhere"), "2/2 hosts ok")
	if err := o.Deliver(t.Context(), "run1.diag"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.kv.Get(t.Context(), noteKey("run1.diag")); err == nil {
		t.Error("a reply to a refused thread is still waiting")
	}
	if s.calls != 1 || slackCount(t, o, "dropped") != 2 {
		t.Errorf("calls %d, dropped %v", s.calls, slackCount(t, o, "dropped"))
	}
}

func newOutboxOn(kv Store) *Outbox {
	return New(kv, nil, slog.New(slog.DiscardHandler), NewMetrics(prometheus.NewRegistry()))
}

// slackCount reads alaya_slack_messages_total{outcome}.
func slackCount(t *testing.T, o *Outbox, outcome string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(o.metrics.slack)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// advance moves o's clock d ahead of where it is now.
func advance(o *Outbox, d time.Duration) {
	base := o.clock
	o.clock = servertime.Func(func() time.Time {
		now, _ := base.Now(context.Background())
		return now.Add(d)
	})
}
