package approval

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Closing returns the gates that ended without their run going on and whose run has not been
// closed and told yet (see Request.Closing): the sweep closes them, again if need be.
func (s *Store) Closing(ctx context.Context) ([]*Request, error) {
	entries, err := s.scan(ctx, ">")
	if err != nil {
		return nil, err
	}
	var out []*Request
	for _, e := range entries {
		if e.req.Closing {
			out = append(out, e.req)
		}
	}
	return out, nil
}

// Closed records that the run of an ended gate is closed and the incident told: the sweep
// looks at the gate no more. Closing a gate twice is no error.
func (s *Store) Closed(ctx context.Context, incident, code string) error {
	for range maxCASAttempts {
		r, rev, err := s.Get(ctx, incident, code)
		if err != nil {
			return err
		}
		if !r.Closing {
			return nil
		}
		r.Closing = false
		err = s.update(ctx, r, rev)
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return err
		}
	}
	return fmt.Errorf("close approval %s: revision kept changing", code)
}
