package slackthread

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/outbox"
	"github.com/alaya-sre/alaya/slack"
)

type fakeAPI struct {
	posted  []slack.Message
	updated []slack.Message
	emails  map[string]string // email → Slack id
	err     error
}

func (f *fakeAPI) PostMessage(_ context.Context, m slack.Message) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	f.posted = append(f.posted, m)
	return "1.1", nil
}

func (f *fakeAPI) UpdateMessage(_ context.Context, _, _ string, m slack.Message) error {
	f.updated = append(f.updated, m)
	return f.err
}

func (f *fakeAPI) LookupUserByEmail(_ context.Context, email string) (string, error) {
	if id, ok := f.emails[email]; ok {
		return id, nil
	}
	return "", &slack.APIError{Method: "users.lookupByEmail", Code: "users_not_found"}
}

func (f *fakeAPI) Respond(context.Context, string, string) error { return f.err }

func (f *fakeAPI) FindNote(context.Context, string, string, time.Time, string) (string, bool, error) {
	return "", false, f.err
}

type fakePeople struct{}

func (fakePeople) OnCalls(context.Context, string) ([]approval.OnDuty, error) {
	return []approval.OnDuty{{UserID: "PALICE", Level: 1}, {UserID: "PBOB", Level: 1}, {UserID: "PCAROL", Level: 2}}, nil
}

func (fakePeople) User(_ context.Context, id string) (approval.User, error) {
	names := map[string]string{"PALICE": "Alice", "PBOB": "Bob <!channel>", "PCAROL": "Carol"}
	return approval.User{ID: id, Name: names[id], Email: strings.ToLower(id) + "@example.com"}, nil
}

// The top message mentions who is on call now at level 1 in Slack, names (escaped) whoever
// Slack does not know, and the user groups; text from outside cannot mention anybody.
func TestTopMessageMentionsOnCallAndEscapes(t *testing.T) {
	api := &fakeAPI{emails: map[string]string{"palice@example.com": "U0ALICE01"}}
	p := &Poster{API: api, People: fakePeople{}, Log: slog.New(slog.DiscardHandler)}
	_, err := p.PostSlack(t.Context(), outbox.SlackMessage{
		Slack:   outbox.Slack{Channel: "#ops", Thread: "r1", Top: true, Mention: &outbox.Mention{EscalationPolicy: "PEP1", Groups: []string{"S0SRE0001"}}},
		Content: "Alaya · diagnosing\nIncident: <!channel> disk full & more",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := api.posted[0].Text
	for _, want := range []string{"&lt;!channel&gt; disk full &amp; more", "On call now: <@U0ALICE01> Bob &lt;!channel&gt; · <!subteam^S0SRE0001>"} {
		if !strings.Contains(got, want) {
			t.Errorf("text %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "Carol") {
		t.Errorf("level 2 mentioned: %q", got)
	}
}

// A gate's message carries Approve and Reject buttons whose values name the incident and code.
func TestGateMessageHasButtons(t *testing.T) {
	api := &fakeAPI{}
	p := &Poster{API: api, Log: slog.New(slog.DiscardHandler)}
	_, err := p.PostSlack(t.Context(), outbox.SlackMessage{
		Slack: outbox.Slack{Channel: "#ops", Buttons: &outbox.Buttons{Incident: "PINC1", Code: "K7Q2XA"}}, ThreadTS: "1.1",
		Content: "Alaya · gated\n" + strings.Repeat("line of output\n", 400),
	})
	if err != nil {
		t.Fatal(err)
	}
	m := api.posted[0]
	last := m.Blocks[len(m.Blocks)-1]
	if m.ThreadTS != "1.1" || last.Type != "actions" || len(last.Elements) != 2 || len(m.Blocks) < 3 {
		t.Fatalf("message %+v", m)
	}
	for i, verb := range []string{"approve", "reject"} {
		b := last.Elements[i].(slack.Button)
		if v, inc, code, err := slack.ParseButtonValue(b.Value); err != nil || v != verb || inc != "PINC1" || code != "K7Q2XA" {
			t.Errorf("button %d value %q", i, b.Value)
		}
	}
}

// Slack's failures become the outbox's: a 429 waits, a documented permanent error is dropped.
func TestFailuresAreClassifiedForTheOutbox(t *testing.T) {
	for name, tc := range map[string]struct {
		err       error
		permanent bool
	}{
		"rate limited": {&slack.RateLimitedError{Method: "chat.postMessage", RetryAfter: 7 * time.Second}, false},
		"not found":    {&slack.APIError{Method: "chat.postMessage", Code: "channel_not_found"}, true},
		"5xx":          {&slack.StatusError{Method: "chat.postMessage", Status: 503}, false},
	} {
		t.Run(name, func(t *testing.T) {
			p := &Poster{API: &fakeAPI{err: tc.err}, Log: slog.New(slog.DiscardHandler)}
			_, err := p.PostSlack(t.Context(), outbox.SlackMessage{Slack: outbox.Slack{Channel: "#ops"}, Content: "x"})
			if outbox.IsPermanent(err) != tc.permanent || !errors.Is(err, tc.err) {
				t.Errorf("err = %v, permanent %v", err, outbox.IsPermanent(err))
			}
		})
	}
}

// After Slack did not answer, the next messages fail at once (retryable: they wait in the
// outbox) instead of each holding the run up to the client's timeout; later Slack is tried
// again.
func TestSlackNotAnsweringFailsFastForAWhile(t *testing.T) {
	now := time.Unix(1764500000, 0)
	api := &fakeAPI{err: &slack.TransportError{Method: "chat.postMessage", Err: context.DeadlineExceeded}}
	p := &Poster{API: api, Log: slog.New(slog.DiscardHandler)}
	p.breaker.now = func() time.Time { return now }
	msg := outbox.SlackMessage{Slack: outbox.Slack{Channel: "C0OPS0001"}, Content: "x"}
	if _, err := p.PostSlack(t.Context(), msg); err == nil || outbox.IsPermanent(err) {
		t.Fatalf("first = %v, want a retryable failure", err)
	}
	api.err = nil
	if _, err := p.PostSlack(t.Context(), msg); !errors.Is(err, errSlackAway) || outbox.IsPermanent(err) || len(api.posted) != 0 {
		t.Fatalf("second = %v (posted %d), want a fast retryable failure", err, len(api.posted))
	}
	now = now.Add(breakerOpen)
	if _, err := p.PostSlack(t.Context(), msg); err != nil || len(api.posted) != 1 {
		t.Fatalf("after the pause = %v, posted %d", err, len(api.posted))
	}
}

// countingPeople counts on-call lookups.
type countingPeople struct {
	fakePeople
	calls int
}

func (c *countingPeople) OnCalls(ctx context.Context, ep string) ([]approval.OnDuty, error) {
	c.calls++
	return c.fakePeople.OnCalls(ctx, ep)
}

// The top message's updates reuse who is on call for a minute instead of asking PagerDuty and
// Slack on every update of every run.
func TestMentionsAreReusedForAMinute(t *testing.T) {
	now := time.Unix(1764500000, 0)
	people := &countingPeople{}
	p := &Poster{API: &fakeAPI{emails: map[string]string{"palice@example.com": "U0ALICE01"}}, People: people, Log: slog.New(slog.DiscardHandler)}
	p.breaker.now = func() time.Time { return now }
	top := outbox.SlackMessage{Slack: outbox.Slack{Channel: "C0OPS0001", Thread: "r1", Top: true, Mention: &outbox.Mention{EscalationPolicy: "PEP1"}}, Content: "x"}
	for range 3 {
		if _, err := p.PostSlack(t.Context(), top); err != nil {
			t.Fatal(err)
		}
	}
	if people.calls != 1 {
		t.Errorf("on-call asked %d times for three updates, want 1", people.calls)
	}
	now = now.Add(mentionTTL)
	if _, err := p.PostSlack(t.Context(), top); err != nil || people.calls != 2 {
		t.Errorf("after a minute: calls %d, err %v", people.calls, err)
	}
}
