package approval

import (
	"context"
	"errors"
	"fmt"

	"github.com/alaya-sre/alaya/incident"
)

// ErrNoCommand: the note is not an approval command. Ignore it without a reply.
var ErrNoCommand = errors.New("note is not an approval command")

// PlanHasher recomputes the hash of the plan a request was created for, from the run as it
// stands now (runbook version, targets, rendered commands). The pipeline provides it.
type PlanHasher func(ctx context.Context, r *Request) (string, error)

// ApplyNote is the whole decision path for one note (from a webhook or the approval page), in
// the only safe order: Alaya's own notes and non-commands are dropped first (ErrSelf,
// ErrNoCommand: no reply), then the code is looked up on this incident, the policy checks
// everything against inc (fresh from the API) and the recomputed plan hash, and the store
// records the decision with compare-and-swap. On success the returned request is approved or
// rejected and the caller resumes or closes the run. A replayed note gets ErrAlreadyDecided.
// Refused(err) tells a refusal to write on the incident from a failure to retry.
func ApplyNote(ctx context.Context, s *Store, p *Policy, note *incident.Note, inc *incident.Incident, hash PlanHasher) (*Request, Command, error) {
	if note == nil {
		return nil, Command{}, ErrNoCommand
	}
	if inc == nil {
		return nil, Command{}, errors.New("apply note: no incident")
	}
	if p.IsSelf(note.Author) {
		return nil, Command{}, refuse(ErrSelf, nil, "")
	}
	cmd, ok := ParseCommand(note.Content)
	if !ok {
		return nil, Command{}, ErrNoCommand
	}
	r, _, err := s.Get(ctx, inc.ID, cmd.Code)
	if errors.Is(err, ErrNotFound) {
		return nil, cmd, refuse(ErrNotFound, nil, "there is no approval with code %s on this incident", cmd.Code)
	}
	if err != nil {
		return nil, cmd, err
	}
	r, err = decideNote(ctx, s, p, r, cmd, note.Author, inc, hash)
	return r, cmd, err
}

func decideNote(ctx context.Context, s *Store, p *Policy, r *Request, cmd Command, author incident.Ref, inc *incident.Incident, hash PlanHasher) (*Request, error) {
	now := s.now()
	current := ""
	if r.State == StatePending {
		h, err := hash(ctx, r)
		if err != nil {
			return r, fmt.Errorf("recompute plan hash for %s: %w", r.Code, err)
		}
		current = h
	}
	if err := p.Check(ctx, r, author, inc, current, now); err != nil {
		return r, err
	}
	state := StateApproved
	if cmd.Verb == VerbReject {
		state = StateRejected
	}
	return s.Decide(ctx, inc.ID, cmd.Code, Decision{
		State: state, By: author.ID, ByName: name(author), Reason: cmd.Reason, PlanHash: current, At: now,
	})
}
