package approval_test

import (
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
)

func slackPress() *incident.Event {
	return &incident.Event{
		ID: "slack-1764500001.42.abcdef", Type: incident.TypeAnnotated, Source: incident.SourceSlack,
		OccurredAt: time.Unix(1764500001, 0), Incident: incident.Incident{ID: "Q1ABC"},
		Note: &incident.Note{ID: "slack-1764500001.42.abcdef", Content: "/alaya approve K7Q2XA",
			Author: incident.Ref{ID: "U0ANA", Type: incident.AuthorSlackUser}},
		Chat: &incident.ChatAction{Team: "T0TEAM", User: "U0ANA", Channel: "C0ALERTS", MessageTS: "1764500000.000200",
			ThreadTS: "1764500000.000100", ResponseURL: "https://hooks.slack.com/actions/T0TEAM/1/abc"},
	}
}

// TestSignedNoteCoversTheChatAction: whoever can publish to the queue but lacks the key cannot
// take a receiver-verified press and change where it came from or where the answer goes.
func TestSignedNoteCoversTheChatAction(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		name   string
		tamper func(*incident.Event)
	}{
		{"response URL", func(e *incident.Event) { e.Chat.ResponseURL = "http://169.254.169.254/latest" }},
		{"chat user", func(e *incident.Event) { e.Chat.User = "U0MALLORY" }},
		{"team", func(e *incident.Event) { e.Chat.Team = "T0OTHER" }},
		{"channel", func(e *incident.Event) { e.Chat.Channel = "C0OTHER" }},
		{"message", func(e *incident.Event) { e.Chat.MessageTS = "1764500000.000300" }},
		{"thread", func(e *incident.Event) { e.Chat.ThreadTS = "" }},
		{"chat removed", func(e *incident.Event) { e.Chat = nil }},
		{"source", func(e *incident.Event) { e.Source = incident.SourceApprovalPage }},
		{"verb", func(e *incident.Event) { e.Note.Content = "/alaya reject K7Q2XA" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := slackPress()
			ev.Note.Signature = approval.SignNote(key, ev)
			if !approval.VerifyNote(key, ev) {
				t.Fatal("the untouched press does not verify")
			}
			tc.tamper(ev)
			if approval.VerifyNote(key, ev) {
				t.Error("the changed press still verifies")
			}
		})
	}
}

// TestPageSignaturesUnchanged: a page decision without a chat action signs as it did before
// chat actions existed, so decisions queued during an upgrade still verify.
func TestPageSignaturesUnchanged(t *testing.T) {
	ev := slackPress()
	ev.Source, ev.Chat = incident.SourceApprovalPage, nil
	const before = "fAekdJncnuVUH7Ur8ETZVz-GMs5lwOlVSVXoRZZlL2E" // SignPageNote at 7a54d64
	if got := approval.SignNote([]byte("0123456789abcdef0123456789abcdef"), ev); got != before {
		t.Errorf("SignNote = %s, was %s", got, before)
	}
}
