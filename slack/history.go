package slack

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Every message Alaya posts for an outbox note carries Slack message metadata naming the
// note, so that a post whose answer was lost can be looked for before it is posted again:
// Slack has no idempotency key, and a message's text may since have changed.

// NoteEventType is the event_type of the metadata of Alaya's messages.
const NoteEventType = "alaya_note"

// A read-back reads the messages since the note was first tried (newest first for a channel,
// oldest first for a thread), findLimit a page, at most findPages pages. A channel busier than
// that in the window may hide the message, which is then posted again (a duplicate, never a
// loss).
const (
	findLimit = 200
	findPages = 5
)

type noteMetadata struct {
	EventType    string      `json:"event_type"`
	EventPayload notePayload `json:"event_payload"`
}

type notePayload struct {
	Note string `json:"note"`
}

// metadataOf is the metadata naming note, nil for none.
func metadataOf(note string) *noteMetadata {
	if note == "" {
		return nil
	}
	return &noteMetadata{EventType: NoteEventType, EventPayload: notePayload{Note: note}}
}

// FindNote looks for the message posted for note in channel: among the replies of the thread
// threadTS (conversations.replies) or, with threadTS "", among the channel's top-level
// messages (conversations.history), from oldest on (the zero time: no bound). It needs the
// channels:history scope (groups:history for a private channel); without it Slack answers
// missing_scope, a permanent *APIError.
func (c *Client) FindNote(ctx context.Context, channel, threadTS string, oldest time.Time, note string) (ts string, found bool, err error) {
	q := url.Values{"channel": {channel}, "include_all_metadata": {"true"}, "limit": {strconv.Itoa(findLimit)}}
	if !oldest.IsZero() {
		q.Set("oldest", fmt.Sprintf("%d.%06d", oldest.Unix(), oldest.Nanosecond()/1000))
	}
	method := "conversations.history"
	if threadTS != "" {
		method = "conversations.replies"
		q.Set("ts", threadTS)
	}
	for range findPages {
		var ans struct {
			Messages []struct {
				TS       string       `json:"ts"`
				Metadata noteMetadata `json:"metadata"`
			} `json:"messages"`
			ResponseMetadata struct {
				NextCursor string `json:"next_cursor"`
			} `json:"response_metadata"`
		}
		if err := c.get(ctx, method, q, &ans); err != nil {
			return "", false, err
		}
		for _, m := range ans.Messages {
			if m.Metadata.EventType == NoteEventType && m.Metadata.EventPayload.Note == note {
				return m.TS, true, nil
			}
		}
		if ans.ResponseMetadata.NextCursor == "" {
			break
		}
		q.Set("cursor", ans.ResponseMetadata.NextCursor)
	}
	return "", false, nil
}
