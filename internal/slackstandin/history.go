package slackstandin

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Reading a channel back: conversations.history lists its top-level messages newest first,
// conversations.replies a thread (its parent first, then the replies in order). Both take
// oldest (a ts; messages up to it are left out, it too unless inclusive) and limit, and include each message's
// metadata only with include_all_metadata, as Slack does. A list cut by limit says so in
// has_more and in response_metadata.next_cursor, which a caller passes back as cursor for the
// next page.

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
	from, ok := parseCursor(str(c.params, "cursor"))
	if !ok {
		s.fail(w, c.method, http.StatusOK, "invalid_cursor")
		return
	}
	msgs = msgs[min(from, len(msgs)):]
	more := len(msgs) > limit
	msgs = msgs[:min(len(msgs), limit)]
	body := map[string]any{"ok": true, "messages": msgs, "has_more": more}
	if more {
		body["response_metadata"] = map[string]any{"next_cursor": makeCursor(from + limit)}
	}
	if c.method == "conversations.history" {
		body["pin_count"], body["channel_actions_ts"], body["channel_actions_count"] = 0, nil, 0
	}
	s.answer(w, c.method, http.StatusOK, body)
}

// A cursor is opaque to callers, as Slack's are; here it is the offset of the next page.
func makeCursor(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte("next:" + strconv.Itoa(offset)))
}

// parseCursor is the offset a cursor names, 0 for none; false for one this server never gave.
func parseCursor(cursor string) (int, bool) {
	if cursor == "" {
		return 0, true
	}
	raw, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(raw), "next:")
	n, err := strconv.Atoi(rest)
	return n, ok && err == nil && n >= 0
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
