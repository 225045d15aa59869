package queue

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/incident"
)

// Handler processes one delivered event. It returns nil when the event is done (acked), an
// error wrapped with Permanent when no redelivery can help (terminated), and any other error
// when a later attempt might succeed (redelivered after a back-off, or RetryAfter's delay).
// Handlers must be idempotent: an event may be delivered more than once.
type Handler interface {
	Handle(ctx context.Context, d *Delivery) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, d *Delivery) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, d *Delivery) error { return f(ctx, d) }

// Delivery is one delivery of an event. Tests of handlers may build one with only Event set.
type Delivery struct {
	Event        *incident.Event
	NumDelivered uint64 // 1 on the first delivery
	Subject      string
	Sequence     uint64 // stream sequence
	// Final is set on the last delivery the queue gives an event: a failure now is not
	// redelivered (it is terminated), so the handler must end what it leaves with a word.
	Final bool

	msg jetstream.Msg
}

// InProgress tells the server the event is still being worked on, restarting its ack timer.
// Consume already sends it every AckWait/3 while the handler runs; a handler may call it after
// a step it knows was long. Without an underlying message (tests) it does nothing.
func (d *Delivery) InProgress() error {
	if d.msg == nil {
		return nil
	}
	return d.msg.InProgress()
}
