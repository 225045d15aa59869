package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/incident"
)

// ErrNoEventID is returned by Publish for an event without an id: without one, JetStream cannot
// recognise a redelivery, so such an event is refused rather than queued.
var ErrNoEventID = errors.New("event has no id")

// Publish stores ev in the stream and returns once the stream acknowledged it: seq is its
// stream sequence, and duplicate is true when an event with the same id was already stored
// within the Duplicates window (seq is then the original's). The event id is the JetStream
// message id, so redeliveries of one webhook are stored once. ctx bounds the whole call; when
// NATS is down, the publish waits in the client's reconnect buffer until ctx ends, and if it is
// sent later the stream discards it as a duplicate of whatever the source redelivers.
func (q *Queue) Publish(ctx context.Context, ev *incident.Event) (seq uint64, duplicate bool, err error) {
	if ev == nil || ev.ID == "" {
		return 0, false, ErrNoEventID
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return 0, false, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	msg := &nats.Msg{Subject: q.Subject(ev), Data: data}
	start := time.Now()
	ack, err := q.js.PublishMsg(ctx, msg, jetstream.WithMsgID(ev.ID), jetstream.WithExpectStream(q.cfg.Stream))
	q.metrics.publishSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		q.metrics.published.WithLabelValues("error").Inc()
		return 0, false, fmt.Errorf("publish event %s: %w", ev.ID, err)
	}
	if ack.Duplicate {
		q.metrics.published.WithLabelValues("duplicate").Inc()
	} else {
		q.metrics.published.WithLabelValues("stored").Inc()
	}
	return ack.Sequence, ack.Duplicate, nil
}

// Subject is where ev is published: <prefix>.<source>.<type>, for example
// alaya.events.pagerduty.incident.triggered. The type's dots stay subject separators, so a
// consumer can filter on alaya.events.*.incident.>; anything else that NATS gives meaning to
// (spaces, wildcards, empty tokens) is replaced by "_".
func (q *Queue) Subject(ev *incident.Event) string {
	var b strings.Builder
	b.Grow(len(q.cfg.Subjects) + len(ev.Source) + len(ev.Type) + 2)
	b.WriteString(q.cfg.Subjects)
	b.WriteByte('.')
	writeTokens(&b, ev.Source, false)
	b.WriteByte('.')
	writeTokens(&b, ev.Type, true)
	return b.String()
}

// writeTokens writes s as one subject token, or as several if keepDots.
func writeTokens(b *strings.Builder, s string, keepDots bool) {
	if s == "" {
		b.WriteString("unknown")
		return
	}
	prevDot := true // a leading dot would make an empty token
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' && keepDots && !prevDot && i < len(s)-1:
			b.WriteByte('.')
			prevDot = true
			continue
		case c == '-' || c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z'):
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
		prevDot = false
	}
}
