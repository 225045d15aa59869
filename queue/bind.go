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

// bind looks up the stream and every bucket, read-only. Each lookup is a STREAM.INFO request:
// nothing on the server changes.
func (q *Queue) bind(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, q.cfg.SetupTimeout)
	defer cancel()
	if _, err := q.js.Stream(ctx, q.cfg.Stream); err != nil {
		return q.notDeclared("stream "+q.cfg.Stream, err, jetstream.ErrStreamNotFound)
	}
	for _, b := range q.buckets() {
		kv, err := q.js.KeyValue(ctx, b.cfg.Bucket)
		if err != nil {
			return q.notDeclared("kv bucket "+b.cfg.Bucket, err, jetstream.ErrBucketNotFound)
		}
		*b.kv = kv
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
