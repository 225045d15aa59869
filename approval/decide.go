package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// maxCASAttempts bounds change's read-check-update loop. A request changes state rarely, so
// a second mismatch already means someone else decided; the bound only guards against a bug.
const maxCASAttempts = 5

// Decide moves a pending request to a final state with compare-and-swap on the entry's
// revision, so that of two workers deciding at once (or a webhook replayed after the first
// decision) exactly one wins. The loser gets the request as it now stands and a Refusal
// wrapping ErrAlreadyDecided. An approval must carry the stored plan hash (ErrPlanChanged)
// and arrive before the gate expires (ErrExpired); those refusals change nothing.
func (s *Store) Decide(ctx context.Context, incident, code string, d Decision) (*Request, error) {
	if !d.State.Final() || d.State == "" {
		return nil, fmt.Errorf("decide approval: %q is not a decision", d.State)
	}
	if d.At.IsZero() {
		now, err := s.Now(ctx)
		if err != nil {
			return nil, err
		}
		d.At = now
	}
	return s.change(ctx, incident, code, "decide", func(r *Request) error {
		if r.State.Final() {
			return refuse(ErrAlreadyDecided, r, "%s", describeDecision(r))
		}
		if d.Note != "" && slices.Contains(r.Spent, d.Note) {
			return refuse(ErrSpent, r, "this note's approval was used on %s and given back because the change could not start; "+
				"the gate is pending again and needs a new note", r.Reopened.UTC().Format(time.RFC3339))
		}
		if err := checkDecision(r, d); err != nil {
			return err
		}
		apply(r, d)
		return nil
	})
}

// checkDecision refuses decisions that must not be written even on a pending request.
func checkDecision(r *Request, d Decision) error {
	if d.PlanHash != "" && d.PlanHash != r.PlanHash {
		return refuse(ErrPlanChanged, r, "the plan was hashed %s when shown, the decision is for %s", short(r.PlanHash), short(d.PlanHash))
	}
	switch d.State {
	case StateApproved:
		if d.PlanHash == "" {
			return refuse(ErrPlanChanged, r, "an approval must name the plan hash it approves")
		}
		fallthrough
	case StateRejected:
		if r.Expired(d.At) {
			return refuse(ErrExpired, r, "the gate expired at %s", r.Expires.UTC().Format(time.RFC3339))
		}
	case StateExpired:
		if !r.Expired(d.At) {
			return fmt.Errorf("decide approval %s: not due until %s", r.Code, r.Expires.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

func apply(r *Request, d Decision) {
	r.State = d.State
	r.DecidedBy = d.By
	r.DecidedByName = d.ByName
	r.DecidedAt = d.At
	r.Reason = d.Reason
	r.DecidedNote = d.Note
	if d.State == StateApproved {
		r.StartBy = d.At.Add(DefaultStartDeadline)
	} else {
		r.Closing = true // the gate ended: its run is closed and told next (Closed)
	}
}

// Settle marks an approved gate as done with: its run started (lapse == ""), or the approval
// lapsed before the run started (lapse says why; the gate becomes cancelled). Of two callers
// exactly one settles a gate; the other gets ErrNotPending.
func (s *Store) Settle(ctx context.Context, incident, code, lapse string) (*Request, error) {
	return s.change(ctx, incident, code, "settle", func(r *Request) error {
		if r.State != StateApproved || r.Settled {
			return refuse(ErrNotPending, r, "%s", describeDecision(r))
		}
		r.Settled = true
		if lapse != "" {
			r.State, r.Reason, r.Closing = StateCancelled, lapse, true
		}
		return nil
	})
}

// Unsettled returns the approved gates whose run has not been seen starting: on the
// incident (incident != "") or everywhere.
func (s *Store) Unsettled(ctx context.Context, incident string) ([]*Request, error) {
	filter := ">"
	if incident != "" {
		filter = incidentPrefix(incident) + ".*"
	}
	entries, err := s.scan(ctx, filter)
	if err != nil {
		return nil, err
	}
	var out []*Request
	for _, e := range entries {
		if e.req.State == StateApproved && !e.req.Settled {
			out = append(out, e.req)
		}
	}
	return out, nil
}

// change reads the request, lets edit check and change it, and writes it with compare-and-swap
// on the revision read, reading again when another writer came first: of two workers changing
// one request at once, the second sees the first's result. An error from edit stops without
// writing and is returned with the request as it stands; errUnchanged stops without an error.
func (s *Store) change(ctx context.Context, incident, code, what string, edit func(*Request) error) (*Request, error) {
	for range maxCASAttempts {
		r, rev, err := s.Get(ctx, incident, code)
		if err != nil {
			return nil, err
		}
		if err := edit(r); errors.Is(err, errUnchanged) {
			return r, nil
		} else if err != nil {
			return r, err
		}
		err = s.update(ctx, r, rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // someone else wrote first; re-read and let the state speak
		}
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	return nil, fmt.Errorf("%s approval %s: revision kept changing", what, code)
}

// errUnchanged, from change's edit, means there is nothing to write.
var errUnchanged = errors.New("approval: unchanged")

func (s *Store) update(ctx context.Context, r *Request, rev uint64) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("update approval: %w", err)
	}
	if _, err := s.kv.Update(ctx, key(r.Incident, r.Code), data, rev); err != nil {
		return fmt.Errorf("update approval %s: %w", r.Code, err)
	}
	return nil
}

// CancelIncident cancels every pending gate of the incident (it was resolved) and returns the
// ones this call cancelled, so that exactly one caller reports each.
func (s *Store) CancelIncident(ctx context.Context, incident, reason string) ([]*Request, error) {
	pending, err := s.Pending(ctx, incident)
	if err != nil {
		return nil, err
	}
	return s.decideAll(ctx, pending, func(*Request) Decision {
		return Decision{State: StateCancelled, Reason: reason}
	})
}

// decideAll applies a decision to each request and returns the ones this call decided; a
// request another worker decided first is skipped, so each is reported exactly once.
func (s *Store) decideAll(ctx context.Context, reqs []*Request, decision func(*Request) Decision) ([]*Request, error) {
	var out []*Request
	var errs []error
	for _, req := range reqs {
		r, err := s.Decide(ctx, req.Incident, req.Code, decision(req))
		switch {
		case errors.Is(err, ErrNotPending):
		case err != nil:
			errs = append(errs, err)
		default:
			out = append(out, r)
		}
	}
	return out, errors.Join(errs...)
}

// ExpireDue moves every pending request whose time is up to expired and returns the ones this
// call expired, so that the caller (any worker, on a ticker) reports each exactly once.
func (s *Store) ExpireDue(ctx context.Context) ([]*Request, error) {
	entries, err := s.scan(ctx, ">")
	if err != nil {
		return nil, err
	}
	now, err := s.Now(ctx)
	if err != nil {
		return nil, err
	}
	var due []*Request
	for _, e := range entries {
		if e.req.State == StatePending && e.req.Expired(now) {
			due = append(due, e.req)
		}
	}
	return s.decideAll(ctx, due, func(r *Request) Decision {
		return Decision{State: StateExpired, At: now, Reason: "no decision before " + r.Expires.UTC().Format(time.RFC3339)}
	})
}

// describeDecision says who decided what, for a loser's refusal note.
func describeDecision(r *Request) string {
	who := r.DecidedByName
	if who == "" {
		who = r.DecidedBy
	}
	s := string(r.State)
	if who != "" {
		s += " by " + who
	}
	if !r.DecidedAt.IsZero() {
		s += " at " + r.DecidedAt.UTC().Format(time.RFC3339)
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
