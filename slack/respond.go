package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// An interaction carries a response_url, which answers the person who pressed a button (an
// ephemeral message only they see). The payload is signed by Slack, but a response URL is
// still a URL Alaya would call with data about a decision: Respond calls only origins in
// the allow-list, so neither a bug upstream nor a forged payload can aim Alaya at an internal
// address. No token is sent: the URL itself is the credential.

// origin is one allowed scheme and host (with port).
type origin struct{ scheme, host string }

// parseOrigins reads allow-list entries: "hooks.slack.com" (https, default port) or an origin
// such as "http://127.0.0.1:8123".
func parseOrigins(entries []string) ([]origin, error) {
	var out []origin
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if !strings.Contains(e, "://") {
			e = "https://" + e
		}
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("slack: response URL host %q: expected a host name or scheme://host[:port]", e)
		}
		out = append(out, origin{u.Scheme, canonicalHost(u)})
	}
	return out, nil
}

// canonicalHost is u's host with the scheme's default port removed and in lower case.
func canonicalHost(u *url.URL) string {
	h := strings.ToLower(u.Host)
	if (u.Scheme == "https" && strings.HasSuffix(h, ":443")) || (u.Scheme == "http" && strings.HasSuffix(h, ":80")) {
		h = h[:strings.LastIndex(h, ":")]
	}
	return h
}

// allowedResponseURL parses raw and checks it against the allow-list.
func (c *Client) allowedResponseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Opaque != "" {
		return nil, ErrResponseURLRefused
	}
	for _, o := range c.respond {
		if u.Scheme == o.scheme && canonicalHost(u) == o.host {
			return u, nil
		}
	}
	return nil, ErrResponseURLRefused
}

type ephemeral struct {
	ResponseType    string `json:"response_type"`
	ReplaceOriginal bool   `json:"replace_original"`
	Text            string `json:"text"`
}

// Respond answers the person behind an interaction with text only they see, leaving the
// message they pressed on as it is. A response URL outside the allow-list is refused with
// ErrResponseURLRefused before any connection is made.
func (c *Client) Respond(ctx context.Context, responseURL, text string) error {
	const method = "response_url"
	u, err := c.allowedResponseURL(responseURL)
	if err != nil {
		return err
	}
	body, err := json.Marshal(ephemeral{ResponseType: "ephemeral", Text: clipText(text, MaxTextLen)})
	if err != nil {
		return fmt.Errorf("slack: %s: encode: %w", method, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("slack: %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", c.userAgent)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		err = &TransportError{Method: method, Err: stripURL(err)}
	} else {
		resp.Body.Close()
		err = statusErr(resp, method)
	}
	c.metrics.observe(method, err, time.Since(start))
	return err
}
