package pagerduty

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Back-off for 5xx answers and network failures: attempt n waits between half and all of
// min(backoffBase*2^n, backoffMax). Half is fixed so retries never bunch up at zero; the
// other half is random so many workers do not retry in step.
const (
	backoffBase = 250 * time.Millisecond
	backoffMax  = 8 * time.Second
)

// retryTransport is the retry policy, as an http.RoundTripper under go-pagerduty, which has
// none of its own. Every attempt is bounded by its own timeout and by the request's context.
type retryTransport struct {
	next        http.RoundTripper
	maxRetries  int
	timeout     time.Duration
	maxRateWait time.Duration
	userAgent   string
	log         *slog.Logger
	redact      func(string) string
	// sleep waits for d or until ctx ends; tests replace it to observe waits.
	sleep func(ctx context.Context, d time.Duration) error
	// jitter returns a number in [0,1).
	jitter func() float64
}

func newRetryTransport(cfg Config, log *slog.Logger) *retryTransport {
	t := &retryTransport{
		maxRetries:  cfg.MaxRetries,
		timeout:     cfg.RequestTimeout,
		maxRateWait: cfg.MaxRateWait,
		userAgent:   cfg.UserAgent,
		log:         log,
		redact:      func(s string) string { return s },
		sleep:       sleepCtx,
		jitter:      rand.Float64,
	}
	switch {
	case t.maxRetries == 0:
		t.maxRetries = DefaultMaxRetries
	case t.maxRetries < 0:
		t.maxRetries = 0
	}
	if t.timeout <= 0 {
		t.timeout = DefaultRequestTimeout
	}
	if t.maxRateWait <= 0 {
		t.maxRateWait = DefaultMaxRateWait
	}
	return t
}

// RoundTrip sends req, retrying 429, 5xx and network failures. After the last attempt it
// returns the last answer (or error), which go-pagerduty turns into its APIError.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	getBody, err := replayable(req)
	if err != nil {
		return nil, err
	}
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		resp, err := t.attempt(req, getBody)
		wait, retry := t.decide(ctx, resp, err, attempt)
		if !retry {
			return resp, err
		}
		t.logRetry(req, resp, err, attempt, wait)
		discard(resp)
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// attempt sends one copy of req with a fresh body and its own timeout. The timeout is
// released when the response body is closed, not when the headers arrive.
func (t *retryTransport) attempt(req *http.Request, getBody func() (io.ReadCloser, error)) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	r := req.Clone(ctx)
	if getBody != nil {
		body, err := getBody()
		if err != nil {
			cancel()
			return nil, fmt.Errorf("replay request body: %w", err)
		}
		r.Body, r.GetBody = body, getBody
	}
	if t.userAgent != "" {
		r.Header.Set("User-Agent", t.userAgent+" "+req.Header.Get("User-Agent"))
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		cancel()
		if st := callStateFrom(req.Context()); st != nil {
			st.set(err)
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// decide says whether to retry and after how long. Only 429, 5xx and failures without an
// answer are retried; a 4xx is PagerDuty's final word on the request.
func (t *retryTransport) decide(ctx context.Context, resp *http.Response, err error, attempt int) (time.Duration, bool) {
	if attempt >= t.maxRetries || ctx.Err() != nil {
		return 0, false
	}
	var wait time.Duration
	switch {
	case err != nil:
		wait = t.backoff(attempt)
	case resp.StatusCode == http.StatusTooManyRequests:
		wait = t.rateWait(resp, attempt)
	case resp.StatusCode >= 500:
		wait = t.backoff(attempt)
	default:
		return 0, false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		// Waiting would outlive the caller: hand back PagerDuty's answer instead of a bare
		// deadline error, so the caller sees why.
		return 0, false
	}
	return wait, true
}

// backoff is the wait before retry number attempt+1.
func (t *retryTransport) backoff(attempt int) time.Duration {
	d := backoffMax
	if attempt < 16 {
		d = min(backoffBase*time.Duration(math.Pow(2, float64(attempt))), backoffMax)
	}
	return d/2 + time.Duration(t.jitter()*float64(d/2))
}

// rateWait honours PagerDuty's ratelimit-reset header (seconds until the account's window
// resets), or a standard Retry-After, capped by maxRateWait; without either it backs off.
func (t *retryTransport) rateWait(resp *http.Response, attempt int) time.Duration {
	for _, h := range []string{"Ratelimit-Reset", "Retry-After"} {
		v := strings.TrimSpace(resp.Header.Get(h))
		if v == "" {
			continue
		}
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
			return min(time.Duration(secs*float64(time.Second)), t.maxRateWait)
		}
	}
	return t.backoff(attempt)
}

func (t *retryTransport) logRetry(req *http.Request, resp *http.Response, err error, attempt int, wait time.Duration) {
	attrs := []any{"method", req.Method, "path", req.URL.Path, "attempt", attempt + 1, "wait", wait}
	if resp != nil {
		attrs = append(attrs, "status", resp.StatusCode)
	}
	if err != nil {
		attrs = append(attrs, "err", t.redact(err.Error()))
	}
	t.log.Warn("pagerduty: retrying request", attrs...)
}

// replayable returns a function that yields a fresh copy of req's body for each attempt. The
// bodies Alaya sends (notes) are small, so buffering one is cheap.
func replayable(req *http.Request) (func() (io.ReadCloser, error), error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		return req.GetBody, nil
	}
	data, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("buffer request body: %w", err)
	}
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, nil
}

// discard drains and closes a response that is being retried, so its connection is reused.
func discard(resp *http.Response) {
	if resp == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// cancelOnClose releases an attempt's timeout when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var _ http.RoundTripper = (*retryTransport)(nil)
