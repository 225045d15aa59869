package slack

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Message is what PostMessage and UpdateMessage send. Text is the notification and fallback
// text (and the whole message when there are no blocks); Blocks are the layout. ThreadTS
// posts the message as a reply in that thread. Note, when set, goes with a posted message as
// its metadata, so FindNote can tell later whether the message is there.
type Message struct {
	Channel  string
	ThreadTS string
	Text     string
	Blocks   []Block
	Note     string
}

// Block is one Block Kit layout block, as Slack's JSON expects it. Build them with Section,
// Context and Actions rather than by hand: those fill in the shapes Slack requires.
type Block struct {
	Type     string `json:"type"`
	BlockID  string `json:"block_id,omitempty"`
	Text     *Text  `json:"text,omitempty"`     // section
	Elements []any  `json:"elements,omitempty"` // context: Text; actions: Button
}

// Text is a Block Kit text object.
type Text struct {
	Type string `json:"type"` // "mrkdwn" or "plain_text"
	Text string `json:"text"`
}

// Button is a Block Kit button element. Value is what the interaction brings back
// (ButtonValue); Style is "", "primary" or "danger".
type Button struct {
	ActionID string
	Text     string
	Value    string
	Style    string
}

// buttonJSON is a Button as Slack expects it.
type buttonJSON struct {
	Type     string `json:"type"`
	ActionID string `json:"action_id"`
	Text     Text   `json:"text"`
	Value    string `json:"value,omitempty"`
	Style    string `json:"style,omitempty"`
}

// MarshalJSON writes the button element with its plain_text label.
func (b Button) MarshalJSON() ([]byte, error) {
	return json.Marshal(buttonJSON{Type: "button", ActionID: b.ActionID,
		Text: Text{Type: "plain_text", Text: b.Text}, Value: b.Value, Style: b.Style})
}

// Section is a block of mrkdwn text.
func Section(mrkdwn string) Block {
	return Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: mrkdwn}}
}

// Context is a line of small print: one mrkdwn element per part.
func Context(mrkdwn ...string) Block {
	b := Block{Type: "context"}
	for _, s := range mrkdwn {
		b.Elements = append(b.Elements, Text{Type: "mrkdwn", Text: s})
	}
	return b
}

// Actions is a row of buttons.
func Actions(buttons ...Button) Block {
	b := Block{Type: "actions"}
	for _, bt := range buttons {
		b.Elements = append(b.Elements, bt)
	}
	return b
}

// Slack's limits (api.slack.com/reference/block-kit and chat.postMessage): beyond them the whole
// call fails with msg_too_long or invalid_blocks. A report that grew too long must still reach
// the channel, so Clip cuts instead.
const (
	MaxTextLen        = 40000 // message text
	MaxSectionTextLen = 3000  // a section's text, a context element's text
	MaxContextItems   = 10    // elements of a context block
	MaxBlocks         = 50    // blocks of a message
	MaxButtonTextLen  = 75    // a button's label
	MaxButtonValueLen = 2000  // a button's value
	MaxActionIDLen    = 255   // a button's action_id
)

// clipMark ends a cut text, so a reader knows there was more.
const clipMark = "… (clipped)"

// Clip returns m cut to Slack's limits: texts are shortened with a visible mark, surplus
// blocks and context elements dropped. Button values and action ids are never cut (a cut value
// would come back as a different decision); ParseButtonValue's bound keeps ours short.
func Clip(m Message) Message {
	m.Text = clipText(m.Text, MaxTextLen)
	if len(m.Blocks) > MaxBlocks {
		m.Blocks = m.Blocks[:MaxBlocks-1]
		m.Blocks = append(m.Blocks, Context("_further blocks clipped_"))
	}
	blocks := make([]Block, len(m.Blocks))
	for i, b := range m.Blocks {
		blocks[i] = clipBlock(b)
	}
	if m.Blocks != nil {
		m.Blocks = blocks
	}
	return m
}

func clipBlock(b Block) Block {
	if b.Text != nil {
		t := *b.Text
		t.Text = clipText(t.Text, MaxSectionTextLen)
		b.Text = &t
	}
	if b.Type == "context" && len(b.Elements) > MaxContextItems {
		b.Elements = b.Elements[:MaxContextItems]
	}
	els := make([]any, len(b.Elements))
	for i, e := range b.Elements {
		switch e := e.(type) {
		case Text:
			e.Text = clipText(e.Text, MaxSectionTextLen)
			els[i] = e
		case Button:
			e.Text = clipText(e.Text, MaxButtonTextLen)
			els[i] = e
		default:
			els[i] = e
		}
	}
	if b.Elements != nil {
		b.Elements = els
	}
	return b
}

// clipText cuts s to at most max characters (Slack counts characters, not bytes), ending in
// clipMark when it cut. A code block the cut leaves open is closed, so the rest of the
// message is not rendered as code.
func clipText(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	keep := max - utf8.RuneCountInString(clipMark)
	kept := cutRunes(s, keep)
	if strings.Count(kept, fence)%2 == 1 {
		kept = cutRunes(kept, keep-len(closeFence)) + closeFence
	}
	return kept + clipMark
}

const (
	fence      = "```"
	closeFence = "\n```"
)

// cutRunes returns the first n characters of s (none for n <= 0).
func cutRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	if n <= 0 {
		return ""
	}
	return s
}
