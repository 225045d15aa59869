package approval

import "context"

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
	_, err := s.change(ctx, incident, code, "close", func(r *Request) error {
		if !r.Closing {
			return errUnchanged
		}
		r.Closing = false
		return nil
	})
	return err
}
