// Package pagerduty is Alaya's client of the PagerDuty REST API and its reader of PagerDuty V3
// webhooks.
//
// It exists so that the rest of Alaya speaks only its own vocabulary (package incident): the
// worker asks for an incident's alerts, who is on call, or posts a note, and this package turns
// that into go-pagerduty calls and turns PagerDuty's answers and failures back into the model
// and into one decision the caller can act on: Retryable or not.
//
// go-pagerduty does not retry, and PagerDuty rate-limits per account, so the client wraps the
// HTTP transport: a 429 waits for the ratelimit-reset the API announces, a 5xx or a network
// failure backs off exponentially with jitter, a 4xx answer is final. The API token travels
// only in the Authorization header; it is never logged and never part of an error string.
package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
)

// DefaultAPIURL is PagerDuty's REST API.
const DefaultAPIURL = "https://api.pagerduty.com"

// Defaults applied by New to zero Config fields.
const (
	DefaultMaxRetries     = 4
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxRateWait    = 60 * time.Second
)

// Config configures a Client.
type Config struct {
	// Token is a PagerDuty REST API key (sent as "Token token=..."). Required.
	Token string
	// APIURL is the REST API base URL; DefaultAPIURL when empty. Tests and the demo point it
	// at the stand-in (internal/pdstandin).
	APIURL string
	// From is the email address of the PagerDuty user notes are posted as. Required: PagerDuty
	// refuses a note without it.
	From string
	// UserAgent is prepended to go-pagerduty's own User-Agent, so PagerDuty's audit trail
	// shows which tool made the call.
	UserAgent string
	// MaxRetries is how many times a request is retried after a 429, a 5xx or a network
	// failure. 0 means DefaultMaxRetries; a negative value disables retries.
	MaxRetries int
	// RequestTimeout bounds each attempt (not the whole call, which the caller's context
	// bounds). 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxRateWait caps how long a 429's ratelimit-reset is honoured. 0 means
	// DefaultMaxRateWait.
	MaxRateWait time.Duration
	// HTTPClient is copied and its Transport wrapped with the retry policy; nil means a
	// client with http.DefaultTransport. A Timeout on it bounds a call including its retries.
	HTTPClient *http.Client
}

// Client calls the PagerDuty REST API for Alaya. It is safe for concurrent use.
type Client struct {
	pd    *pd.Client
	from  string
	token string
	log   *slog.Logger
	rt    *retryTransport

	mu         sync.Mutex
	fromUserID string
}

// New validates cfg and returns a client. logger may be nil.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	base, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	rt := newRetryTransport(cfg, logger)
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		*hc = *cfg.HTTPClient // a copy: the caller's client keeps its own Transport
	}
	rt.next = hc.Transport
	if rt.next == nil {
		rt.next = http.DefaultTransport
	}
	hc.Transport = rt
	c := pd.NewClient(cfg.Token, pd.WithAPIEndpoint(base))
	c.HTTPClient = hc
	rt.redact = tokenRedactor(cfg.Token)
	return &Client{pd: c, from: cfg.From, token: cfg.Token, log: logger, rt: rt}, nil
}

// validate checks the required fields and returns the API base URL without a trailing slash.
func (cfg Config) validate() (string, error) {
	var errs []error
	if strings.TrimSpace(cfg.Token) == "" {
		errs = append(errs, errors.New("token is required"))
	}
	if !strings.Contains(cfg.From, "@") {
		errs = append(errs, errors.New("from must be the email address of a PagerDuty user"))
	}
	base := cfg.APIURL
	if base == "" {
		base = DefaultAPIURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		errs = append(errs, errors.New("api url must be an absolute http(s) URL without credentials"))
	}
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("pagerduty: config: %w", err)
	}
	return strings.TrimRight(base, "/"), nil
}

// tokenRedactor returns a function that removes the token from text that is about to be
// logged or returned, in case a proxy or server echoes it back.
func tokenRedactor(token string) func(string) string {
	return func(s string) string {
		if token == "" {
			return s
		}
		return strings.ReplaceAll(s, token, "[REDACTED]")
	}
}

// call runs one go-pagerduty call with a call-scoped record of transport failures, and turns
// its error into an *Error.
func (c *Client) call(ctx context.Context, op string, f func(ctx context.Context) error) error {
	st := &callState{}
	err := f(withCallState(ctx, st))
	if err == nil {
		return nil
	}
	return c.classify(ctx, op, err, st.get())
}
