package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrNotDeclared means a stream or bucket an operator command needs does not exist: no daemon
// of this version has started against this NATS, or the config names another one.
var ErrNotDeclared = errors.New("does not exist")

// bind looks up the stream, read-only (a STREAM.INFO request: nothing on the server changes).
// The buckets are bound when first asked for, through KV: each process binds only what it
// uses, so a NATS user allowed only some buckets (deploy/nats: the receiver none, the operator
// the ledger and the switches) can bind, and a missing bucket is reported the same way.
func (q *Queue) bind(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, q.cfg.SetupTimeout)
	defer cancel()
	if _, err := q.js.Stream(ctx, q.cfg.Stream); err != nil {
		return q.notDeclared("stream "+q.cfg.Stream, err, jetstream.ErrStreamNotFound)
	}
	return nil
}

func (q *Queue) notDeclared(what string, err, notFound error) error {
	if errors.Is(err, notFound) {
		return fmt.Errorf("%s %w on %s: start a worker or receiver of this version first (operator commands never create it), or check nats.urls and nats.stream",
			what, ErrNotDeclared, strings.Join(q.cfg.URLs, ","))
	}
	return fmt.Errorf("%s: %w", what, err)
}
