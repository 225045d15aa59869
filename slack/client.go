package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	DefaultAPIURL          = "https://slack.com/api/"
	DefaultResponseURLHost = "hooks.slack.com"
	DefaultTimeout         = 10 * time.Second
	DefaultChannelInterval = time.Second
)

// maxAnswer bounds what is read of any answer: Slack's are a few KiB (a posted message echoed
// back), and a misbehaving server must not make Alaya buffer without limit.
const maxAnswer = 1 << 20

// Config is what a Client needs. Only Token is required.
type Config struct {
	Token Token
	// APIURL is the Web API's base, ending in "/" (DefaultAPIURL; a stand-in's URL in tests).
	APIURL string
	// ResponseURLHosts are the only places Respond posts to: a host name ("hooks.slack.com",
	// meaning https on its default port) or an origin ("http://127.0.0.1:8123"). Default:
	// DefaultResponseURLHost.
	ResponseURLHosts []string
	// Timeout bounds each call, within the caller's context (DefaultTimeout).
	Timeout time.Duration
	// ChannelInterval is the least time between two messages to one channel from this process
	// (DefaultChannelInterval); negative turns the spacing off, for tests that post bursts.
	ChannelInterval time.Duration
	// UserAgent names Alaya in Slack's logs ("alaya").
	UserAgent string
	// HTTPClient carries the calls (a client of its own by default).
	HTTPClient *http.Client
}

// Client calls Slack's Web API. It is safe for concurrent use.
type Client struct {
	token     Token
	base      *url.URL
	respond   []origin
	timeout   time.Duration
	userAgent string
	http      *http.Client
	limiter   *channelLimiter
	log       *slog.Logger
	metrics   *metrics
}

// New checks cfg and returns a client. log and reg may be nil.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("slack: no bot token")
	}
	base, err := apiBase(cfg.APIURL)
	if err != nil {
		return nil, err
	}
	hosts := cfg.ResponseURLHosts
	if len(hosts) == 0 {
		hosts = []string{DefaultResponseURLHost}
	}
	origins, err := parseOrigins(hosts)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{token: cfg.Token, base: base, respond: origins, timeout: cfg.Timeout,
		userAgent: cfg.UserAgent, http: cfg.HTTPClient, log: log.With("component", "slack"), metrics: newMetrics(reg)}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.userAgent == "" {
		c.userAgent = "alaya"
	}
	c.http = noRedirects(cfg.HTTPClient)
	every := cfg.ChannelInterval
	if every == 0 {
		every = DefaultChannelInterval
	}
	c.limiter = newChannelLimiter(every)
	return c, nil
}

// apiBase parses the API URL and makes sure it ends in "/", so methods resolve below it.
func apiBase(raw string) (*url.URL, error) {
	if raw == "" {
		raw = DefaultAPIURL
	}
	if !strings.HasSuffix(raw, "/") {
		raw += "/"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("slack: api_url %q: expected an absolute http(s) URL", raw)
	}
	return u, nil
}

// noRedirects returns a copy of hc (or a new client) that follows no redirect: the Web API
// never redirects, and a response URL that did could lead Respond outside its allow-list.
func noRedirects(hc *http.Client) *http.Client {
	c := &http.Client{}
	if hc != nil {
		*c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// answer is the envelope of every Web API answer.
type answer struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// postJSON calls method with body as JSON and decodes the answer into out.
func (c *Client) postJSON(ctx context.Context, method string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("slack: %s: encode: %w", method, err)
	}
	return c.call(ctx, method, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.JoinPath(method).String(), bytes.NewReader(data))
		if err == nil {
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
		}
		return req, err
	}, out)
}

// get calls method with query parameters, as Slack's description has the users.* methods.
func (c *Client) get(ctx context.Context, method string, query url.Values, out any) error {
	return c.call(ctx, method, func(ctx context.Context) (*http.Request, error) {
		u := c.base.JoinPath(method)
		u.RawQuery = query.Encode()
		return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	}, out)
}

// call sends one request built by newReq, bounded by ctx and the per-call timeout, and
// classifies the outcome.
func (c *Client) call(ctx context.Context, method string, newReq func(context.Context) (*http.Request, error), out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	req, err := newReq(ctx)
	if err != nil {
		return fmt.Errorf("slack: %s: %w", method, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	req.Header.Set("User-Agent", c.userAgent)
	err = c.send(req, method, out)
	c.metrics.observe(method, err, time.Since(start))
	if err != nil {
		c.log.Debug("slack call failed", "method", method, "err", err, "temporary", Temporary(err))
	}
	return err
}

// send does the round trip and reads the answer.
func (c *Client) send(req *http.Request, method string, out any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return &TransportError{Method: method, Err: stripURL(err)}
	}
	defer resp.Body.Close()
	if err := statusErr(resp, method); err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return &TransportError{Method: method, Err: err}
	}
	if len(data) > maxAnswer {
		return &TransportError{Method: method, Err: fmt.Errorf("answer larger than %d bytes", maxAnswer)}
	}
	var env answer
	if err := json.Unmarshal(data, &env); err != nil {
		return &TransportError{Method: method, Err: fmt.Errorf("answer is not JSON: %w", err)}
	}
	if !env.OK {
		if env.Error == "" {
			env.Error = "unknown_error"
		}
		return &APIError{Method: method, Code: env.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &TransportError{Method: method, Err: fmt.Errorf("answer: %w", err)}
	}
	return nil
}

// statusErr classifies an HTTP status other than 200.
func statusErr(resp *http.Response, method string) error {
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return &RateLimitedError{Method: method, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return &StatusError{Method: method, Status: resp.StatusCode}
	}
	return nil
}

// retryAfter reads Retry-After seconds. Slack always sends it with 429; without a readable one
// a second is the least wait that respects the per-channel limit.
func retryAfter(h string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 1 {
		return time.Second
	}
	return time.Duration(n) * time.Second
}

// stripURL keeps the request URL out of a transport error: for users.lookupByEmail it holds an
// email address, and for Respond a URL that is itself a credential for that interaction.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}
