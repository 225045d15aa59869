package outbox

import "testing"

// What the tests of package outbox_test (which may import the Slack adapters that import
// this package) need of its internals.

// NewKV is a bucket on a fresh embedded NATS server.
func NewKV(t *testing.T) Store { return outboxKV(t) }

// Drain delivers id until it has left the outbox, stepping past back-offs.
func Drain(t *testing.T, o *Outbox, id string) { drain(t, o, id) }

// SlackCount reads alaya_slack_messages_total{outcome}.
func SlackCount(t *testing.T, o *Outbox, outcome string) float64 { return slackCount(t, o, outcome) }
