package slack

import (
	"context"
	"errors"
)

// chatRequest is chat.postMessage's and chat.update's body, with the parameter names of
// Slack's Web API description.
type chatRequest struct {
	Channel  string        `json:"channel"`
	TS       string        `json:"ts,omitempty"`        // chat.update: the message to replace
	ThreadTS string        `json:"thread_ts,omitempty"` // chat.postMessage: reply in this thread
	Text     string        `json:"text,omitempty"`
	Blocks   []Block       `json:"blocks,omitempty"`
	Metadata *noteMetadata `json:"metadata,omitempty"` // chat.postMessage: names the note
}

type chatAnswer struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// PostMessage posts m (clipped to Slack's limits) and returns its ts, which names it for
// UpdateMessage and is the thread_ts of replies to it. It waits for the channel's turn first.
func (c *Client) PostMessage(ctx context.Context, m Message) (string, error) {
	const method = "chat.postMessage"
	if m.Channel == "" {
		return "", &APIError{Method: method, Code: "channel_not_found"}
	}
	m = Clip(m)
	var ans chatAnswer
	err := c.chat(ctx, method, chatRequest{Channel: m.Channel, ThreadTS: m.ThreadTS, Text: m.Text, Blocks: m.Blocks, Metadata: metadataOf(m.Note)}, &ans)
	if err != nil {
		return "", err
	}
	if ans.TS == "" {
		return "", &TransportError{Method: method, Err: errors.New("answer has no ts")}
	}
	return ans.TS, nil
}

// UpdateMessage replaces the text and blocks of the message ts in channel with m's (clipped).
// m.Channel and m.ThreadTS are ignored: a message stays where it is.
func (c *Client) UpdateMessage(ctx context.Context, channel, ts string, m Message) error {
	const method = "chat.update"
	if channel == "" || ts == "" {
		return &APIError{Method: method, Code: "message_not_found"}
	}
	m = Clip(m)
	return c.chat(ctx, method, chatRequest{Channel: channel, TS: ts, Text: m.Text, Blocks: m.Blocks}, nil)
}

// chat waits for the channel's slot, calls method, and keeps the channel quiet for as long as
// Slack asks when it answers 429.
func (c *Client) chat(ctx context.Context, method string, req chatRequest, out any) error {
	if err := c.limiter.wait(ctx, method, req.Channel); err != nil {
		return err
	}
	err := c.postJSON(ctx, method, req, out)
	if d, ok := RetryAfter(err); ok {
		c.limiter.backOff(req.Channel, d)
		c.log.Warn("slack rate limited", "method", method, "channel", req.Channel, "retry_after", d)
	}
	return err
}
