package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/alaya-sre/alaya/internal/kvkey"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/servertime"
)

// Store keeps approval requests in a JetStream KeyValue bucket, one entry per gate under
// "<incident>.<code>", JSON-encoded. The entry's revision is the lock: every change is an
// Update against the revision that was read.
type Store struct {
	kv    jetstream.KeyValue
	now   func() time.Time // nil: the server's clock
	clock *servertime.Clock
}

// NewStore wraps a bucket (the queue package creates "alaya_approvals"). now is the clock
// used for creation, decisions and expiry; nil means the NATS server's clock (see Now), so
// that workers whose clocks disagree still agree on when a gate expires.
func NewStore(kv jetstream.KeyValue, now func() time.Time) *Store {
	return &Store{kv: kv, now: now, clock: servertime.New(servertime.FromKV(kv))}
}

// clockKey is where earlier versions wrote to learn the server's time; scans skip it.
const clockKey = "clock"

// Now is the time every worker agrees on: the NATS server's (or the injected clock in tests).
// Expiry and start deadlines compare only this time, never a worker's own clock. It reads the
// server's stamp on a stream info answer rather than writing and reading a key back: on a
// replicated bucket a read may reach a replica that has not seen the write yet.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	if s.now != nil {
		return s.now(), nil
	}
	t, err := s.clock.Now(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("approval clock: %w", err)
	}
	return t.UTC(), nil
}

// maxCodeAttempts bounds Create's retries on a code collision, which at 31^6 codes per
// incident is a formality.
const maxCodeAttempts = 5

// Create stores a new pending request. When r.Code is empty it picks one with NewCode (and
// picks again on a collision); a caller-chosen code that exists fails with ErrExists. Created
// and Expires default to now and now+DefaultExpiry; State is set to pending.
func (s *Store) Create(ctx context.Context, r *Request) error {
	if r.Incident == "" {
		return errors.New("create approval: empty incident")
	}
	if err := s.fillDefaults(ctx, r); err != nil {
		return err
	}
	chosen := r.Code != ""
	for range maxCodeAttempts {
		if !chosen {
			code, err := NewCode()
			if err != nil {
				return fmt.Errorf("create approval: %w", err)
			}
			r.Code = code
		}
		err := s.create(ctx, r)
		if !errors.Is(err, ErrExists) || chosen {
			return err
		}
	}
	return fmt.Errorf("create approval: %w after %d attempts", ErrExists, maxCodeAttempts)
}

func (s *Store) fillDefaults(ctx context.Context, r *Request) error {
	if r.Created.IsZero() {
		now, err := s.Now(ctx)
		if err != nil {
			return fmt.Errorf("create approval: %w", err)
		}
		r.Created = now
	}
	if r.Expires.IsZero() {
		r.Expires = r.Created.Add(DefaultExpiry)
	}
	r.State = StatePending
	return nil
}

func (s *Store) create(ctx context.Context, r *Request) error {
	code, ok := NormalizeCode(r.Code)
	if !ok {
		return fmt.Errorf("create approval: malformed code %q", r.Code)
	}
	r.Code = code
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("create approval: %w", err)
	}
	if _, err := s.kv.Create(ctx, key(r.Incident, code), data); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("create approval %s: %w", code, ErrExists)
		}
		return fmt.Errorf("create approval: %w", err)
	}
	return nil
}

// Get returns the request and the revision it was read at. An unknown or malformed code gives
// ErrNotFound.
func (s *Store) Get(ctx context.Context, incident, code string) (*Request, uint64, error) {
	c, ok := NormalizeCode(code)
	if !ok {
		return nil, 0, fmt.Errorf("get approval: %w", ErrNotFound)
	}
	e, err := s.kv.Get(ctx, key(incident, c))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, fmt.Errorf("get approval %s: %w", c, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get approval: %w", err)
	}
	r, err := decode(e.Value())
	if err != nil {
		return nil, 0, err
	}
	return r, e.Revision(), nil
}

// Pending returns the incident's requests that wait for a decision, oldest first.
func (s *Store) Pending(ctx context.Context, incident string) ([]*Request, error) {
	entries, err := s.scan(ctx, incidentPrefix(incident)+".*")
	if err != nil {
		return nil, err
	}
	var out []*Request
	for _, e := range entries {
		if e.req.State == StatePending {
			out = append(out, e.req)
		}
	}
	return out, nil
}

// entry is a request with the revision it was read at.
type entry struct {
	req *Request
	rev uint64
}

// scan reads the current value of every key matching filter. A watcher delivers the initial
// values then a nil marker, so one round trip replaces a Keys plus a Get per key.
// scanTimeout bounds one scan on its own. A watch sent to a nats-server that has just died
// is never answered, and a run handler's context allows an hour; the callers (sweeps, the
// resolved-incident path) try again on their next turn.
var scanTimeout = 30 * time.Second

func (s *Store) scan(ctx context.Context, filter string) ([]entry, error) {
	ctx, cancel := context.WithTimeout(ctx, scanTimeout)
	defer cancel()
	w, err := s.kv.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("scan approvals: %w", err)
	}
	defer func() { _ = w.Stop() }()
	var out []entry
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("scan approvals: %w", ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("scan approvals: watcher closed")
			}
			if e == nil {
				return out, nil
			}
			if e.Key() == clockKey {
				continue
			}
			r, err := decode(e.Value())
			if err != nil {
				return nil, err
			}
			out = append(out, entry{req: r, rev: e.Revision()})
		}
	}
}

func decode(data []byte) (*Request, error) {
	var r Request
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode approval: %w", err)
	}
	return &r, nil
}

// incidentPrefix makes any incident id safe as one key token (Alertmanager group keys are not).
func incidentPrefix(incident string) string { return kvkey.Token(incident) }

func key(incident, code string) string { return incidentPrefix(incident) + "." + code }
