package slack_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/slackstandin"
	"github.com/alaya-sre/alaya/slack"
)

// A message posted for a note carries the note in its metadata, and FindNote finds it again,
// at top level and in a thread, and only that note's message.
func TestFindNote(t *testing.T) {
	sl := slackstandin.New(t)
	c, _, _ := newClient(t, sl, nil)
	ctx := testContext(t)
	const ch = "C0OPS0001"
	start := time.Now().Add(-time.Second)
	top, err := c.PostMessage(ctx, slack.Message{Channel: ch, Text: "diagnosing", Note: "run1.top"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PostMessage(ctx, slack.Message{Channel: ch, Text: "other"}); err != nil {
		t.Fatal(err)
	}
	reply, err := c.PostMessage(ctx, slack.Message{Channel: ch, ThreadTS: top, Text: "2/2 ok", Note: "run1.diag"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, thread, note, want string
		found                    bool
	}{
		{"top message", "", "run1.top", top, true},
		{"reply", top, "run1.diag", reply, true},
		{"reply not at top level", "", "run1.diag", "", false},
		{"another note", top, "run1.gate", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, found, err := c.FindNote(ctx, ch, tc.thread, start, tc.note)
			if err != nil || found != tc.found || ts != tc.want {
				t.Errorf("FindNote = %q %v %v, want %q %v", ts, found, err, tc.want, tc.found)
			}
		})
	}
}

// A note's message behind more messages than one page holds is found on a later page, at top
// level (newest first: the note is the oldest) and in a thread (oldest first: the note last).
func TestFindNoteAcrossPages(t *testing.T) {
	sl := slackstandin.New(t)
	c, _, _ := newClient(t, sl, nil)
	ctx := testContext(t)
	const ch, busy = "C0OPS0001", 450 // more than two pages of 200
	start := time.Now().Add(-time.Second)
	top, err := c.PostMessage(ctx, slack.Message{Channel: ch, Text: "diagnosing", Note: "run1.top"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range busy {
		thread := ""
		if i%2 == 1 {
			thread = top
		}
		if _, err := c.PostMessage(ctx, slack.Message{Channel: ch, ThreadTS: thread, Text: fmt.Sprintf("chatter %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for range busy / 2 {
		if _, err := c.PostMessage(ctx, slack.Message{Channel: ch, ThreadTS: top, Text: "more chatter"}); err != nil {
			t.Fatal(err)
		}
	}
	reply, err := c.PostMessage(ctx, slack.Message{Channel: ch, ThreadTS: top, Text: "2/2 ok", Note: "run1.diag"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ thread, note, want string }{{"", "run1.top", top}, {top, "run1.diag", reply}} {
		if ts, found, err := c.FindNote(ctx, ch, tc.thread, start, tc.note); err != nil || !found || ts != tc.want {
			t.Errorf("FindNote(%q) = %q %v %v, want %q", tc.note, ts, found, err, tc.want)
		}
	}
}

// Without the history scopes Slack answers missing_scope: permanent, so the caller knows that
// trying again will not help.
func TestFindNoteWithoutScope(t *testing.T) {
	sl := slackstandin.New(t)
	c, _, _ := newClient(t, sl, nil)
	sl.FailNext("conversations.history", 1, slackstandin.Failure{Error: "missing_scope"})
	_, _, err := c.FindNote(testContext(t), "C0OPS0001", "", time.Time{}, "run1.top")
	if err == nil || slack.Temporary(err) {
		t.Fatalf("err = %v, want a permanent missing_scope", err)
	}
}
