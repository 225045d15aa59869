package slackstandin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Reading a channel back: conversations.history lists its top-level messages newest first,
// conversations.replies a thread (its parent first, then the replies in order). Both take
// oldest (a ts; messages up to it are left out, it too unless inclusive) and limit, and include each message's
// metadata only with include_all_metadata, as Slack does. There is no paging: has_more says
// whether limit cut the list.

// defaultLimit is Slack's default page size for both methods.
const defaultLimit = 100

func (s *Server) history(w http.ResponseWriter, c call) {
	s.readBack(w, c, func(m *Message) bool { return m.ThreadTS == "" }, true)
}

func (s *Server) replies(w http.ResponseWriter, c call) {
	ch, ts := str(c.params, "channel"), str(c.params, "ts")
	s.mu.Lock()
	parent := s.findLocked(ch, ts)
	s.mu.Unlock()
	if parent == nil || parent.ThreadTS != "" {
		s.fail(w, c.method, http.StatusOK, "thread_not_found")
		return
	}
	s.readBack(w, c, func(m *Message) bool { return m == parent || m.ThreadTS == ts }, false)
}

// readBack answers the messages of the channel that keep selects, from oldest on, at most
// limit of them (the newest when newestFirst, else the first).
func (s *Server) readBack(w http.ResponseWriter, c call, keep func(*Message) bool, newestFirst bool) {
	ch := str(c.params, "channel")
	if !channelIDPattern.MatchString(ch) {
		s.fail(w, c.method, http.StatusOK, "channel_not_found")
		return
	}
	oldest, _ := strconv.ParseFloat(str(c.params, "oldest"), 64)
	limit, _ := strconv.Atoi(str(c.params, "limit"))
	if limit <= 0 {
		limit = defaultLimit
	}
	withMeta, _ := strconv.ParseBool(str(c.params, "include_all_metadata"))
	inclusive, _ := strconv.ParseBool(str(c.params, "inclusive"))
	s.mu.Lock()
	var msgs []map[string]any
	for _, m := range s.messages[ch] {
		ts, _ := strconv.ParseFloat(m.TS, 64)
		if keep(m) && (ts > oldest || inclusive && ts == oldest) {
			msgs = append(msgs, messageJSON(m, withMeta))
		}
	}
	s.mu.Unlock()
	if newestFirst {
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
	}
	more := len(msgs) > limit
	msgs = msgs[:min(len(msgs), limit)]
	body := map[string]any{"ok": true, "messages": msgs, "has_more": more}
	if c.method == "conversations.history" {
		body["pin_count"], body["channel_actions_ts"], body["channel_actions_count"] = 0, nil, 0
	}
	s.answer(w, c.method, http.StatusOK, body)
}

// metadataOf reads chat.postMessage's metadata, an object or its JSON text, and checks the
// shape Slack requires: an event_type and an event_payload object.
func metadataOf(params map[string]any) (json.RawMessage, error) {
	var raw []byte
	switch v := params["metadata"].(type) {
	case nil:
		return nil, nil
	case map[string]any:
		raw, _ = json.Marshal(v)
	default:
		raw = []byte(str(params, "metadata"))
	}
	var m struct {
		EventType    string         `json:"event_type"`
		EventPayload map[string]any `json:"event_payload"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if m.EventType == "" || m.EventPayload == nil {
		return nil, errors.New("metadata needs event_type and an event_payload object")
	}
	return raw, nil
}
