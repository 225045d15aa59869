package slackstandin

import (
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Block Kit is not in Slack's 2020 API description, so its rules here come from Slack's
// Block Kit reference (api.slack.com/reference/block-kit): the block types Alaya uses, their
// required fields, and the length limits beyond which Slack answers invalid_blocks. Unknown
// block or element types are refused too: a block Slack would render differently from what a
// test expects is a bug the test should see.

const (
	maxBlocks        = 50
	maxSectionText   = 3000
	maxHeaderText    = 150
	maxContextItems  = 10
	maxActionsItems  = 25
	maxButtonText    = 75
	maxButtonValue   = 2000
	maxActionID      = 255
	maxMessageText   = 40000
	maxBlockIDLength = 255
)

type blockJSON struct {
	Type     string            `json:"type"`
	BlockID  string            `json:"block_id"`
	Text     *textJSON         `json:"text"`
	Elements []json.RawMessage `json:"elements"`
	Fields   []textJSON        `json:"fields"`
}

type textJSON struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji *bool  `json:"emoji"`
}

// checkBlocks returns what Slack would refuse in raw, a blocks array.
func checkBlocks(raw json.RawMessage) []string {
	var blocks []blockJSON
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return []string{"blocks: not an array of blocks: " + err.Error()}
	}
	var out []string
	if len(blocks) > maxBlocks {
		out = append(out, fmt.Sprintf("%d blocks, at most %d", len(blocks), maxBlocks))
	}
	for i, b := range blocks {
		for _, p := range checkBlock(b) {
			out = append(out, fmt.Sprintf("blocks[%d] (%s): %s", i, b.Type, p))
		}
	}
	return out
}

func checkBlock(b blockJSON) []string {
	var out []string
	if utf8.RuneCountInString(b.BlockID) > maxBlockIDLength {
		out = append(out, "block_id too long")
	}
	switch b.Type {
	case "section":
		if b.Text == nil && len(b.Fields) == 0 {
			out = append(out, "section needs text or fields")
		}
		if b.Text != nil {
			out = append(out, checkText(*b.Text, maxSectionText, "mrkdwn", "plain_text")...)
		}
	case "header":
		if b.Text == nil {
			return append(out, "header needs text")
		}
		out = append(out, checkText(*b.Text, maxHeaderText, "plain_text")...)
	case "context":
		if len(b.Elements) == 0 || len(b.Elements) > maxContextItems {
			out = append(out, fmt.Sprintf("%d elements, need 1 to %d", len(b.Elements), maxContextItems))
		}
		for _, e := range b.Elements {
			var t textJSON
			if err := json.Unmarshal(e, &t); err != nil {
				out = append(out, "context element is not a text object")
				continue
			}
			out = append(out, checkText(t, maxSectionText, "mrkdwn", "plain_text")...)
		}
	case "actions":
		if len(b.Elements) == 0 || len(b.Elements) > maxActionsItems {
			out = append(out, fmt.Sprintf("%d elements, need 1 to %d", len(b.Elements), maxActionsItems))
		}
		actionIDs := map[string]bool{} // unique within the block, as Slack requires
		for _, e := range b.Elements {
			out = append(out, checkButton(e, actionIDs)...)
		}
	case "divider":
	default:
		out = append(out, "unknown block type")
	}
	return out
}

func checkText(t textJSON, max int, types ...string) []string {
	var out []string
	if !slices.Contains(types, t.Type) {
		out = append(out, fmt.Sprintf("text type %q, expected one of %v", t.Type, types))
	}
	if t.Emoji != nil && t.Type != "plain_text" {
		out = append(out, "emoji is for plain_text only")
	}
	if n := utf8.RuneCountInString(t.Text); n == 0 || n > max {
		out = append(out, fmt.Sprintf("text of %d characters, need 1 to %d", n, max))
	}
	return out
}

// checkButton checks one actions element; Alaya puts only buttons there.
func checkButton(raw json.RawMessage, actionIDs map[string]bool) []string {
	var b struct {
		Type     string   `json:"type"`
		Text     textJSON `json:"text"`
		ActionID string   `json:"action_id"`
		Value    *string  `json:"value"`
		Style    string   `json:"style"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || b.Type != "button" {
		return []string{"actions element is not a button"}
	}
	out := checkText(b.Text, maxButtonText, "plain_text")
	if n := len(b.ActionID); n == 0 || n > maxActionID {
		// Slack makes one up when it is missing; Alaya routes presses by it, so it is required here.
		out = append(out, fmt.Sprintf("action_id of %d characters, need 1 to %d", n, maxActionID))
	}
	if actionIDs[b.ActionID] {
		out = append(out, fmt.Sprintf("action_id %q used twice in one block", b.ActionID))
	}
	actionIDs[b.ActionID] = true
	if b.Value != nil && (len(*b.Value) == 0 || len(*b.Value) > maxButtonValue) {
		out = append(out, fmt.Sprintf("value of %d characters, need 1 to %d", len(*b.Value), maxButtonValue))
	}
	if b.Style != "" && b.Style != "primary" && b.Style != "danger" {
		out = append(out, fmt.Sprintf("style %q, expected primary or danger", b.Style))
	}
	return out
}
