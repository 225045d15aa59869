package remediate_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/outbox"
	"github.com/alaya-sre/alaya/remediate"
)

// fakeSlack keeps the Slack messages the outbox delivers: top messages by thread (updated in
// place) and replies in order.
type fakeSlack struct {
	mu      sync.Mutex
	tops    map[string]string // ts → current text
	replies []outbox.SlackMessage
	answers []string // ephemeral answers through response URLs
	edits   []outbox.SlackMessage
	n       int
	// unbounded counts calls whose context allowed more than a few seconds: the run would
	// wait that long for a busy channel.
	unbounded int
}

func (f *fakeSlack) PostSlack(ctx context.Context, m outbox.SlackMessage) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > 10*time.Second {
		f.unbounded++
	}
	if f.tops == nil {
		f.tops = map[string]string{}
	}
	switch {
	case m.Decided != "":
		f.edits = append(f.edits, m)
		return m.UpdateTS, nil
	case m.ResponseURL != "":
		f.answers = append(f.answers, m.Content)
		return "", nil
	case m.UpdateTS != "":
		f.tops[m.UpdateTS] = m.Content
		return m.UpdateTS, nil
	case m.Top:
		f.n++
		ts := fmt.Sprintf("1.%d", f.n)
		f.tops[ts] = m.Content
		return ts, nil
	}
	f.replies = append(f.replies, m)
	return "2.1", nil
}

func (f *fakeSlack) snapshot() (map[string]string, []outbox.SlackMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tops := map[string]string{}
	for k, v := range f.tops {
		tops[k] = v
	}
	return tops, append([]outbox.SlackMessage(nil), f.replies...)
}

// A gated run has one thread: the top message says the state at each stage, the gate's plan
// carries the buttons, and the decision, each step and the result follow in the thread.
func TestRunThreadFollowsTheRun(t *testing.T) {
	b := newBed(t)
	b.slack = &fakeSlack{}
	b.chat = &remediate.Chat{Channel: func(*incident.Incident) string { return "#ops" }, MentionGroups: []string{"S0SRE0001"}}
	p := b.newP("w1")
	code, _ := b.park(t, p, "PI1")
	tops, replies := b.slack.snapshot()
	if len(tops) != 1 || !strings.Contains(tops["1.1"], "waiting for approval") {
		t.Fatalf("top after the gate: %q", tops)
	}
	if len(replies) != 1 || replies[0].Buttons == nil || replies[0].Buttons.Code != code || replies[0].ThreadTS != "1.1" || replies[0].Channel != "#ops" {
		t.Fatalf("gate reply: %+v", replies)
	}
	if g := replies[0].Content; !strings.Contains(g, "Decide with the buttons below, or with a note on the PagerDuty incident: /alaya approve "+code) ||
		strings.Contains(g, "add a note with the line") {
		t.Errorf("the gate in the thread does not point at its buttons:\n%s", g)
	}
	handle(t, p, approve("PI1", code, "n1"))
	tops, replies = b.slack.snapshot()
	if !strings.Contains(tops["1.1"], "done") {
		t.Errorf("top at the end: %q", tops["1.1"])
	}
	b.slack.mu.Lock()
	edits, unbounded := b.slack.edits, b.slack.unbounded
	b.slack.mu.Unlock()
	if unbounded > 0 {
		t.Errorf("%d Slack tries inside the run could wait longer than a few seconds for a busy channel", unbounded)
	}
	if len(edits) != 1 || edits[0].UpdateTS != "2.1" || !strings.Contains(edits[0].Decided, "approved by PONCALL") ||
		!strings.Contains(edits[0].Content, "Approval needed") || edits[0].Buttons != nil {
		t.Errorf("the gate's buttons were not replaced by the decision: %+v", edits)
	}
	var got []string
	for _, r := range replies {
		got = append(got, strings.SplitN(r.Content, "\n", 2)[0])
		if r.ThreadTS != "1.1" {
			t.Errorf("reply outside the thread: %+v", r)
		}
	}
	want := []string{"Alaya · gated", "Alaya · gated: approved by PONCALL", "Step 3/3 restart", "Alaya · gated"}
	if len(got) != len(want) {
		t.Fatalf("replies:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("reply %d = %q, want %q…", i, got[i], want[i])
		}
	}
}
