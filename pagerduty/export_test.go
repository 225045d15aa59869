package pagerduty

import (
	"context"
	"log/slog"
	"time"
)

// SetSleep replaces the retry transport's wait, so tests observe back-off without waiting.
func SetSleep(c *Client, sleep func(ctx context.Context, d time.Duration) error) {
	c.rt.sleep = sleep
}

// SetJitter fixes the back-off jitter (a number in [0,1)).
func SetJitter(c *Client, jitter func() float64) { c.rt.jitter = jitter }

func nilLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
