// Package outbox holds notes until the incident tool (PagerDuty, or the local notes of the
// embedded default) has accepted them. The pipeline writes a note here before it marks a run
// finished, so an outage, a 429 storm or a worker crash delays a note but cannot lose it.
// It is its own package because any worker's sweeper delivers any note, whichever run wrote it:
// delivery has its own rules (claims, back-off, at most once) that the run pipeline need not
// know.
//
// A note is posted at most once: a worker claims it (compare-and-swap) for Claim, measured on
// the NATS server's clock so that workers whose clocks disagree still agree, and its post is cut
// off after PostTimeout, well inside the claim, whatever the PagerDuty client's retries would
// have done. Before trying a note again it reads the incident back (when the Poster can), so a
// post whose answer was lost is not repeated. A posted note leaves a digest of its content
// behind, so enqueueing the same note again (a redelivered event) posts nothing; enqueueing
// newer content for a note not yet posted replaces it.
//
// Each note has a destination (Dest): the incident, or a Slack thread (slack.go). Notes to
// Slack follow the same rules, plus Slack's own: a 429 waits the Retry-After it names, and a
// failure no retry can fix (a channel that does not exist, a revoked token) is logged and
// dropped with a metric instead of being retried for ever. Slack has no idempotency key, so
// every message carries its note's id as message metadata, and before trying a message again
// the outbox reads the thread or channel back (when the SlackPoster is a SlackReader,
// slacklanded.go). When it cannot (no history scope, a bot not in the channel, Slack away),
// it posts again, logged and counted: a duplicate is better than a lost message.
package outbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/servertime"
)

// Poster posts a note on an incident and returns the note's id.
type Poster interface {
	AddNote(ctx context.Context, incidentID, content string) (string, error)
}

// Reader lists the notes an incident has. A Poster that is also a Reader lets the outbox
// check, before it posts a note again, that an earlier attempt whose answer never came (a
// connection cut after PagerDuty took the note, a worker that died mid-post) did not land.
type Reader interface {
	IncidentNotes(ctx context.Context, incidentID string) ([]incident.Note, error)
}

// Store is the part of a JetStream KeyValue bucket the outbox uses: create, compare-and-swap
// and delete keep two workers from posting one note twice; Status carries the server's time.
type Store interface {
	Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error)
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error)
	Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error)
	Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error
	ListKeysFiltered(ctx context.Context, filters ...string) (jetstream.KeyLister, error)
	Status(ctx context.Context) (jetstream.KeyValueStatus, error)
}

// clock is the time every worker agrees on (servertime.Clock).
type clock interface {
	Now(ctx context.Context) (time.Time, error)
}

// Metrics count note deliveries.
type Metrics struct {
	notes *prometheus.CounterVec
	slack *prometheus.CounterVec
}

// NewMetrics registers the outbox's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{notes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alaya_notes_total", Help: "Note deliveries to PagerDuty by outcome (posted, retry, landed: found on the incident after a lost answer).",
	}, []string{"outcome"}),
		slack: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_slack_messages_total", Help: "Slack message deliveries by outcome (posted, retry, rate_limited, dropped: a permanent error, logged; landed: found in Slack after a lost answer; readback_failed: could not look, posted again).",
		}, []string{"outcome"})}
	reg.MustRegister(m.notes, m.slack)
	return m
}

// Claim is how long a worker holds a note it is posting. PostTimeout is how long the post
// itself may take, retries included: PagerDuty's client would otherwise retry a 429 storm for
// up to 4 × 60 s. The difference leaves a post that was cut off at its deadline ample time to
// land or fail before another worker may try.
const (
	Claim       = 5 * time.Minute
	PostTimeout = 2 * time.Minute
)

// Outbox holds notes until they are posted. Any worker's sweeper may deliver any note.
type Outbox struct {
	kv      Store
	notes   Poster
	log     *slog.Logger
	metrics *Metrics
	clock   clock
	slack   SlackPoster   // nil: no Slack on this worker
	claim   time.Duration // how long a delivery attempt holds a note; its post gets 2/5 of it
}

type pendingNote struct {
	Incident string    `json:"incident"`
	Content  string    `json:"content"`
	Created  time.Time `json:"created"` // server time
	// Nonce is drawn when the note is created and kept while newer content replaces it: it
	// names this note among the messages of its slot (see noteRef).
	Nonce       string    `json:"nonce,omitempty"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"` // server time: the end of a claim or a back-off
	LastError   string    `json:"last_error,omitempty"`
	To          Dest      `json:"to,omitempty"`
}

// New returns an outbox over kv delivering through notes.
func New(kv Store, notes Poster, log *slog.Logger, m *Metrics) *Outbox {
	return &Outbox{kv: kv, notes: notes, log: log, metrics: m,
		clock: servertime.New(servertime.FromKV(kv)), claim: Claim}
}

// WithSlack delivers the notes whose destination is Slack through s.
func (o *Outbox) WithSlack(s SlackPoster) *Outbox {
	o.slack = s
	return o
}

func noteKey(id string) string { return "note." + id }

// sentKey holds the digest of the content last posted for id.
func sentKey(id string) string { return "noted." + id }

func digest(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// postTimeout keeps PostTimeout's share of the claim when tests shorten the claim.
func (o *Outbox) postTimeout() time.Duration {
	return time.Duration(float64(o.claim) * float64(PostTimeout) / float64(Claim))
}

// Enqueue stores a note for delivery under id, its slot. The same content again does nothing,
// whether it is waiting or was posted; other content replaces a note not yet posted, keeping
// its claim and back-off, or becomes the next note of a slot whose last one was posted.
func (o *Outbox) Enqueue(ctx context.Context, id, incidentID, content string) error {
	return o.EnqueueTo(ctx, id, Dest{}, incidentID, content)
}

// EnqueueTo is Enqueue for a note that goes to dest.
func (o *Outbox) EnqueueTo(ctx context.Context, id string, dest Dest, incidentID, content string) error {
	if err := o.enqueue(ctx, id, dest, incidentID, content); err != nil {
		return fmt.Errorf("outbox: enqueue %s: %w", id, err)
	}
	return nil
}

func (o *Outbox) enqueue(ctx context.Context, id string, dest Dest, incidentID, content string) error {
	if sent, err := o.sent(ctx, id); err != nil || sent == digest(content) {
		return err
	}
	now, err := o.clock.Now(ctx)
	if err != nil {
		return err
	}
	for range 10 {
		e, err := o.kv.Get(ctx, noteKey(id))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			data, _ := json.Marshal(pendingNote{Incident: incidentID, Content: content, Created: now, NextAttempt: now, To: dest,
				Nonce: rand.Text()})
			if _, err := o.kv.Create(ctx, noteKey(id), data); !errors.Is(err, jetstream.ErrKeyExists) {
				return err
			}
			continue // created by another worker between our two calls
		} else if err != nil {
			return err
		}
		var n pendingNote
		if err := json.Unmarshal(e.Value(), &n); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		if n.Content == content {
			return nil
		}
		n.Incident, n.Content, n.To = incidentID, content, dest
		data, _ := json.Marshal(n)
		if _, err := o.kv.Update(ctx, noteKey(id), data, e.Revision()); err == nil {
			return nil
		}
		// Claimed or replaced meanwhile: read it again.
	}
	return errors.New("too much contention")
}

// sent is the digest of the content last posted for id, "" if none.
func (o *Outbox) sent(ctx context.Context, id string) (string, error) {
	e, err := o.kv.Get(ctx, sentKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return string(e.Value()), nil
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
	if sent, err := o.sent(ctx, id); err != nil {
		return fmt.Errorf("outbox: %s: %w", id, err)
	} else if sent == digest(n.Content) {
		o.forget(ctx, id, e.Revision()) // posted by a worker that stopped before cleaning up
		return nil
	}
	now, err := o.clock.Now(ctx)
	if err != nil {
		return fmt.Errorf("outbox: %s: %w", id, err)
	}
	if now.Before(n.NextAttempt) {
		return nil
	}
	n.Attempts++
	n.NextAttempt = now.Add(o.claim)
	claimed, _ := json.Marshal(n)
	rev, err := o.kv.Update(ctx, noteKey(id), claimed, e.Revision())
	if err != nil {
		return nil // another worker claimed it
	}
	if n.Attempts > 1 && n.To.Slack == nil && o.landed(ctx, n) {
		o.metrics.notes.WithLabelValues("landed").Inc()
		o.markSent(context.WithoutCancel(ctx), id, n.Content)
		o.forget(context.WithoutCancel(ctx), id, rev)
		return nil
	}
	return o.post(ctx, id, n, rev, now)
}

// landed reports whether the incident already has the note, posted by an earlier attempt
// whose answer never came. When it cannot tell (no Reader, the read failed), it says no:
// a duplicate note is better than a lost one.
func (o *Outbox) landed(ctx context.Context, n pendingNote) bool {
	r, ok := o.notes.(Reader)
	if !ok {
		return false
	}
	rctx, cancel := context.WithTimeout(ctx, o.postTimeout())
	defer cancel()
	have, err := r.IncidentNotes(rctx, n.Incident)
	if err != nil {
		o.log.DebugContext(ctx, "outbox: cannot read the incident back; posting", "incident", n.Incident, "err", err)
		return false
	}
	for _, h := range have {
		if h.Content == n.Content {
			return true
		}
	}
	return false
}

// post posts a claimed note within the post deadline and settles the outbox accordingly.
func (o *Outbox) post(ctx context.Context, id string, n pendingNote, rev uint64, now time.Time) error {
	postCtx, cancel := context.WithTimeout(ctx, o.postTimeout())
	var err error
	outcome := "posted"
	if n.To.Slack != nil {
		var landed bool
		if landed, err = o.postSlack(postCtx, id, n, now); landed {
			outcome = "landed"
		}
	} else {
		_, err = o.notes.AddNote(postCtx, n.Incident, n.Content)
	}
	cancel()
	settle := context.WithoutCancel(ctx)
	if err != nil {
		return o.failed(settle, id, n, rev, err)
	}
	o.counter(n).WithLabelValues(outcome).Inc()
	o.markSent(settle, id, n.Content)
	o.forget(settle, id, rev)
	return nil
}

// failed settles a post that failed: a permanent failure is dropped (and remembered as sent,
// so the same content is not queued again); anything else waits for its next attempt, at the
// time a RetryAfter names or after the back-off.
func (o *Outbox) failed(ctx context.Context, id string, n pendingNote, rev uint64, err error) error {
	if IsPermanent(err) {
		o.counter(n).WithLabelValues("dropped").Inc()
		o.log.ErrorContext(ctx, "note dropped: its destination refused it for good", "id", id, "incident", n.Incident, "err", err)
		o.markSent(ctx, id, n.Content)
		o.forget(ctx, id, rev)
		return nil
	}
	delay, named := retryDelay(err)
	switch {
	case errors.Is(err, errNoThread):
		n.Attempts-- // waiting for the thread is not a failed attempt
	case named:
		o.counter(n).WithLabelValues("rate_limited").Inc()
	default:
		o.counter(n).WithLabelValues("retry").Inc()
		delay = backoff(n.Attempts)
	}
	if now, cerr := o.clock.Now(ctx); cerr == nil {
		n.NextAttempt = now.Add(delay)
	} // else the claim's end stands as the next attempt
	n.LastError = err.Error()
	data, _ := json.Marshal(n)
	_, _ = o.kv.Update(ctx, noteKey(id), data, rev)
	return fmt.Errorf("outbox: post note for %s (attempt %d): %w", n.Incident, n.Attempts, err)
}

// counter is the delivery counter of n's destination.
func (o *Outbox) counter(n pendingNote) *prometheus.CounterVec {
	if n.To.Slack != nil {
		return o.metrics.slack
	}
	return o.metrics.notes
}

// markSent records the digest of the content posted for id.
func (o *Outbox) markSent(ctx context.Context, id, content string) {
	if _, err := o.kv.Put(ctx, sentKey(id), []byte(digest(content))); err != nil {
		o.log.WarnContext(ctx, "note posted but not marked sent", "id", id, "err", err)
	}
}

// forget removes a posted note, unless newer content replaced it meanwhile.
func (o *Outbox) forget(ctx context.Context, id string, rev uint64) {
	err := o.kv.Delete(ctx, noteKey(id), jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		o.log.DebugContext(ctx, "posted note not removed (replaced meanwhile, or NATS away)", "id", id, "err", err)
	}
}

// backoff grows from 5 s to 10 min: fast enough for a blip, gentle during an outage.
func backoff(attempt int) time.Duration {
	d := 5 * time.Second << min(attempt-1, 7)
	return min(d, 10*time.Minute)
}

// Sweep delivers every due note once.
func (o *Outbox) Sweep(ctx context.Context) {
	ids, err := o.list(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		o.log.WarnContext(ctx, "outbox sweep: list", "err", err, "listed", len(ids))
	}
	for _, id := range ids {
		if err := o.Deliver(ctx, id); err != nil {
			o.log.WarnContext(ctx, "outbox sweep", "err", err)
		}
	}
}

// listTimeout bounds one listing of the outbox on its own: a listing sent to a nats-server
// that has just died is never answered, and the sweeper's context lasts as long as the worker.
var listTimeout = 30 * time.Second

// list returns the ids of the notes waiting, and those listed so far with an error when the
// listing was cut off.
func (o *Outbox) list(ctx context.Context) ([]string, error) {
	lctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	keys, err := o.kv.ListKeysFiltered(lctx, "note.>")
	if err != nil {
		return nil, err
	}
	defer func() { _ = keys.Stop() }()
	var ids []string
	for {
		select {
		case <-lctx.Done():
			return ids, fmt.Errorf("outbox: list: %w", lctx.Err())
		case k, ok := <-keys.Keys():
			if !ok {
				return ids, nil
			}
			ids = append(ids, strings.TrimPrefix(k, "note."))
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
