package slackstandin

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Press is a button press, as SignedInteraction sends it.
type Press struct {
	User      string // the person pressing, U…
	UserName  string
	Channel   string
	MessageTS string
	ThreadTS  string // the pressed message's thread, "" at top level
	ActionID  string
	Value     string
	// At is the signing time (now by default): a past one makes a stale request.
	At time.Time
	// Secret signs instead of the stand-in's signing secret (a wrong or rotated one).
	Secret string
	// Team is the workspace the press comes from, the stand-in's by default (another
	// workspace the same app is installed in).
	Team string
}

// SignedInteraction builds a block_actions request as Slack sends it: the form body with its
// payload, and the headers, signed with the signing secret over the exact body. Its
// response_url points at the stand-in, which records what is posted to it.
func (s *Server) SignedInteraction(p Press) ([]byte, http.Header) {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	at := p.At
	if at.IsZero() {
		at = time.Now()
	}
	payload, err := json.Marshal(s.payload(p, n, at))
	if err != nil {
		panic(fmt.Sprintf("slackstandin: payload: %v", err))
	}
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	secret := s.secret
	if p.Secret != "" {
		secret = []byte(p.Secret)
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	return body, h
}

// payload is the block_actions payload, with the fields of Slack's documented example.
func (s *Server) payload(p Press, n int, at time.Time) map[string]any {
	actionTS := fmt.Sprintf("%d.%06d", at.Unix(), n)
	container := map[string]any{"type": "message", "message_ts": p.MessageTS, "channel_id": p.Channel, "is_ephemeral": false}
	message := map[string]any{"type": "message", "ts": p.MessageTS, "bot_id": "B0STANDIN", "text": ""}
	if p.ThreadTS != "" {
		container["thread_ts"] = p.ThreadTS
		message["thread_ts"] = p.ThreadTS
	}
	name := p.UserName
	if name == "" {
		name = "user-" + p.User
	}
	team := cmp.Or(p.Team, s.team)
	return map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": p.User, "username": name, "name": name, "team_id": team},
		"api_app_id": "A0STANDIN", "token": "verification-token-unused",
		"container":  container,
		"trigger_id": fmt.Sprintf("%d.%d.%032x", at.Unix(), n, n),
		"team":       map[string]any{"id": team, "domain": "standin"},
		"enterprise": nil, "is_enterprise_install": false,
		"channel":      map[string]any{"id": p.Channel, "name": "alerts"},
		"message":      message,
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": fmt.Sprintf("%s/actions/%s/%d/%x", s.srv.URL, team, n, sha256.Sum256([]byte(actionTS))),
		"actions": []map[string]any{{
			"action_id": p.ActionID, "block_id": "gate", "value": p.Value, "type": "button", "action_ts": actionTS,
			"text": map[string]any{"type": "plain_text", "text": p.ActionID, "emoji": true},
		}},
	}
}

// PressButton builds the signed interaction of user pressing the button actionID on the
// message ts in channel, with the value the message carries.
func (s *Server) PressButton(user, channel, ts, actionID string) ([]byte, http.Header, error) {
	m, ok := s.Message(channel, ts)
	if !ok {
		return nil, nil, fmt.Errorf("slackstandin: no message %s in %s", ts, channel)
	}
	v, ok := m.Buttons()[actionID]
	if !ok {
		return nil, nil, fmt.Errorf("slackstandin: message %s has no button %q", ts, actionID)
	}
	body, h := s.SignedInteraction(Press{User: user, Channel: channel, MessageTS: ts, ThreadTS: m.ThreadTS,
		ActionID: actionID, Value: v})
	return body, h, nil
}

// Deliver posts a signed interaction to the receiver at url, as Slack would, and returns the
// status and body of the answer.
func Deliver(ctx context.Context, url string, body []byte, h http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = h.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}
