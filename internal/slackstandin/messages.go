package slackstandin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"time"
	"unicode/utf8"
)

// Message is a message as the stand-in keeps it: its current text and blocks, and every
// version it had.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string // the parent's ts for a reply, "" for a top-level message
	Text     string
	Blocks   json.RawMessage
	// Metadata is the message metadata it was posted with ({"event_type", "event_payload"}).
	Metadata json.RawMessage
	// Versions are the message's states, first the posted one, then one per chat.update.
	Versions []Version
}

// Version is a message's text and blocks at one moment.
type Version struct {
	Text   string
	Blocks json.RawMessage
}

// Buttons lists the message's buttons (action_id → value), for pressing them.
func (m Message) Buttons() map[string]string {
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	out := map[string]string{}
	if json.Unmarshal(m.Blocks, &blocks) != nil {
		return out
	}
	for _, b := range blocks {
		for _, e := range b.Elements {
			if b.Type == "actions" && e.Type == "button" {
				out[e.ActionID] = e.Value
			}
		}
	}
	return out
}

// channelIDPattern is a channel id. Slack's chat.postMessage also takes a name, chat.update
// does not; the stand-in takes ids only, so a config that names channels is caught in tests.
var channelIDPattern = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)

func (s *Server) postMessage(w http.ResponseWriter, c call) {
	ch, thread := str(c.params, "channel"), str(c.params, "thread_ts")
	v, code, problems := s.version(c)
	if code != "" {
		s.refuse(w, c.method, code, problems)
		return
	}
	meta, err := metadataOf(c.params)
	if err != nil {
		s.refuse(w, c.method, "invalid_metadata_format", []string{err.Error()})
		return
	}
	s.mu.Lock()
	if code = s.postCheckLocked(ch, thread); code == "" && s.limitedLocked(ch) {
		s.mu.Unlock()
		s.rateLimit(w, c.method)
		return
	}
	if code != "" {
		s.mu.Unlock()
		if code == "thread_not_found" {
			// Slack posts a reply to an unknown thread_ts as a top-level message; Alaya
			// never means that, so the stand-in refuses it.
			s.violate(c.method, "thread_ts %s is no message in %s", thread, ch)
		}
		s.fail(w, c.method, http.StatusOK, code)
		return
	}
	s.seq++
	m := &Message{Channel: ch, TS: fmt.Sprintf("%d.%06d", time.Now().Unix(), s.seq), ThreadTS: thread,
		Text: v.Text, Blocks: v.Blocks, Metadata: meta, Versions: []Version{v}}
	s.messages[ch] = append(s.messages[ch], m)
	body := map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": messageJSON(m, false)}
	s.notifyLocked()
	s.mu.Unlock()
	s.answer(w, c.method, http.StatusOK, body)
}

// postCheckLocked is Slack's answer to a post into channel (and thread): "" when it may go.
func (s *Server) postCheckLocked(ch, thread string) string {
	if !channelIDPattern.MatchString(ch) {
		return "channel_not_found"
	}
	if thread != "" && s.findLocked(ch, thread) == nil {
		return "thread_not_found"
	}
	return ""
}

func (s *Server) update(w http.ResponseWriter, c call) {
	ch, ts := str(c.params, "channel"), str(c.params, "ts")
	v, code, problems := s.version(c)
	if code != "" {
		s.refuse(w, c.method, code, problems)
		return
	}
	s.mu.Lock()
	m := s.findLocked(ch, ts)
	if m == nil {
		s.mu.Unlock()
		s.fail(w, c.method, http.StatusOK, "message_not_found")
		return
	}
	if s.limitedLocked(ch) {
		s.mu.Unlock()
		s.rateLimit(w, c.method)
		return
	}
	m.Text, m.Blocks = v.Text, v.Blocks
	m.Versions = append(m.Versions, v)
	body := map[string]any{"ok": true, "channel": ch, "ts": ts, "text": m.Text, "message": messageJSON(m, false)}
	s.notifyLocked()
	s.mu.Unlock()
	s.answer(w, c.method, http.StatusOK, body)
}

// version reads text and blocks and checks them against Slack's limits.
func (s *Server) version(c call) (Version, string, []string) {
	v := Version{Text: str(c.params, "text")}
	blocks, err := blocksOf(c.params)
	if err != nil {
		return v, "invalid_blocks", []string{err.Error()}
	}
	v.Blocks = blocks
	if v.Text == "" && len(blocks) == 0 {
		return v, "no_text", nil
	}
	if utf8.RuneCountInString(v.Text) > maxMessageText {
		return v, "msg_too_long", []string{fmt.Sprintf("text of %d characters", utf8.RuneCountInString(v.Text))}
	}
	if len(blocks) > 0 {
		if p := checkBlocks(blocks); len(p) > 0 {
			return v, "invalid_blocks", p
		}
	}
	return v, "", nil
}

// refuse answers a message Slack would refuse, and records it: Alaya clips its messages, so
// one over the limits is a bug.
func (s *Server) refuse(w http.ResponseWriter, method, code string, problems []string) {
	s.violate(method, "%s: %v", code, problems)
	s.fail(w, method, http.StatusOK, code, problems...)
}

// limitedLocked reports whether a message to ch now would break EnforceChannelRate; when it
// would not, the message counts as the channel's latest.
func (s *Server) limitedLocked(ch string) bool {
	now := time.Now()
	if s.every > 0 && now.Sub(s.lastPost[ch]) < s.every/2 {
		s.limited++
		return true
	}
	s.lastPost[ch] = now
	return false
}

func (s *Server) rateLimit(w http.ResponseWriter, method string) {
	s.writeFailure(w, method, Failure{Status: http.StatusTooManyRequests, RetryAfter: s.retryIn})
}

func (s *Server) findLocked(ch, ts string) *Message {
	for _, m := range s.messages[ch] {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

// messageJSON is the message object Slack echoes back; its metadata only when asked for
// (include_all_metadata), as Slack does.
func messageJSON(m *Message, withMetadata bool) map[string]any {
	out := map[string]any{"type": "message", "subtype": "bot_message", "text": m.Text, "ts": m.TS, "bot_id": "B0STANDIN"}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	if withMetadata && len(m.Metadata) > 0 {
		out["metadata"] = m.Metadata
	}
	return out
}
