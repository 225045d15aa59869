package slackstandin

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Response is what was posted to a response URL.
type Response struct {
	URL             string
	ResponseType    string // ephemeral or in_channel
	ReplaceOriginal bool
	Text            string
}

// responseBody is what Slack's documentation lets a response URL receive.
type responseBody struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal *bool           `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
	Mrkdwn          *bool           `json:"mrkdwn"`
}

// respond is the response URL endpoint (hooks.slack.com's part).
func (s *Server) respond(w http.ResponseWriter, r *http.Request) {
	const method = "response_url"
	if f, ok := s.takeFailure(method); ok {
		s.writeFailure(w, method, f)
		return
	}
	rb, problem := readResponse(r)
	if problem != "" {
		s.violate(method, "%s", problem)
		s.record(method, http.StatusBadRequest, "invalid_payload")
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.responses = append(s.responses, Response{URL: s.srv.URL + r.URL.Path, ResponseType: rb.ResponseType,
		ReplaceOriginal: rb.ReplaceOriginal == nil || *rb.ReplaceOriginal, Text: rb.Text})
	s.mu.Unlock()
	s.record(method, http.StatusOK, "")
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok":true}`))
}

// readResponse checks a response URL post as Slack documents it: a JSON body of known fields,
// and no credentials (the URL is the credential; a bot token sent here would be a leak).
func readResponse(r *http.Request) (responseBody, string) {
	var rb responseBody
	if r.Method != http.MethodPost {
		return rb, "response URLs take POST, got " + r.Method
	}
	if r.Header.Get("Authorization") != "" {
		return rb, "Authorization header sent to a response URL"
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return rb, "Content-Type " + ct + ", expected application/json"
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxRequest))
	if err != nil {
		return rb, "body: " + err.Error()
	}
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.DisallowUnknownFields()
	if err := d.Decode(&rb); err != nil {
		return rb, "body: " + err.Error()
	}
	if rb.ResponseType != "ephemeral" && rb.ResponseType != "in_channel" {
		return rb, "response_type " + rb.ResponseType + ", expected ephemeral or in_channel"
	}
	if rb.Text == "" && len(rb.Blocks) == 0 {
		return rb, "no text"
	}
	return rb, ""
}

// Responses lists what was posted to response URLs, in order.
func (s *Server) Responses() []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Response(nil), s.responses...)
}

// WaitResponses waits until at least n responses were posted and returns them.
func (s *Server) WaitResponses(ctx context.Context, n int) ([]Response, error) {
	var out []Response
	err := s.WaitFor(ctx, func() bool {
		out = s.Responses()
		return len(out) >= n
	})
	return out, err
}
