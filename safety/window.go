package safety

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Count adds one to the counter name for the current window of length w and returns the new
// count. Windows are aligned to the server's clock, so every worker counts into the same key.
func (g *Guard) Count(ctx context.Context, name string, w time.Duration) (int, error) {
	now, err := g.now(ctx)
	if err != nil {
		return 0, err
	}
	return g.count(ctx, name, windowKey(name, now, w))
}

// count adds one to the counter at key and returns the new count. Each call tags its write
// with a nonce: a write whose outcome was unknown (a timeout after the server applied it, as
// when NATS fails over) is recognised on the next read as this call's own and not counted
// again. Any failed write is resolved by reading back, never by assuming it did not happen.
func (g *Guard) count(ctx context.Context, name, key string) (int, error) {
	mine := nonce()
	for range 20 {
		e, err := g.state.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if _, err := g.state.Create(ctx, key, counterValue(1, mine)); err == nil {
				return 1, nil
			}
			continue // taken by another worker, or applied without an answer: read it back
		} else if err != nil {
			return 0, fmt.Errorf("safety: count %s: %w", name, err)
		}
		n, tag := parseCounter(e.Value())
		if tag == mine {
			return n, nil // our write landed; its answer was lost
		}
		if _, err := g.state.Update(ctx, key, counterValue(n+1, mine), e.Revision()); err == nil {
			return n + 1, nil
		}
	}
	return 0, fmt.Errorf("safety: count %s: too much contention", name)
}

// counterValue is a count and the nonce of the call that wrote it: "42 9f1c0a2b3d4e".
func counterValue(n int, nonce string) []byte { return []byte(strconv.Itoa(n) + " " + nonce) }

// parseCounter reads counterValue, and the bare counts written before nonces were.
func parseCounter(v []byte) (int, string) {
	count, tag, _ := strings.Cut(string(v), " ")
	n, _ := strconv.Atoi(count)
	return n, tag
}

// Limits are the fleet-wide caps.
type Limits struct {
	StormIncidents int           // more triggered incidents than this per StormWindow: diagnostics only
	StormWindow    time.Duration //
	MaxActions     int           // at most this many system-changing steps per ActionWindow
	ActionWindow   time.Duration //
}

// Storm counts an incoming incident, once per window however often its events are delivered,
// and reports whether Alaya is in storm mode.
func (g *Guard) Storm(ctx context.Context, l Limits, incidentID string) (bool, error) {
	if l.StormIncidents <= 0 {
		return false, nil
	}
	now, err := g.now(ctx) // once: the seen marker and the count must be of the same window
	if err != nil {
		return false, err
	}
	window := now.UnixNano() / int64(l.StormWindow)
	seen := fmt.Sprintf("seen.%d.%s", window, token(incidentID))
	key := windowKey("incidents", now, l.StormWindow)
	switch err := g.mark(ctx, seen); {
	case errors.Is(err, jetstream.ErrKeyExists):
		n, err := g.read(ctx, key)
		return n > l.StormIncidents, err
	case err != nil:
		return false, fmt.Errorf("safety: storm: %w", err)
	}
	n, err := g.count(ctx, "incidents", key)
	return n > l.StormIncidents, err
}

// mark creates key once: ErrKeyExists if it was there before this call. A create whose answer
// was lost is read back, and counts as this call's if it holds this call's nonce.
func (g *Guard) mark(ctx context.Context, key string) error {
	mine := nonce()
	_, err := g.state.Create(ctx, key, []byte(mine))
	if err == nil || errors.Is(err, jetstream.ErrKeyExists) {
		return err
	}
	e, rerr := g.state.Get(ctx, key)
	switch {
	case rerr != nil:
		return fmt.Errorf("safety: mark %s: %w", key, err)
	case string(e.Value()) == mine:
		return nil
	}
	return jetstream.ErrKeyExists
}

// read returns the counter at key without counting.
func (g *Guard) read(ctx context.Context, key string) (int, error) {
	e, err := g.state.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("safety: read %s: %w", key, err)
	}
	n, _ := parseCounter(e.Value())
	return n, nil
}

func windowKey(name string, now time.Time, w time.Duration) string {
	return fmt.Sprintf("window.%s.%d", token(name), now.UnixNano()/int64(w))
}

// AllowAction counts one system-changing step and reports whether it is within the cap.
func (g *Guard) AllowAction(ctx context.Context, l Limits) (bool, error) {
	if l.MaxActions <= 0 {
		return true, nil
	}
	n, err := g.Count(ctx, "actions", l.ActionWindow)
	return n <= l.MaxActions, err
}
