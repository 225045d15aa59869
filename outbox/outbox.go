// Package outbox holds notes until the incident tool (PagerDuty, or the local notes of the
// embedded default) has accepted them. The pipeline writes a note here before it marks a run
// finished, so an outage, a 429 storm or a worker crash delays a note but cannot lose it.
// It is its own package because any worker's sweeper delivers any note, whichever run wrote it:
// delivery has its own rules (claims, back-off) that the run pipeline need not know.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Poster posts a note on an incident and returns the note's id.
type Poster interface {
	AddNote(ctx context.Context, incidentID, content string) (string, error)
}

// Store is the part of a JetStream KeyValue bucket the outbox uses: create, compare-and-swap
// and delete are what keep two workers from posting one note twice.
type Store interface {
	Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error)
	Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error)
	Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error)
	Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error
	ListKeysFiltered(ctx context.Context, filters ...string) (jetstream.KeyLister, error)
}

// Metrics count note deliveries.
type Metrics struct {
	notes *prometheus.CounterVec
}

// NewMetrics registers the outbox's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{notes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alaya_notes_total", Help: "Note deliveries to PagerDuty by outcome (posted, retry).",
	}, []string{"outcome"})}
	reg.MustRegister(m.notes)
	return m
}

// Outbox holds notes until PagerDuty has accepted them. A note is written to KV before the
// run is marked finished, so a PagerDuty outage, a 429 storm or a worker crash delays a note
// but cannot lose it. Any worker's sweeper may deliver any note; a short claim written with
// compare-and-swap keeps two workers from posting the same note at once.
type Outbox struct {
	kv      Store
	notes   Poster
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time
	claim   time.Duration // how long a delivery attempt holds a note
}

type pendingNote struct {
	Incident    string    `json:"incident"`
	Content     string    `json:"content"`
	Created     time.Time `json:"created"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
}

// New returns an outbox over kv delivering through notes.
func New(kv Store, notes Poster, log *slog.Logger, m *Metrics) *Outbox {
	return &Outbox{kv: kv, notes: notes, log: log, metrics: m, now: time.Now, claim: 2 * time.Minute}
}

func noteKey(id string) string { return "note." + id }

// Enqueue stores a note for delivery. Enqueueing the same id twice keeps the first.
func (o *Outbox) Enqueue(ctx context.Context, id, incidentID, content string) error {
	data, _ := json.Marshal(pendingNote{Incident: incidentID, Content: content, Created: o.now(), NextAttempt: o.now()})
	_, err := o.kv.Create(ctx, noteKey(id), data)
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("outbox: enqueue %s: %w", id, err)
	}
	return nil
}

// Deliver tries to post one note now, if it is due and not claimed by another worker.
func (o *Outbox) Deliver(ctx context.Context, id string) error {
	e, err := o.kv.Get(ctx, noteKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil // delivered already
	} else if err != nil {
		return fmt.Errorf("outbox: get %s: %w", id, err)
	}
	var n pendingNote
	if err := json.Unmarshal(e.Value(), &n); err != nil {
		return fmt.Errorf("outbox: decode %s: %w", id, err)
	}
	if o.now().Before(n.NextAttempt) {
		return nil
	}
	n.Attempts++
	n.NextAttempt = o.now().Add(o.claim)
	claimed, _ := json.Marshal(n)
	rev, err := o.kv.Update(ctx, noteKey(id), claimed, e.Revision())
	if err != nil {
		return nil // another worker claimed it
	}
	if _, err := o.notes.AddNote(ctx, n.Incident, n.Content); err != nil {
		o.metrics.notes.WithLabelValues("retry").Inc()
		n.NextAttempt, n.LastError = o.now().Add(backoff(n.Attempts)), err.Error()
		data, _ := json.Marshal(n)
		_, _ = o.kv.Update(context.WithoutCancel(ctx), noteKey(id), data, rev)
		return fmt.Errorf("outbox: post note for %s (attempt %d): %w", n.Incident, n.Attempts, err)
	}
	o.metrics.notes.WithLabelValues("posted").Inc()
	if err := o.kv.Delete(context.WithoutCancel(ctx), noteKey(id), jetstream.LastRevision(rev)); err != nil {
		o.log.WarnContext(ctx, "note posted but not removed from the outbox", "id", id, "err", err)
	}
	return nil
}

// backoff grows from 5 s to 10 min: fast enough for a blip, gentle during an outage.
func backoff(attempt int) time.Duration {
	d := 5 * time.Second << min(attempt-1, 7)
	return min(d, 10*time.Minute)
}

// Sweep delivers every due note once.
func (o *Outbox) Sweep(ctx context.Context) {
	keys, err := o.kv.ListKeysFiltered(ctx, "note.>")
	if err != nil {
		if !errors.Is(err, jetstream.ErrNoKeysFound) {
			o.log.WarnContext(ctx, "outbox sweep: list", "err", err)
		}
		return
	}
	for k := range keys.Keys() {
		if err := o.Deliver(ctx, strings.TrimPrefix(k, "note.")); err != nil {
			o.log.WarnContext(ctx, "outbox sweep", "err", err)
		}
	}
}

// Run sweeps every interval until ctx ends.
func (o *Outbox) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			o.Sweep(ctx)
		}
	}
}
