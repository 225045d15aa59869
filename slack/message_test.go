package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClipText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"this is longer than twenty", 20, "this is l… (clipped)"},
		{strings.Repeat("é", 30), 20, strings.Repeat("é", 9) + "… (clipped)"},
		{"abcdef", 3, "… (clipped)"}, // limits under the mark's length never happen; still no panic
		{"report:\n```\nline one\nline two\n```", 30, "report:\n```\nlin\n```… (clipped)"},
		{"```a``` and more text here", 20, "```a``` a… (clipped)"},
	} {
		if got := clipText(tc.in, tc.max); got != tc.want {
			t.Errorf("clipText(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if got := clipText(tc.in, tc.max); !utf8.ValidString(got) || utf8.RuneCountInString(got) > max(tc.max, len(clipMark)) {
			t.Errorf("clipText cut a character or is too long: %q", got)
		}
	}
}

// TestBlocksJSON: the blocks encode in the shapes Slack's Block Kit reference gives.
func TestBlocksJSON(t *testing.T) {
	blocks := []Block{
		Section("*title*"),
		Context("a", "b"),
		Actions(Button{ActionID: "approve", Text: "Approve", Value: "approve|Q1|K7Q2XA", Style: "primary"}),
	}
	got, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"type":"section","text":{"type":"mrkdwn","text":"*title*"}},` +
		`{"type":"context","elements":[{"type":"mrkdwn","text":"a"},{"type":"mrkdwn","text":"b"}]},` +
		`{"type":"actions","elements":[{"type":"button","action_id":"approve","text":{"type":"plain_text","text":"Approve"},"value":"approve|Q1|K7Q2XA","style":"primary"}]}]`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestClipLeavesTheCallersBlocksAlone(t *testing.T) {
	long := strings.Repeat("x", MaxSectionTextLen+1)
	m := Message{Blocks: []Block{Section(long)}}
	Clip(m)
	if m.Blocks[0].Text.Text != long {
		t.Error("Clip changed the caller's block")
	}
}
