package safety

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Hold keeps a host out of automatic changes after a change whose outcome is unknown (its
// worker died or was cut off during it): nobody knows the host's state, so a person must look
// before Alaya acts on it again. Holds never expire; `alaya holds clear HOST` ends one.
type Hold struct {
	Host   string    `json:"host"`
	Run    string    `json:"run"`
	Step   string    `json:"step"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
}

// ErrHostHeld means the host is held after an unknown outcome.
var ErrHostHeld = errors.New("host is held after a change with an unknown outcome")

const holdPrefix = "hold."

func holdKey(host string) string { return holdPrefix + token(host) }

// HoldHost puts host on hold. The first hold is kept: it names the change to check.
func (g *Guard) HoldHost(ctx context.Context, h Hold) error {
	data, _ := json.Marshal(h)
	_, err := g.switches.Create(ctx, holdKey(h.Host), data)
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("safety: hold %s: %w", h.Host, err)
	}
	return nil
}

// Held returns the host's hold, if it has one.
func (g *Guard) Held(ctx context.Context, host string) (*Hold, error) {
	return g.holdAt(ctx, holdKey(host))
}

func (g *Guard) holdAt(ctx context.Context, key string) (*Hold, error) {
	e, err := g.switches.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("safety: %s: %w", key, err)
	}
	var h Hold
	if err := json.Unmarshal(e.Value(), &h); err != nil {
		return nil, fmt.Errorf("safety: %s: %w", key, err)
	}
	return &h, nil
}

// Holds lists every held host.
func (g *Guard) Holds(ctx context.Context) ([]Hold, error) {
	keys, err := g.switches.ListKeysFiltered(ctx, holdPrefix+">")
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("safety: holds: %w", err)
	}
	var out []Hold
	for k := range keys.Keys() {
		h, err := g.holdAt(ctx, k)
		if err != nil {
			return nil, err
		}
		if h != nil {
			out = append(out, *h)
		}
	}
	return out, nil
}

// ClearHold releases a held host: a person checked it.
func (g *Guard) ClearHold(ctx context.Context, host string) error {
	if err := g.switches.Purge(ctx, holdKey(host)); err != nil {
		return fmt.Errorf("safety: clear hold %s: %w", host, err)
	}
	return nil
}
