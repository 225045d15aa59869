package safety

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ghostKV applies every write and then, once per key, answers as a client whose request timed
// out during a NATS failover would: the write happened, the caller cannot know.
type ghostKV struct {
	jetstream.KeyValue
	mu     sync.Mutex
	ghosts map[string]bool
}

func (g *ghostKV) ghost(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ghosts[key] {
		return false
	}
	g.ghosts[key] = true
	return true
}

func (g *ghostKV) Create(ctx context.Context, key string, v []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	rev, err := g.KeyValue.Create(ctx, key, v, opts...)
	if err == nil && g.ghost(key) {
		return 0, context.DeadlineExceeded
	}
	return rev, err
}

func (g *ghostKV) Update(ctx context.Context, key string, v []byte, last uint64) (uint64, error) {
	rev, err := g.KeyValue.Update(ctx, key, v, last)
	if err == nil && g.ghost(fmt.Sprint(key, rev)) {
		return 0, context.DeadlineExceeded
	}
	return rev, err
}

// Writes that time out after the server applied them ("ghost writes") are read back, not
// repeated: storm mode begins after exactly StormIncidents incidents, and each incident is
// counted once. Before the counter carried a nonce, each ghost write counted twice.
func TestGhostWritesCountOnce(t *testing.T) {
	g := newGuards(t, 1)[0]
	g.state = &ghostKV{KeyValue: g.state, ghosts: map[string]bool{}}
	limits := Limits{StormIncidents: 5, StormWindow: time.Hour}
	ctx := t.Context()
	for i := range 8 {
		storm, err := g.Storm(ctx, limits, fmt.Sprintf("PGHOST%d", i))
		if err != nil {
			t.Fatalf("incident %d: %v", i, err)
		}
		if want := i >= limits.StormIncidents; storm != want {
			t.Fatalf("incident %d: storm = %v, want %v", i+1, storm, want)
		}
	}
	if n, err := g.Count(ctx, "actions", time.Hour); err != nil || n != 1 {
		t.Errorf("first count after a ghost write = %d, %v; want 1", n, err)
	}
}
